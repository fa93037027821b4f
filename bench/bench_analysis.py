"""Benchmark the analysis endpoints over 1,000,000 incidents (bench.seed) and print the figures.

End to end through the API (FastAPI TestClient: routing, auth, row-level security, SQL, statistics,
response validation and JSON), median of several runs after one warm-up:

* hot spots for a one-year window over the whole 20 km x 20 km service area at 250 m hexagons
  (target: under 1 s), for staff and for the panel (disclosure-controlled);
* displacement for one intervention, with the where-did-it-go search (target: under 300 ms);
* emerging hot spots over twelve months, for the record.

And the aggregation alone, in the same run, interleaved run by run: the fast path (cell index by
arithmetic, GROUP BY one packed key) against the textbook spatial join of ``ST_HexagonGrid`` cells with
the incidents. The API-vs-naive and SQL-vs-SQL ratios are printed separately. Hexagons are never on the
published grid, so none of this reads the monthly cell-count aggregate; ``bench.bench_aggregates`` times
that, at 1, 3 and 10 million incidents.

Usage::

    .venv/bin/python -m bench.bench_analysis [--database contextmap_bench] [--runs 7]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import accounts
from app.db import analysis as analysis_db
from app.db.session import Database
from app.main import create_app
from app.settings import Settings
from bench.seed import BENCH_SLUG, DEFAULT_DATABASE, seed

YEAR = ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")


def _line(label: str, times: list[float], target: float | None = None) -> str:
    median = statistics.median(times)
    verdict = "" if target is None else ("  ok" if median < target else f"  OVER {target * 1000:.0f} ms")
    return (f"{label:<58} median {median * 1000:7.0f} ms   min {min(times) * 1000:7.0f} ms   "
            f"max {max(times) * 1000:7.0f} ms{verdict}")


def _tokens(database: Database, organisation_id: int) -> dict[str, str]:
    tokens = {}
    with database.owner_session() as session:
        for role in ("community_safety", "panel"):
            email = f"bench-{role}@bench.contextmap.test"
            user_id = session.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email}).scalar()
            if user_id is None:
                user_id = accounts.add_user(session, organisation_id, email, role)
            tokens[role] = accounts.issue_token(session, organisation_id, int(user_id), "api",
                                                timedelta(hours=1)).token
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    info = seed(args.database)
    # analysis_cache_mb=0: each request computes (repeated requests would be answered from the cache)
    settings = Settings(analysis_cache_mb=0,
                        database_url=info.url.render_as_string(hide_password=False), environment="test",
                        cookie_secure=False)
    database = Database(settings)
    tokens = _tokens(database, info.organisation_id)
    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    with database.owner_session() as session:
        intervention = session.execute(
            text("SELECT id FROM interventions WHERE organisation_id = :o ORDER BY id LIMIT 1"),
            {"o": info.organisation_id},
        ).scalar_one()
        in_year = session.execute(
            text("SELECT count(*) FROM incidents WHERE organisation_id = :o AND occurred_from >= :a "
                 "AND occurred_from < :b"), {"o": info.organisation_id, "a": YEAR[0], "b": YEAR[1]},
        ).scalar_one()

    print(f"database {info.url.database}: organisation {BENCH_SLUG}, {info.incidents:,} incidents "
          f"({in_year:,} in {YEAR[0][:10]}..{YEAR[1][:10]}); {args.runs} runs after a warm-up; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    client = TestClient(create_app(settings), base_url="http://localhost")  # an allowed host
    period = f"{YEAR[0]}/{YEAR[1]}"

    def api(url: str, role: str = "community_safety") -> Any:
        response = client.get(url, headers=headers[role])
        assert response.status_code == 200, response.text[:500]
        return response.json()

    hotspots_url = f"/api/analysis/hotspots?datetime={period}&cell=hex&size=250"
    displacement_url = f"/api/analysis/displacement?intervention={intervention}"
    cases: list[tuple[str, Callable[[], Any], float | None]] = [
        ("API hotspots, 1 year, 250 m hex", lambda: api(hotspots_url), 1.0),
        ("API hotspots, same, as panel (disclosure-controlled)", lambda: api(hotspots_url, "panel"), 1.0),
        ("API hotspots, 1 year, 250 m squares", lambda: api(hotspots_url.replace("cell=hex", "cell=square")), 1.0),
        (f"API displacement, intervention {intervention} (+ where it went)", lambda: api(displacement_url), 0.3),
        ("API displacement, same, as panel", lambda: api(displacement_url, "panel"), 0.3),
        ("API emerging hot spots, 12 months x 250 m hex",
         lambda: api(f"/api/analysis/emerging-hotspots?datetime={period}&size=250"), None),
    ]
    # Round-robin, so that load from anything else on the machine falls on every case alike.
    results: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    bodies: dict[str, Any] = {}
    for _, action, _ in cases:
        action()  # warm-up
    for _ in range(args.runs):
        for label, action, _ in cases:
            gc.collect()  # a previous case's garbage is not this case's cost
            started = time.perf_counter()
            bodies[label] = action()
            results[label].append(time.perf_counter() - started)
    lines = []
    for label, _, target in cases:
        extra = f" ({bodies[label]['metadata']['n_cells']:,} cells)" if label.endswith("250 m hex") else ""
        lines.append(_line(label + extra, results[label], target))
    displaced = bodies[cases[3][0]]
    counts = {k: displaced[k]["counts"] for k in ("target", "buffer", "control")}

    grid = analysis_db.Grid("hexagon", 250.0, settings.analysis_srid)
    filt = analysis_db.IncidentFilter(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 1, tzinfo=UTC))
    with database.owner_session() as session:
        session.execute(text("SELECT set_config('contextmap.organisation_id', :o, true)"),
                        {"o": str(info.organisation_id)})
        study = analysis_db.study_area(session, grid.srid, None, None)
        assert study.wkb is not None
        wkb = study.wkb
        # Interleaved, as the API cases are: fast, naive, fast, naive, ... so that load from anything else on
        # the machine falls on both alike (running one seven times and then the other three times gave
        # 5.6x in one run and 18.8x in the next).
        sql_cases: list[tuple[str, Callable[[], Any]]] = [
            ("fast", lambda: analysis_db.grid_counts(session, grid, filt)),
            ("naive", lambda: analysis_db.grid_counts_spatial_join(session, grid, filt, wkb)),
        ]
        sql_times: dict[str, list[float]] = {name: [] for name, _ in sql_cases}
        sql_bodies: dict[str, Any] = {}
        for _, action in sql_cases:
            action()  # warm-up
        for _ in range(max(3, args.runs // 2)):
            for name, action in sql_cases:
                gc.collect()
                started = time.perf_counter()
                sql_bodies[name] = action()
                sql_times[name].append(time.perf_counter() - started)
    fast, naive = sql_bodies["fast"], sql_bodies["naive"]
    fast_times, naive_times = sql_times["fast"], sql_times["naive"]
    lines.append(_line(f"SQL fast path: arithmetic cell key ({fast.i.size:,} cells, {fast.total:,} incidents)",
                       fast_times))
    lines.append(_line(f"SQL naive: ST_HexagonGrid JOIN ST_Intersects ({naive.total:,} incidents)", naive_times))
    print("\n".join(lines))
    api_hex = results[cases[0][0]]
    print(f"API vs naive SQL (medians, interleaved runs of different loops): "
          f"{statistics.median(naive_times) / statistics.median(api_hex):.1f}x")
    print(f"SQL vs SQL, naive / fast (medians, interleaved): "
          f"{statistics.median(naive_times) / statistics.median(fast_times):.1f}x; same cells and totals: "
          f"{fast.i.tolist() == naive.i.tolist() and fast.count.tolist() == naive.count.tolist()}")
    print(f"displacement counts (before, after): {counts}")
    print(f"load average after the run {os.getloadavg()[0]:.1f}")
    database.dispose()


if __name__ == "__main__":
    main()
