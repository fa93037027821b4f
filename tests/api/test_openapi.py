"""The API definitions: OpenAPI 3.1 at /openapi.json, and 3.0.3 for OGC clients at /ogc/api."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from tests.conftest import Org


def test_the_openapi_document_is_valid_and_documents_problems(client: Any) -> None:
    document = client.get("/openapi.json").json()
    validate(document)
    responses = document["paths"]["/api/places"]["post"]["responses"]
    assert "application/problem+json" in responses["422"]["content"]


def test_ogc_clients_get_a_valid_openapi_30_document(client: Any, org: Org) -> None:
    landing = client.get("/ogc", headers=org.headers("panel")).json()
    (service_desc,) = [link for link in landing["links"] if link["rel"] == "service-desc"]
    response = client.get(service_desc["href"], headers=org.headers("panel"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json;version=3.0")
    document = response.json()
    assert document["openapi"] == "3.0.3"
    validate(document)
    assert "/ogc/collections/{collection_id}/items" in document["paths"]
