"""Forged Host headers and the API documentation (issue 10, Low).

A forged ``Host`` was copied into ``self``/``next`` links, so a GIS client following ``next`` would send its
token elsewhere; ``/docs`` loaded Swagger UI from a CDN, which the Content Security Policy blocks.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import Org, assert_problem, create_place


@pytest.mark.parametrize("host", ["evil.example", "evil.example:443", "testserver.evil.example", ""])
def test_a_forged_host_is_refused_before_any_link_is_built(client: TestClient, org: Org, host: str) -> None:
    create_place(client, org)
    for path in ("/api/places?limit=1", "/ogc/collections/places/items?limit=1", "/healthz"):
        response = client.get(path, headers={**org.headers("admin"), "Host": host})
        assert_problem(response, 400, "Host")
        assert "evil" not in response.text


def test_links_use_an_allowed_host_and_subdomain_patterns_work(settings: Any, org: Org) -> None:
    app = create_app(settings.model_copy(update={"allowed_hosts": ["*.example.gov.uk"]}))
    with TestClient(app, base_url="https://maps.example.gov.uk") as client:
        create_place(client, org)
        listed = client.get("/api/places?limit=1", headers=org.headers("admin")).json()
        hrefs = {link["rel"]: link["href"] for link in listed["links"]}
        assert hrefs["self"].startswith("https://maps.example.gov.uk/api/places")
        assert hrefs["next"].startswith("https://maps.example.gov.uk/api/places")
        forged = client.get("/api/places", headers={**org.headers("admin"), "Host": "example.gov.uk.evil.example"})
        assert forged.status_code == 400


def test_docs_are_served_from_this_service_under_the_csp(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "cdn" not in page.text.lower() and "<script>" not in page.text  # no CDN, no inline script
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/") for s in sources)
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert client.get("/redoc").status_code == 404  # ReDoc loads a CDN: not offered
    assert client.get("/openapi.json").status_code == 200
