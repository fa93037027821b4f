"""Seed a benchmark database with 1,000,000 incidents for one organisation, fast, and reusably.

Other benchmarks import :func:`seed` (or run ``python -m bench.seed``). The data are generated inside
PostgreSQL with one ``INSERT ... SELECT generate_series`` so nothing crosses the wire row by row:

* organisation ``bench`` with a 20 km x 20 km service area (British National Grid square around Luton);
* 400 places (points) and 24 interventions at some of them, starting between 2025-06 and 2026-03;
* ``n`` incidents over two years (2024-12-01 to 2026-12-01): 35 % in 60 Gaussian clusters
  (sd 120-400 m, the "hot streets"), the rest uniform over the area; harm categories and sources drawn
  from the vocabularies.

``setseed`` makes the draw repeatable. Seeding is idempotent: an existing ``bench`` organisation with
the requested number of incidents is left alone (``recreate=True`` rebuilds the database).

Bulk load, so 10 M rows finish on a shared 2-core machine: inside the one seeding transaction the
secondary indexes of ``incidents`` are dropped and the aggregate's insert trigger disabled; the incidents
go in by ``INSERT ... SELECT generate_series`` in chunks of a million; then the indexes are built once
(sorted builds, a larger ``maintenance_work_mem``), the aggregate is recounted set-based with
``incident_cell_months_rebuild`` (what ``contextmap aggregates rebuild`` calls), the trigger is enabled
again, and ``VACUUM ANALYZE`` follows. The result is the same as row-by-row loading with the triggers on
(the recount is the triggers' own key expression; ``tests/db/test_cell_month_aggregate.py`` checks the two
agree).

Usage::

    .venv/bin/python -m bench.seed [--database contextmap_bench] [--incidents 1000000] [--recreate]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection

from app.db.bootstrap import choose_database, ensure_database, migrate
from geo.vocabulary import HARM_CATEGORIES, INCIDENT_SOURCES, INTERVENTION_KINDS, PLACE_KINDS

BENCH_SLUG = "bench"
DEFAULT_DATABASE = "contextmap_bench"
# Service area in EPSG:27700: 20 km square whose centre is near Luton town centre.
AREA_27700 = (499_000.0, 211_000.0, 519_000.0, 231_000.0)
PERIOD = ("2024-12-01T00:00:00Z", "2026-12-01T00:00:00Z")
# The "large table, small window" shape: ten years kept, as a national service would (issue 18), so a
# one-year window is a tenth of the table rather than half of it.
LONG_PERIOD = ("2016-12-01T00:00:00Z", "2026-12-01T00:00:00Z")


@dataclass(frozen=True)
class SeedInfo:
    url: URL
    organisation_id: int
    incidents: int
    seconds: float  # 0 when the data were already there


def _sql_array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def seed(database: str = DEFAULT_DATABASE, incidents: int = 1_000_000, recreate: bool = False,
         period: tuple[str, str] = PERIOD) -> SeedInfo:
    """Create (if needed), migrate and fill the benchmark database; returns where and how long.

    ``period`` is the span the incidents are spread over (``LONG_PERIOD`` for ten years)."""
    url = choose_database().url.set(database=database)
    ensure_database(url, recreate=recreate)
    migrate(url)
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            found = conn.execute(text("SELECT id FROM organisations WHERE slug = :s"), {"s": BENCH_SLUG}).scalar()
            if found is not None:
                have, first = conn.execute(
                    text("SELECT count(*), min(occurred_from) FROM incidents WHERE organisation_id = :o"),
                    {"o": found}).one()
                same_period = first is not None and first.year == int(period[0][:4])
                if have == incidents and same_period:
                    return SeedInfo(url, int(found), incidents, 0.0)
                conn.execute(text("DELETE FROM organisations WHERE id = :o"), {"o": found})
            org = _fill(conn, incidents, period)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # Fresh statistics and visibility map, as a long-running database would have.
            conn.execute(text("VACUUM ANALYZE incidents"))
            conn.execute(text("VACUUM ANALYZE places"))
            conn.execute(text("VACUUM ANALYZE interventions"))
            conn.execute(text("VACUUM ANALYZE incident_cell_months"))
    finally:
        engine.dispose()
    return SeedInfo(url, org, incidents, time.perf_counter() - started)


CHUNK = 1_000_000
AGGREGATE_INSERT_TRIGGER = "incident_cell_months_insert"


def _secondary_indexes(conn: Connection) -> list[tuple[str, str]]:
    """``incidents``' indexes that back no constraint (name, definition), to drop before a bulk load."""
    return [(str(name), str(ddl)) for name, ddl in conn.execute(text("""
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'incidents'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname""")).all()]


def _has_trigger(conn: Connection, name: str) -> bool:
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = :t "
                                  "AND tgrelid = 'incidents'::regclass)"), {"t": name}).scalar_one())


