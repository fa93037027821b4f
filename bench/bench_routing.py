"""Benchmark: walking distance per request — today's scipy Dijkstra vs pgRouting — and the finder's JSON
answer through a running ``contextmap serve``, with and without a street network (issue 15).

Seeds its own database (``contextmap_bench_routing``) as ``bench/bench_nearest.py`` does (100,000 places, a tenth of
them current safe spaces) and a street grid of about 20,000 segments over the same 10 km square.

1. **Routing, same network, same answers.** For each random origin, the walking metres to the 20 nearest
   safe spaces (the finder's first batch), both ways:

   * ``scipy``: the app's method — :class:`geo.walking.WalksFrom` over the cached graph (built once per
     network version), a Dijkstra bounded at 3 km, snapping each end to its nearest vertex;
   * ``pgRouting``: one SQL statement per request — the same snapping (KNN on a vertex table) and
     ``pgr_dijkstraCost`` from the origin's vertex to the targets' vertices, over the whole network and
     over the edges within 3 km of the origin (the same bound as scipy's).

   The answers are compared to 1 cm (they must be equal; the benchmark stops otherwise).
2. **The finder's JSON answer through a socket.** ``contextmap serve`` (1 worker) is started on a free port
   against the bench database, and ``GET /api/safe-spaces/nearest`` is timed with a keep-alive HTTP client:
   first without a street network, then with it. Targets: median < 15 ms without, < 20 ms with.

Needs pgRouting (Debian's ``postgresql-<major>-pgrouting``, installed by ``make system-packages``); without
it, part 1 prints only scipy's figures.

    .venv/bin/python -m bench.bench_routing [--queries 300] [--grid 101]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import URL

from app.db import accounts
from app.db.bootstrap import choose_database, ensure_database, migrate
from app.db.session import Database
from app.db.street_network import load_street_edges, street_network
from app.settings import Settings
from bench.bench_nearest import DLAT, DLON, LAT0, LON0, SLUG, _grid, _seed
from geo.walking import WalksFrom

TARGETS = 20
SEARCH_M = 3000.0


def _stats(label: str, values: list[float]) -> float:
    values = sorted(values)
    median = statistics.median(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    print(f"  {label:<46} median {median:7.2f} ms   p95 {p95:7.2f} ms   max {values[-1]:7.2f} ms")
    return median


def _interleaved(runs: dict[str, Callable[[int], Any]], queries: int) -> dict[str, list[Any]]:
    """Each run on the same queries, interleaved so that load from elsewhere hits all alike."""
    for run in runs.values():
        run(0)  # warm
    samples: dict[str, list[float]] = {label: [] for label in runs}
    answers: dict[str, list[Any]] = {label: [] for label in runs}
    for k in range(1, queries + 1):
        for label, run in runs.items():
            start = time.perf_counter()
            answers[label].append(run(k))
            samples[label].append((time.perf_counter() - start) * 1000)
    for label, values in samples.items():
        _stats(label, values)
    return answers


def _pgrouting(database: Database) -> bool:
    with database.owner_engine.connect() as connection:
        available = connection.execute(
            text("SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting'")).first() is not None
        if available:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pgrouting"))
            connection.commit()
    return available


def _topology(database: Database, org: int) -> None:
    """Vertex ids for the edges' ends for pgRouting, joined as geo.walking joins them: ends within the same
    0.5 m grid cell are one vertex, placed at their mean."""
    with database.owner_engine.connect() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bench_route_edges, bench_route_vertices"))
        connection.execute(text(
            """
            CREATE TABLE bench_route_vertices AS
            SELECT row_number() OVER () AS id, key, ST_Centroid(ST_Collect(p)) AS geom FROM (
                SELECT ST_SnapToGrid(p, 0.5) AS key, p FROM (
                    SELECT ST_StartPoint(geom_metric) AS p FROM street_edges WHERE organisation_id = :org
                    UNION ALL SELECT ST_EndPoint(geom_metric) FROM street_edges WHERE organisation_id = :org) e) v
            GROUP BY key
            """), {"org": org})
        connection.execute(text("CREATE INDEX ON bench_route_vertices USING gist (geom)"))
        connection.execute(text("CREATE INDEX ON bench_route_vertices (key)"))
        connection.execute(text(
            """
            CREATE TABLE bench_route_edges AS
            SELECT s.id, a.id AS source, b.id AS target, ST_Length(s.geom_metric) AS cost, s.geom_metric AS geom
            FROM street_edges s
            JOIN bench_route_vertices a ON a.key = ST_SnapToGrid(ST_StartPoint(s.geom_metric), 0.5)
            JOIN bench_route_vertices b ON b.key = ST_SnapToGrid(ST_EndPoint(s.geom_metric), 0.5)
            WHERE s.organisation_id = :org
            """), {"org": org})
        connection.execute(text("CREATE INDEX ON bench_route_edges USING gist (geom)"))
        connection.execute(text("ANALYZE bench_route_vertices; ANALYZE bench_route_edges"))
        connection.commit()


# One statement: snap the origin and each target to the nearest vertex, pgr_dijkstraCost between them, add
# the connectors (as geo.walking does). ``:edges`` is the edge query pgRouting runs.
PGR_SQL = """
WITH o AS (
    SELECT v.id, ST_Distance(v.geom, ST_SetSRID(ST_MakePoint(:x, :y), 27700)) AS gap
    FROM bench_route_vertices v ORDER BY v.geom <-> ST_SetSRID(ST_MakePoint(:x, :y), 27700) LIMIT 1
), t AS (
    SELECT k, n.id, n.gap FROM unnest(CAST(:tx AS float8[]), CAST(:ty AS float8[])) WITH ORDINALITY AS q(x, y, k)
    CROSS JOIN LATERAL (
        SELECT v.id, ST_Distance(v.geom, ST_SetSRID(ST_MakePoint(q.x, q.y), 27700)) AS gap
        FROM bench_route_vertices v ORDER BY v.geom <-> ST_SetSRID(ST_MakePoint(q.x, q.y), 27700) LIMIT 1) n
), c AS (
    SELECT end_vid, agg_cost FROM pgr_dijkstraCost(
        CAST(:edges AS text), (SELECT id FROM o), (SELECT array_agg(DISTINCT id) FROM t), directed => false)
)
SELECT t.k, (SELECT gap FROM o) + COALESCE(c.agg_cost, CASE WHEN t.id = (SELECT id FROM o) THEN 0 END) + t.gap
FROM t LEFT JOIN c ON c.end_vid = t.id ORDER BY t.k
"""
ALL_EDGES = "SELECT id, source, target, cost, cost AS reverse_cost FROM bench_route_edges"
NEAR_EDGES = ("SELECT id, source, target, cost, cost AS reverse_cost FROM bench_route_edges "
              "WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint({x}, {y}), 27700), {r})")


def _routing(database: Database, org: int, settings: Settings, queries: int, rng: np.random.Generator,
             with_pgrouting: bool) -> None:
    with database.tenant_session(org) as session, session.begin():
        network = street_network(session, org)
        xy = session.execute(text(
            "SELECT ST_X(ST_PointOnSurface(p.geom_metric)), ST_Y(ST_PointOnSurface(p.geom_metric)) FROM places p "
            "JOIN designations d ON d.place_id = p.id AND d.kind = 'safe_space'")).all()
    assert network is not None
    spaces = np.asarray(xy, dtype=np.float64)
    x0, y0 = spaces.min(axis=0)
    x1, y1 = spaces.max(axis=0)
    origins = np.column_stack([x0 + (0.1 + 0.8 * rng.random(queries + 1)) * (x1 - x0),
                               y0 + (0.1 + 0.8 * rng.random(queries + 1)) * (y1 - y0)])
    from scipy.spatial import cKDTree

    tree = cKDTree(spaces)
    batches = [spaces[tree.query(o, k=TARGETS)[1]] for o in origins]

    def scipy_walks(k: int) -> np.ndarray:
        targets = batches[k]
        straight = np.hypot(*(targets - origins[k]).T)
        walk, _ = WalksFrom.compute(network, tuple(origins[k]), settings.detour_factor, SEARCH_M).to(targets, straight)
        return walk

    def pgr(edges: Callable[[int], str]) -> Callable[[int], np.ndarray]:
        def run(k: int) -> np.ndarray:
            targets = batches[k]
            with database.owner_engine.connect() as connection:
                rows = connection.execute(text(PGR_SQL), {
                    "x": float(origins[k, 0]), "y": float(origins[k, 1]), "tx": targets[:, 0].tolist(),
                    "ty": targets[:, 1].tolist(), "edges": edges(k)}).all()
            return np.array([np.inf if r[1] is None else float(r[1]) for r in rows])
        return run

    runs: dict[str, Callable[[int], Any]] = {"scipy Dijkstra (today, cached graph)": scipy_walks}
    if with_pgrouting:
        runs["pgRouting pgr_dijkstraCost, whole network"] = pgr(lambda k: ALL_EDGES)
        runs["pgRouting pgr_dijkstraCost, edges within 3 km"] = pgr(
            lambda k: NEAR_EDGES.format(x=float(origins[k, 0]), y=float(origins[k, 1]), r=SEARCH_M))
    print(f"routing: {queries} requests, walking metres to the {TARGETS} nearest safe spaces "
          f"({network.node_count} vertices, {network.graph.nnz // 2} segments in the graph)")
    answers = _interleaved(runs, queries)
    reference = answers["scipy Dijkstra (today, cached graph)"]
    for label, found in answers.items():
        worst = max(float(np.max(np.abs(np.where(np.isfinite(a) & np.isfinite(b), a - b, 0.0))))
                    for a, b in zip(reference, found, strict=True))
        same_reach = all(np.array_equal(np.isfinite(a), np.isfinite(b)) for a, b in zip(reference, found, strict=True))
        print(f"  same answers as scipy: {label}: largest difference {worst:.4f} m, same places reached: {same_reach}")
        if worst > 0.01 or not same_reach:
            for k, (a, b) in enumerate(zip(reference, found, strict=True)):
                if np.nanmax(np.abs(a - b)) > 0.01:
                    print("query", k + 1, "scipy", np.round(a, 1).tolist(), "other", np.round(b, 1).tolist())
                    break
            sys.exit(f"{label} disagrees with scipy")


def _cpu_ms(pids: list[int]) -> float:
    """CPU time (user + system) used so far by these processes, in ms (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def _timed_with_cpu(label: str, run: Callable[[int], Any], queries: int, pids: Callable[[], list[int]]) -> list[Any]:
    """Wall time per request, and CPU per request of the server and its database backends: on a shared,
    loaded machine the wall time grows with the load, the CPU time much less."""
    run(0)
    watched = pids()
    before = _cpu_ms(watched)
    answers = _interleaved({label: run}, queries)[label]
    per_request = (_cpu_ms(watched) - before) / queries
    print(f"  {'':<46} CPU per request: {per_request:6.2f} ms (server process + its {len(watched) - 1} "
          "database backends)")
    return answers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: URL) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "CONTEXTMAP_DATABASE_URL": url.render_as_string(hide_password=False),
           "CONTEXTMAP_ENVIRONMENT": "test", "CONTEXTMAP_WORKERS": "1"}
    binary = os.path.join(os.path.dirname(sys.executable), "contextmap")
    process = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code < 500:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("contextmap serve did not start")


