"""Hot spots at national scale (issue 18): the monthly cell-count aggregate against the incident path and
the naive spatial join, at several table sizes, measured side by side in one run.

For each benchmark database (``bench.seed``; created if missing):

* **API** (FastAPI TestClient: routing, auth, row-level security, SQL, Gi*, JSON): hot spots for one year
  (2025) on 250 m squares — the published grid and whole months, so it reads the aggregate — and the same
  request with the aggregate turned off (``app.db.analysis.READ_AGGREGATE``), i.e. the incident path;
  emerging hot spots over 24 months (2024-12..2026-11) both ways.
* **SQL** (the counting alone, on the owner connection with the organisation set): the aggregate read,
  the incident path's arithmetic GROUP BY, and the textbook ``ST_SquareGrid`` JOIN ``ST_Intersects``.

Every case runs once to warm up, then all cases run round-robin ``--runs`` times (the naive join
``--naive-runs`` times, interleaved with the others), so load from anything else on the machine falls on
all of them alike. The naive join runs under a ``statement_timeout`` of ``--naive-limit`` seconds; a
run that hits it counts as the limit and its figures and ratios are printed as lower bounds (">").
Medians are printed, and the ratios: API (aggregate) vs naive SQL, and SQL vs SQL.
The answers are compared: aggregate and incident path must give the same cells and counts.

The seeds (``--sizes``): ``1m`` and ``3m`` spread over two years (the window is half the table, as in the
issue's figures), ``10m`` over ten years (a national service keeps ten; a one-year window is a tenth of
the table), and ``1m-10y`` (one million over ten years) to tell "grows with the window" from "grows with
the table".

Usage::

    .venv/bin/python -m bench.bench_aggregates [--sizes 1m 3m 10m 1m-10y] [--runs 5] [--naive-runs 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.db import aggregates
from app.db import analysis as analysis_db
from app.db.session import Database
from app.main import create_app
from app.settings import Settings
from bench.bench_analysis import _line, _tokens
from bench.seed import LONG_PERIOD, PERIOD, seed

SIZES: dict[str, tuple[str, int, tuple[str, str]]] = {
    "1m": ("contextmap_agg_1m", 1_000_000, PERIOD),
    "3m": ("contextmap_agg_3m", 3_000_000, PERIOD),
    "10m": ("contextmap_agg_10m", 10_000_000, LONG_PERIOD),
    "1m-10y": ("contextmap_agg_1m_10y", 1_000_000, LONG_PERIOD),
}
YEAR = "2025-01-01T00:00:00Z/2026-01-01T00:00:00Z"
MONTHS_24 = "2024-12-01T00:00:00Z/2026-12-01T00:00:00Z"


def _flagged(on: bool, action: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        analysis_db.READ_AGGREGATE = on
        try:
            return action()
        finally:
            analysis_db.READ_AGGREGATE = True
    return run


Case = tuple[str, Callable[[], Any], int]


def _limited(session: Any, seconds: float, action: Callable[[], Any]) -> Callable[[], Any]:
    """``action`` in a savepoint under ``statement_timeout``; None when it was cancelled at the limit.

    A plain SQL savepoint: the session's own ``begin_nested`` would run the service's per-transaction hook
    and clear the organisation set for the owner connection."""
    def run() -> Any:
        session.execute(text("SAVEPOINT naive_limit"))
        session.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(int(seconds * 1000))})
        try:
            result = action()
        except OperationalError as exc:
            if "statement timeout" not in str(exc):
                raise
            session.execute(text("ROLLBACK TO SAVEPOINT naive_limit"))
            session.execute(text("RELEASE SAVEPOINT naive_limit"))
            return None
        session.execute(text("SELECT set_config('statement_timeout', '0', true)"))
        session.execute(text("RELEASE SAVEPOINT naive_limit"))
        return result
    return run


def _cases(session: Any, api: Callable[[str], Any], hot: str, emerging: str, grid: analysis_db.Grid,
           filt: analysis_db.IncidentFilter, wkb: bytes, runs: int, naive_runs: int,
           naive_limit: float) -> list[Case]:
    window = aggregates.window("square", grid.size, None, None, filt.start, filt.end, (), ())
    assert window is not None
    return [
        ("API hot spots, 1 year, 250 m squares: aggregate", _flagged(True, lambda: api(hot)), runs),
        ("API hot spots, same request: incident path", _flagged(False, lambda: api(hot)), runs),
        ("API emerging, 24 months, 250 m squares: aggregate", _flagged(True, lambda: api(emerging)), runs),
        ("API emerging, same request: incident path", _flagged(False, lambda: api(emerging)), runs),
        ("SQL aggregate read (cells x months)", lambda: aggregates.cell_counts(session, window), runs),
        ("SQL incident path (arithmetic cell key)",
         _flagged(False, lambda: analysis_db.grid_counts(session, grid, filt)), runs),
        ("SQL naive: ST_SquareGrid JOIN ST_Intersects",
         _limited(session, naive_limit, lambda: analysis_db.grid_counts_spatial_join(session, grid, filt, wkb)),
         naive_runs),
    ]


def _run_cases(cases: list[Case], runs: int, naive_runs: int
               ) -> tuple[dict[str, list[float]], dict[str, Any], dict[str, int]]:
    """One warm-up each, then round-robin; a case with fewer runs drops out of the later rounds."""
    times: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    bodies: dict[str, Any] = {}
    timeouts: dict[str, int] = {label: 0 for label, _, _ in cases}
    for label, action, _ in cases:
        bodies[label] = action()
        if bodies[label] is None:
            timeouts[label] += 1
    for k in range(max(runs, naive_runs)):
        for label, action, n in cases:
            if k >= n:
                continue
            gc.collect()
            started = time.perf_counter()
            body = action()
            times[label].append(time.perf_counter() - started)
            if body is None:
                timeouts[label] += 1
            else:
                bodies[label] = body
    return times, bodies, timeouts


def _load() -> str:
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1 / 5 / 15 min)"


def bench_size(name: str, runs: int, naive_runs: int, naive_limit: float) -> list[str]:
    database_name, incidents, period = SIZES[name]
    info = seed(database_name, incidents, period=period)
    # analysis_cache_mb=0: each request computes (repeated requests would be answered from the cache)
    settings = Settings(analysis_cache_mb=0,
                        database_url=info.url.render_as_string(hide_password=False), environment="test",
                        cookie_secure=False)
    database = Database(settings)
    tokens = _tokens(database, info.organisation_id)
    headers = {"Authorization": f"Bearer {tokens['community_safety']}"}
    with database.owner_session() as session:
        in_year = session.execute(
            text("SELECT count(*) FROM incidents WHERE organisation_id = :o AND occurred_from >= '2025-01-01' "
                 "AND occurred_from < '2026-01-01'"), {"o": info.organisation_id}).scalar_one()
        rows = session.execute(text("SELECT count(*) FROM incident_cell_months WHERE organisation_id = :o"),
                               {"o": info.organisation_id}).scalar_one()
    client = TestClient(create_app(settings), base_url="http://localhost")  # an allowed host

    def api(url: str) -> Any:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text[:500]
        return response.json()

    hot = f"/api/analysis/hotspots?cell=square&size=250&datetime={YEAR}"
    emerging = f"/api/analysis/emerging-hotspots?cell=square&size=250&datetime={MONTHS_24}"
    grid = analysis_db.Grid("square", 250.0, settings.analysis_srid)
    filt = analysis_db.IncidentFilter(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 1, tzinfo=UTC))
    with database.owner_session() as session:
        session.execute(text("SELECT set_config('contextmap.organisation_id', :o, true)"),
                        {"o": str(info.organisation_id)})
        study = analysis_db.study_area(session, grid.srid, None, None)
        assert study.wkb is not None
        times, bodies, timeouts = _run_cases(
            _cases(session, api, hot, emerging, grid, filt, study.wkb, runs, naive_runs, naive_limit), runs, naive_runs)
    database.dispose()
    labels = list(times)
    med = {label: statistics.median(times[label]) for label in labels}
    fast_api, slow_api = bodies[labels[0]], bodies[labels[1]]
    same_api = fast_api["features"] == slow_api["features"]
    same_emerging = bodies[labels[2]]["features"] == bodies[labels[3]]["features"]
    agg_i, agg_j, agg_n = bodies[labels[4]]
    inc = bodies[labels[5]]
    naive = bodies.get(labels[6])
    cut = timeouts[labels[6]]
    at_least = ">" if cut * 2 >= len(times[labels[6]]) else ""  # the median itself is a cut-off run
    same_sql = agg_i == inc.i.tolist() and agg_j == inc.j.tolist() and agg_n == inc.count.tolist()
    lines = [f"== {name}: {incidents:,} incidents over {period[0][:4]}..{period[1][:4]} ({in_year:,} in 2025); "
             f"aggregate {rows:,} rows; {len(agg_i):,} cells; {_load()}"]
    targets = {labels[0]: 0.3 if name == "10m" else None, labels[2]: 1.0 if name == "10m" else None}
    lines += [_line(label, times[label], targets.get(label)) for label in labels]
    if cut:
        lines.append(f"naive join: {cut} of {len(times[labels[6]]) + 1} runs (warm-up included) cancelled at the "
                     f"{naive_limit:g} s limit; naive figures marked > are lower bounds")
    lines.append(f"API aggregate vs naive SQL join: {at_least}{med[labels[6]] / med[labels[0]]:.1f}x; "
                 f"API aggregate vs API incident path: {med[labels[1]] / med[labels[0]]:.1f}x")
    lines.append(f"SQL vs SQL: naive / aggregate {at_least}{med[labels[6]] / med[labels[4]]:.1f}x, "
                 f"incident path / aggregate {med[labels[5]] / med[labels[4]]:.1f}x, "
                 f"naive / incident path {at_least}{med[labels[6]] / med[labels[5]]:.1f}x")
    lines.append(f"same answers: hot spots API {same_api}, emerging API {same_emerging}, SQL cells {same_sql}; "
                 + (f"naive total {naive.total:,} vs {sum(agg_n):,} (the join counts a point on a shared edge twice)"
                    if naive is not None else "naive join never finished within the limit"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["1m", "3m", "10m", "1m-10y"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--naive-runs", type=int, default=3)
    parser.add_argument("--naive-limit", type=float, default=120.0,
                        help="statement_timeout (seconds) for each naive join run; a cut-off run is a lower bound")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, {_load()} at the start")
    for name in args.sizes:
        for line in bench_size(name, args.runs, args.naive_runs, args.naive_limit):
            print(line, flush=True)
    print(f"{_load()} at the end")


if __name__ == "__main__":
    main()
