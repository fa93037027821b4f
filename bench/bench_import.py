"""Benchmark: import 1,000,000 police.uk rows, against a raw COPY of the same rows into the same table.

Both runs start from an empty ``incidents`` table in their own database (``contextmap_bench_import``,
created and migrated here) with the same 400 places, so both pay for the same indexes:

* **raw COPY** — the rows already parsed and formatted (EWKT points, final column values), streamed with
  one ``COPY incidents … FROM STDIN``. Formatting is done before the clock starts: the baseline is the
  database's own bulk-load speed, the fastest the rows can possibly go in.
* **import** — :func:`app.db.imports.import_police_uk` on the CSV file exactly as the CLI runs it: parse
  and validate every row, COPY to staging, service-area check, one ``INSERT … ON CONFLICT DO NOTHING``
  with the nearest-place link, in one transaction.

Then the same file is imported again (every row a duplicate). Prints the figures and the ratio; the
issue's bar is import speed >= 0.5 x raw COPY speed.

Usage: ``.venv/bin/python -m bench.bench_import [--rows 1000000]``
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

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
    # 400 places over the same ~6 km square as the generated crimes, for the nearest-place link.
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

        # ---- raw COPY baseline -----------------------------------------------------------------------
        with Session(engine) as session, session.begin():
            org = _reset(session, "bench-copy")
        _vacuum(engine)
        payload = _copy_payload(csv_path, org)
        copied = payload.count(b"\n")
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
        copy_seconds = time.perf_counter() - started
        del payload

        # ---- the import, as the CLI runs it --------------------------------------------------------------
        with Session(engine) as session, session.begin():
            org = _reset(session, "bench-import")
        _vacuum(engine)
        timings = []
        for attempt in ("first import", "re-import"):
            with open(csv_path, encoding="utf-8-sig", newline="") as stream, Session(engine) as session:
                started = time.perf_counter()
                with session.begin():
                    report = import_police_uk(
                        session, org, [(csv_path.name, stream)], analysis_srid=settings.analysis_srid,
                        link_distance_m=settings.auto_link_distance_m,
                        default_area=settings.default_service_area, allow_partial=False,
                    )
                seconds = time.perf_counter() - started
            timings.append(seconds)
            print(f"{attempt}: {seconds:.1f} s — read {report.rows_read:,}, imported {report.imported:,}, "
                  f"duplicates {report.duplicates:,}, without location {report.without_location:,}, "
                  f"linked {report.linked_to_places:,}")
    engine.dispose()

    import_seconds = timings[0]
    print()
    print(f"raw COPY:  {copied:,} rows in {copy_seconds:.1f} s = {copied / copy_seconds:,.0f} rows/s")
    print(f"import:    {report.rows_read:,} rows in {import_seconds:.1f} s = "
          f"{report.rows_read / import_seconds:,.0f} rows/s (parse, validate, stage, dedupe, link)")
    print(f"ratio (import speed / raw COPY speed): {copy_seconds / import_seconds:.2f} (bar: >= 0.50)")
    print(f"re-import of the same file (all duplicates): {timings[1]:.1f} s")


if __name__ == "__main__":
    main()