def _finder_http(database: Database, settings: Settings, url: URL, org: int, queries: int,
                 rng: np.random.Generator, grid: int) -> None:
    with database.owner_session() as session:
        user = session.execute(text("SELECT id FROM users WHERE organisation_id = :o"), {"o": org}).scalar_one()
        token = accounts.issue_token(session, org, user, "api", timedelta(hours=1)).token
        session.execute(text("DELETE FROM street_edges WHERE organisation_id = :o"), {"o": org})
    origins = np.column_stack([LON0 + (0.1 + 0.8 * rng.random(queries + 1)) * DLON,
                               LAT0 + (0.1 + 0.8 * rng.random(queries + 1)) * DLAT])
    monday = datetime(2026, 6, 15, tzinfo=UTC)
    times = [monday + timedelta(days=int(d), hours=int(h), minutes=int(m))
             for d, h, m in zip(rng.integers(0, 7, queries + 1), rng.integers(7, 21, queries + 1),
                                rng.integers(0, 60, queries + 1), strict=True)]
    ages = rng.integers(10, 19, queries + 1)
    process, base = _serve(url)
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            def finder(k: int) -> str:
                response = client.get("/api/safe-spaces/nearest", params={
                    "lon": float(origins[k, 0]), "lat": float(origins[k, 1]), "at": times[k].isoformat(),
                    "age": int(ages[k]), "limit": 5})
                assert response.status_code == 200, response.text
                return str(response.json()["distance_method"])

            def pids() -> list[int]:
                with database.owner_engine.connect() as connection:
                    backends = connection.execute(text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename = :role"),
                        {"role": settings.app_db_role}).scalars().all()
                return [process.pid, *backends]

            print(f"finder JSON through `contextmap serve` (1 worker, a socket): {queries} requests, limit 5")
            found = _timed_with_cpu("GET /api/safe-spaces/nearest, no street network", finder, queries, pids)
            print(f"    distance methods: {sorted(set(found))}  (target: median < 15 ms)")
            with database.owner_session() as session:
                edges = load_street_edges(session, org, _grid(grid))
            found = _timed_with_cpu(f"GET /api/safe-spaces/nearest, {edges} street segments", finder, queries, pids)
            print(f"    distance methods: {sorted(set(found))}  (target: median < 20 ms)")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database", default="contextmap_bench_routing")
    parser.add_argument("--grid", type=int, default=101, help="street grid (n x n vertices; 101 gives 20,200 segments)")
    args = parser.parse_args()

    url: URL = choose_database().url.set(database=args.database)
    ensure_database(url)
    migrate(url)
    settings = Settings(database_url=url.render_as_string(hide_password=False), environment="test")
    database = Database(settings)
    org = _seed(database, args.places)
    rng = np.random.default_rng(15)
    with database.owner_session() as session:
        session.execute(text("DELETE FROM street_edges WHERE organisation_id = :o"), {"o": org})
        edges = load_street_edges(session, org, _grid(args.grid))
    print(f"database {args.database}: {args.places} places ({SLUG}), street grid of {edges} segments; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with_pgrouting = _pgrouting(database)
    if with_pgrouting:
        _topology(database, org)
    else:
        print("pgRouting is not installed (Debian: postgresql-<major>-pgrouting): scipy only")
    _routing(database, org, settings, args.queries, rng, with_pgrouting)
    _finder_http(database, settings, url, org, args.queries, rng, args.grid)
    database.dispose()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (figures scale with it)")


if __name__ == "__main__":
    main()
