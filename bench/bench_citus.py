"""Benchmark: one PostgreSQL against a Citus cluster (a coordinator and two workers), the same data on each.

* Data: ``--incidents`` (default 1,000,000) spread evenly over 50 organisations, generated inside the
  database (``INSERT … SELECT generate_series``, one statement per organisation, ``--loaders`` at a time):
  two years, 35 % in 20 Gaussian clusters around Luton, the rest uniform over ~6 km; 100 places per
  organisation. Bulk load: the incidents' secondary indexes are dropped first and built once at the end,
  and the cell-month aggregate's triggers are off while loading; each organisation's aggregate rows are
  counted after its rows (one routed statement), then the triggers are on again for the import.
* Single node: the PostgreSQL the project uses (``choose_database``), database ``contextmap_bench_citus1``.
  Citus: the cluster of ``tests/citus/cluster.sh start`` (``--coordinator``, ``--workers``), database
  ``contextmap_bench_citus``, distributed by ``contextmap migrate`` (app.db.citus).
* Hot spots for one organisation through the API, in-process (FastAPI's TestClient, the service role,
  row-level security): ``GET /api/analysis/hotspots?size=250&datetime=<six months>``, warm-up then
  ``--requests`` timed; median and 90th percentile.
* EXPLAIN of the hot-spot count query that request sent (captured from the driver): the number of Citus
  tasks (1 = a router plan to one shard).
* Import: ``--import-rows`` police.uk rows into one organisation with the import use case
  (app.db.imports.import_police_uk, the CLI's path).

On one machine the point is that queries route to one shard and stay correct, not raw speed: the cluster's
three PostgreSQL servers share the same cores and disk as the single node.

Usage: ``tests/citus/cluster.sh start`` then ``.venv/bin/python -m bench.bench_citus [--incidents 1000000]``
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from app.db import accounts, aggregates
from app.db.bootstrap import CITUS_WORKERS_ENV, choose_database, ensure_database, migrate
from app.db.imports import import_police_uk
from app.main import create_app
from app.settings import Settings
from geo.vocabulary import HARM_CATEGORIES
from tests.fixtures.policeuk import Hotspot, write_policeuk_csv

ORGANISATIONS = 50
PERIOD = "2026-01-01T00:00:00Z/2026-07-01T00:00:00Z"


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def _prepare(url: URL, incidents: int, workers: str | None, loaders: int) -> tuple[list[int], float]:
    previous = os.environ.pop(CITUS_WORKERS_ENV, None)
    if workers:
        os.environ[CITUS_WORKERS_ENV] = workers
    try:
        ensure_database(url, recreate=True)
        migrate(url)
    finally:
        os.environ.pop(CITUS_WORKERS_ENV, None)
        if previous is not None:
            os.environ[CITUS_WORKERS_ENV] = previous
    engine = create_engine(url)
    per_org = incidents // ORGANISATIONS
    started = time.perf_counter()
    orgs: list[int] = []
    with engine.begin() as conn:
        for k in range(ORGANISATIONS):
            orgs.append(int(conn.execute(text(
                "INSERT INTO organisations (slug, name) VALUES (:s, :s) RETURNING id"), {"s": f"bench-{k}"}
            ).scalar_one()))
        # Bulk load: the secondary indexes are built once at the end, and the aggregate's triggers are off
        # while loading (it is recounted per organisation afterwards, routed to one shard each).
        indexes = conn.execute(text("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename = 'incidents'
              AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'incidents'::regclass)
        """)).all()
        for index in indexes:
            conn.execute(text(f'DROP INDEX "{index.indexname}"'))
        triggers = list(conn.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'incidents'::regclass AND tgname LIKE :p"),
            {"p": f"{aggregates.TABLE}%"}).scalars())
        for trigger in triggers:
            conn.execute(text(f'ALTER TABLE incidents DISABLE TRIGGER "{trigger}"'))

    def load(org: int) -> None:
        with engine.begin() as conn:
            params = {"org": org, "n": per_org}
            conn.execute(text("""
                INSERT INTO places (organisation_id, name, kind, geom)
                SELECT :org, 'Place ' || g, 'shop',
                       ST_SetSRID(ST_MakePoint(-0.417 + (random() - 0.5) * 0.09, 51.879 + (random() - 0.5) * 0.055),
                                  4326)
                FROM generate_series(1, 100) AS g"""), params)
            conn.execute(text(f"""
                INSERT INTO incidents (organisation_id, occurred_from, harm_category, source, location_precision, geom)
                SELECT :org, TIMESTAMPTZ '2024-12-01' + random() * INTERVAL '730 days',
                       ({_array(HARM_CATEGORIES)})[1 + floor(random() * {len(HARM_CATEGORIES)})::int],
                       'manual', 'exact',
                       ST_Transform(ST_SetSRID(ST_MakePoint(
                           CASE WHEN d.c THEN 507000 + (d.k % 5) * 900 + 250 * d.gx ELSE 504000 + 6000 * d.u END,
                           CASE WHEN d.c THEN 219000 + (d.k / 5) * 900 + 250 * d.gy ELSE 218000 + 6000 * d.v END),
                           27700), 4326)
                FROM (SELECT random() < 0.35 AS c, floor(random() * 20)::int AS k, random() AS u, random() AS v,
                             sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS gx,
                             sqrt(-2 * ln(1 - random())) * sin(2 * pi() * random()) AS gy
                      FROM generate_series(1, :n)) AS d"""), params)
            conn.execute(text(f"INSERT INTO {aggregates.TABLE} ({aggregates.KEY}, incidents) "
                              f"SELECT {aggregates.KEY}, incidents FROM ({aggregates.recount_sql(':org')}) AS c"),
                         params)

    with ThreadPoolExecutor(max_workers=loaders) as pool:
        for k, _ in enumerate(pool.map(load, orgs), start=1):
            if k % 10 == 0:
                print(f"  loaded {k}/{len(orgs)} organisations ({time.perf_counter() - started:.0f} s)", flush=True)
    loaded = time.perf_counter()
    with engine.begin() as conn:
        for index in indexes:
            conn.execute(text(index.indexdef))
        for trigger in triggers:
            conn.execute(text(f'ALTER TABLE incidents ENABLE TRIGGER "{trigger}"'))
    indexed = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE incidents"))
        conn.execute(text("VACUUM ANALYZE places"))
        conn.execute(text(f"VACUUM ANALYZE {aggregates.TABLE}"))
    engine.dispose()
    print(f"  rows {loaded - started:.0f} s, indexes {indexed - loaded:.0f} s, vacuum analyze "
          f"{time.perf_counter() - indexed:.0f} s", flush=True)
    return orgs, time.perf_counter() - started


