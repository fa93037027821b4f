"""Load benchmark: 50 concurrent clients against a real server, the outside test's volume and mix.

Seeds (``bench.seed``, idempotent) 308,000 incidents and tops the organisation's places up to 790, starts
``contextmap serve`` on a loopback port, and runs a closed loop of ``--clients`` clients (each its own user)
for ``--seconds``: 60 % cheap reads (place and incident lists in a small bbox, one place), 30 % writes (a new
incident), 10 % heavy analyses (hot spots, displacement, emerging hot spots). It prints requests/s, the
p50/p95 of the cheap reads (measured while the heavy analyses run), every non-2xx answer by status, and the
writes the server acknowledged (201) that are not in the database afterwards ("lost writes").

Bounded and local: the server listens on 127.0.0.1 only; every request times out after 60 s; the run stops
after ``--seconds``; the server is stopped with SIGTERM (which drains in-flight requests).

``--code DIR`` serves another checkout's code (e.g. ``--code /work/main`` for a before/after comparison);
``--workers`` is passed to ``contextmap serve`` only when given (older code has no such option).

Usage::

    .venv/bin/python -m bench.bench_load [--database contextmap_loadbench] [--seconds 60] [--clients 50]
        [--workers N] [--code DIR] [--mix 60/30/10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from app.db import accounts
from bench.seed import AREA_27700, BENCH_SLUG, seed

DEFAULT_DATABASE = "contextmap_loadbench"
INCIDENTS = 308_000
PLACES = 790
ROOT = Path(__file__).resolve().parents[1]
YEAR = "2025-01-01T00:00:00Z/2026-01-01T00:00:00Z"
RUN_MARK = f"load-{os.getpid()}"


@dataclass
class Results:
    latencies: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)
    acknowledged: list[int] = field(default_factory=list)
    samples: dict[tuple[str, str], str] = field(default_factory=dict)  # one body per unexpected answer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: URL, organisation_id: int, clients: int) -> tuple[list[str], list[int], list[int], list[tuple]]:
    """Top places up to PLACES, and give every client its own user and token (idempotent)."""
    engine = create_engine(url)
    x0, y0, x1, y1 = AREA_27700
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM places WHERE organisation_id = :o"),
                            {"o": organisation_id}).scalar_one()
        if have < PLACES:
            conn.execute(text("""
                INSERT INTO places (organisation_id, name, kind, geom)
                SELECT :o, 'Load place ' || g, 'shop',
                       ST_Transform(ST_SetSRID(ST_MakePoint(:x0 + random() * :w, :y0 + random() * :h), 27700), 4326)
                FROM generate_series(1, :n) AS g"""),
                         {"o": organisation_id, "x0": x0, "y0": y0, "w": x1 - x0, "h": y1 - y0, "n": PLACES - have})
        places = list(conn.execute(text("SELECT id FROM places WHERE organisation_id = :o"),
                                   {"o": organisation_id}).scalars())
        interventions = list(conn.execute(text("SELECT id FROM interventions WHERE organisation_id = :o"),
                                          {"o": organisation_id}).scalars())
        corner = conn.execute(text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Extent(geom)::geometry AS b "
            "FROM places WHERE organisation_id = :o) AS e"), {"o": organisation_id}).one()
    from sqlalchemy.orm import Session

    tokens = []
    with Session(engine) as session, session.begin():
        for i in range(clients):
            email = f"load-{i}@bench.contextmap.test"
            user_id = session.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email}).scalar()
            if user_id is None:
                user_id = accounts.add_user(session, organisation_id, email, "community_safety")
            tokens.append(accounts.issue_token(session, organisation_id, int(user_id), "api",
                                               timedelta(hours=2)).token)
    engine.dispose()
    return tokens, places, interventions, [tuple(corner)]


def _start_server(url: URL, port: int, code: Path, workers: int | None, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CONTEXTMAP_DATABASE_URL": url.render_as_string(hide_password=False),
           "CONTEXTMAP_ENVIRONMENT": "test", "CONTEXTMAP_COOKIE_SECURE": "false", "PYTHONPATH": str(code)}
    env.pop("WEB_CONCURRENCY", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    return subprocess.Popen(command, cwd=code, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path, workers: int) -> None:
    """Until ``/healthz`` answers and every worker has started: the first worker answers while the others
    may still be importing (tens of seconds on a busy 2-core machine), and the run measures the service,
    not its start-up."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited during start-up (see its log)")
        try:
            started = log.read_text(errors="replace").count("Application startup complete")
            if httpx.get(base + "/healthz", timeout=5).status_code == 200 and started >= workers:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server and its workers did not start in 180 s")


