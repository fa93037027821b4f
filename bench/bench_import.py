"""Benchmark: import 1,000,000 police.uk rows, against a raw COPY of the same rows into the same table, and
what the monthly cell-count aggregate (issue 18) adds to each.

Every run starts from an empty ``incidents`` table in its own database (``contextmap_bench_import``,
created and migrated here) with the same 400 places seeded (over the crimes' area, for the nearest-place
link), so every run pays for the same indexes. Four cases, in interleaved rounds (``--rounds``) so load
from anything else on the machine falls on each alike; medians are compared:

* **raw COPY, no aggregate** — the baseline: the rows already parsed and formatted (EWKT points, final
  column values) before the clock starts, streamed with one ``COPY incidents … FROM STDIN`` with the
  aggregate's triggers disabled. What it does *not* do that the import does: read and validate the CSV,
  stage it, check the service area, de-duplicate (``ON CONFLICT DO NOTHING`` on the Crime ID or content
  key), find the nearest place within the link distance, keep the aggregate. It is the database's own
  bulk-load speed, the fastest the rows can possibly go in.
* **raw COPY + aggregate** — the same with the triggers on: what the aggregate costs a bulk load.
* **import + aggregate** — :func:`app.db.imports.import_police_uk` on the CSV file exactly as the CLI runs
  it, as shipped (one transaction; the statement trigger adds one set-based GROUP BY of the new rows).
* **import, no aggregate** — the same with the triggers disabled: the aggregate's share of the import.

After each shipped import the same file is imported again (every row a duplicate). Prints the figures and
the ratio; the issue's bar is import speed (with the aggregate) >= 0.5 x raw COPY speed (without).

Usage: ``.venv/bin/python -m bench.bench_import [--rows 1000000] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.db.bootstrap import choose_database, ensure_database, migrate
from app.db.imports import import_police_uk
from app.settings import Settings
from geo.policeuk import CrimeRow, parse_rows
from tests.fixtures.policeuk import Hotspot, write_policeuk_csv

DATABASE = "contextmap_bench_import"
MONTHS = tuple(f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13))


def _reset(session: Session, slug: str) -> int:
    session.execute(text("TRUNCATE incidents, places, organisations RESTART IDENTITY CASCADE"))
    org = int(session.execute(text("INSERT INTO organisations (slug, name) VALUES (:s, :s) RETURNING id"),
                              {"s": slug}).scalar_one())
    # 400 places over the same ~6 km square as the generated crimes, for the nearest-place link; the same
    # places in every run (seeded draw).
    session.execute(text("SELECT setseed(0.4)"))
    session.execute(text("""
        INSERT INTO places (organisation_id, name, kind, geom)
        SELECT :org, 'Place ' || g, 'shop',
               ST_SetSRID(ST_MakePoint(-0.417 + (random() - 0.5) * 0.09, 51.879 + (random() - 0.5) * 0.055), 4326)
        FROM generate_series(1, 400) AS g"""), {"org": org})
    return org


def _copy_payload(csv_path: Path, org: int) -> bytes:
    """The parsed rows in COPY text format: what a raw bulk load of these incidents sends."""
    out = io.StringIO()
    with open(csv_path, encoding="utf-8", newline="") as stream:
        for row in parse_rows(stream):
            if isinstance(row, CrimeRow):
                out.write(f"{org}\t{row.occurred_from.isoformat()}\t{row.occurred_to.isoformat()}\t"
                          f"{row.harm_category}\t{row.source_category}\tpolice_uk\t{row.source_ref}\tsnapped\t"
                          f"SRID=4326;POINT({row.lon} {row.lat})\n")
    return out.getvalue().encode()


def _vacuum(engine: object) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # type: ignore[attr-defined]
        conn.execute(text("VACUUM ANALYZE places"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the four cases")
    args = parser.parse_args()

    url = choose_database().url.set(database=DATABASE)
    ensure_database(url, recreate=True)
    migrate(url)
    settings = Settings(database_url=url.render_as_string(hide_password=False))
    engine = create_engine(url)

    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "bench-street.csv"
        started = time.perf_counter()
        spots = [Hotspot(-0.41, 51.877, 150, 0.1), Hotspot(-0.425, 51.883, 200, 0.1)]
        write_policeuk_csv(csv_path, args.rows, months=MONTHS, hotspots=spots, map_points=20_000,
                           no_location_share=0.005)
        print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - started:.1f} s")

        payload = _copy_payload(csv_path, 1)  # organisation 1: every reset restarts the identities
        copied = payload.count(b"\n")
        cases = {
            "raw COPY, no aggregate": lambda: _copy(engine, payload, aggregate=False),
            "raw COPY + aggregate": lambda: _copy(engine, payload, aggregate=True),
            "import + aggregate (as shipped)": lambda: _import(engine, settings, csv_path, aggregate=True),
            "import, no aggregate": lambda: _import(engine, settings, csv_path, aggregate=False),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        reimport: list[float] = []
        # Interleaved rounds: load from anything else on the machine falls on every case alike.
        for _ in range(args.rounds):
            for name, run in cases.items():
                with Session(engine) as session, session.begin():
                    org = _reset(session, "bench")
                assert org == 1
                _vacuum(engine)
                times[name].append(run())
                if name.startswith("import + aggregate"):
                    reimport.append(_import(engine, settings, csv_path, aggregate=True, again=True))
    engine.dispose()

    def median(name: str) -> float:
        return statistics.median(times[name])

    print()
    rows = args.rows
    for name in cases:
        per = copied if name.startswith("raw") else rows
        print(f"{name:<34} median {median(name):6.1f} s = {per / median(name):9,.0f} rows/s   "
              f"(runs: {', '.join(f'{t:.1f}' for t in times[name])})")
    shipped, copy = median("import + aggregate (as shipped)"), median("raw COPY, no aggregate")
    print(f"ratio import (with the aggregate) / raw COPY (without), speed: {(copy / copied) / (shipped / rows):.2f} "
          "(bar: >= 0.50)")
    print(f"the aggregate adds {median('import + aggregate (as shipped)') - median('import, no aggregate'):+.1f} s "
          f"to the import and {median('raw COPY + aggregate') - copy:+.1f} s to a raw COPY")
    print(f"re-import of the same file (all duplicates, aggregate on): median {statistics.median(reimport):.1f} s")


def _triggers(session: Session, enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    for event in ("insert", "update", "delete", "truncate"):
        session.execute(text(f"ALTER TABLE incidents {verb} TRIGGER incident_cell_months_{event}"))


def _copy(engine: Any, payload: bytes, *, aggregate: bool) -> float:
    with Session(engine) as session, session.begin():
        _triggers(session, aggregate)
    try:
        with Session(engine) as session, session.begin():
            raw = session.connection().connection.driver_connection
            assert raw is not None
            started = time.perf_counter()
            with raw.cursor() as cursor, cursor.copy(
                "COPY incidents (organisation_id, occurred_from, occurred_to, harm_category, source_category, "
                "source, source_ref, location_precision, geom) FROM STDIN"
            ) as copy:
                for k in range(0, len(payload), 1 << 20):
                    copy.write(payload[k:k + (1 << 20)])
        return time.perf_counter() - started  # committed
    finally:
        with Session(engine) as session, session.begin():
            _triggers(session, True)


def _import(engine: Any, settings: Settings, csv_path: Path, *, aggregate: bool, again: bool = False) -> float:
    with Session(engine) as session, session.begin():
        _triggers(session, aggregate)
    try:
        with open(csv_path, encoding="utf-8-sig", newline="") as stream, Session(engine) as session:
            started = time.perf_counter()
            with session.begin():
                report = import_police_uk(
                    session, 1, [(csv_path.name, stream)], analysis_srid=settings.analysis_srid,
                    link_distance_m=settings.auto_link_distance_m,
                    default_area=settings.default_service_area, allow_partial=False,
                )
            seconds = time.perf_counter() - started
    finally:
        with Session(engine) as session, session.begin():
            _triggers(session, True)
    print(f"{'re-import' if again else 'import'} ({'with' if aggregate else 'without'} the aggregate): "
          f"{seconds:.1f} s — read {report.rows_read:,}, imported {report.imported:,}, duplicates "
          f"{report.duplicates:,}, without location {report.without_location:,}, linked {report.linked_to_places:,}",
          flush=True)
    return seconds


if __name__ == "__main__":
    main()
