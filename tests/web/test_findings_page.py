"""The intervention findings page and the glossary (issue 17): plain-English findings from the same
disclosure-controlled displacement service the API uses; the panel sees no free text and no small count."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def wifi(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    found = client.get("/api/interventions?limit=1000", headers=demo_headers["community_safety"]).json()
    return next(f for f in found["features"] if "WiFi" in (f["properties"]["description"] or ""))


def test_staff_see_the_title_and_plain_english_findings(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any]
) -> None:
    response = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers["community_safety"], **HTML})
    assert response.status_code == 200, response.text
    text = response.text
    assert wifi["properties"]["description"] in text
    assert re.search(r'data-finding="rate_ratio" data-verdict="fell"', text)  # the demo's outlet improved
    assert "Harm at Chicken Shack Express fell by about" in text
    assert "95 % interval" in text
    for measure in ("wdd", "wdq", "total_net_effect", "places_rising"):
        assert f'data-finding="{measure}"' in text
    assert f'href="/maps/displacement?intervention={wifi["id"]}"' in text and 'href="/glossary"' in text


def test_the_panel_sees_no_free_text_and_no_small_count(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any], settings: Any
) -> None:
    response = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers["panel"], **HTML})
    assert response.status_code == 200, response.text
    text = response.text
    assert wifi["properties"]["description"] not in text
    assert "Chicken Shack Express" in text  # the place's name is not free text
    cells = re.findall(r'govuk-table__cell--numeric">\s*([^<]*?)\s*<', text)
    assert cells
    for cell in cells:
        assert cell == "suppressed" or not 1 <= int(cell) <= settings.suppress_max


def test_unknown_intervention_is_a_404_page(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    response = client.get("/interventions/999999999/findings", headers={**demo_headers["panel"], **HTML})
    assert response.status_code == 404 and "Page not found" in response.text


def test_glossary_explains_the_terms(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    response = client.get("/glossary", headers={**demo_headers["youth_worker"], **HTML})
    assert response.status_code == 200
    for term in ("Weighted displacement quotient (WDQ)", "Weighted displacement difference (WDD)",
                 "Diffusion of benefits", "no clear change"):
        assert term in response.text
