"""Benchmark: the panel pack PDF for the demo's WiFi-off intervention (issue 17) — build time and size.

Creates (or re-creates) the database ``contextmap_bench_pack``, loads the demo scenario, and requests
``/interventions/{id}/pack.pdf`` through the ASGI app as the demo community-safety officer: sign-in by
token, the displacement analysis, the SVG map, the HTML and WeasyPrint's layout. Prints the PDF size and
the median and maximum time over ``--repeat`` runs after one warm-up, and the same for the pack against a
chosen control place, a three-item meeting pack (the intervention and the outlet's and library's places)
and the intervention's findings page with its month by month (small maps and chart).

    .venv/bin/python bench/bench_pack.py [--repeat 5]

Target (issue 17): under 5 s for the demo pack.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the app from this checkout
from app.db.bootstrap import choose_database, ensure_database, migrate
from app.db.demo_loader import load_demo
from app.db.session import Database
from app.main import create_app
from app.settings import Settings

DATABASE = "contextmap_bench_pack"
TARGET_S = 5.0


STEPS = ("intervention_section", "place_section", "month_by_month", "pack_html", "pack_pdf")
step_times: dict[str, float] = {}


def _watch_steps() -> None:
    """Time the pack's steps (analysis, place timelines, month by month, HTML with maps, WeasyPrint)."""
    from app.web import packs

    for name in STEPS:
        original = getattr(packs, name)

        def timed(*args: object, _original: object = original, _name: str = name, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)  # type: ignore[operator]
            finally:
                step_times[_name] = step_times.get(_name, 0.0) + time.perf_counter() - started

        setattr(packs, name, timed)


def _time(client: TestClient, path: str, headers: dict[str, str], repeat: int) -> tuple[int, list[float]]:
    response = client.get(path, headers=headers)  # warm-up: imports, fonts, caches
    assert response.status_code == 200, response.text
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return len(response.content), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = choose_database().url.set(database=DATABASE)
    ensure_database(url, recreate=True)
    migrate(url)
    # analysis_cache_mb=0: each request computes (repeated requests would be answered from the cache)
    settings = Settings(analysis_cache_mb=0, database_url=url.render_as_string(hide_password=False), environment="test",
                        allowed_hosts=["testserver"])
    database = Database(settings)
    with database.owner_session() as session:
        logins = load_demo(session, settings)
    database.dispose()
    token = next(login.token for login in logins if login.role == "community_safety")
    headers = {"Authorization": f"Bearer {token}"}
    _watch_steps()
    with TestClient(create_app(settings)) as client:
        interventions = client.get("/api/interventions?limit=1000", headers=headers).json()["features"]
        wifi = next(f["id"] for f in interventions if "WiFi" in (f["properties"]["description"] or ""))
        places = {f["properties"]["name"]: f["id"]
                  for f in client.get("/api/places?limit=1000", headers=headers).json()["features"]}
        control = places["Crescent Fields Estate"]  # a control with incidents: the difference test runs
        html = {**headers, "Accept": "text/html"}
        cases = [("demo pack (WiFi off)", f"/interventions/{wifi}/pack.pdf", headers),
                 ("demo pack, control place", f"/interventions/{wifi}/pack.pdf?control_place={control}", headers),
                 ("meeting pack (3 items)", f"/packs/meeting.pdf?intervention={wifi}"
                                            f"&place={places['Wellgate Central Library']}"
                                            f"&place={places['Chicken Shack Express']}", headers),
                 # The findings page with its month by month: small maps and the target/buffer/control chart.
                 ("findings page (monthly)", f"/interventions/{wifi}/findings", html),
                 ("findings, control place", f"/interventions/{wifi}/findings?control_place={control}", html)]
        print(f"{'page':<28}{'bytes':>10}{'median s':>10}{'max s':>8}  target < {TARGET_S:g} s")
        for name, path, case_headers in cases:
            step_times.clear()
            size, times = _time(client, path, case_headers, args.repeat)
            median = statistics.median(times)
            verdict = "ok" if median < TARGET_S else "SLOW"
            print(f"{name:<28}{size:>10,}{median:>10.2f}{max(times):>8.2f}  {verdict}")
            if step_times:  # mean per request over the warm-up and the timed runs
                print("    " + ", ".join(f"{step} {total / (args.repeat + 1):.2f} s"
                                       for step, total in step_times.items()))


if __name__ == "__main__":
    main()