def _fill(conn: Connection, incidents: int, period: tuple[str, str] = PERIOD) -> int:
    x0, y0, x1, y1 = AREA_27700
    org = int(conn.execute(
        text("INSERT INTO organisations (slug, name, service_area) VALUES (:slug, 'Benchmark borough', "
             "ST_Multi(ST_Transform(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 27700), 4326))) RETURNING id"),
        {"slug": BENCH_SLUG, "x0": x0, "y0": y0, "x1": x1, "y1": y1},
    ).scalar_one())
    conn.execute(text("SELECT setseed(0.20241201)"))
    params = {"org": org, "x0": x0, "y0": y0, "w": x1 - x0, "h": y1 - y0, "n": incidents,
              "t0": period[0], "t1": period[1]}
    conn.execute(text(f"""
        INSERT INTO places (organisation_id, name, kind, geom)
        SELECT :org, 'Bench place ' || g, ({_sql_array(PLACE_KINDS)})[1 + (g % {len(PLACE_KINDS)})],
               ST_Transform(ST_SetSRID(ST_MakePoint(:x0 + random() * :w, :y0 + random() * :h), 27700), 4326)
        FROM generate_series(1, 400) AS g"""), params)
    conn.execute(text(f"""
        INSERT INTO interventions (organisation_id, place_id, kind, description, owning_partner, starts_on)
        SELECT :org, p.id, ({_sql_array(INTERVENTION_KINDS)})[1 + (p.id % {len(INTERVENTION_KINDS)})],
               'Benchmark intervention', 'Bench partnership',
               DATE '2025-06-01' + (p.id % 270)::int
        FROM places p WHERE p.organisation_id = :org ORDER BY p.id LIMIT 24"""), params)
    # Cluster centres and spreads first, then each incident picks a cluster (35 %) or the whole area.
    conn.execute(text("""
        CREATE TEMP TABLE bench_clusters ON COMMIT DROP AS
        SELECT c AS k, :x0 + 1000 + random() * (:w - 2000) AS cx, :y0 + 1000 + random() * (:h - 2000) AS cy,
               120 + random() * 280 AS sd
        FROM generate_series(0, 59) AS c"""), params)
    # Bulk load (see the module docstring): indexes and the aggregate once, after the rows.
    indexes = _secondary_indexes(conn)
    for name, _ in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    aggregate = _has_trigger(conn, AGGREGATE_INSERT_TRIGGER)  # absent on Citus (app.db.citus)
    if aggregate:
        conn.execute(text(f"ALTER TABLE incidents DISABLE TRIGGER {AGGREGATE_INSERT_TRIGGER}"))
    loaded = 0
    while loaded < incidents:
        chunk = min(CHUNK, incidents - loaded)
        _insert_incidents(conn, {**params, "n": chunk})
        loaded += chunk
        if incidents > CHUNK:
            print(f"  {loaded:,} / {incidents:,} incidents", flush=True)
    conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for _, ddl in indexes:
        conn.execute(text(ddl))
    if aggregate:
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
        conn.execute(text("SELECT incident_cell_months_rebuild(:o)"), {"o": org})
        conn.execute(text(f"ALTER TABLE incidents ENABLE TRIGGER {AGGREGATE_INSERT_TRIGGER}"))
    return org


def _insert_incidents(conn: Connection, params: dict[str, object]) -> None:
    """``params["n"]`` incidents for ``params["org"]``; the clusters are in ``bench_clusters``."""
    conn.execute(text(f"""
        INSERT INTO incidents (organisation_id, occurred_from, harm_category, source, location_precision, geom)
        SELECT :org,
               CAST(:t0 AS timestamptz) + random() * (CAST(:t1 AS timestamptz) - CAST(:t0 AS timestamptz)),
               ({_sql_array(HARM_CATEGORIES)})[1 + floor(random() * {len(HARM_CATEGORIES)})::int],
               ({_sql_array(INCIDENT_SOURCES)})[1 + floor(random() * {len(INCIDENT_SOURCES)})::int],
               'exact',
               ST_Transform(ST_SetSRID(ST_MakePoint(
                   LEAST(GREATEST(CASE WHEN d.clustered THEN c.cx + c.sd * d.gx ELSE :x0 + d.u * :w END,
                                  :x0 + 1), :x0 + :w - 1),
                   LEAST(GREATEST(CASE WHEN d.clustered THEN c.cy + c.sd * d.gy ELSE :y0 + d.v * :h END,
                                  :y0 + 1), :y0 + :h - 1)), 27700), 4326)
        FROM (
            SELECT random() < 0.35 AS clustered, floor(random() * 60)::int AS k, random() AS u, random() AS v,
                   -- Box-Muller: two independent standard normals from two uniforms.
                   sqrt(-2 * ln(1 - r1)) * cos(2 * pi() * r2) AS gx,
                   sqrt(-2 * ln(1 - r1)) * sin(2 * pi() * r2) AS gy
            FROM (SELECT random() AS r1, random() AS r2 FROM generate_series(1, :n)) AS draws
        ) AS d JOIN bench_clusters c ON c.k = d.k"""), params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--recreate", action="store_true")
    parser.add_argument("--years", type=int, choices=(2, 10), default=2,
                        help="spread the incidents over 2 years (default) or 10 (a small window in a large table)")
    args = parser.parse_args()
    info = seed(args.database, args.incidents, args.recreate, LONG_PERIOD if args.years == 10 else PERIOD)
    what = "already seeded" if info.seconds == 0 else f"seeded in {info.seconds:.1f} s"
    print(f"{info.url.database}: organisation {BENCH_SLUG} (id {info.organisation_id}), "
          f"{info.incidents:,} incidents, {what}")


if __name__ == "__main__":
    main()
