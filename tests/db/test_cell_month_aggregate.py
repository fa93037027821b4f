"""The monthly cell-count aggregate (issue 18): always equal to a recount from the incidents, and the
analyses give the same answers from it as from the incidents.

Bookkeeping: a fixed-seed sequence of random writes through the API (creates, edits that move incidents
across cells and months or change harm category or source, deletes), set-based writes in SQL, a police.uk
import, the same import again, and a retention run; after each step the aggregate must equal a recount
(``app.db.aggregates.differences`` is empty).

Reads: the same requests answered with the aggregate on and off (``app.db.analysis.READ_AGGREGATE``) must be
identical, for staff on the published grid and whole months and for the panel (always on it).
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import aggregates
from app.db import analysis as analysis_db
from app.db.retention import apply_retention
from app.db.session import Database
from app.services import analysis_cache
from geo.vocabulary import HARM_CATEGORIES
from tests.conftest import Org, make_org
from tests.fixtures.policeuk import policeuk_csv_text

LUTON = (-0.4170, 51.8790)
# About 9 km x 9 km around Luton in EPSG:4326 (the service area the orgs get).
AREA = "MULTIPOLYGON(((-0.49 51.84, -0.35 51.84, -0.35 51.92, -0.49 51.92, -0.49 51.84)))"
HAND_SOURCES = ("manual", "council_asb")  # what a hand-made record may claim (imports set the others)


# Runs on one node (statement triggers, 0013) and under ``make test-citus`` (a row trigger on every shard,
# app.db.aggregates.row_trigger_sql): the same checks on both.

def _differences(database: Database, org: Org | None = None) -> list[aggregates.Difference]:
    with database.owner_session() as session:
        return aggregates.differences(session, org.id if org else None)


def _stored(database: Database, org: Org) -> int:
    with database.owner_session() as session:
        return int(session.execute(text(
            "SELECT COALESCE(sum(incidents), 0) FROM incident_cell_months WHERE organisation_id = :o "
            "AND cell_size = 250 AND harm_category <> '*'"), {"o": org.id}).scalar_one())


def _live(database: Database, org: Org) -> int:
    with database.owner_session() as session:
        return int(session.execute(text("SELECT count(*) FROM incidents WHERE organisation_id = :o"),
                                   {"o": org.id}).scalar_one())


def _random_point(rng: random.Random) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(LUTON[0] + rng.uniform(-0.035, 0.035), 6),
                                             round(LUTON[1] + rng.uniform(-0.022, 0.022), 6)]}


def _random_time(rng: random.Random) -> str:
    # Months 2024-01..2026-10, any day and hour; some near a month's edge (London midnight in summer is
    # 23:00 UTC the day before, so the Europe/London month is not the UTC month).
    year, month = divmod(2024 * 12 + rng.randrange(34), 12)
    if rng.random() < 0.3:
        day = 1 if rng.random() < 0.5 else 28
        hour = rng.choice([0, 22, 23])
    else:
        day, hour = rng.randint(1, 28), rng.randint(0, 23)
    return datetime(year, month + 1, day, hour, rng.randint(0, 59), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _incident(rng: random.Random) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _random_point(rng),
            "properties": {"occurred_from": _random_time(rng), "harm_category": rng.choice(HARM_CATEGORIES),
                           "source": rng.choice(HAND_SOURCES)}}


@pytest.fixture()
def area_org(database: Database, settings: Any) -> Org:
    return make_org(database, settings, service_area_wkt=AREA)


def test_the_aggregate_equals_a_recount_after_every_kind_of_write(client, database, area_org):
    rng = random.Random(18)
    org, headers = area_org, area_org.headers("community_safety")

    # Writes through the API, one incident per request.
    ids = []
    for _ in range(40):
        response = client.post("/api/incidents", json=_incident(rng), headers=headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    assert _differences(database, org) == []
    assert _stored(database, org) == 40

    # Edits: move across cells and months, change the harm category, or several at once (the API does not
    # change a source; the SQL edits below do).
    for incident_id in rng.sample(ids, 25):
        change: dict[str, Any] = {"type": "Feature", "geometry": None, "properties": {}}
        for what in rng.sample(["geometry", "time", "harm"], rng.randint(1, 3)):
            if what == "geometry":
                change["geometry"] = _random_point(rng)
            elif what == "time":
                change["properties"]["occurred_from"] = _random_time(rng)
            else:
                change["properties"]["harm_category"] = rng.choice(HARM_CATEGORIES)
        response = client.patch(f"/api/incidents/{incident_id}", json=change, headers=headers)
        assert response.status_code == 200, response.text
        assert _differences(database, org) == []

    # Deletes.
    for incident_id in rng.sample(ids, 10):
        assert client.delete(f"/api/incidents/{incident_id}", headers=headers).status_code == 204
    assert _differences(database, org) == []

    # Set-based writes: many rows per statement, edits that cancel out within one statement, a move of
    # some rows into the cells and months others leave.
    with database.owner_session() as session:
        session.execute(text("SELECT setseed(0.18)"))
        session.execute(text("""
            INSERT INTO incidents (organisation_id, occurred_from, harm_category, source, location_precision, geom)
            SELECT :o, TIMESTAMPTZ '2024-01-01' + random() * INTERVAL '1000 days',
                   (ARRAY['drugs', 'peer_abuse', 'other'])[1 + floor(random() * 3)::int],
                   (ARRAY['manual', 'council_asb', 'partner'])[1 + floor(random() * 3)::int], 'exact',
                   ST_SetSRID(ST_MakePoint(-0.452 + random() * 0.07, 51.857 + random() * 0.044), 4326)
            FROM generate_series(1, 500)"""), {"o": org.id})
    assert _differences(database, org) == []
    with database.owner_session() as session:
        session.execute(text("""
            UPDATE incidents SET geom = ST_Translate(geom, 0.004, -0.002),
                                 -- in UTC: timestamptz + interval depends on the session's zone (STABLE),
                                 -- which Citus refuses in an UPDATE; the same 35 days, immutably
                                 occurred_from = (occurred_from AT TIME ZONE 'UTC' + INTERVAL '35 days')
                                                 AT TIME ZONE 'UTC'
            WHERE organisation_id = :o AND id % 5 = 0"""), {"o": org.id})
        session.execute(text("""
            UPDATE incidents SET harm_category = CASE WHEN harm_category = 'drugs' THEN 'other' ELSE 'drugs' END
            WHERE organisation_id = :o AND id % 7 = 0"""), {"o": org.id})
        session.execute(text("""
            UPDATE incidents SET source = CASE WHEN source = 'manual' THEN 'council_asb' ELSE 'manual' END
            WHERE organisation_id = :o AND id % 4 = 1"""), {"o": org.id})
        # An update that changes no key.
        session.execute(text("UPDATE incidents SET description = 'checked' WHERE organisation_id = :o"),
                        {"o": org.id})
        session.execute(text("DELETE FROM incidents WHERE organisation_id = :o AND id % 9 = 0"), {"o": org.id})
    assert _differences(database, org) == []

    # A police.uk import (COPY into staging, one INSERT ... SELECT), then the same file again.
    body = policeuk_csv_text(400, seed=18, months=("2024-03", "2024-04", "2025-07"))
    files = [("files", ("2024-03-bedfordshire-street.csv", body.encode(), "text/csv"))]
    first = client.post("/api/imports/police-uk", files=files, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["imported"] > 300
    assert _differences(database, org) == []
    again = client.post("/api/imports/police-uk", files=files, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["imported"] == 0
    assert _differences(database, org) == []
    assert _stored(database, org) == _live(database, org)

    # A retention run (archive mode: INSERT into the archive, DELETE from incidents) — inside one
    # transaction, checked there and rolled back, because retention is global and other tests share
    # this database.
    with Session(database.owner_engine) as session, session.begin():
        report = apply_retention(session, 365, "archive", now=datetime(2025, 6, 1, tzinfo=UTC))
        assert report.per_organisation.get(org.slug, 0) > 100
        assert aggregates.differences(session, None) == []
        session.rollback()
    # And the delete mode, committed, for this organisation's oldest incidents only.
    with database.owner_session() as session:
        session.execute(text("DELETE FROM incidents WHERE organisation_id = :o AND occurred_from < '2024-06-01'"),
                        {"o": org.id})
    assert _differences(database, org) == []
    assert _stored(database, org) == _live(database, org) > 0


def test_rebuild_repairs_an_aggregate_that_was_tampered_with(client, database, area_org):
    rng = random.Random(180)
    headers = area_org.headers("community_safety")
    for _ in range(12):
        assert client.post("/api/incidents", json=_incident(rng), headers=headers).status_code == 201
    with database.owner_session() as session:
        session.execute(text("UPDATE incident_cell_months SET incidents = incidents + 2 "
                             "WHERE organisation_id = :o AND cell_size = 500"), {"o": area_org.id})
    assert len(_differences(database, area_org)) > 0
    with database.owner_session() as session:
        (report,) = aggregates.rebuild(session, area_org.id)
    assert report.out_of_date > 0 and report.incidents == 12 and report.rows_after == report.rows_before
    assert _differences(database, area_org) == []


def test_the_service_role_reads_only_its_own_rows_and_cannot_write(client, database, area_org, other_org):
    rng = random.Random(1800)
    for org in (area_org, other_org):
        assert client.post("/api/incidents", json=_incident(rng), headers=org.headers("community_safety")
                           ).status_code == 201
    with database.request_transaction(area_org.id) as session:
        orgs = session.execute(text("SELECT DISTINCT organisation_id FROM incident_cell_months")).scalars().all()
        assert orgs == [area_org.id]
        with pytest.raises(Exception, match="permission denied"):
            session.execute(text("UPDATE incident_cell_months SET incidents = 99"))


# ---- reads: the aggregate path answers as the incident path does ---------------------------------------------
# What differs between two renderings of one map page: CSP nonces and hashes, folium's random element ids.
NONCE = re.compile(r'nonce="[^"]*"|sha256-[A-Za-z0-9+/=]+|_[0-9a-f]{32}(?![0-9a-f])')


def _both_paths(client: Any, url: str, headers: dict[str, str], monkeypatch: Any) -> tuple[Any, Any]:
    """The answer from the aggregate (which must have been read) and from the incidents."""
    reads: list[str] = []
    # Both answers computed: the analysis cache would answer the second from the first.
    monkeypatch.setattr(analysis_cache, "_cache", analysis_cache.AnswerCache(0))
    for name in ("cell_counts", "month_cell_counts"):
        real = getattr(aggregates, name)
        monkeypatch.setattr(aggregates, name, lambda *a, _real=real, _name=name: reads.append(_name) or _real(*a))
    monkeypatch.setattr(analysis_db, "READ_AGGREGATE", True)
    fast = client.get(url, headers=headers)
    assert reads, "the aggregate was not read"
    monkeypatch.setattr(analysis_db, "READ_AGGREGATE", False)
    slow = client.get(url, headers=headers)
    monkeypatch.setattr(analysis_db, "READ_AGGREGATE", True)
    assert fast.status_code == slow.status_code == 200, (fast.text[:300], slow.text[:300])
    return fast, slow


@pytest.fixture(scope="module")
def busy_org(database: Database, settings: Any) -> Org:
    org = make_org(database, settings, service_area_wkt=AREA)
    with database.owner_session() as session:
        session.execute(text("SELECT setseed(0.1818)"))
        # Clusters, so there are hot spots, and a background; three years.
        session.execute(text("""
            INSERT INTO incidents (organisation_id, occurred_from, harm_category, source, location_precision, geom)
            SELECT :o, TIMESTAMPTZ '2024-01-01 00:00 Europe/London' + random() * INTERVAL '1064 days',
                   (ARRAY['drugs', 'peer_abuse', 'antisocial_behaviour', 'serious_violence'])
                       [1 + floor(random() * 4)::int],
                   (ARRAY['manual', 'council_asb', 'police_uk'])[1 + floor(random() * 3)::int], 'exact',
                   CASE WHEN g % 3 = 0
                        THEN ST_SetSRID(ST_MakePoint(-0.417 + (random() - 0.5) * 0.006,
                                                     51.879 + (random() - 0.5) * 0.004), 4326)
                        WHEN g % 3 = 1
                        THEN ST_SetSRID(ST_MakePoint(-0.440 + (random() - 0.5) * 0.005,
                                                     51.866 + (random() - 0.5) * 0.004), 4326)
                        ELSE ST_SetSRID(ST_MakePoint(-0.455 + random() * 0.08, 51.852 + random() * 0.055), 4326) END
            FROM generate_series(1, 6000) AS g"""), {"o": org.id})
    return org


def _json_equal(fast: Any, slow: Any) -> None:
    a, b = fast.json(), slow.json()
    for body in (a, b):
        body.get("metadata", {}).pop("request_id", None)
    assert a == b


STAFF_REQUESTS = [
    "/api/analysis/hotspots?cell=square&size=250&datetime=2025-01-01T00:00:00Z/2026-01-01T00:00:00Z",
    "/api/analysis/hotspots?cell=square&size=500&datetime=2024-06-01T00:00:00%2B01:00/2025-06-01T00:00:00%2B01:00",
    "/api/analysis/hotspots?cell=square&size=1000&datetime=2024-01-01T00:00:00Z/2026-12-01T00:00:00Z"
    "&harm_category=drugs&source=manual",
    "/api/analysis/emerging-hotspots?cell=square&size=250&datetime=2025-01-01T00:00:00Z/2026-01-01T00:00:00Z",
    "/api/analysis/emerging-hotspots?cell=square&size=500&datetime=2024-03-01T00:00:00Z/2025-03-01T00:00:00Z"
    "&harm_category=peer_abuse",
]
PANEL_REQUESTS = [
    "/api/analysis/hotspots?datetime=2025-01-15T10:00:00Z/2025-12-03T00:00:00Z",
    "/api/analysis/hotspots?cell=hex&size=300&bbox=-0.45,51.86,-0.40,51.90&datetime=2025-02-01/2025-09-30",
    "/api/analysis/emerging-hotspots?datetime=2024-05-02T00:00:00Z/2025-11-01T00:00:00Z",
]


@pytest.mark.parametrize("url", STAFF_REQUESTS)
def test_staff_answers_on_the_published_grid_are_the_same_from_the_aggregate(client, busy_org, url, monkeypatch):
    fast, slow = _both_paths(client, url, busy_org.headers("community_safety"), monkeypatch)
    _json_equal(fast, slow)
    assert fast.json()["features"]


@pytest.mark.parametrize("url", PANEL_REQUESTS)
def test_panel_answers_are_the_same_from_the_aggregate(client, busy_org, url, monkeypatch):
    fast, slow = _both_paths(client, url, busy_org.headers("panel"), monkeypatch)
    _json_equal(fast, slow)


@pytest.mark.parametrize("url", ["/maps/hotspots?from=2025-01-01&to=2025-12-31",
                                 "/maps/hotspots?from=2024-03-10&to=2025-02-10&harm=drugs"])
def test_the_panel_map_is_the_same_from_the_aggregate(client, busy_org, url, monkeypatch):
    fast, slow = _both_paths(client, url, busy_org.headers("panel"), monkeypatch)
    assert NONCE.sub("", fast.text) == NONCE.sub("", slow.text)


def test_the_grid_counts_use_the_aggregate_only_when_the_answer_is_the_same():
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)  # July: 23:00 UTC
    assert aggregates.window("square", 250, None, None, start, datetime(2025, 6, 30, 23, tzinfo=UTC), (), ())
    assert aggregates.window("square", 250, None, None, start, end, (), ()) is None  # not a London month start
    assert aggregates.window("hexagon", 250, None, None, None, None, (), ()) is None
    assert aggregates.window("square", 200, None, None, None, None, (), ()) is None
    assert aggregates.window("square", 500, (0, 0, 1, 1), None, None, None, (), ()) is None  # lon/lat cuts cells
    assert aggregates.window("square", 500, None, (500.0, 1000.0, 2000.0, 3000.0), None, None, (), ()).cells == (
        1, 4, 2, 6)
    assert aggregates.window("square", 500, None, (510.0, 1000.0, 2000.0, 3000.0), None, None, (), ()) is None


def test_the_rebuild_command_reports_per_organisation(client, database, settings, area_org):
    from tests.api.test_cli import contextmap

    rng = random.Random(18000)
    for _ in range(5):
        assert client.post("/api/incidents", json=_incident(rng), headers=area_org.headers("community_safety")
                           ).status_code == 201
    with database.owner_session() as session:
        session.execute(text("DELETE FROM incident_cell_months WHERE organisation_id = :o AND cell_size = 1000"),
                        {"o": area_org.id})
    result = contextmap(settings, "aggregates", "rebuild", "--organisation", area_org.slug)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if area_org.slug in line)
    assert row.split("│")[2].strip() == "5"  # incidents
    assert "rebuilt 1 organisation(s); 10 row(s) had been out of date" in result.stdout  # 5 detail + 5 all rows
    assert _differences(database, area_org) == []
    missing = contextmap(settings, "aggregates", "rebuild", "--organisation", "no-such-org")
    assert missing.returncode == 2 and "no organisation" in missing.stderr