async def _client(base: str, token: str, seed_value: int, places: list[int], interventions: list[int],
                  extent: tuple, deadline: float, results: Results, mix: tuple[float, float] = (0.60, 0.90),
                  ) -> None:
    rng = random.Random(seed_value)
    # 5 % inside the places' extent: the service area is a square in British National Grid, so its
    # edges curve slightly in lon/lat and a point near the extent's corner can fall outside it (422).
    x0, y0, x1, y1 = extent
    mx, my = (x1 - x0) * 0.05, (y1 - y0) * 0.05
    x0, y0, x1, y1 = x0 + mx, y0 + my, x1 - mx, y1 - my
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        while time.monotonic() < deadline:
            roll = rng.random()
            lon, lat = x0 + rng.random() * (x1 - x0), y0 + rng.random() * (y1 - y0)
            bbox = f"{lon - 0.004},{lat - 0.003},{lon + 0.004},{lat + 0.003}"
            if roll < mix[0]:
                kind = "read"
                choice = rng.random()
                if choice < 0.4:
                    request = client.build_request("GET", "/api/places", params={"bbox": bbox, "limit": 50})
                elif choice < 0.8:
                    request = client.build_request("GET", "/api/incidents", params={"bbox": bbox, "limit": 50})
                else:
                    request = client.build_request("GET", f"/api/places/{rng.choice(places)}")
            elif roll < mix[1]:
                kind = "write"
                body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "properties": {"occurred_from": "2026-06-01T16:00:00Z", "harm_category": "antisocial_behaviour",
                                       "description": RUN_MARK}}
                request = client.build_request("POST", "/api/incidents", json=body)
            else:
                kind = "heavy"
                choice = rng.random()
                if choice < 0.4:
                    request = client.build_request("GET", "/api/analysis/hotspots",
                                                   params={"datetime": YEAR, "cell": "hex", "size": 250})
                elif choice < 0.8:
                    request = client.build_request("GET", "/api/analysis/displacement",
                                                   params={"intervention": rng.choice(interventions)})
                else:
                    request = client.build_request("GET", "/api/analysis/emerging-hotspots",
                                                   params={"datetime": YEAR, "size": 500})
            started = time.perf_counter()
            try:
                response = await client.send(request)
                status = str(response.status_code)
            except httpx.TimeoutException:
                status = "timeout"
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            else:
                if not response.is_success:
                    results.samples.setdefault((kind, status), f"{request.url.path}: {response.text[:200]}")
                if kind == "write" and response.status_code == 201:
                    results.acknowledged.append(int(response.json()["id"]))
                if response.status_code in (429, 503) and "retry-after" in response.headers:
                    # A polite client waits as told; the refusal is still reported below.
                    await asyncio.sleep(min(float(response.headers["retry-after"]), 5.0))
            results.latencies[kind].append(time.perf_counter() - started)
            results.statuses[(kind, status)] += 1


def _percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--incidents", type=int, default=INCIDENTS)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose code is served")
    parser.add_argument("--mix", default="60/30/10", help="percent cheap reads / writes / heavy analyses")
    args = parser.parse_args()
    shares = [float(p) for p in args.mix.split("/")]
    if len(shares) != 3 or abs(sum(shares) - 100) > 1e-6 or min(shares) < 0:
        raise SystemExit("--mix is three percentages adding up to 100, e.g. 60/30/10")
    mix = (shares[0] / 100, (shares[0] + shares[1]) / 100)
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 600:
        raise SystemExit("keep it bounded: 1..200 clients, 1..600 seconds")

    info = seed(args.database, args.incidents)
    tokens, places, interventions, (extent,) = _prepare(info.url, info.organisation_id, args.clients)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="contextmap-bench-load-", suffix=".log")[1])
    server = _start_server(info.url, port, args.code.resolve(), args.workers, log)
    results = Results()
    try:
        _wait_healthy(base, server, log, args.workers or os.cpu_count() or 1)
        print(f"{info.url.database}: organisation {BENCH_SLUG}, {info.incidents:,} incidents, {len(places)} places; "
              f"code {args.code.resolve()}, workers {args.workers or 'default'}; {args.clients} clients for "
              f"{args.seconds:.0f} s, mix {args.mix}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
              flush=True)
        deadline = time.monotonic() + args.seconds
        started = time.monotonic()

        async def run_all() -> None:
            await asyncio.gather(*(
                _client(base, token, i, places, interventions, extent, deadline, results, mix)
                for i, token in enumerate(tokens)))

        asyncio.run(run_all())
        elapsed = time.monotonic() - started
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()

    engine = create_engine(info.url)
    with engine.connect() as conn:
        found = set(conn.execute(text("SELECT id FROM incidents WHERE id = ANY(:ids)"),
                                 {"ids": results.acknowledged}).scalars())
        conn.execute(text("DELETE FROM incidents WHERE description = :m"), {"m": RUN_MARK})
        conn.commit()
    engine.dispose()
    lost = len(set(results.acknowledged) - found)

    total = sum(results.statuses.values())
    errors = sum(n for (_, status), n in results.statuses.items() if not status.startswith(("2", "429", "503")))
    refused = sum(n for (_, status), n in results.statuses.items() if status in ("429", "503"))
    reads = results.latencies["read"]
    print(f"requests {total:,} in {elapsed:.1f} s = {total / elapsed:.1f} req/s")
    for kind in ("read", "write", "heavy"):
        values = results.latencies[kind]
        if values:
            print(f"  {kind:<5} {len(values):6,}  p50 {statistics.median(values) * 1000:7.0f} ms   "
                  f"p95 {_percentile(values, 95) * 1000:7.0f} ms   max {max(values) * 1000:7.0f} ms")
    print(f"cheap reads p95: {_percentile(reads, 95) * 1000:.0f} ms (target < 200 ms)")
    print("answers: " + ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(results.statuses.items())))
    print(f"errors (5xx other than 503+Retry-After, timeouts, resets): {errors}; refused with Retry-After "
          f"(429/503): {refused}")
    print(f"acknowledged writes {len(results.acknowledged):,}; lost (201 but not in the database): {lost}")
    for (kind, status), sample in sorted(results.samples.items()):
        print(f"  e.g. {kind} {status}: {sample}")
    print(f"server log: {log}")


if __name__ == "__main__":
    main()
