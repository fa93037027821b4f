"""Incidents: individual records of harm, linked to a place explicitly or to the nearest within 50 m."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import assert_problem, create_place, incident_body, own_rows, point, unique

_spots = itertools.count()
M_PER_DEG_LAT = 111_250.0


def spot() -> tuple[float, float]:
    """A fresh location (about 1.4 km from any other this module uses), inside England and Wales."""
    i = next(_spots)
    return round(-2.95 + (i % 40) * 0.02, 6), round(53.25 + (i // 40) * 0.02, 6)


def north(lon: float, lat: float, metres: float) -> dict[str, Any]:
    return point(lon, round(lat + metres / M_PER_DEG_LAT, 7))


def bbox_around(lon: float, lat: float, d: float = 0.002) -> str:
    return f"{lon - d},{lat - d},{lon + d},{lat + d}"


def report(client: TestClient, org: Any, role: str = "community_safety", **kwargs: Any) -> dict[str, Any]:
    response = client.post("/api/incidents", json=incident_body(**kwargs), headers=org.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


def patch_body(geometry: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


# ---- create and read ----------------------------------------------------------------------------------
def test_incident_is_recorded_as_a_point_feature(client, org):
    lon, lat = spot()
    response = client.post("/api/incidents", headers=org.headers("community_safety"), json=incident_body(
        geometry=point(lon, lat), harm_category="criminal_exploitation", occurred_to="2026-05-01T18:00:00Z",
        source="council_asb", source_category="Youth service report", source_ref=unique("YS-"),
        location_precision="street", young_people=3, description="Older males directing young people"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/incidents/{created['id']}"
    assert created["geometry"] == {"type": "Point", "coordinates": [lon, lat]}
    props = created["properties"]
    assert props["harm_category"] == "criminal_exploitation"
    assert (props["occurred_from"], props["occurred_to"]) == ("2026-05-01T16:00:00Z", "2026-05-01T18:00:00Z")
    assert (props["source"], props["location_precision"], props["young_people"]) == ("council_asb", "street", 3)
    got = client.get(f"/api/incidents/{created['id']}", headers=org.headers("youth_worker"))
    assert got.status_code == 200
    assert got.json() == created


def test_source_and_precision_have_defaults(client, org):
    created = report(client, org, geometry=point(*spot()))
    assert created["properties"]["source"] == "manual"
    assert created["properties"]["location_precision"] == "exact"


# ---- linking to places --------------------------------------------------------------------------------
def test_explicit_link_to_a_place(client, org):
    lon, lat = spot()
    place = create_place(client, org, geometry=point(lon, lat))
    # Explicit links need not be near: partners know which venue they report on.
    created = report(client, org, geometry=north(lon, lat, 400), place_id=place["id"])
    assert (created["properties"]["place_id"], created["properties"]["place_link"]) == (place["id"], "explicit")


def test_auto_link_to_a_place_within_50_m(client, org):
    lon, lat = spot()
    place = create_place(client, org, geometry=point(lon, lat))
    created = report(client, org, geometry=north(lon, lat, 30))
    assert (created["properties"]["place_id"], created["properties"]["place_link"]) == (place["id"], "auto")


def test_no_link_beyond_50_m(client, org):
    lon, lat = spot()
    create_place(client, org, geometry=point(lon, lat))
    created = report(client, org, geometry=north(lon, lat, 80))
    assert (created["properties"]["place_id"], created["properties"]["place_link"]) == (None, None)


def test_auto_link_chooses_the_nearest_place(client, org):
    lon, lat = spot()
    create_place(client, org, name="Farther", geometry=point(lon, lat))
    nearer = create_place(client, org, name="Nearer", geometry=north(lon, lat, 40))
    created = report(client, org, geometry=north(lon, lat, 25))
    assert created["properties"]["place_id"] == nearer["id"]


def test_auto_link_to_an_area_place_that_contains_the_incident(client, org):
    lon, lat = spot()
    d_lat, d_lon = 300 / M_PER_DEG_LAT, 0.0044  # about 300 m each way
    ring = [[lon, lat], [lon + d_lon, lat], [lon + d_lon, lat + d_lat], [lon, lat + d_lat], [lon, lat]]
    park = create_place(client, org, kind="park", geometry={"type": "Polygon", "coordinates": [ring]})
    middle = point(round(lon + d_lon / 2, 7), round(lat + d_lat / 2, 7))  # ~150 m from every edge
    created = report(client, org, geometry=middle)
    assert (created["properties"]["place_id"], created["properties"]["place_link"]) == (park["id"], "auto")


def test_never_auto_linked_to_another_organisations_place(client, org, other_org):
    lon, lat = spot()
    create_place(client, other_org, geometry=north(lon, lat, 5))
    ours = create_place(client, org, geometry=north(lon, lat, 40))
    created = report(client, org, geometry=point(lon, lat))
    assert created["properties"]["place_id"] == ours["id"]


def test_explicit_link_to_another_organisations_place_is_refused(client, org, other_org, database):
    lon, lat = spot()
    theirs = create_place(client, other_org, geometry=point(lon, lat))
    before = own_rows(database, "incidents", org)
    response = client.post("/api/incidents", json=incident_body(geometry=point(lon, lat), place_id=theirs["id"]),
                           headers=org.headers("community_safety"))
    assert_problem(response, 422, "properties.place_id")
    assert own_rows(database, "incidents", org) == before

    mine = report(client, org, geometry=point(lon, lat))
    response = client.patch(f"/api/incidents/{mine['id']}", json=patch_body(place_id=theirs["id"]),
                            headers=org.headers("community_safety"))
    assert_problem(response, 422, "properties.place_id")


def test_moving_an_incident_relinks_it_to_the_nearest_place(client, org):
    lon, lat = spot()
    create_place(client, org, name="Old spot", geometry=point(lon, lat))
    other_lon, other_lat = spot()
    new_place = create_place(client, org, name="New spot", geometry=point(other_lon, other_lat))
    created = report(client, org, geometry=north(lon, lat, 10))
    response = client.patch(f"/api/incidents/{created['id']}",
                            json=patch_body(geometry=north(other_lon, other_lat, 10)),
                            headers=org.headers("community_safety"))
    assert response.status_code == 200, response.text
    assert (response.json()["properties"]["place_id"], response.json()["properties"]["place_link"]) == (
        new_place["id"], "auto")


def test_moving_an_explicitly_linked_incident_keeps_its_link(client, org):
    lon, lat = spot()
    chosen = create_place(client, org, name="Chosen", geometry=point(lon, lat))
    other_lon, other_lat = spot()
    create_place(client, org, name="Nearer after the move", geometry=point(other_lon, other_lat))
    created = report(client, org, geometry=north(lon, lat, 10), place_id=chosen["id"])
    response = client.patch(f"/api/incidents/{created['id']}",
                            json=patch_body(geometry=north(other_lon, other_lat, 5)),
                            headers=org.headers("community_safety"))
    assert response.status_code == 200, response.text
    assert (response.json()["properties"]["place_id"], response.json()["properties"]["place_link"]) == (
        chosen["id"], "explicit")


def test_a_month_window_ending_at_a_month_start_is_not_in_that_month(client, org):
    lon, lat = spot()
    # As police.uk records are stored: [first of the month, first of the next month).
    august = report(client, org, geometry=point(lon, lat), occurred_from="2025-08-01T00:00:00Z",
                    occurred_to="2025-09-01T00:00:00Z")
    september = report(client, org, geometry=point(lon, lat), occurred_from="2025-09-01T00:00:00Z",
                       occurred_to="2025-10-01T00:00:00Z")
    found = client.get(f"/api/incidents?bbox={bbox_around(lon, lat)}&datetime=2025-09-01T00:00:00Z/..",
                       headers=org.headers("community_safety")).json()
    assert [f["id"] for f in found["features"]] == [september["id"]]
    before = client.get(f"/api/incidents?bbox={bbox_around(lon, lat)}&datetime=../2025-08-31T23:59:59Z",
                        headers=org.headers("community_safety")).json()
    assert [f["id"] for f in before["features"]] == [august["id"]]


# ---- lists --------------------------------------------------------------------------------------------
def test_list_filters_by_place_category_source_time_and_bbox(client, org):
    lon, lat = spot()
    place = create_place(client, org, geometry=point(lon, lat))
    asb = report(client, org, geometry=north(lon, lat, 10), occurred_from="2026-03-10T17:00:00Z")
    drugs = report(client, org, geometry=north(lon, lat, 20), harm_category="drugs", source="council_asb",
                   occurred_from="2026-04-10T17:00:00Z")
    far = report(client, org, geometry=north(lon, lat, 150), occurred_from="2026-04-11T17:00:00Z")
    headers = org.headers("community_safety")

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/incidents?{query}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["type"] == "FeatureCollection"
        return [f["id"] for f in response.json()["features"]]

    assert ids(f"place_id={place['id']}") == [asb["id"], drugs["id"]]
    assert ids(f"place_id={place['id']}&harm_category=drugs") == [drugs["id"]]
    assert ids(f"place_id={place['id']}&harm_category=drugs&harm_category=antisocial_behaviour") == [
        asb["id"], drugs["id"]]
    assert ids(f"place_id={place['id']}&source=council_asb") == [drugs["id"]]
    assert ids(f"bbox={bbox_around(lon, lat)}") == [asb["id"], drugs["id"], far["id"]]
    box = bbox_around(lon, lat)
    assert ids(f"bbox={box}&datetime=2026-04-01T00:00:00Z/2026-05-01T00:00:00Z") == [drugs["id"], far["id"]]
    assert ids(f"bbox={box}&datetime=../2026-04-01T00:00:00Z") == [asb["id"]]
    assert ids(f"bbox={box}&datetime=2026-04-11T00:00:00Z/..") == [far["id"]]


def test_a_time_window_incident_matches_any_overlapping_interval(client, org):
    lon, lat = spot()
    # police.uk publishes only the month: the record spans the month.
    created = report(client, org, geometry=point(lon, lat), occurred_from="2026-02-01T00:00:00Z",
                     occurred_to="2026-02-28T23:59:59Z")
    box = bbox_around(lon, lat)
    headers = org.headers("community_safety")
    mid_month = client.get(f"/api/incidents?bbox={box}&datetime=2026-02-14T00:00:00Z/2026-02-15T00:00:00Z",
                           headers=headers).json()
    assert [f["id"] for f in mid_month["features"]] == [created["id"]]
    march = client.get(f"/api/incidents?bbox={box}&datetime=2026-03-01T00:00:00Z/..", headers=headers).json()
    assert march["features"] == []


def test_instant_datetime_finds_the_incident_at_that_instant(client, org):
    lon, lat = spot()
    created = report(client, org, geometry=point(lon, lat), occurred_from="2026-05-01T16:00:00Z")
    found = client.get(f"/api/incidents?bbox={bbox_around(lon, lat)}&datetime=2026-05-01T16:00:00Z",
                       headers=org.headers("community_safety")).json()
    assert [f["id"] for f in found["features"]] == [created["id"]]


def test_bare_date_finds_that_days_incidents(client, org):
    lon, lat = spot()
    created = report(client, org, geometry=point(lon, lat), occurred_from="2026-05-01T16:00:00Z")
    found = client.get(f"/api/incidents?bbox={bbox_around(lon, lat)}&datetime=2026-05-01",
                       headers=org.headers("community_safety")).json()
    assert [f["id"] for f in found["features"]] == [created["id"]]


def test_unknown_harm_category_filter_is_refused(client, org):
    response = client.get("/api/incidents?harm_category=burglary", headers=org.headers("community_safety"))
    assert_problem(response, 422, "harm_category")


# ---- rules of the data --------------------------------------------------------------------------------
def test_duplicate_source_reference_is_a_conflict(client, org, other_org, database):
    ref = unique("ASB-2026-")
    report(client, org, geometry=point(*spot()), source="council_asb", source_ref=ref)
    before = own_rows(database, "incidents", org)
    response = client.post("/api/incidents", json=incident_body(geometry=point(*spot()), source="council_asb",
                                                                source_ref=ref),
                           headers=org.headers("community_safety"))
    assert_problem(response, 409, "properties.source_ref")
    assert own_rows(database, "incidents", org) == before
    # The reference is unique per source and per organisation.
    report(client, org, geometry=point(*spot()), source="manual", source_ref=ref)
    report(client, other_org, geometry=point(*spot()), source="council_asb", source_ref=ref)


def test_patch_refuses_an_end_before_the_start(client, org):
    created = report(client, org, geometry=point(*spot()))
    response = client.patch(f"/api/incidents/{created['id']}", json=patch_body(occurred_to="2026-04-01T00:00:00Z"),
                            headers=org.headers("community_safety"))
    assert_problem(response, 422, "properties.occurred_to")
    assert client.get(f"/api/incidents/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["occurred_to"] is None


def test_an_incident_is_a_point(client, org, database):
    lon, lat = spot()
    ring = [[lon, lat], [lon + 0.001, lat], [lon + 0.001, lat + 0.001], [lon, lat]]
    before = own_rows(database, "incidents", org)
    response = client.post("/api/incidents", json=incident_body(geometry={"type": "Polygon", "coordinates": [ring]}),
                           headers=org.headers("community_safety"))
    assert_problem(response, 422, "geometry")
    assert own_rows(database, "incidents", org) == before


def test_patch_changes_category_and_description(client, org):
    created = report(client, org, geometry=point(*spot()))
    response = client.patch(f"/api/incidents/{created['id']}",
                            json=patch_body(harm_category="serious_violence", description="Fight outside"),
                            headers=org.headers("community_safety"))
    assert response.status_code == 200, response.text
    props = response.json()["properties"]
    assert (props["harm_category"], props["description"]) == ("serious_violence", "Fight outside")
    assert props["occurred_from"] == created["properties"]["occurred_from"]


# ---- roles --------------------------------------------------------------------------------------------
def test_youth_worker_may_create_but_not_change_or_delete_incidents(client, org):
    created = report(client, org, role="youth_worker", geometry=point(*spot()), harm_category="peer_abuse")
    headers = org.headers("youth_worker")
    assert client.get(f"/api/incidents/{created['id']}", headers=headers).status_code == 200
    assert_problem(client.patch(f"/api/incidents/{created['id']}", json=patch_body(harm_category="other"),
                                headers=headers), 403)
    assert_problem(client.delete(f"/api/incidents/{created['id']}", headers=headers), 403)
    kept = client.get(f"/api/incidents/{created['id']}", headers=org.headers("admin")).json()
    assert kept["properties"]["harm_category"] == "peer_abuse"


@pytest.mark.parametrize("role", ["admin", "community_safety"])
def test_admin_and_community_safety_change_and_delete_incidents(client, org, role):
    created = report(client, org, geometry=point(*spot()))
    headers = org.headers(role)
    assert client.patch(f"/api/incidents/{created['id']}", json=patch_body(young_people=4),
                        headers=headers).status_code == 200
    assert client.delete(f"/api/incidents/{created['id']}", headers=headers).status_code == 204
    assert_problem(client.get(f"/api/incidents/{created['id']}", headers=headers), 404)


def test_panel_sees_no_individual_incidents(client, org, database):
    created = report(client, org, geometry=point(*spot()))
    headers = org.headers("panel")
    assert_problem(client.get("/api/incidents", headers=headers), 403)
    assert_problem(client.get(f"/api/incidents/{created['id']}", headers=headers), 403)
    before = own_rows(database, "incidents", org)
    assert_problem(client.post("/api/incidents", json=incident_body(geometry=point(*spot())), headers=headers), 403)
    assert_problem(client.patch(f"/api/incidents/{created['id']}", json=patch_body(young_people=9),
                                headers=headers), 403)
    assert_problem(client.delete(f"/api/incidents/{created['id']}", headers=headers), 403)
    assert own_rows(database, "incidents", org) == before


# ---- organisation isolation ---------------------------------------------------------------------------
def test_another_organisations_incidents_are_invisible(client, org, other_org):
    lon, lat = spot()
    theirs = report(client, other_org, geometry=point(lon, lat), description="Their record")
    ours = report(client, org, geometry=point(lon, lat))
    headers = org.headers("admin")
    assert_problem(client.get(f"/api/incidents/{theirs['id']}", headers=headers), 404)
    assert_problem(client.patch(f"/api/incidents/{theirs['id']}", json=patch_body(description="Changed"),
                                headers=headers), 404)
    assert_problem(client.delete(f"/api/incidents/{theirs['id']}", headers=headers), 404)
    listed = client.get(f"/api/incidents?bbox={bbox_around(lon, lat)}", headers=headers).json()
    assert [f["id"] for f in listed["features"]] == [ours["id"]]
    still = client.get(f"/api/incidents/{theirs['id']}", headers=other_org.headers("admin")).json()
    assert still["properties"]["description"] == "Their record"


@pytest.fixture
def lenient(app: Any) -> TestClient:
    """A client that reports server errors as responses (to show a 500 as a status, not a traceback)."""
    return TestClient(app, raise_server_exceptions=False)


def test_patch_clearing_the_start_is_refused_not_a_crash(lenient, org):
    created = report(lenient, org, geometry=point(*spot()), occurred_to="2026-05-01T18:00:00Z")
    response = lenient.patch(f"/api/incidents/{created['id']}", json=patch_body(occurred_from=None),
                             headers=org.headers("community_safety"))
    assert_problem(response, 422, "properties.occurred_from")
