"""Denial of service through geometry (issue 10, High): every incoming geometry is capped in vertices and
rings, with a 422 naming the field, before PostGIS sees it. An outside test's 20,000-vertex control area
grew one backend to 23.6 GB; a 180,000-vertex place slowed every analysis of its organisation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shapely.geometry import MultiPolygon, Point, box, mapping

from tests.conftest import LUTON, Org, assert_problem, create_place, make_org, own_rows, place_body

# 2,401 vertices: one more ring segment per degree than the default cap of 2,000 allows.
BIG = mapping(Point(*LUTON).buffer(0.002, quad_segs=600))
# 101 tiny squares: few vertices, but more parts than the default cap of 100 rings.
MANY = mapping(MultiPolygon([box(LUTON[0] + i * 1e-4, LUTON[1], LUTON[0] + i * 1e-4 + 5e-5, LUTON[1] + 5e-5)
                             for i in range(101)]))
SMALL = mapping(Point(*LUTON).buffer(0.002, quad_segs=8))


def _plain(geometry: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(geometry))
    return result


@pytest.fixture()
def fresh_org(database: Any, settings: Any) -> Org:
    return make_org(database, settings)


@pytest.mark.parametrize("geometry", [BIG, MANY], ids=["vertices", "rings"])
def test_a_place_too_complex_is_refused_and_nothing_written(client: Any, database: Any, fresh_org: Org,
                                                            geometry: Any) -> None:
    response = client.post("/api/places", json=place_body(geometry=_plain(geometry)),
                           headers=fresh_org.headers("community_safety"))
    body = assert_problem(response, 422, "geometry")
    assert "at most" in body["detail"]
    assert own_rows(database, "places", fresh_org) == 0
    place = create_place(client, fresh_org, geometry=_plain(SMALL))
    patched = client.patch(f"/api/places/{place['id']}", json={"type": "Feature", "geometry": _plain(BIG),
                                                               "properties": {}},
                           headers=fresh_org.headers("community_safety"))
    assert_problem(patched, 422, "geometry")


def test_an_intervention_area_and_a_displacement_control_area_too_complex_are_refused(
        client: Any, database: Any, fresh_org: Org) -> None:
    headers = fresh_org.headers("community_safety")
    properties = {"kind": "environmental_change", "description": "lights", "owning_partner": "Council",
                  "starts_on": "2026-03-01"}
    refused = client.post("/api/interventions", json={"type": "Feature", "geometry": _plain(BIG),
                                                      "properties": properties}, headers=headers)
    assert_problem(refused, 422, "geometry")
    assert own_rows(database, "interventions", fresh_org) == 0
    made = client.post("/api/interventions", json={"type": "Feature", "geometry": _plain(SMALL),
                                                   "properties": properties}, headers=headers)
    assert made.status_code == 201, made.text
    control = client.post("/api/analysis/displacement",
                          json={"intervention": made.json()["id"], "control": _plain(BIG)}, headers=headers)
    body = assert_problem(control, 422, "control")
    assert "2401 vertices" in body["detail"]


def test_partner_import_rows_too_complex_are_rejected_with_their_feature_number(
        client: Any, database: Any, fresh_org: Org) -> None:
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": _plain(SMALL), "properties": {"name": "Park", "kind": "park"}},
        {"type": "Feature", "geometry": _plain(BIG), "properties": {"name": "Estate", "kind": "housing_estate"}},
    ]}
    response = client.post("/api/imports/partner",
                           files={"file": ("areas.geojson", json.dumps(collection).encode(), "application/json")},
                           data={"target": "places"}, headers=fresh_org.headers("community_safety"))
    body = assert_problem(response, 422)
    assert any(e["line"] == 2 and "vertices" in e["message"] for e in body["errors"]), body
    assert own_rows(database, "places", fresh_org) == 0


def test_the_limits_are_settings(app: Any, settings: Any, database: Any) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app

    roomy = create_app(settings.model_copy(update={"geometry_max_vertices": 5_000}))
    org = make_org(database, settings)
    with TestClient(roomy) as client:
        accepted = client.post("/api/places", json=place_body(geometry=_plain(BIG)),
                               headers=org.headers("community_safety"))
    assert accepted.status_code == 201, accepted.text
