"""Benchmark: nearest open safe spaces with 100,000 places in the database.

Seeds a separate database (``contextmap_bench_places`` by default; created and migrated through the
same bootstrap as the service) with one organisation, 100,000 places spread over 10 km x 10 km around
Luton, a tenth of them current safe spaces with varied opening hours, age ranges and guardians. Then it
times, through the service's own role (row-level security on, as in production):

* ``repository``: :func:`app.db.safe_spaces.nearest_safe_spaces` in a tenant session;
* ``http``: ``GET /api/safe-spaces/nearest`` through a running ``contextmap serve`` (uvicorn, one
  worker, started here on ``--port``) over a TCP socket with a kept-alive connection — as a phone's
  request arrives, not through an in-process test client — next to a baseline ``GET /api/places/{id}``
  that shows what the server, framework, token check and RLS cost alone;

first with straight-line distances, then again after loading a 100 x 100 street grid (network mode).
Origins and times are random but seeded. Prints median, p95 and max in milliseconds.

    .venv/bin/python bench/bench_nearest.py [--places 100000] [--queries 300] [--reseed]
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import URL

from app.db import accounts
from app.db.bootstrap import choose_database, ensure_database, migrate
from app.db.safe_spaces import nearest_safe_spaces
from app.db.session import Database
from app.db.street_network import StreetLine, load_street_edges
from app.settings import Settings

SLUG = "bench-town"
LON0, LAT0 = -0.49, 51.85  # south-west corner; ~10 km square
DLON, DLAT = 0.145, 0.09
HOURS = ("Mo-Fr 09:00-19:00; Sa 10:00-16:00; PH off", "Mo-Su 08:00-22:00", "Mo-Fr 15:30-21:00; Sa 12:00-17:00",
         "Mo-Fr 08:00-16:00; PH off", "24/7", "Mo-Sa 07:00-23:00; Su 10:00-16:00")


def _seed(database: Database, places: int) -> int:
    with database.owner_session() as session:
        found = session.execute(text("SELECT id FROM organisations WHERE slug = :s"), {"s": SLUG}).scalar()
        if found is not None:
            count = session.execute(text("SELECT count(*) FROM places WHERE organisation_id = :o"),
                                    {"o": found}).scalar_one()
            if count == places:
                return int(found)
            session.execute(text("DELETE FROM organisations WHERE id = :o"), {"o": found})
        org = accounts.add_organisation(session, SLUG, "Benchmark town")
        user = accounts.add_user(session, org, "bench@bench.test", "youth_worker")
        accounts.issue_token(session, org, user, "api", timedelta(days=1))
        session.execute(text("SELECT setseed(0.42)"))
        session.execute(
            text(
                """
                INSERT INTO places (organisation_id, name, kind, opening_hours, geom)
                SELECT :org, 'Place ' || g, (ARRAY['library','shop','youth_club','community_centre','park'])[1 + g % 5],
                       CASE WHEN g % 17 = 0 THEN NULL ELSE (CAST(:hours AS text[]))[1 + g % 6] END,
                       ST_SetSRID(ST_MakePoint(:lon0 + random() * :dlon, :lat0 + random() * :dlat), 4326)
                FROM generate_series(1, :n) AS g
                """
            ),
            {"org": org, "n": places, "hours": list(HOURS), "lon0": LON0, "lat0": LAT0, "dlon": DLON, "dlat": DLAT},
        )
        session.execute(
            text(
                """
                INSERT INTO designations (organisation_id, place_id, kind, valid_from, scheme, age_min, age_max,
                                          help_offered, verified_on)
                SELECT :org, id, 'safe_space', '2025-01-01', 'Bench scheme',
                       (ARRAY[8, 11, 11, 16])[1 + id % 4], (ARRAY[18, 18, 16, 25])[1 + id % 4],
                       ARRAY['phone a trusted adult', 'wait indoors'], '2026-01-15'
                FROM places WHERE organisation_id = :org AND id % 10 = 0
                """
            ),
            {"org": org},
        )
        session.execute(
            text(
                """
                INSERT INTO guardians (organisation_id, place_id, role, trainings, hours)
                SELECT :org, place_id, 'staff', '[{"kind": "safeguarding", "completed_on": "2025-03-01"}]',
                       CASE WHEN place_id % 3 = 0 THEN 'Mo-Fr 15:00-19:00' END
                FROM designations WHERE organisation_id = :org
                """
            ),
            {"org": org},
        )
    with database.owner_engine.connect() as connection:
        connection.execute(text("COMMIT"))
        connection.execute(text("ANALYZE places; ANALYZE designations; ANALYZE guardians"))
        connection.commit()
    return int(org)


def _grid(size: int) -> list[StreetLine]:
    from shapely.geometry import LineString

    lons = np.linspace(LON0, LON0 + DLON, size)
    lats = np.linspace(LAT0, LAT0 + DLAT, size)
    lines = []
    for lat in lats:  # east-west streets, one segment per block
        lines += [StreetLine(LineString([(a, lat), (b, lat)])) for a, b in itertools.pairwise(lons)]
    for lon in lons:
        lines += [StreetLine(LineString([(lon, a), (lon, b)])) for a, b in itertools.pairwise(lats)]
    return lines


class _Server:
    """``contextmap serve`` in a child process on 127.0.0.1:``port``, against ``url``; stopped by its pid."""

    def __init__(self, url: URL, port: int) -> None:
        env = {**os.environ, "CONTEXTMAP_DATABASE_URL": url.render_as_string(hide_password=False),
               "CONTEXTMAP_ENVIRONMENT": "test"}
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("contextmap")), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("contextmap serve did not answer /healthz within 60 s")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _time(runs: dict[str, Callable[[int], int]], queries: int) -> None:
    """Time each function on the same queries, interleaved so that load from elsewhere hits all alike."""
    for run in runs.values():
        run(0)  # warm: connection pool, graph cache, PROJ in each backend
    samples: dict[str, list[float]] = {label: [] for label in runs}
    found: dict[str, list[int]] = {label: [] for label in runs}
    for k in range(queries):
        for label, run in runs.items():
            start = time.perf_counter()
            found[label].append(run(k))
            samples[label].append((time.perf_counter() - start) * 1000)
    for label, values in samples.items():
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        print(f"{label:<34} median {statistics.median(values):6.2f} ms   p95 {p95:6.2f} ms   "
              f"max {values[-1]:7.2f} ms   (answers/query: {statistics.mean(found[label]):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database", default="contextmap_bench_places")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--grid", type=int, default=100, help="street grid size (n x n vertices)")
    parser.add_argument("--port", type=int, default=8765, help="port for the benchmark's `contextmap serve`")
    args = parser.parse_args()

    url: URL = choose_database().url.set(database=args.database)
    ensure_database(url, recreate=args.reseed)
    migrate(url)
    settings = Settings(database_url=url.render_as_string(hide_password=False), environment="test")
    database = Database(settings)
    started = time.perf_counter()
    org = _seed(database, args.places)
    print(f"database {args.database}: {args.places} places, org {SLUG} ready in {time.perf_counter() - started:.1f} s")

    rng = np.random.default_rng(7)
    origins = np.column_stack([LON0 + 0.1 * DLON + rng.random(args.queries + 1) * 0.8 * DLON,
                               LAT0 + 0.1 * DLAT + rng.random(args.queries + 1) * 0.8 * DLAT])
    monday = datetime(2026, 6, 15, tzinfo=UTC)
    times = [monday + timedelta(days=int(d), hours=int(h), minutes=int(m))
             for d, h, m in zip(rng.integers(0, 7, args.queries + 1), rng.integers(7, 21, args.queries + 1),
                                rng.integers(0, 60, args.queries + 1), strict=True)]
    ages = rng.integers(10, 19, args.queries + 1)

    def repository(k: int) -> int:
        with database.tenant_session(org) as session, session.begin():
            answer = nearest_safe_spaces(
                session, org, lon=float(origins[k, 0]), lat=float(origins[k, 1]), at=times[k], age=int(ages[k]),
                limit=5, srid=settings.analysis_srid, detour_factor=settings.detour_factor,
                walking_speed=settings.walking_speed_m_per_min, threshold_minutes=settings.walk_threshold_minutes,
                stale_days=settings.safe_space_stale_days,
            )
        return len(answer.results)

    with database.owner_session() as session:
        user = session.execute(text("SELECT id FROM users WHERE organisation_id = :o"), {"o": org}).scalar_one()
        token = accounts.issue_token(session, org, user, "api", timedelta(hours=1)).token
    # Through a running `contextmap serve` (uvicorn, one worker) over a TCP socket, as a phone's request
    # arrives: HTTP parsing, the middleware stack, auth, RLS, SQL and JSON; one kept-alive connection.
    server = _Server(url, args.port)
    client = httpx.Client(base_url=server.base, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}

    def http(k: int) -> int:
        response = client.get("/api/safe-spaces/nearest", headers=headers, params={
            "lon": float(origins[k, 0]), "lat": float(origins[k, 1]), "at": times[k].isoformat(),
            "age": int(ages[k]), "limit": 5})
        assert response.status_code == 200, response.text
        return int(response.json()["numberReturned"])

    with database.owner_session() as session:
        session.execute(text("DELETE FROM street_edges WHERE organisation_id = :o"), {"o": org})
        some_place = session.execute(text("SELECT min(id) FROM places WHERE organisation_id = :o"),
                                     {"o": org}).scalar_one()

    def baseline(k: int) -> int:
        response = client.get(f"/api/places/{some_place}", headers=headers)
        assert response.status_code == 200, response.text
        return 1

    print(f"{args.queries} queries, limit 5, random origin / time / age:")
    _time({"HTTP baseline: GET one place": baseline, "straight line: repository": repository,
           "straight line: HTTP": http}, args.queries)

    with database.owner_session() as session:
        edges = load_street_edges(session, org, _grid(args.grid))
    started = time.perf_counter()
    with database.tenant_session(org) as session, session.begin():
        from app.db.street_network import street_network

        street_network(session, org)
    print(f"street grid: {edges} segments; graph built in {(time.perf_counter() - started) * 1000:.0f} ms (cached)")
    _time({"HTTP baseline: GET one place": baseline, "network: repository": repository,
           "network: HTTP": http}, args.queries)
    client.close()
    server.stop()
    database.dispose()


if __name__ == "__main__":
    main()
