"""Benchmark: OGC API – Features items (1,000 incidents in a bbox, 1,000,000 in the table), side by side
with tipg on the same table and machine.

* Data: ``bench.seed`` (database ``contextmap_bench``, organisation ``bench``, 1,000,000 incidents).
* contextmap: ``uvicorn app.main:create_app --factory`` (one process), as the unprivileged service role
  with row-level security, a Bearer token of the bench organisation's admin;
  ``GET /ogc/collections/incidents/items?bbox=…&limit=1000``.
* tipg: installed in its own virtualenv (default ``/tmp/tipg-venv``: ``python3 -m venv /tmp/tipg-venv &&
  /tmp/tipg-venv/bin/pip install tipg uvicorn``), one uvicorn process, ``DATABASE_URL`` = the **owner**
  connection: tipg has no notion of our organisations, and under row-level security the service role
  would see no rows without the per-transaction organisation setting, so tipg connects as the table owner
  (which bypasses RLS; the bench database holds one organisation, so both serve the same rows).
  ``GET /collections/public.incidents/items?bbox=…&limit=1000&geom-column=geom``.

The bbox is grown around a hot street until it holds ~1,000 incidents. Each server gets warm-up requests,
then the two are timed alternately; prints median and 90th percentile latency and response sizes.

Usage: ``.venv/bin/python -m bench.bench_ogc [--requests 40] [--tipg /tmp/tipg-venv]``
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from app.db import accounts
from bench.seed import BENCH_SLUG, seed

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, headers: dict[str, str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def _bbox_with(engine: object, org: int, target: int) -> tuple[tuple[float, float, float, float], int]:
    """A lon/lat box around the densest hot street holding about ``target`` incidents."""
    with engine.begin() as conn:  # type: ignore[attr-defined]
        cx, cy = conn.execute(text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c FROM ("
            "SELECT geom FROM incidents WHERE organisation_id = :o ORDER BY geom <-> ("
            "SELECT geom FROM incidents WHERE organisation_id = :o LIMIT 1) LIMIT 200) s) t"), {"o": org}).one()
        low, high = 0.0001, 0.05
        found = 0
        for _ in range(30):
            half = (low + high) / 2
            box = (cx - half * 1.6, cy - half, cx + half * 1.6, cy + half)
            found = conn.execute(text("SELECT count(*) FROM incidents WHERE organisation_id = :o AND "
                                      "geom && ST_MakeEnvelope(:a, :b, :c, :d, 4326)"),
                                 {"o": org, "a": box[0], "b": box[1], "c": box[2], "d": box[3]}).scalar_one()
            if abs(found - target) <= target * 0.02:
                break
            low, high = (half, high) if found < target else (low, half)
    return box, found


def _time(client: httpx.Client, url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[float, int, int]:
    for attempt in range(3):
        started = time.perf_counter()
        try:
            response = client.get(url, params=params, headers=headers)
        except httpx.RemoteProtocolError:  # a kept-alive connection closed under us: not the server's latency
            if attempt == 2:
                raise
            continue
        elapsed = time.perf_counter() - started
        break
    response.raise_for_status()
    return elapsed, len(response.json()["features"]), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--tipg", default="/tmp/tipg-venv")  # noqa: S108 - the issue's suggested place
    args = parser.parse_args()

    info = seed()
    owner_url = info.url.render_as_string(hide_password=False)
    how = f"seeded in {info.seconds:.0f} s" if info.seconds else "already seeded"
    print(f"data: {info.incidents:,} incidents in {info.url.database} ({how})", flush=True)
    engine = create_engine(info.url)
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            org = accounts.organisation_id(session, BENCH_SLUG)
            user = accounts.add_user(session, org, f"bench-{time.time_ns()}@bench.test", "admin")
            token = accounts.issue_token(session, org, user, "api", timedelta(days=1)).token
    box, matched = _bbox_with(engine, org, TARGET)
    engine.dispose()
    bbox = ",".join(f"{v:.6f}" for v in box)
    print(f"bbox {bbox}: {matched} incidents", flush=True)

    ours_port, tipg_port = _free_port(), _free_port()
    env = {**os.environ, "CONTEXTMAP_DATABASE_URL": owner_url, "CONTEXTMAP_ENVIRONMENT": "test"}
    ours = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(ours_port),
         "--log-level", "warning", "--timeout-keep-alive", "120"], cwd=ROOT, env=env)
    tipg_env = {**os.environ, "DATABASE_URL": owner_url.replace("postgresql+psycopg://", "postgresql://"),
                "TIPG_DB_SCHEMAS": '["public"]', "TIPG_DB_TABLES": '["public.incidents"]',
                "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
    tipg = subprocess.Popen(
        [f"{args.tipg}/bin/uvicorn", "tipg.main:app", "--port", str(tipg_port), "--log-level", "warning",
         "--timeout-keep-alive", "120"],
        cwd=tempfile.gettempdir(), env=tipg_env)  # away from our .env
    headers = {"Authorization": f"Bearer {token}"}
    try:
        ours_url = f"http://127.0.0.1:{ours_port}/ogc/collections/incidents/items"
        tipg_url = f"http://127.0.0.1:{tipg_port}/collections/public.incidents/items"
        _wait(f"http://127.0.0.1:{ours_port}/healthz", {})
        _wait(f"http://127.0.0.1:{tipg_port}/collections", {})
        ours_params = {"bbox": bbox, "limit": str(TARGET)}
        tipg_params = {"bbox": bbox, "limit": str(TARGET), "geom-column": "geom"}
        timings: dict[str, list[float]] = {"contextmap": [], "tipg": []}
        sizes: dict[str, tuple[int, int]] = {}
        with httpx.Client(timeout=60) as client:
            for _ in range(5):  # warm-up: connection pools, caches, tipg's catalogue
                _time(client, ours_url, ours_params, headers)
                _time(client, tipg_url, tipg_params, {})
            for _ in range(args.requests):
                for name, url, params, hdrs in (("contextmap", ours_url, ours_params, headers),
                                                ("tipg", tipg_url, tipg_params, {})):
                    seconds, features, size = _time(client, url, params, hdrs)
                    timings[name].append(seconds)
                    sizes[name] = (features, size)
    finally:
        for process in (ours, tipg):
            process.terminate()
            process.wait(10)

    print()
    print(f"{'server':<12}{'features':>9}{'bytes':>10}{'median ms':>11}{'p90 ms':>9}{'min ms':>9}")
    for name, values in timings.items():
        ordered = sorted(values)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        print(f"{name:<12}{sizes[name][0]:>9}{sizes[name][1]:>10}{statistics.median(values) * 1000:>11.1f}"
              f"{p90 * 1000:>9.1f}{ordered[0] * 1000:>9.1f}")
    ratio = statistics.median(timings["contextmap"]) / statistics.median(timings["tipg"])
    print(f"contextmap median / tipg median: {ratio:.2f}")


if __name__ == "__main__":
    main()
