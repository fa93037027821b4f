"""The one write use case (app.services.records), called as the browser forms will call it: no HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import text

from app.db.session import Database
from app.errors import Forbidden, InvalidInput
from app.schemas.assessments import AssessmentCreate, AssessmentPatch
from app.schemas.domain import (
    DesignationCreate,
    DesignationPatch,
    GuardianCreate,
    GuardianPatch,
    IncidentCreate,
    IncidentPatch,
    InterventionCreate,
    InterventionPatch,
    PlaceCreate,
    PlacePatch,
)
from app.security import Principal
from app.services import records
from app.settings import Settings
from tests.conftest import Org, assert_problem, create_place, incident_body, place_body, point, unique

Bodies = Callable[[int], tuple[BaseModel, BaseModel]]  # place id -> (create body, patch body)

_SIDE = {"rating": "amber", "notes": "lighting poor after dark"}
CASES: dict[str, tuple[records.RecordRules, Bodies]] = {
    "place": (records.PLACE, lambda _: (
        PlaceCreate.model_validate(place_body(opening_hours="Mo-Fr 09:00-17:00")),
        PlacePatch.model_validate({"type": "Feature", "geometry": None, "properties": {"address": "High St"}}),
    )),
    "designation": (records.DESIGNATION, lambda place: (
        DesignationCreate.model_validate({"place_id": place, "kind": "safe_space", "valid_from": "2026-01-01T00:00Z"}),
        DesignationPatch.model_validate({"scheme": "Safe Places"}),
    )),
    "guardian": (records.GUARDIAN, lambda place: (
        GuardianCreate.model_validate({"place_id": place, "role": "staff", "hours": "Mo-Sa 10:00-18:00",
                                       "trainings": [{"kind": "bystander_intervention",
                                                      "completed_on": "2026-02-01"}]}),
        GuardianPatch.model_validate({"description": "library staff"}),
    )),
    "intervention": (records.INTERVENTION, lambda place: (
        InterventionCreate.model_validate({"type": "Feature", "geometry": None, "properties": {
            "place_id": place, "kind": "youth_provision", "description": "pop-up youth club",
            "owning_partner": "Youth service", "starts_on": "2026-03-01"}}),
        InterventionPatch.model_validate({"type": "Feature", "geometry": None,
                                          "properties": {"ends_on": "2026-06-30"}}),
    )),
    "incident": (records.INCIDENT, lambda place: (
        IncidentCreate.model_validate(incident_body(place_id=place)),
        IncidentPatch.model_validate({"type": "Feature", "geometry": None, "properties": {"young_people": 3}}),
    )),
    "assessment": (records.ASSESSMENT, lambda place: (
        AssessmentCreate.model_validate({"place_id": place, "assessed_on": "2026-04-01", "young_people": _SIDE,
                                         "guardianship": _SIDE, "environment": _SIDE}),
        AssessmentPatch.model_validate({"review_on": "2026-10-01"}),
    )),
}


def actor(org: Org, role: str) -> Principal:
    return Principal(org.user_ids[role], org.id, role, f"{role}@{org.slug}.test", "token")


def audit_trail(database: Database, resource: str) -> list[tuple[str, int | None, Any]]:
    with database.owner_session() as session:
        rows = session.execute(text("SELECT action, user_id, detail FROM audit_events WHERE resource = :r ORDER BY id"),
                               {"r": resource})
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.parametrize("name", list(CASES))
def test_each_verb_writes_rereads_and_audits_once(
    name: str, client: TestClient, database: Database, settings: Settings, org: Org,
) -> None:
    rules, bodies = CASES[name]
    place_id = create_place(client, org)["id"]
    new, change = bodies(place_id)
    who = actor(org, "admin")
    with database.tenant_session(org.id) as session, session.begin():
        created = records.create(session, settings, who, rules, new)
        updated = records.update(session, settings, who, rules, created["id"], change)
    assert created["type"] == "Feature" and created["geometry"]["type"] == "Point"
    changed = set(change.model_dump(exclude_unset=True).get("properties") or change.model_dump(exclude_unset=True))
    assert changed and all(updated["properties"][k] is not None for k in changed)
    with database.tenant_session(org.id) as session, session.begin():
        records.delete(session, who, rules, created["id"])
    trail = audit_trail(database, f"{name}:{created['id']}")
    assert [action for action, _, _ in trail] == [f"{name}.create", f"{name}.update", f"{name}.delete"]
    assert {user for _, user, _ in trail} == {org.user_ids["admin"]}
    assert sorted(trail[1][2]["fields"]) == sorted(changed)


def test_the_service_refuses_what_the_route_gates_refuse(database: Database, settings: Settings, org: Org) -> None:
    # A browser form calling the service cannot write with a role the API would refuse.
    with database.tenant_session(org.id) as session, session.begin():
        with pytest.raises(Forbidden):
            records.create(session, settings, actor(org, "panel"), records.PLACE,
                           PlaceCreate.model_validate(place_body()))
        place_id = records.create(session, settings, actor(org, "youth_worker"), records.PLACE,
                                  PlaceCreate.model_validate(place_body()))["id"]
        concern = DesignationCreate.model_validate({
            "place_id": place_id, "kind": "concern", "level": "high", "reason": "exploitation reported",
            "valid_from": "2026-01-01T00:00Z"})
        with pytest.raises(Forbidden) as refused:
            records.create(session, settings, actor(org, "youth_worker"), records.DESIGNATION, concern)
        assert refused.value.field == "kind"
        with pytest.raises(Forbidden):
            records.delete(session, actor(org, "youth_worker"), records.PLACE, place_id)


def test_a_failed_check_names_the_request_field(database: Database, settings: Settings, org: Org) -> None:
    bad_hours = PlaceCreate.model_validate(place_body(opening_hours="Mo-Fr 25:00-26:00"))
    elsewhere = IncidentCreate.model_validate(incident_body(place_id=2**40))
    with database.tenant_session(org.id) as session, session.begin():
        with pytest.raises(InvalidInput) as hours:
            records.create(session, settings, actor(org, "admin"), records.PLACE, bad_hours)
        with pytest.raises(InvalidInput) as place:
            records.create(session, settings, actor(org, "admin"), records.INCIDENT, elsewhere)
    assert hours.value.field == "properties.opening_hours"
    assert place.value.field == "properties.place_id"


@pytest.mark.parametrize("path", ["places", "designations", "guardians", "interventions", "incidents", "assessments"])
def test_an_empty_change_is_refused_for_every_resource(path: str, client: TestClient, org: Org) -> None:
    # One rule for all six (places used to accept an empty PATCH and only touch updated_at).
    place = create_place(client, org, name=unique("Empty "))
    ids = {"places": place["id"]}
    for name, (_, bodies) in CASES.items():
        if f"{name}s" == path and path != "places":
            body = bodies(place["id"])[0].model_dump(mode="json", exclude_unset=True)
            made = client.post(f"/api/{path}", json=body, headers=org.headers("admin"))
            assert made.status_code == 201, made.text
            ids[path] = made.json()["id"]
    empty = {"type": "Feature", "geometry": None, "properties": {}} if path in (
        "places", "interventions", "incidents") else {}
    assert_problem(client.patch(f"/api/{path}/{ids[path]}", json=empty, headers=org.headers("admin")), 422,
                   "properties")


def test_an_incident_moved_is_linked_again_to_the_nearest_place(
    client: TestClient, database: Database, settings: Settings, org: Org,
) -> None:
    near = create_place(client, org, geometry=point(-0.3000, 51.9000))
    who = actor(org, "admin")
    with database.tenant_session(org.id) as session, session.begin():
        incident = records.create(session, settings, who, records.INCIDENT,
                                  IncidentCreate.model_validate(incident_body(geometry=point(-0.2000, 51.9500))))
        moved = records.update(session, settings, who, records.INCIDENT, incident["id"], IncidentPatch.model_validate(
            {"type": "Feature", "geometry": point(-0.30005, 51.90003), "properties": {}}))
    assert incident["properties"]["place_id"] is None
    assert moved["properties"]["place_id"] == near["id"] and moved["properties"]["place_link"] == "auto"
