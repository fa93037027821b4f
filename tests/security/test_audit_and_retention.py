"""Audit trail queries, review-overdue concerns, and retention of incident records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.retention import apply_retention
from tests.conftest import Org, create_place, incident_body, make_org, point, unique


def test_reads_of_incidents_and_writes_are_audited_with_the_request_id(client: TestClient, org: Org) -> None:
    created = client.post("/api/incidents", json=incident_body(), headers=org.headers("community_safety"))
    assert created.status_code == 201
    incident_id = created.json()["id"]
    read = client.get(f"/api/incidents/{incident_id}", headers=org.headers("youth_worker"))
    request_id = read.headers["x-request-id"]
    events = client.get("/api/audit", params={"action": "incident.read"}, headers=org.headers("admin")).json()
    mine = [e for e in events if e["resource"] == f"incident:{incident_id}"]
    assert mine and mine[0]["user_id"] == org.user_ids["youth_worker"] and mine[0]["request_id"] == request_id
    writes = client.get(
        "/api/audit",
        params={"action": "incident.create", "user_id": org.user_ids["community_safety"]},
        headers=org.headers("admin"),
    ).json()
    assert any(e["resource"] == f"incident:{incident_id}" for e in writes)


def test_audit_filters_by_time_and_only_admins_may_read_it(client: TestClient, org: Org) -> None:
    client.get("/api/incidents", headers=org.headers("admin"))
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert client.get("/api/audit", params={"since": future}, headers=org.headers("admin")).json() == []
    assert (
        client.get("/api/audit", params={"since": "yesterday"}, headers=org.headers("admin")).json()["field"] == "since"
    )
    for role in ("community_safety", "youth_worker", "panel"):
        assert client.get("/api/audit", headers=org.headers(role)).status_code == 403


def test_audit_is_per_organisation(client: TestClient, org: Org, other_org: Org) -> None:
    client.get("/api/incidents", headers=other_org.headers("admin"))
    events = client.get("/api/audit", params={"limit": 1000}, headers=org.headers("admin")).json()
    assert {e["organisation_id"] for e in events} <= {org.id}


def test_concerns_past_their_review_date_are_listed_as_overdue(client: TestClient, org: Org) -> None:
    place = create_place(client, org)
    body = {
        "place_id": place["id"],
        "kind": "concern",
        "level": "medium",
        "reason": "Older men loitering",
        "valid_from": "2026-01-01T00:00:00Z",
        "review_by": "2026-03-01",
    }
    created = client.post("/api/designations", json=body, headers=org.headers("community_safety")).json()
    assert created["properties"]["review_overdue"] is True
    overdue = client.get(
        "/api/designations", params={"review_overdue": "true", "limit": 1000}, headers=org.headers("panel")
    ).json()
    assert created["id"] in {f["id"] for f in overdue["features"]}
    assert all(f["properties"]["review_overdue"] for f in overdue["features"])


def test_retention_archives_old_incidents_and_reports_per_organisation(
    client: TestClient,
    database: Any,
    settings: Any,
) -> None:
    org = make_org(database, settings)
    old = incident_body(occurred_from="2015-03-01T10:00:00Z", source="council_asb", source_ref=unique("old"))
    new = incident_body(
        occurred_from="2026-03-01T10:00:00Z", source="council_asb", source_ref=unique("new"),
        geometry=point(-0.41, 51.88),
    )
    for body in (old, new):
        assert client.post("/api/incidents", json=body, headers=org.headers("admin")).status_code == 201
    with database.owner_session() as session:
        dry = apply_retention(session, 365 * 6, "archive", dry_run=True, now=datetime(2026, 11, 27, tzinfo=UTC))
    assert dry.per_organisation.get(org.slug) == 1
    with database.owner_session() as session:
        report = apply_retention(session, 365 * 6, "archive", now=datetime(2026, 11, 27, tzinfo=UTC))
        archived = session.execute(
            text("SELECT count(*) FROM incidents_archive WHERE organisation_id = :o"), {"o": org.id}
        ).scalar_one()
    assert report.per_organisation[org.slug] == 1 and report.verb == "archived" and archived == 1
    remaining = client.get("/api/incidents", headers=org.headers("admin")).json()["features"]
    assert [f["properties"]["source_ref"] for f in remaining] == [new["properties"]["source_ref"]]
