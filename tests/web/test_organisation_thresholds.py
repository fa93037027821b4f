"""An organisation's own disclosure thresholds and retention (0012): set on the admin organisation page within
the deployment's safe bounds (stricter, never looser), audited, and used by every panel answer and by the
retention run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.retention import apply_retention
from app.db.session import Database
from app.settings import Settings
from tests.conftest import count_rows, create_place, incident_body, make_org, unique

HTML = {"Accept": "text/html"}
LON, LAT = -0.4101, 51.8802
MARCH = "2026-03-01T00:00:00Z/2026-04-01T00:00:00Z"


def _save(client: TestClient, org: Any, **values: str) -> Any:
    data = {"name": f"Test {org.slug}", **values}
    return client.post("/admin/organisation", data=data, headers={**org.headers("admin"), **HTML},
                       follow_redirects=False)


def _stored(database: Database, org: Any) -> tuple[Any, ...]:
    with database.owner_session() as session:
        return tuple(session.execute(text(
            "SELECT suppress_max, round_to, retention_days FROM organisations WHERE id = :id"), {"id": org.id}).one())


def _panel_month(client: TestClient, org: Any, place_id: int) -> Any:
    answer = client.get(f"/api/places/{place_id}/timeline", params={"datetime": MARCH}, headers=org.headers("panel"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    months = {m["month"]: m["count"] for m in body["months"]}
    return months.get("2026-03"), body["disclosure"]


def test_a_stricter_organisation_threshold_changes_the_panel_answer(
    client: TestClient, database: Database, settings: Settings
) -> None:
    org = make_org(database, settings)
    place = create_place(client, org, geometry={"type": "Point", "coordinates": [LON, LAT]})
    for day in range(1, 13):  # 12 incidents at the place in March 2026
        body = incident_body(geometry={"type": "Point", "coordinates": [LON, LAT]},
                             occurred_from=f"2026-03-{day:02d}T12:00:00Z", source="council_asb",
                             source_ref=unique("t"))
        assert client.post("/api/incidents", json=body, headers=org.headers("admin")).status_code == 201
    count, disclosure = _panel_month(client, org, place["id"])
    assert count == 10 and disclosure["suppress_max"] == settings.suppress_max  # 12 rounded to the nearest 5

    audits = count_rows(database, "audit_events")
    saved = _save(client, org, suppress_max="15", round_to="10", retention_days="")
    assert saved.status_code == 303, saved.text[:2000]
    assert _stored(database, org) == (15, 10, None)
    with database.owner_session() as session:
        detail = session.execute(text(
            "SELECT detail FROM audit_events WHERE organisation_id = :o AND action = 'organisation.update' "
            "ORDER BY id DESC LIMIT 1"), {"o": org.id}).scalar_one()
    assert count_rows(database, "audit_events") == audits + 1
    assert detail["suppress_max"] == {"from": None, "to": 15} and detail["round_to"] == {"from": None, "to": 10}

    count, disclosure = _panel_month(client, org, place["id"])
    assert count is None and disclosure["suppress_max"] == 15 and disclosure["round_to"] == 10  # now suppressed
    page = client.get(f"/places/{place['id']}", headers={**org.headers("panel"), **HTML})
    assert "counts of 1 to 15 are suppressed" in page.text and "nearest 10" in page.text
    # Staff still see exact counts.
    staff = client.get(f"/api/places/{place['id']}/timeline",
                       params={"datetime": MARCH},
                       headers=org.headers("community_safety")).json()
    assert {m["month"]: m["count"] for m in staff["months"]}["2026-03"] == 12

    # Emptying the boxes goes back to the deployment's values.
    assert _save(client, org, suppress_max="", round_to="", retention_days="").status_code == 303
    assert _stored(database, org) == (None, None, None)
    assert _panel_month(client, org, place["id"])[0] == 10


def test_a_looser_threshold_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, database: Database, settings: Settings
) -> None:
    org = make_org(database, settings)
    before = _stored(database, org), count_rows(database, "audit_events")
    looser = _save(client, org, suppress_max=str(settings.suppress_max - 1), round_to=str(settings.round_to - 1),
                   retention_days=str(settings.retention_days + 1))
    assert looser.status_code == 422
    for field in ("suppress_max", "round_to", "retention_days"):
        assert f'href="#{field}"' in looser.text
    assert "never fewer" in looser.text and "never more finely" in looser.text
    junk = _save(client, org, suppress_max="lots", round_to="²", retention_days="30")
    assert junk.status_code == 422 and "must be a whole number" in junk.text
    assert 'href="#retention_days"' in junk.text  # 30 days is below the shortest allowed
    assert (_stored(database, org), count_rows(database, "audit_events")) == before
    # Only admins.
    refused = client.post("/admin/organisation", data={"name": "x", "suppress_max": "20"},
                          headers={**org.headers("community_safety"), **HTML}, follow_redirects=False)
    assert refused.status_code == 403 and _stored(database, org) == before[0]


def test_the_retention_run_uses_the_organisations_shorter_period(
    client: TestClient, database: Database, settings: Settings
) -> None:
    strict, default = make_org(database, settings), make_org(database, settings)
    for org in (strict, default):
        body = incident_body(occurred_from="2023-06-01T10:00:00Z", source="council_asb", source_ref=unique("r"))
        assert client.post("/api/incidents", json=body, headers=org.headers("admin")).status_code == 201
    assert _save(client, strict, retention_days=str(settings.retention_min_days)).status_code == 303
    now = datetime(2026, 11, 27, tzinfo=UTC)
    with database.owner_session() as session:
        report = apply_retention(session, settings.retention_days, "archive", dry_run=True, now=now)
    assert report.per_organisation.get(strict.slug) == 1 and default.slug not in report.per_organisation
    assert strict.slug in report.cutoffs
    with database.owner_session() as session:
        apply_retention(session, settings.retention_days, "delete", now=now)
    assert client.get("/api/incidents", headers=strict.headers("admin")).json()["features"] == []
    assert len(client.get("/api/incidents", headers=default.headers("admin")).json()["features"]) == 1


def test_the_service_area_typed_as_corners(client: TestClient, database: Database, settings: Settings) -> None:
    org = make_org(database, settings)
    corners = "-0.45, 51.86\n-0.38, 51.86\n-0.38, 51.91\n-0.45, 51.91"
    assert _save(client, org, area_points=corners).status_code == 303
    with database.owner_session() as session:
        kind, points = session.execute(text(
            "SELECT GeometryType(service_area), ST_NPoints(service_area) FROM organisations WHERE id = :id"),
            {"id": org.id}).one()
    assert (kind, points) == ("MULTIPOLYGON", 5)
    wrong = _save(client, org, area_points="-0.45, 51.86\n-0.38, 51.86")
    assert wrong.status_code == 422 and 'href="#area_points"' in wrong.text
