"""Benchmark: the map pages over 1,000,000 incidents — HTML size and server-side time.

Seeds (or reuses) the benchmark database with :func:`bench.seed.seed` (1,000,000 incidents over two
years in a 20 km square around Luton, 400 places, 24 interventions). When the benchmark organisation
has no designations yet, a few places become safe spaces (with opening hours) and places of concern,
so those layers are drawn too. Then every map page is requested through the ASGI app — sign-in by
token, SQL, statistics, folium rendering and CSP hashes — as a community safety officer and as a panel
member. For each page it prints the HTML size, the median and maximum time of the whole request over
``--repeat`` runs after one warm-up, and the render time the page reports (``Server-Timing``).

    .venv/bin/python bench/bench_maps.py [--incidents 1000000] [--repeat 3]   (or python -m bench.bench_maps)

Targets (issue "Maps for the three users"): under 1.5 MB of HTML and under 1 s server-side per map.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from app.db import accounts
from app.db.session import Database
from app.main import create_app
from app.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `bench` importable
from bench.seed import BENCH_SLUG, DEFAULT_DATABASE, seed

HTML_LIMIT_BYTES = 1_500_000
TIME_LIMIT_S = 1.0
ROLES = ("community_safety", "panel")


def _designate(database: Database, organisation: int) -> str:
    """Give the benchmark town some safe spaces and places of concern, once."""
    with database.owner_session() as session:
        present = session.execute(text("SELECT count(*) FROM designations WHERE organisation_id = :o"),
                                  {"o": organisation}).scalar_one()
        if present:
            return f"{present} designations already present"
        session.execute(text(
            "UPDATE places SET opening_hours = 'Mo-Fr 09:00-19:00; Sa 10:00-16:00' "
            "WHERE organisation_id = :o AND id % 10 = 0"), {"o": organisation})
        session.execute(text(
            "INSERT INTO designations (organisation_id, place_id, kind, valid_from, scheme, age_min, age_max, "
            "help_offered) SELECT :o, id, 'safe_space', '2024-01-01', 'Bench safe places', 11, 18, "
            "ARRAY['phone a trusted adult', 'wait indoors'] FROM places WHERE organisation_id = :o AND id % 10 = 0"),
            {"o": organisation})
        session.execute(text(
            "INSERT INTO designations (organisation_id, place_id, kind, valid_from, level, reason, review_by) "
            "SELECT :o, id, 'concern', '2025-01-01', 'medium', 'Benchmark concern', '2027-01-01' "
            "FROM places WHERE organisation_id = :o AND id % 10 = 5"), {"o": organisation})
        added = session.execute(text("SELECT count(*) FROM designations WHERE organisation_id = :o"),
                                {"o": organisation}).scalar_one()
    return f"{added} designations added"


def _tokens(database: Database, organisation: int) -> dict[str, str]:
    tokens = {}
    with database.owner_session() as session:
        for role in ROLES:
            email = f"bench-maps-{role}@bench.test"
            user = session.execute(text("SELECT id FROM users WHERE lower(email) = :e"), {"e": email}).scalar()
            if user is None:
                user = accounts.add_user(session, organisation, email, role)
            tokens[role] = accounts.issue_token(session, organisation, int(user), "api", timedelta(hours=1)).token
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    info = seed(args.database, args.incidents)
    print(f"{info.url.database}: {info.incidents:,} incidents in organisation {BENCH_SLUG}"
          + (f" (seeded in {info.seconds:.0f} s)" if info.seconds else ""))
    # analysis_cache_mb=0: each request computes (repeated requests would be answered from the cache)
    settings = Settings(analysis_cache_mb=0,
                        database_url=info.url.render_as_string(hide_password=False), cookie_secure=False)
    database = Database(settings)
    print(_designate(database, info.organisation_id))
    tokens = _tokens(database, info.organisation_id)
    with database.owner_session() as session:
        place = session.execute(text(
            "SELECT p.id FROM places p WHERE p.organisation_id = :o ORDER BY (SELECT count(*) FROM incidents i "
            "WHERE ST_DWithin(i.geom_metric, p.geom_metric, 100)) DESC LIMIT 1"), {"o": info.organisation_id}).scalar()
        intervention = session.execute(text(
            "SELECT id FROM interventions WHERE organisation_id = :o ORDER BY starts_on, id LIMIT 1"),
            {"o": info.organisation_id}).scalar()
    database.dispose()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    pages = ["/maps/hotspots", "/maps/safe-spaces", f"/maps/displacement?intervention={intervention}",
             f"/maps/places/{place}"]
    failures = []
    with TestClient(create_app(settings)) as client:
        print(f"\n{'page':<40} {'role':<17} {'HTML':>9} {'median':>8} {'max':>8} {'render':>8}")
        for url in pages:
            for role in ROLES:
                headers = {"Authorization": f"Bearer {tokens[role]}"}
                response = client.get(url, headers=headers)  # warm-up
                assert response.status_code == 200, (url, response.status_code, response.text[:300])
                times, renders = [], []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    response = client.get(url, headers=headers)
                    times.append(time.perf_counter() - started)
                    timing = re.search(r"render;dur=([\d.]+)", response.headers.get("server-timing", ""))
                    renders.append(float(timing.group(1)) / 1000 if timing else float("nan"))
                size = len(response.content)
                median = statistics.median(times)
                print(f"{url:<40} {role:<17} {size / 1e6:>7.2f}MB {median:>7.2f}s {max(times):>7.2f}s "
                      f"{statistics.median(renders):>7.2f}s")
                if size > HTML_LIMIT_BYTES or median > TIME_LIMIT_S:
                    failures.append(f"{url} as {role}")
    print(f"\ntargets: HTML under {HTML_LIMIT_BYTES / 1e6:.1f} MB and server-side under {TIME_LIMIT_S:.0f} s: "
          + ("met by every page" if not failures else "missed by " + ", ".join(failures)))


if __name__ == "__main__":
    main()
