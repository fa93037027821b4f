"""Designations: time-bounded safeguarding judgements about a place (concern or safe space), with history."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import assert_problem, create_place, own_rows, point

_spots = itertools.count()


def spot() -> tuple[float, float]:
    """A fresh location (about 1.4 km from any other this module uses), inside England and Wales."""
    i = next(_spots)
    return round(-2.95 + (i % 40) * 0.02, 6), round(52.45 + (i // 40) * 0.02, 6)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def concern(place_id: int, valid_from: str, valid_to: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"place_id": place_id, "kind": "concern", "level": "high",
            "reason": "Young people drawn into drug dealing around the entrance",
            "valid_from": valid_from, "valid_to": valid_to, **extra}


def safe_space(place_id: int, valid_from: str, valid_to: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"place_id": place_id, "kind": "safe_space", "scheme": "Safe Places", "age_min": 11, "age_max": 18,
            "help_offered": ["phone a trusted adult", "wait indoors"], "valid_from": valid_from,
            "valid_to": valid_to, **extra}


def designate(client: TestClient, org: Any, body: dict[str, Any], role: str = "community_safety") -> dict[str, Any]:
    response = client.post("/api/designations", json=body, headers=org.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


def new_place(client: TestClient, org: Any, **kwargs: Any) -> int:
    return int(create_place(client, org, geometry=point(*spot()), **kwargs)["id"])


# ---- create and read ----------------------------------------------------------------------------------
def test_safe_space_is_recorded_and_current(client, org):
    place = new_place(client, org, kind="library")
    since = iso(datetime.now(UTC) - timedelta(days=10))
    response = client.post("/api/designations", headers=org.headers("community_safety"), json=safe_space(
        place, since, accessibility="Step-free entrance", verified_on="2026-01-05"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/designations/{created['id']}"
    props = created["properties"]
    assert props["place_id"] == place
    assert props["kind"] == "safe_space"
    assert props["current"] is True
    assert props["help_offered"] == ["phone a trusted adult", "wait indoors"]
    assert (props["age_min"], props["age_max"]) == (11, 18)
    assert props["accessibility"] == "Step-free entrance"
    assert props["verified_on"] == "2026-01-05"
    # A designation is shown where its place is.
    assert created["geometry"] == client.get(f"/api/places/{place}", headers=org.headers("admin")).json()["geometry"]

    got = client.get(f"/api/designations/{created['id']}", headers=org.headers("youth_worker"))
    assert got.status_code == 200
    assert got.json() == created


def test_place_keeps_its_history_safe_space_then_concern_then_safe_space(client, org):
    place = new_place(client, org, kind="library", name="Wellgate Central Library (test)")
    first = designate(client, org, safe_space(place, "2024-01-01T00:00:00Z", "2024-09-01T00:00:00Z"))
    middle = designate(client, org, concern(place, "2024-09-01T00:00:00Z", "2025-03-01T00:00:00Z"))
    last = designate(client, org, safe_space(place, "2025-03-01T00:00:00Z"))

    history = client.get(f"/api/places/{place}/designations", headers=org.headers("community_safety"))
    assert history.status_code == 200
    body = history.json()
    assert body["type"] == "FeatureCollection"
    rows = [(f["id"], f["properties"]["kind"], f["properties"]["current"]) for f in body["features"]]
    assert rows == [(first["id"], "safe_space", False), (middle["id"], "concern", False),
                    (last["id"], "safe_space", True)]

    place_props = client.get(f"/api/places/{place}", headers=org.headers("community_safety")).json()["properties"]
    assert [(d["id"], d["kind"]) for d in place_props["current_designations"]] == [(last["id"], "safe_space")]


def test_list_filters_by_place_kind_level_and_current(client, org):
    place = new_place(client, org)
    old = designate(client, org, concern(place, "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z", level="low"))
    now = designate(client, org, concern(place, "2024-06-01T00:00:00Z", level="high"))
    safe = designate(client, org, safe_space(place, "2024-01-01T00:00:00Z"))
    headers = org.headers("community_safety")

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/designations?place_id={place}&{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json()["features"]]

    assert sorted(ids("")) == sorted([old["id"], now["id"], safe["id"]])
    assert ids("kind=concern") == [old["id"], now["id"]]
    assert ids("kind=concern&level=high") == [now["id"]]
    assert sorted(ids("current=true")) == sorted([now["id"], safe["id"]])
    assert ids("current=false") == [old["id"]]
    assert ids("datetime=2024-02-01T00:00:00Z/2024-03-01T00:00:00Z&kind=concern") == [old["id"]]
    assert ids("datetime=2025-01-01T00:00:00Z/..&kind=concern") == [now["id"]]


def test_back_to_back_designations_of_one_kind_do_not_overlap(client, org):
    place = new_place(client, org)
    designate(client, org, concern(place, "2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z"))
    designate(client, org, concern(place, "2025-06-01T00:00:00Z", "2025-12-01T00:00:00Z"))


def test_a_safe_space_and_a_concern_may_run_at_once(client, org):
    place = new_place(client, org)
    designate(client, org, safe_space(place, "2025-01-01T00:00:00Z"))
    designate(client, org, concern(place, "2025-02-01T00:00:00Z"))


def test_ending_a_designation_moves_it_into_history(client, org):
    place = new_place(client, org)
    created = designate(client, org, concern(place, "2025-01-01T00:00:00Z"))
    assert created["properties"]["current"] is True
    end = iso(datetime.now(UTC) - timedelta(minutes=1))
    response = client.patch(f"/api/designations/{created['id']}", json={"valid_to": end},
                            headers=org.headers("community_safety"))
    assert response.status_code == 200, response.text
    assert response.json()["properties"]["current"] is False
    assert client.get(f"/api/places/{place}", headers=org.headers("admin")).json()[
        "properties"]["current_designations"] == []


def test_deleted_designation_is_gone(client, org):
    place = new_place(client, org)
    created = designate(client, org, safe_space(place, "2025-01-01T00:00:00Z"))
    assert client.delete(f"/api/designations/{created['id']}", headers=org.headers("admin")).status_code == 204
    assert_problem(client.get(f"/api/designations/{created['id']}", headers=org.headers("admin")), 404)


# ---- roles --------------------------------------------------------------------------------------------
def test_youth_worker_records_safe_spaces_but_not_places_of_concern(client, org, database):
    place = new_place(client, org, kind="youth_club")
    created = designate(client, org, safe_space(place, "2025-01-01T00:00:00Z"), role="youth_worker")
    assert created["properties"]["kind"] == "safe_space"

    before = own_rows(database, "designations", org)
    response = client.post("/api/designations", json=concern(place, "2025-01-01T00:00:00Z"),
                           headers=org.headers("youth_worker"))
    assert_problem(response, 403, "kind")
    assert own_rows(database, "designations", org) == before


def test_youth_worker_may_edit_a_safe_space_but_not_end_or_delete_a_concern(client, org):
    place = new_place(client, org)
    safe = designate(client, org, safe_space(place, "2025-01-01T00:00:00Z"))
    flagged = designate(client, org, concern(place, "2025-01-01T00:00:00Z"))
    headers = org.headers("youth_worker")

    edited = client.patch(f"/api/designations/{safe['id']}", json={"accessibility": "Hearing loop"}, headers=headers)
    assert edited.status_code == 200
    assert edited.json()["properties"]["accessibility"] == "Hearing loop"

    assert_problem(client.patch(f"/api/designations/{flagged['id']}", json={"valid_to": "2025-06-01T00:00:00Z"},
                                headers=headers), 403)
    assert_problem(client.delete(f"/api/designations/{flagged['id']}", headers=headers), 403)
    unchanged = client.get(f"/api/designations/{flagged['id']}", headers=org.headers("admin")).json()
    assert unchanged["properties"]["valid_to"] is None
    assert unchanged["properties"]["current"] is True


@pytest.mark.parametrize("role", ["admin", "community_safety"])
def test_community_safety_and_admin_flag_and_end_places_of_concern(client, org, role):
    place = new_place(client, org)
    flagged = designate(client, org, concern(place, "2025-01-01T00:00:00Z"), role=role)
    ended = client.patch(f"/api/designations/{flagged['id']}", json={"valid_to": "2025-06-01T00:00:00Z"},
                         headers=org.headers(role))
    assert ended.status_code == 200
    assert client.delete(f"/api/designations/{flagged['id']}", headers=org.headers(role)).status_code == 204


def test_panel_reads_designations_without_free_text(client, org, database):
    place = new_place(client, org)
    flagged = designate(client, org, concern(place, "2025-01-01T00:00:00Z", notes="Named adult seen nearby"))
    staff_view = client.get(f"/api/designations/{flagged['id']}", headers=org.headers("community_safety")).json()
    assert staff_view["properties"]["reason"].startswith("Young people drawn into")
    assert staff_view["properties"]["notes"] == "Named adult seen nearby"

    headers = org.headers("panel")
    single = client.get(f"/api/designations/{flagged['id']}", headers=headers).json()["properties"]
    listed = client.get(f"/api/designations?place_id={place}", headers=headers).json()["features"]
    history = client.get(f"/api/places/{place}/designations", headers=headers).json()["features"]
    for props in (single, listed[0]["properties"], history[0]["properties"]):
        assert props["reason"] is None
        assert props["notes"] is None
        assert (props["kind"], props["level"]) == ("concern", "high")

    before = own_rows(database, "designations", org)
    assert_problem(client.post("/api/designations", json=safe_space(place, "2026-01-01T00:00:00Z"),
                               headers=headers), 403)
    assert_problem(client.patch(f"/api/designations/{flagged['id']}", json={"level": "low"}, headers=headers), 403)
    assert_problem(client.delete(f"/api/designations/{flagged['id']}", headers=headers), 403)
    assert own_rows(database, "designations", org) == before


# ---- rules of the data --------------------------------------------------------------------------------
def test_a_place_of_concern_needs_a_level_and_a_reason(client, org, database):
    place = new_place(client, org)
    before = own_rows(database, "designations", org)
    no_level = {**concern(place, "2025-01-01T00:00:00Z"), "level": None}
    no_reason = {**concern(place, "2025-01-01T00:00:00Z"), "reason": ""}
    for body, word in ((no_level, "level"), (no_reason, "reason")):
        problem = assert_problem(client.post("/api/designations", json=body, headers=org.headers("admin")), 422)
        assert word in problem["detail"]
    assert own_rows(database, "designations", org) == before


def test_a_place_of_concern_cannot_lose_its_reason(client, org):
    place = new_place(client, org)
    flagged = designate(client, org, concern(place, "2025-01-01T00:00:00Z"))
    response = client.patch(f"/api/designations/{flagged['id']}", json={"reason": None},
                            headers=org.headers("community_safety"))
    assert_problem(response, 422, "reason")


def test_overlapping_designation_of_the_same_kind_is_a_conflict(client, org, database):
    place = new_place(client, org)
    designate(client, org, concern(place, "2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z"))
    before = own_rows(database, "designations", org)
    response = client.post("/api/designations", json=concern(place, "2025-05-01T00:00:00Z"),
                           headers=org.headers("community_safety"))
    problem = assert_problem(response, 409, "valid_from")
    assert "already has a designation" in problem["detail"]
    assert own_rows(database, "designations", org) == before


def test_extending_a_designation_into_another_is_a_conflict(client, org):
    place = new_place(client, org)
    first = designate(client, org, concern(place, "2025-01-01T00:00:00Z", "2025-03-01T00:00:00Z"))
    designate(client, org, concern(place, "2025-06-01T00:00:00Z"))
    response = client.patch(f"/api/designations/{first['id']}", json={"valid_to": "2025-07-01T00:00:00Z"},
                            headers=org.headers("community_safety"))
    assert_problem(response, 409, "valid_from")
    unchanged = client.get(f"/api/designations/{first['id']}", headers=org.headers("admin")).json()
    assert unchanged["properties"]["valid_to"] == "2025-03-01T00:00:00Z"


def test_patch_refuses_an_end_before_the_start(client, org):
    place = new_place(client, org)
    created = designate(client, org, safe_space(place, "2025-03-01T00:00:00Z"))
    response = client.patch(f"/api/designations/{created['id']}", json={"valid_to": "2025-01-01T00:00:00Z"},
                            headers=org.headers("community_safety"))
    assert_problem(response, 422, "valid_to")
    assert client.get(f"/api/designations/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["valid_to"] is None


def test_unknown_fields_of_a_designation_are_refused(client, org, database):
    place = new_place(client, org)
    before = own_rows(database, "designations", org)
    response = client.post("/api/designations", json={**safe_space(place, "2025-01-01T00:00:00Z"), "colour": "red"},
                           headers=org.headers("admin"))
    assert_problem(response, 422, "colour")
    assert own_rows(database, "designations", org) == before

    created = designate(client, org, safe_space(place, "2025-01-01T00:00:00Z"))
    elsewhere = new_place(client, org)
    moved = client.patch(f"/api/designations/{created['id']}", json={"place_id": elsewhere},
                         headers=org.headers("admin"))
    assert_problem(moved, 422, "place_id")
    assert client.get(f"/api/designations/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["place_id"] == place


@pytest.fixture
def lenient(app: Any) -> TestClient:
    """A client that reports server errors as responses (to show a 500 as a status, not a traceback)."""
    return TestClient(app, raise_server_exceptions=False)


def test_patch_clearing_the_start_is_refused_not_a_crash(lenient, org):
    place = new_place(lenient, org)
    created = designate(lenient, org, safe_space(place, "2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z"))
    response = lenient.patch(f"/api/designations/{created['id']}", json={"valid_from": None},
                             headers=org.headers("community_safety"))
    assert_problem(response, 422, "valid_from")


# ---- organisation isolation ---------------------------------------------------------------------------
def test_another_organisations_designations_are_invisible(client, org, other_org, database):
    theirs_place = new_place(client, other_org)
    theirs = designate(client, other_org, concern(theirs_place, "2025-01-01T00:00:00Z"))
    headers = org.headers("admin")

    assert_problem(client.get(f"/api/designations/{theirs['id']}", headers=headers), 404)
    assert_problem(client.patch(f"/api/designations/{theirs['id']}", json={"level": "low"}, headers=headers), 404)
    assert_problem(client.delete(f"/api/designations/{theirs['id']}", headers=headers), 404)
    listed = client.get(f"/api/designations?place_id={theirs_place}", headers=headers).json()
    assert listed["features"] == []

    before = own_rows(database, "designations", org)
    response = client.post("/api/designations", json=safe_space(theirs_place, "2025-01-01T00:00:00Z"),
                           headers=headers)
    assert_problem(response, 422, "place_id")
    assert own_rows(database, "designations", org) == before

    unchanged = client.get(f"/api/designations/{theirs['id']}", headers=other_org.headers("admin")).json()
    assert unchanged["properties"]["level"] == "high"