def _token(url: URL, org: int) -> str:
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        user = accounts.add_user(session, org, f"bench-{org}@bench.test", "community_safety", "bench-password-123")
        token = accounts.issue_token(session, org, user, "api", timedelta(days=1)).token
    engine.dispose()
    return token


def _hotspots(url: URL, org: int, requests: int) -> dict[str, Any]:
    # analysis_cache_mb=0: each request computes (repeated requests would be answered from the cache)
    settings = Settings(analysis_cache_mb=0, database_url=url.render_as_string(hide_password=False), environment="test",
                        cookie_secure=False, allowed_hosts=["testserver"])
    headers = {"Authorization": f"Bearer {_token(url, org)}"}
    captured: list[tuple[str, Any]] = []

    def listen(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> Any:
        if "FROM incidents inc" in statement and "cell_key" in statement:
            captured.append((statement, parameters))
        return statement, parameters

    times: list[float] = []
    event.listen(Engine, "before_cursor_execute", listen, retval=True)
    try:
        with TestClient(create_app(settings)) as client:
            for k in range(requests + 2):
                started = time.perf_counter()
                response = client.get(f"/api/analysis/hotspots?size=250&datetime={PERIOD}", headers=headers)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                if k >= 2:
                    times.append(elapsed)
            cells = len(response.json()["features"])
    finally:
        event.remove(Engine, "before_cursor_execute", listen)
    statement, parameters = captured[-1]
    engine = create_engine(url)
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    engine.dispose()
    tasks = re.findall(r"Task Count: (\d+)", plan)
    times.sort()
    return {"median_s": statistics.median(times), "p90_s": times[int(0.9 * (len(times) - 1))], "cells": cells,
            "tasks": ",".join(tasks) or "(no Citus scan: single node)",
            "plan_head": " / ".join(line.strip()[:80] for line in plan.splitlines()[:3])}


def _import(url: URL, org: int, csv_path: Path) -> dict[str, Any]:
    settings = Settings(database_url=url.render_as_string(hide_password=False))
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        with Session(engine) as session, session.begin(), open(csv_path, encoding="utf-8", newline="") as stream:
            report = import_police_uk(session, org, [(csv_path.name, stream)], analysis_srid=settings.analysis_srid,
                                      link_distance_m=settings.auto_link_distance_m,
                                      default_area=settings.default_service_area, allow_partial=True)
        return {"imported": report.imported, "seconds": time.perf_counter() - started}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"}
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--coordinator", default="postgresql+psycopg://postgres@127.0.0.1:54340/contextmap_bench_citus")
    parser.add_argument("--workers", default="127.0.0.1:54341,127.0.0.1:54342")
    parser.add_argument("--only", choices=("single", "citus"), default=None)
    parser.add_argument("--loaders", type=int, default=2, help="organisations loaded in parallel")
    args = parser.parse_args()

    targets = [("single node", choose_database().url.set(database="contextmap_bench_citus1"), None),
               ("Citus 1+2", make_url(args.coordinator), args.workers)]
    if args.only:
        targets = [t for t in targets if t[0].lower().startswith(args.only[:3])]
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "bench-street.csv"
        write_policeuk_csv(csv_path, args.import_rows, months=("2025-01", "2025-02", "2025-03"),
                           hotspots=[Hotspot(-0.41, 51.877, 150, 0.1)], map_points=5_000)
        for name, url, workers in targets:
            orgs, load_s = _prepare(url, args.incidents, workers, args.loaders)
            print(f"{name}: loaded {args.incidents:,} incidents over {ORGANISATIONS} organisations "
                  f"in {load_s:.1f} s")
            hot = _hotspots(url, orgs[ORGANISATIONS // 2], args.requests)
            print(f"{name}: hot spots for one organisation ({args.incidents // ORGANISATIONS:,} incidents, "
                  f"{hot['cells']} cells): median {hot['median_s'] * 1000:.0f} ms, "
                  f"p90 {hot['p90_s'] * 1000:.0f} ms; EXPLAIN task count {hot['tasks']}")
            print(f"{name}: plan: {hot['plan_head']}")
            imported = _import(url, orgs[0], csv_path)
            if "error" in imported:
                print(f"{name}: import of {args.import_rows:,} police.uk rows FAILED: {imported['error']}")
            else:
                print(f"{name}: import of {args.import_rows:,} police.uk rows: {imported['imported']:,} imported "
                      f"in {imported['seconds']:.1f} s ({imported['imported'] / imported['seconds']:,.0f} rows/s)")


if __name__ == "__main__":
    main()
