"""Places: the contexts of harm and of safety, as GeoJSON features under /api/places."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import assert_problem, create_place, incident_body, own_rows, place_body, point, unique

_spots = itertools.count()


def spot() -> tuple[float, float]:
    """A fresh location (about 1.4 km from any other this module uses), inside England and Wales."""
    i = next(_spots)
    return round(-2.95 + (i % 40) * 0.02, 6), round(52.05 + (i // 40) * 0.02, 6)


def bbox_around(lon: float, lat: float, d: float = 0.002) -> str:
    return f"{lon - d},{lat - d},{lon + d},{lat + d}"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# ---- create, read, update, delete ---------------------------------------------------------------------
def test_created_place_is_a_geojson_feature_that_can_be_read_back(client, org):
    lon, lat = spot()
    name = unique("Wellgate library ")
    response = client.post(
        "/api/places",
        json=place_body(name=name, kind="library", geometry=point(lon, lat), address="1 Library Square",
                        opening_hours="Mo-Fr 09:00-19:00; Sa 10:00-16:00", place_manager="Library manager"),
        headers=org.headers("community_safety"),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/places/{created['id']}"
    assert created["type"] == "Feature"
    assert created["geometry"] == {"type": "Point", "coordinates": [lon, lat]}
    props = created["properties"]
    assert (props["name"], props["kind"], props["address"]) == (name, "library", "1 Library Square")
    assert props["opening_hours"] == "Mo-Fr 09:00-19:00; Sa 10:00-16:00"
    assert props["current_designations"] == []

    got = client.get(f"/api/places/{created['id']}", headers=org.headers("youth_worker"))
    assert got.status_code == 200
    assert got.json() == created


def test_a_place_may_be_an_area(client, org):
    lon, lat = spot()
    x1, y1 = round(lon + 0.003, 7), round(lat + 0.002, 7)  # GeoJSON comes back with 7 decimals
    ring = [[lon, lat], [x1, lat], [x1, y1], [lon, y1], [lon, lat]]
    created = create_place(client, org, kind="park", geometry={"type": "Polygon", "coordinates": [ring]})
    assert created["geometry"] == {"type": "Polygon", "coordinates": [ring]}


def test_opening_hours_are_stored_normalised(client, org):
    created = create_place(client, org, geometry=point(*spot()),
                           opening_hours="Mo-Fr 08:00-12:00 , 13:00-17:00;sa closed")
    assert created["properties"]["opening_hours"] == "Mo-Fr 08:00-12:00,13:00-17:00; Sa off"


def test_patch_changes_only_what_is_sent(client, org):
    created = create_place(client, org, geometry=point(*spot()), address="14 Wellgate Street", notes="first")
    new_lon, new_lat = spot()
    response = client.patch(
        f"/api/places/{created['id']}",
        json={"type": "Feature", "geometry": point(new_lon, new_lat),
              "properties": {"name": "Golden Wok (renamed)", "kind": "takeaway"}},
        headers=org.headers("community_safety"),
    )
    assert response.status_code == 200, response.text
    props = response.json()["properties"]
    assert (props["name"], props["kind"]) == ("Golden Wok (renamed)", "takeaway")
    assert props["address"] == "14 Wellgate Street"
    assert props["notes"] == "first"
    assert response.json()["geometry"]["coordinates"] == [new_lon, new_lat]
    assert (datetime.fromisoformat(props["updated_at"])
            >= datetime.fromisoformat(created["properties"]["updated_at"]))
    again = client.get(f"/api/places/{created['id']}", headers=org.headers("community_safety")).json()
    assert again == response.json()


def test_patch_can_clear_an_optional_field(client, org):
    created = create_place(client, org, geometry=point(*spot()), address="2 Flaxen Road")
    response = client.patch(f"/api/places/{created['id']}",
                            json={"type": "Feature", "geometry": None, "properties": {"address": None}},
                            headers=org.headers("community_safety"))
    assert response.status_code == 200, response.text
    assert response.json()["properties"]["address"] is None


def test_patch_refuses_to_clear_the_name(client, org):
    created = create_place(client, org, geometry=point(*spot()))
    response = client.patch(f"/api/places/{created['id']}",
                            json={"type": "Feature", "geometry": None, "properties": {"name": None}},
                            headers=org.headers("community_safety"))
    body = assert_problem(response, 422)
    assert "name" in (body.get("field") or "")
    still = client.get(f"/api/places/{created['id']}", headers=org.headers("community_safety")).json()
    assert still["properties"]["name"] == created["properties"]["name"]


def test_deleted_place_is_gone(client, org):
    created = create_place(client, org, geometry=point(*spot()))
    response = client.delete(f"/api/places/{created['id']}", headers=org.headers("community_safety"))
    assert response.status_code == 204
    assert_problem(client.get(f"/api/places/{created['id']}", headers=org.headers("community_safety")), 404)
    assert_problem(client.delete(f"/api/places/{created['id']}", headers=org.headers("admin")), 404)


def test_deleting_a_place_keeps_its_incidents_unlinked(client, org):
    lon, lat = spot()
    place = create_place(client, org, geometry=point(lon, lat))
    incident = client.post("/api/incidents", json=incident_body(geometry=point(lon, lat), place_id=place["id"]),
                           headers=org.headers("community_safety")).json()
    assert client.delete(f"/api/places/{place['id']}", headers=org.headers("admin")).status_code == 204
    kept = client.get(f"/api/incidents/{incident['id']}", headers=org.headers("community_safety"))
    assert kept.status_code == 200
    assert kept.json()["properties"]["place_id"] is None


def test_deleting_a_place_clears_the_link_kind_of_its_incidents(client, org):
    lon, lat = spot()
    place = create_place(client, org, geometry=point(lon, lat))
    incident = client.post("/api/incidents", json=incident_body(geometry=point(lon, lat), place_id=place["id"]),
                           headers=org.headers("community_safety")).json()
    client.delete(f"/api/places/{place['id']}", headers=org.headers("admin"))
    kept = client.get(f"/api/incidents/{incident['id']}", headers=org.headers("community_safety")).json()
    assert kept["properties"]["place_link"] is None


def test_unknown_place_is_404_problem(client, org):
    body = assert_problem(client.get("/api/places/987654321", headers=org.headers("admin")), 404)
    assert body["instance"] == "/api/places/987654321"


# ---- lists --------------------------------------------------------------------------------------------
def test_list_is_a_feature_collection_filtered_by_bbox_and_kind(client, org):
    lon, lat = spot()
    library = create_place(client, org, kind="library", geometry=point(lon, lat))
    park = create_place(client, org, kind="park", geometry=point(lon + 0.0005, lat))
    create_place(client, org, kind="library", geometry=point(*spot()))  # elsewhere
    headers = org.headers("youth_worker")

    response = client.get(f"/api/places?bbox={bbox_around(lon, lat)}", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert sorted(f["id"] for f in body["features"]) == sorted([library["id"], park["id"]])
    assert body["numberReturned"] == 2
    assert [link["rel"] for link in body["links"]] == ["self"]

    libraries = client.get(f"/api/places?bbox={bbox_around(lon, lat)}&kind=library", headers=headers).json()
    assert [f["id"] for f in libraries["features"]] == [library["id"]]
    both = client.get(f"/api/places?bbox={bbox_around(lon, lat)}&kind=library&kind=park", headers=headers).json()
    assert both["numberReturned"] == 2


def test_list_pages_with_next_and_prev_links(client, org):
    lon, lat = spot()
    ids = [create_place(client, org, geometry=point(lon + i * 0.0002, lat))["id"] for i in range(5)]
    headers = org.headers("community_safety")
    url: str | None = f"/api/places?bbox={bbox_around(lon, lat)}&limit=2"
    seen: list[int] = []
    pages = 0
    while url:
        body = client.get(url, headers=headers).json()
        pages += 1
        assert body["numberReturned"] == len(body["features"]) <= 2
        seen += [f["id"] for f in body["features"]]
        links = {link["rel"]: link["href"] for link in body["links"]}
        if pages > 1:
            assert "prev" in links
        url = links.get("next")
    assert pages == 3
    assert seen == sorted(ids)


def test_list_filters_by_last_change_time(client, org):
    lon, lat = spot()
    place = create_place(client, org, geometry=point(lon, lat))
    headers = org.headers("community_safety")
    box = bbox_around(lon, lat)
    hour_ago = iso(datetime.now(UTC) - timedelta(hours=1))

    def found(datetime_param: str) -> list[int]:
        response = client.get(f"/api/places?bbox={box}&datetime={datetime_param}", headers=headers)
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json()["features"]]

    assert found(f"{hour_ago}/..") == [place["id"]]
    assert found("../2020-01-01T00:00:00Z") == []
    assert found("2019-01-01T00:00:00Z/2020-01-01T00:00:00Z") == []


def test_features_are_served_as_geojson_media_type(client, org):
    created = create_place(client, org, geometry=point(*spot()))
    response = client.get(f"/api/places/{created['id']}", headers=org.headers("admin"))
    assert response.headers["content-type"].startswith("application/geo+json")


# ---- current designations -----------------------------------------------------------------------------
def test_place_shows_only_its_current_designations(client, org):
    place = create_place(client, org, geometry=point(*spot()))
    headers = org.headers("community_safety")
    now = datetime.now(UTC)
    ended = {"place_id": place["id"], "kind": "concern", "level": "high", "reason": "Drug dealing outside",
             "valid_from": "2024-01-01T00:00:00Z", "valid_to": "2024-06-01T00:00:00Z"}
    current = {"place_id": place["id"], "kind": "safe_space", "scheme": "Safe Places",
               "valid_from": iso(now - timedelta(days=30))}
    future = {"place_id": place["id"], "kind": "concern", "level": "low", "reason": "Planned review",
              "valid_from": iso(now + timedelta(days=30))}
    created = [client.post("/api/designations", json=d, headers=headers) for d in (ended, current, future)]
    assert [r.status_code for r in created] == [201, 201, 201]

    props = client.get(f"/api/places/{place['id']}", headers=headers).json()["properties"]
    assert [(d["id"], d["kind"]) for d in props["current_designations"]] == [(created[1].json()["id"], "safe_space")]


def test_current_concern_past_its_review_date_is_flagged_overdue(client, org):
    place = create_place(client, org, geometry=point(*spot()))
    headers = org.headers("community_safety")
    now = datetime.now(UTC)
    response = client.post("/api/designations", headers=headers, json={
        "place_id": place["id"], "kind": "concern", "level": "medium", "reason": "Robberies at the stop",
        "valid_from": iso(now - timedelta(days=100)), "review_by": (now - timedelta(days=5)).date().isoformat(),
    })
    assert response.status_code == 201, response.text
    [summary] = client.get(f"/api/places/{place['id']}", headers=headers).json()["properties"]["current_designations"]
    assert summary["kind"] == "concern"
    assert summary["level"] == "medium"
    assert summary["review_overdue"] is True


# ---- roles --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["admin", "community_safety", "youth_worker", "panel"])
def test_every_role_reads_places(client, org, role):
    created = create_place(client, org, geometry=point(*spot()))
    assert client.get(f"/api/places/{created['id']}", headers=org.headers(role)).status_code == 200
    assert client.get("/api/places?limit=1", headers=org.headers(role)).status_code == 200


def test_panel_may_not_create_or_change_places(client, org, database):
    created = create_place(client, org, geometry=point(*spot()))
    before = own_rows(database, "places", org)
    assert_problem(client.post("/api/places", json=place_body(geometry=point(*spot())),
                               headers=org.headers("panel")), 403)
    assert own_rows(database, "places", org) == before
    assert_problem(client.patch(f"/api/places/{created['id']}",
                                json={"type": "Feature", "geometry": None, "properties": {"name": "Renamed"}},
                                headers=org.headers("panel")), 403)
    assert_problem(client.delete(f"/api/places/{created['id']}", headers=org.headers("panel")), 403)
    still = client.get(f"/api/places/{created['id']}", headers=org.headers("admin")).json()
    assert still["properties"]["name"] == created["properties"]["name"]


def test_youth_worker_records_and_edits_places_but_may_not_delete_them(client, org):
    created = create_place(client, org, role="youth_worker", kind="youth_club", geometry=point(*spot()))
    patched = client.patch(f"/api/places/{created['id']}",
                           json={"type": "Feature", "geometry": None, "properties": {"place_manager": "Team lead"}},
                           headers=org.headers("youth_worker"))
    assert patched.status_code == 200
    # Deleting a place would end its places-of-concern: a community-safety judgement.
    assert_problem(client.delete(f"/api/places/{created['id']}", headers=org.headers("youth_worker")), 403)
    assert client.get(f"/api/places/{created['id']}", headers=org.headers("admin")).status_code == 200


def test_panel_sees_places_without_free_text_notes(client, org):
    lon, lat = spot()
    created = create_place(client, org, geometry=point(lon, lat), notes="Manager says dealers use the back door")
    own = client.get(f"/api/places/{created['id']}", headers=org.headers("youth_worker")).json()
    assert own["properties"]["notes"] == "Manager says dealers use the back door"

    single = client.get(f"/api/places/{created['id']}", headers=org.headers("panel")).json()
    assert single["properties"]["notes"] is None
    assert single["properties"]["name"] == created["properties"]["name"]
    listed = client.get(f"/api/places?bbox={bbox_around(lon, lat)}", headers=org.headers("panel")).json()
    assert [f["properties"]["notes"] for f in listed["features"]] == [None]


def test_requests_without_credentials_are_refused(client):
    response = client.get("/api/places")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(client.get("/api/places", headers={"Authorization": "Bearer cm_not-a-real-token"}), 401)


# ---- organisation isolation ---------------------------------------------------------------------------
def test_another_organisations_place_is_invisible(client, org, other_org):
    lon, lat = spot()
    theirs = create_place(client, other_org, name="Their library", geometry=point(lon, lat))
    ours = create_place(client, org, name="Our library", geometry=point(lon, lat))
    headers = org.headers("admin")

    assert_problem(client.get(f"/api/places/{theirs['id']}", headers=headers), 404)
    assert_problem(client.patch(f"/api/places/{theirs['id']}", headers=headers,
                                json={"type": "Feature", "geometry": None, "properties": {"name": "Hijacked"}}), 404)
    assert_problem(client.delete(f"/api/places/{theirs['id']}", headers=headers), 404)
    assert_problem(client.get(f"/api/places/{theirs['id']}/designations", headers=headers), 404)

    listed = client.get(f"/api/places?bbox={bbox_around(lon, lat)}", headers=headers).json()
    assert [f["id"] for f in listed["features"]] == [ours["id"]]

    unchanged = client.get(f"/api/places/{theirs['id']}", headers=other_org.headers("admin"))
    assert unchanged.status_code == 200
    assert unchanged.json()["properties"]["name"] == "Their library"


def test_a_designation_of_another_organisation_does_not_show_on_our_place(client, org, other_org):
    # Isolation holds for the computed current_designations too, not only for the place row.
    theirs = create_place(client, other_org, geometry=point(*spot()))
    ok = client.post("/api/designations", headers=other_org.headers("admin"), json={
        "place_id": theirs["id"], "kind": "safe_space", "valid_from": "2025-01-01T00:00:00Z"})
    assert ok.status_code == 201
    ours = create_place(client, org, geometry=point(*spot()))
    assert client.get(f"/api/places/{ours['id']}", headers=org.headers("admin")).json()[
        "properties"]["current_designations"] == []


def test_limit_above_the_maximum_is_capped_not_refused(client, org):
    response = client.get("/api/places?limit=50000", headers=org.headers("admin"))
    assert response.status_code == 200
    assert response.json()["numberReturned"] <= 1000
