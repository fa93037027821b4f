"""Guardians: roles (never named people) present at a place, with their training and hours."""

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
    return round(-2.95 + (i % 40) * 0.02, 6), round(52.85 + (i // 40) * 0.02, 6)


def guardian_body(place_id: int, role: str = "staff", **extra: Any) -> dict[str, Any]:
    return {"place_id": place_id, "role": role, "description": "Library staff on the teen floor",
            "trainings": [{"kind": "bystander_intervention", "completed_on": "2026-03-09"},
                          {"kind": "adolescent_development", "completed_on": "2026-03-23"}],
            "hours": "Mo-Fr 09:00-19:00; Sa 10:00-16:00", **extra}


def add_guardian(client: TestClient, org: Any, body: dict[str, Any], role: str = "community_safety") -> dict[str, Any]:
    response = client.post("/api/guardians", json=body, headers=org.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


def new_place(client: TestClient, org: Any) -> int:
    return int(create_place(client, org, geometry=point(*spot()))["id"])


def test_guardian_is_recorded_with_training_and_hours(client, org):
    place = new_place(client, org)
    response = client.post("/api/guardians", json=guardian_body(place, notes="Two staff on shift"),
                           headers=org.headers("community_safety"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/guardians/{created['id']}"
    props = created["properties"]
    assert (props["place_id"], props["role"]) == (place, "staff")
    assert props["trainings"] == [{"kind": "bystander_intervention", "completed_on": "2026-03-09"},
                                  {"kind": "adolescent_development", "completed_on": "2026-03-23"}]
    assert props["hours"] == "Mo-Fr 09:00-19:00; Sa 10:00-16:00"
    assert created["geometry"]["type"] == "Point"
    assert client.get(f"/api/guardians/{created['id']}", headers=org.headers("panel")).status_code == 200


def test_list_filters_by_place_and_role(client, org):
    place = new_place(client, org)
    staff = add_guardian(client, org, guardian_body(place, "staff"))
    manager = add_guardian(client, org, guardian_body(place, "place_manager", trainings=[]))
    headers = org.headers("youth_worker")

    everyone = client.get(f"/api/guardians?place_id={place}", headers=headers).json()
    assert everyone["type"] == "FeatureCollection"
    assert sorted(f["id"] for f in everyone["features"]) == sorted([staff["id"], manager["id"]])
    managers = client.get(f"/api/guardians?place_id={place}&role=place_manager", headers=headers).json()
    assert [f["id"] for f in managers["features"]] == [manager["id"]]


def test_patch_records_new_training(client, org):
    place = new_place(client, org)
    created = add_guardian(client, org, guardian_body(place, trainings=[]))
    trainings = [{"kind": "safeguarding", "completed_on": "2026-04-13"}]
    response = client.patch(f"/api/guardians/{created['id']}", json={"trainings": trainings},
                            headers=org.headers("youth_worker"))
    assert response.status_code == 200, response.text
    assert response.json()["properties"]["trainings"] == trainings
    assert response.json()["properties"]["hours"] == "Mo-Fr 09:00-19:00; Sa 10:00-16:00"


def test_malformed_hours_are_refused_with_the_position(client, org, database):
    place = new_place(client, org)
    before = own_rows(database, "guardians", org)
    response = client.post("/api/guardians", json=guardian_body(place, hours="Mo-Fr 9-17"),
                           headers=org.headers("community_safety"))
    problem = assert_problem(response, 422, "hours")
    assert "character 7" in problem["detail"]
    assert own_rows(database, "guardians", org) == before

    created = add_guardian(client, org, guardian_body(place))
    response = client.patch(f"/api/guardians/{created['id']}", json={"hours": "Mo-Xx 10:00-12:00"},
                            headers=org.headers("community_safety"))
    assert_problem(response, 422, "hours")
    assert client.get(f"/api/guardians/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["hours"] == "Mo-Fr 09:00-19:00; Sa 10:00-16:00"


def test_unknown_role_and_training_are_refused(client, org, database):
    place = new_place(client, org)
    before = own_rows(database, "guardians", org)
    assert_problem(client.post("/api/guardians", json=guardian_body(place, role="wizard"),
                               headers=org.headers("admin")), 422, "role")
    bad_training = guardian_body(place, trainings=[{"kind": "karate", "completed_on": "2026-01-01"}])
    assert_problem(client.post("/api/guardians", json=bad_training, headers=org.headers("admin")), 422,
                   "trainings.0.kind")
    named = guardian_body(place, name="Jane Smith")  # a guardian is a role, never a named person
    assert_problem(client.post("/api/guardians", json=named, headers=org.headers("admin")), 422, "name")
    assert own_rows(database, "guardians", org) == before


def test_deleted_guardian_is_gone(client, org):
    created = add_guardian(client, org, guardian_body(new_place(client, org)), role="youth_worker")
    assert client.delete(f"/api/guardians/{created['id']}", headers=org.headers("youth_worker")).status_code == 204
    assert_problem(client.get(f"/api/guardians/{created['id']}", headers=org.headers("admin")), 404)


def test_panel_reads_guardians_without_free_text_and_may_not_write(client, org, database):
    place = new_place(client, org)
    created = add_guardian(client, org, guardian_body(place, notes="Staff member raised two concerns"))
    headers = org.headers("panel")
    single = client.get(f"/api/guardians/{created['id']}", headers=headers).json()["properties"]
    [listed] = client.get(f"/api/guardians?place_id={place}", headers=headers).json()["features"]
    for props in (single, listed["properties"]):
        assert props["description"] is None
        assert props["notes"] is None
        assert props["role"] == "staff"
        assert len(props["trainings"]) == 2

    before = own_rows(database, "guardians", org)
    assert_problem(client.post("/api/guardians", json=guardian_body(place), headers=headers), 403)
    assert_problem(client.patch(f"/api/guardians/{created['id']}", json={"role": "security"}, headers=headers), 403)
    assert_problem(client.delete(f"/api/guardians/{created['id']}", headers=headers), 403)
    assert own_rows(database, "guardians", org) == before
    assert client.get(f"/api/guardians/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["role"] == "staff"


def test_another_organisations_guardians_are_invisible(client, org, other_org, database):
    their_place = new_place(client, other_org)
    theirs = add_guardian(client, other_org, guardian_body(their_place))
    headers = org.headers("admin")
    assert_problem(client.get(f"/api/guardians/{theirs['id']}", headers=headers), 404)
    assert_problem(client.patch(f"/api/guardians/{theirs['id']}", json={"role": "security"}, headers=headers), 404)
    assert_problem(client.delete(f"/api/guardians/{theirs['id']}", headers=headers), 404)
    assert client.get(f"/api/guardians?place_id={their_place}", headers=headers).json()["features"] == []

    before = own_rows(database, "guardians", org)
    assert_problem(client.post("/api/guardians", json=guardian_body(their_place), headers=headers), 422, "place_id")
    assert own_rows(database, "guardians", org) == before
    assert client.get(f"/api/guardians/{theirs['id']}", headers=other_org.headers("admin")).json()[
        "properties"]["role"] == "staff"


@pytest.fixture
def lenient(app: Any) -> TestClient:
    """A client that reports server errors as responses (to show a 500 as a status, not a traceback)."""
    return TestClient(app, raise_server_exceptions=False)


def test_patch_with_null_trainings_is_refused_not_a_crash(lenient, org):
    # Once a 500: JSON null was written into trainings and the response could not be built.
    created = add_guardian(lenient, org, guardian_body(new_place(lenient, org)))
    response = lenient.patch(f"/api/guardians/{created['id']}", json={"trainings": None},
                             headers=org.headers("community_safety"))
    assert_problem(response, 422, "trainings")
    assert len(lenient.get(f"/api/guardians/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["trainings"]) == 2
