"""Context assessments: the triangle, goals with baseline and follow-up, lifecycle, validation, panel view."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Org, create_place, make_org, unique


def assessment_body(place_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "place_id": place_id,
        "assessed_on": "2025-10-20",
        "young_people": {"rating": "red", "notes": "Up to 80 young people after school; some approached by adults"},
        "guardianship": {"rating": "amber", "notes": "Staff willing but untrained; no security after 17:00"},
        "environment": {"rating": "red", "notes": "Blind spots on the teen floor; free WiFi draws groups"},
        "methods": ["observation", "walkabout", "young_people_consultation"],
        "context_weighting": 1,
        "recommended_responses": ["Pop-up youth club co-designed with young people",
                                  "Bystander-intervention training for staff"],
        "review_on": "2026-01-20",
        "goals": [
            {"statement": "Fewer ASB reports at the library", "measure": "change",
             "baseline": {"observed_on": "2025-10-01", "value": 14, "notes": "Library incident log, September"}},
            {"statement": "Library staff trained in bystander intervention", "measure": "effort",
             "baseline": {"observed_on": "2025-10-01", "value": 0}},
        ],
        "notes": "Requested by the library service manager",
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def borough(database: Any, settings: Any) -> Org:
    return make_org(database, settings, unique("borough-"))


def create(client: Any, org: Org, body: dict[str, Any], role: str = "youth_worker") -> dict[str, Any]:
    response = client.post("/api/assessments", json=body, headers=org.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


def test_assessment_lifecycle(client: Any, borough: Org) -> None:
    place = create_place(client, borough, name=unique("Library "))
    created = create(client, borough, assessment_body(place["id"]))
    props = created["properties"]
    assert created["geometry"] == place["geometry"] and props["place_name"] == place["properties"]["name"]
    assert props["young_people"] == {"rating": "red",
                                     "notes": "Up to 80 young people after school; some approached by adults"}
    assert props["methods"] == ["observation", "walkabout", "young_people_consultation"]
    assert [g["measure"] for g in props["goals"]] == ["change", "effort"]
    headers = borough.headers("youth_worker")
    assert client.get(f"/api/assessments/{created['id']}", headers=headers).json() == created

    # Follow-up: ratings improve, observations are added to the goals.
    goals = props["goals"]
    goals[0]["observations"] = [{"observed_on": "2026-04-01", "value": 6, "notes": "March log"},
                                {"observed_on": "2026-07-01", "value": 2}]
    goals[1]["observations"] = [{"observed_on": "2026-03-23", "value": 12}]
    patch = {"guardianship": {"rating": "green", "notes": "Staff trained March 2026"}, "goals": goals,
             "review_on": "2026-10-20"}
    updated = client.patch(f"/api/assessments/{created['id']}", json=patch, headers=headers)
    assert updated.status_code == 200, updated.text
    after = updated.json()["properties"]
    assert after["guardianship"]["rating"] == "green" and after["young_people"]["rating"] == "red"
    assert [o["value"] for o in after["goals"][0]["observations"]] == [6, 2]
    assert after["review_on"] == "2026-10-20" and after["updated_at"] > props["updated_at"]

    second = create(client, borough, assessment_body(place["id"], assessed_on="2026-07-01", review_on=None,
                                                     young_people={"rating": "green"}))
    listed = client.get(f"/api/places/{place['id']}/assessments", headers=headers).json()
    assert [f["id"] for f in listed["features"]] == [created["id"], second["id"]]  # oldest first
    assert [f["properties"]["young_people"]["rating"] for f in listed["features"]] == ["red", "green"]
    everywhere = client.get("/api/assessments", params={"place_id": place["id"]}, headers=headers).json()
    assert everywhere["numberReturned"] == 2

    assert client.delete(f"/api/assessments/{created['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/assessments/{created['id']}", headers=headers).status_code == 404
    assert client.delete(f"/api/assessments/{created['id']}", headers=headers).status_code == 404


def test_review_overdue_filter(client: Any, borough: Org) -> None:
    place = create_place(client, borough)
    overdue = create(client, borough, assessment_body(place["id"], assessed_on="2024-01-10", review_on="2024-06-10"))
    create(client, borough, assessment_body(place["id"], assessed_on="2026-01-10", review_on="2099-01-10"))
    listed = client.get("/api/assessments", params={"review_overdue": "true", "place_id": place["id"]},
                        headers=borough.headers("community_safety")).json()
    assert [f["id"] for f in listed["features"]] == [overdue["id"]]
    assert listed["features"][0]["properties"]["review_overdue"] is True


@pytest.mark.parametrize(("overrides", "field"), [
    ({"young_people": {"rating": "purple"}}, "young_people.rating"),
    ({"guardianship": {"notes": "no rating"}}, "guardianship.rating"),
    ({"review_on": "2025-10-19"}, "review_on"),
    ({"methods": ["seance"]}, "methods.0"),
    ({"methods": ["survey", "survey"]}, "methods"),
    ({"context_weighting": 0}, "context_weighting"),
    ({"goals": [{"statement": "x", "measure": "vibes"}]}, "goals.0.measure"),
    ({"goals": [{"statement": "x", "measure": "change", "baseline": {"observed_on": "2025-10-01"},
                 "observations": [{"observed_on": "2025-09-01"}]}]}, "goals.0.observations"),
    ({"assessed_on": "20/10/2025"}, "assessed_on"),
    ({"place_id": 99999999}, "place_id"),
    ({"secret": 1}, "secret"),
])
def test_bad_assessments_are_refused_naming_the_field_and_nothing_is_written(
    client: Any, borough: Org, overrides: dict[str, Any], field: str,
) -> None:
    place = create_place(client, borough)
    body = {**assessment_body(place["id"]), **overrides}
    response = client.post("/api/assessments", json=body, headers=borough.headers("youth_worker"))
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    listed = client.get(f"/api/places/{place['id']}/assessments", headers=borough.headers("youth_worker")).json()
    assert listed["numberReturned"] == 0


@pytest.mark.parametrize(("patch", "field"), [
    ({"review_on": "2025-01-01"}, "review_on"),
    ({"assessed_on": "2026-03-01"}, "review_on"),  # would put the stored review date before it
    ({"environment": {"rating": "blue"}}, "environment.rating"),
    ({"young_people": None}, "young_people"),
    ({}, "properties"),
])
def test_bad_updates_are_refused(client: Any, borough: Org, patch: dict[str, Any], field: str) -> None:
    place = create_place(client, borough)
    created = create(client, borough, assessment_body(place["id"]))
    response = client.patch(f"/api/assessments/{created['id']}", json=patch, headers=borough.headers("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    unchanged = client.get(f"/api/assessments/{created['id']}", headers=borough.headers("admin")).json()
    assert unchanged == created


def test_the_panel_reads_ratings_and_goal_values_but_no_free_text(client: Any, borough: Org) -> None:
    place = create_place(client, borough)
    created = create(client, borough, assessment_body(place["id"]))
    response = client.get(f"/api/assessments/{created['id']}", headers=borough.headers("panel"))
    assert response.status_code == 200
    props = response.json()["properties"]
    assert [props[s]["rating"] for s in ("young_people", "guardianship", "environment")] == ["red", "amber", "red"]
    assert all(props[s]["notes"] is None for s in ("young_people", "guardianship", "environment"))
    assert props["notes"] is None and props["recommended_responses"] is None
    assert props["methods"] == ["observation", "walkabout", "young_people_consultation"]
    assert [(g["statement"], g["measure"], g["baseline"]["value"]) for g in props["goals"]] == [
        (None, "change", 14), (None, "effort", 0)]
    assert props["goals"][0]["baseline"]["notes"] is None
    listed = client.get(f"/api/places/{place['id']}/assessments", headers=borough.headers("panel")).json()
    assert listed["features"][0]["properties"]["notes"] is None
    body = assessment_body(place["id"])
    assert client.post("/api/assessments", json=body, headers=borough.headers("panel")).status_code == 403


def test_assessments_stay_within_their_organisation(client: Any, borough: Org, other_org: Org) -> None:
    theirs_place = create_place(client, other_org)
    theirs = create(client, other_org, assessment_body(theirs_place["id"]), role="admin")
    headers = borough.headers("admin")
    assert client.get(f"/api/assessments/{theirs['id']}", headers=headers).status_code == 404
    assert client.patch(f"/api/assessments/{theirs['id']}", json={"notes": "x"}, headers=headers).status_code == 404
    assert client.get(f"/api/places/{theirs_place['id']}/assessments", headers=headers).status_code == 404
    response = client.post("/api/assessments", json=assessment_body(theirs_place["id"]), headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "place_id"
    listed = client.get("/api/assessments", params={"limit": 1000}, headers=headers).json()
    assert theirs["id"] not in {f["id"] for f in listed["features"]}


@pytest.mark.parametrize("table", ["assessments", "street_edges"])
def test_new_tenant_tables_are_scoped_by_row_level_security(
    client: Any, database: Any, borough: Org, other_org: Org, table: str,
) -> None:
    from sqlalchemy import text

    place = create_place(client, other_org)
    create(client, other_org, assessment_body(place["id"]), role="admin")
    with database.owner_session() as session:
        session.execute(text("INSERT INTO street_edges (organisation_id, geom) VALUES "
                             "(:o, ST_GeomFromText('LINESTRING(-0.41 51.88, -0.411 51.881)', 4326))"),
                        {"o": other_org.id})
    with database.tenant_session(borough.id) as session, session.begin():
        # Deliberately no WHERE organisation_id = ...: row-level security must do the scoping.
        seen = set(session.execute(text(f"SELECT DISTINCT organisation_id FROM {table}")).scalars())
    assert seen <= {borough.id}
