"""Interventions: responses at a place or over an area, owned by a partner, with start and end dates."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import assert_problem, create_place, own_rows, point

_spots = itertools.count()


def spot() -> tuple[float, float]:
    """A fresh location (about 1.4 km from any other this module uses), inside England and Wales."""
    i = next(_spots)
    return round(-2.95 + (i % 40) * 0.02, 6), round(53.65 + (i // 40) * 0.02, 6)


def bbox_around(lon: float, lat: float, d: float = 0.002) -> str:
    return f"{lon - d},{lat - d},{lon + d},{lat + d}"


def square(lon: float, lat: float, d: float = 0.001) -> dict[str, Any]:
    x0, y0, x1, y1 = (round(v, 7) for v in (lon, lat, lon + d, lat + d))
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def intervention_body(place_id: int | None = None, geometry: dict[str, Any] | None = None,
                      **props: Any) -> dict[str, Any]:
    properties = {"place_id": place_id, "kind": "disruption", "description": "Restaurant disabled its customer WiFi",
                  "owning_partner": "Police neighbourhood team", "partners": ["Community safety partnership"],
                  "starts_on": "2025-09-01", **props}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def record(client: TestClient, org: Any, body: dict[str, Any], role: str = "community_safety") -> dict[str, Any]:
    response = client.post("/api/interventions", json=body, headers=org.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


def patch_body(geometry: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


# ---- create and read ----------------------------------------------------------------------------------
def test_intervention_at_a_place_is_shown_where_the_place_is(client, org):
    lon, lat = spot()
    place = create_place(client, org, kind="fast_food", name="Chicken Shack (test)", geometry=point(lon, lat))
    response = client.post("/api/interventions", json=intervention_body(place["id"]),
                           headers=org.headers("community_safety"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/interventions/{created['id']}"
    assert created["geometry"] == {"type": "Point", "coordinates": [lon, lat]}
    props = created["properties"]
    assert (props["place_id"], props["place_name"]) == (place["id"], "Chicken Shack (test)")
    assert props["description"] == "Restaurant disabled its customer WiFi"
    assert props["owning_partner"] == "Police neighbourhood team"
    assert props["partners"] == ["Community safety partnership"]
    assert (props["starts_on"], props["ends_on"]) == ("2025-09-01", None)
    got = client.get(f"/api/interventions/{created['id']}", headers=org.headers("youth_worker"))
    assert got.json() == created


def test_panel_sees_the_title_and_shareable_summary_but_no_other_text(client, org):
    """Issue 14: a summary written for panels is the only text about an intervention a panel reads."""
    created = record(client, org, intervention_body(
        geometry=square(*spot()), title="Pop-up youth club", shareable_summary="A youth club after school",
        notes="Worker A. Smith leads it"))
    assert (created["properties"]["title"], created["properties"]["shareable_summary"]) == (
        "Pop-up youth club", "A youth club after school")
    seen = client.get(f"/api/interventions/{created['id']}", headers=org.headers("panel")).json()["properties"]
    assert (seen["title"], seen["shareable_summary"]) == ("Pop-up youth club", "A youth club after school")
    assert seen["description"] is None and seen["notes"] is None and seen["owning_partner"] is None
    assert seen["partners"] == []
    too_long = client.post("/api/interventions", json=intervention_body(geometry=square(*spot()), title="x" * 201),
                           headers=org.headers("community_safety"))
    assert_problem(too_long, 422, "properties.title")


def test_intervention_over_an_area_needs_no_place(client, org):
    area = square(*spot())
    created = record(client, org, intervention_body(geometry=area, kind="outreach",
                                                    description="Detached youth work around the estate"),
                     role="admin")
    assert created["geometry"] == area
    assert created["properties"]["place_id"] is None


def test_intervention_needs_a_place_or_an_area(client, org, database):
    before = own_rows(database, "interventions", org)
    response = client.post("/api/interventions", json=intervention_body(), headers=org.headers("admin"))
    problem = assert_problem(response, 422)
    assert "place_id" in problem["detail"]
    assert own_rows(database, "interventions", org) == before


def test_intervention_area_must_be_valid_and_an_area_or_point(client, org, database):
    lon, lat = spot()
    bowtie = {"type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.001, lat + 0.001], [lon + 0.001, lat],
                                                  [lon, lat + 0.001], [lon, lat]]]}
    line = {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.001, lat]]}
    before = own_rows(database, "interventions", org)
    for geometry in (bowtie, line):
        response = client.post("/api/interventions", json=intervention_body(geometry=geometry),
                               headers=org.headers("admin"))
        assert_problem(response, 422, "geometry")
    assert own_rows(database, "interventions", org) == before


def test_patch_sets_the_end_date_and_partners(client, org):
    place = create_place(client, org, geometry=point(*spot()))
    created = record(client, org, intervention_body(place["id"]))
    response = client.patch(f"/api/interventions/{created['id']}",
                            json=patch_body(ends_on="2026-04-30", partners=["Youth service", "Library service"]),
                            headers=org.headers("community_safety"))
    assert response.status_code == 200, response.text
    props = response.json()["properties"]
    assert (props["starts_on"], props["ends_on"]) == ("2025-09-01", "2026-04-30")
    assert props["partners"] == ["Youth service", "Library service"]


def test_patch_refuses_an_end_before_the_start(client, org):
    place = create_place(client, org, geometry=point(*spot()))
    created = record(client, org, intervention_body(place["id"]))
    response = client.patch(f"/api/interventions/{created['id']}", json=patch_body(ends_on="2025-08-01"),
                            headers=org.headers("community_safety"))
    assert_problem(response, 422, "properties.ends_on")
    assert client.get(f"/api/interventions/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["ends_on"] is None


def test_deleted_intervention_is_gone(client, org):
    created = record(client, org, intervention_body(geometry=square(*spot())))
    assert client.delete(f"/api/interventions/{created['id']}", headers=org.headers("admin")).status_code == 204
    assert_problem(client.get(f"/api/interventions/{created['id']}", headers=org.headers("admin")), 404)


# ---- lists --------------------------------------------------------------------------------------------
def test_list_filters_by_place_kind_and_time(client, org):
    lon, lat = spot()
    place = create_place(client, org, geometry=point(lon, lat))
    patrols = record(client, org, intervention_body(place["id"], kind="enforcement", starts_on="2025-03-03",
                                                    ends_on="2025-05-30", description="Patrols"))
    wifi = record(client, org, intervention_body(place["id"]))
    headers = org.headers("panel")

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/interventions?{query}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["type"] == "FeatureCollection"
        return [f["id"] for f in response.json()["features"]]

    assert ids(f"place_id={place['id']}") == [patrols["id"], wifi["id"]]
    assert ids(f"place_id={place['id']}&kind=disruption") == [wifi["id"]]
    assert ids(f"bbox={bbox_around(lon, lat)}") == [patrols["id"], wifi["id"]]
    assert ids(f"place_id={place['id']}&datetime=2025-04-01T00:00:00Z/2025-04-30T00:00:00Z") == [patrols["id"]]
    assert ids(f"place_id={place['id']}&datetime=2026-01-01T00:00:00Z/..") == [wifi["id"]]


def test_intervention_is_found_on_its_last_day(client, org):
    place = create_place(client, org, geometry=point(*spot()))
    one_day = record(client, org, intervention_body(place["id"], kind="outreach", starts_on="2026-04-01",
                                                    ends_on="2026-04-01", description="Outreach evening"))
    found = client.get(f"/api/interventions?place_id={place['id']}&datetime=2026-04-01T18:00:00Z",
                       headers=org.headers("community_safety")).json()
    assert [f["id"] for f in found["features"]] == [one_day["id"]]


# ---- roles --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["youth_worker", "panel"])
def test_only_admin_and_community_safety_write_interventions(client, org, database, role):
    place = create_place(client, org, geometry=point(*spot()))
    created = record(client, org, intervention_body(place["id"]))
    headers = org.headers(role)
    before = own_rows(database, "interventions", org)
    assert_problem(client.post("/api/interventions", json=intervention_body(place["id"]), headers=headers), 403)
    assert_problem(client.patch(f"/api/interventions/{created['id']}", json=patch_body(ends_on="2026-01-01"),
                                headers=headers), 403)
    assert_problem(client.delete(f"/api/interventions/{created['id']}", headers=headers), 403)
    assert own_rows(database, "interventions", org) == before
    assert client.get(f"/api/interventions/{created['id']}", headers=headers).json()[
        "properties"]["ends_on"] is None


@pytest.mark.parametrize("role", ["admin", "community_safety"])
def test_admin_and_community_safety_write_interventions(client, org, role):
    place = create_place(client, org, geometry=point(*spot()))
    created = record(client, org, intervention_body(place["id"]), role=role)
    assert client.patch(f"/api/interventions/{created['id']}", json=patch_body(ends_on="2026-01-01"),
                        headers=org.headers(role)).status_code == 200
    assert client.delete(f"/api/interventions/{created['id']}", headers=org.headers(role)).status_code == 204


def test_panel_reads_interventions_without_free_text(client, org):
    place = create_place(client, org, geometry=point(*spot()))
    created = record(client, org, intervention_body(place["id"], notes="Franchisee reluctant at first"))
    headers = org.headers("panel")
    single = client.get(f"/api/interventions/{created['id']}", headers=headers).json()["properties"]
    [listed] = client.get(f"/api/interventions?place_id={place['id']}", headers=headers).json()["features"]
    for props in (single, listed["properties"]):
        assert props["description"] is None
        assert props["notes"] is None
        # owning_partner and partners are typed freely (geo.privacy.FREE_TEXT_FIELDS): withheld too.
        assert (props["kind"], props["owning_partner"], props["partners"]) == ("disruption", None, [])


# ---- organisation isolation ---------------------------------------------------------------------------
def test_another_organisations_interventions_are_invisible(client, org, other_org, database):
    lon, lat = spot()
    their_place = create_place(client, other_org, geometry=point(lon, lat))
    theirs = record(client, other_org, intervention_body(their_place["id"]))
    headers = org.headers("admin")
    assert_problem(client.get(f"/api/interventions/{theirs['id']}", headers=headers), 404)
    assert_problem(client.patch(f"/api/interventions/{theirs['id']}", json=patch_body(ends_on="2026-01-01"),
                                headers=headers), 404)
    assert_problem(client.delete(f"/api/interventions/{theirs['id']}", headers=headers), 404)
    assert client.get(f"/api/interventions?bbox={bbox_around(lon, lat)}", headers=headers).json()["features"] == []

    before = own_rows(database, "interventions", org)
    response = client.post("/api/interventions", json=intervention_body(their_place["id"]), headers=headers)
    assert_problem(response, 422, "properties.place_id")
    assert own_rows(database, "interventions", org) == before

    ours = record(client, org, intervention_body(geometry=square(*spot())))
    response = client.patch(f"/api/interventions/{ours['id']}", json=patch_body(place_id=their_place["id"]),
                            headers=headers)
    assert_problem(response, 422, "properties.place_id")
    assert client.get(f"/api/interventions/{ours['id']}", headers=headers).json()["properties"]["place_id"] is None


@pytest.fixture
def lenient(app: Any) -> TestClient:
    """A client that reports server errors as responses (to show a 500 as a status, not a traceback)."""
    return TestClient(app, raise_server_exceptions=False)


def test_patch_clearing_the_start_is_refused_not_a_crash(lenient, org):
    place = create_place(lenient, org, geometry=point(*spot()))
    created = record(lenient, org, intervention_body(place["id"], ends_on="2026-01-01"))
    response = lenient.patch(f"/api/interventions/{created['id']}", json=patch_body(starts_on=None),
                             headers=org.headers("community_safety"))
    assert_problem(response, 422, "properties.starts_on")
