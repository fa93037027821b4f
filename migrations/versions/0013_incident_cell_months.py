"""Monthly incident counts on the published grid, kept current in the same transaction as every write
(issue 18).

``incident_cell_months`` holds, per organisation, for each published cell size (250 m, 500 m, 1 km squares
on the analysis CRS's origin — the OS national grid's own squares, :data:`geo.grid.PUBLISHED_CELL_SIZES`),
cell ``(cell_i, cell_j) = (floor(x / size), floor(y / size))``, Europe/London calendar month, harm category
and source, the number of live incidents (archived or deleted ones are not counted). Rows with harm
category and source ``'*'`` count all categories and sources of their cell and month (a grouping set), so
a question without those filters reads at most one row per cell and month, however many incidents there
are.

It is kept current by statement-level ``AFTER`` triggers on ``incidents`` with transition tables
(``REFERENCING NEW TABLE / OLD TABLE``): one set-based ``GROUP BY`` per statement, however many rows it
wrote, so a police.uk ``COPY`` of a million rows costs one aggregation, not a million upserts. Inserts,
edits (an incident moved across cells or months, its harm category or source changed), deletes, the
retention run and imports all go through them, inside the writer's own transaction — never a nightly job
that can be stale. ``TRUNCATE incidents`` empties the aggregate too.

The trigger functions are ``SECURITY DEFINER`` (owned by the migrating role): the service role may read the
aggregate (row-level security like every tenant table) but cannot write it, so only the incidents decide
what it says. The rows they read are the statement's own transition rows, which row-level security has
already checked.

``incident_cell_months_rebuild(organisation)`` recounts from the incidents (``contextmap aggregates
rebuild``; this migration calls it once for the rows already there).

Citus: the table can be distributed by ``organisation_id`` co-located with ``incidents``; the triggers are
what Citus restricts — see ``app/db/aggregates.py`` for what it would need.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from app.settings import Settings
from geo.grid import PUBLISHED_CELL_SIZES
from geo.vocabulary import HARM_CATEGORIES, INCIDENT_SOURCES

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Same expression as 0001: the request's organisation, set per transaction by the service.
CURRENT_ORG = "NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint"
TABLE = "incident_cell_months"
# Key order = primary key order: one (harm category, source) pair's months are one index range, so a
# question without filters reads only the all-categories rows of its months.
KEY = "organisation_id, cell_size, harm_category, source, month, cell_i, cell_j"
ALL = "*"  # harm_category and source of the rows that count every category and source
SIZES = ", ".join(f"({float(s)!r}::float8)" for s in PUBLISHED_CELL_SIZES)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _keyed(rows: str, weight: str) -> str:
    """The aggregate key of every row of ``rows`` (an incidents-shaped relation) at every published size.

    The cell is ``floor(x / size)`` in float8 exactly as the incident path computes it
    (``app.db.analysis.cells_of_points_sql``); the month is the Europe/London month of ``occurred_from``.
    """
    return f"""
        SELECT r.organisation_id, s.size::smallint AS cell_size,
               date_trunc('month', r.occurred_from AT TIME ZONE 'Europe/London')::date AS month,
               floor(ST_X(r.geom_metric) / s.size)::int AS cell_i, floor(ST_Y(r.geom_metric) / s.size)::int AS cell_j,
               r.harm_category, r.source, {weight} AS w
        FROM {rows} AS r CROSS JOIN (VALUES {SIZES}) AS s(size)"""


def _grouped(delta: str) -> str:
    """Signed counts per key, with the all-categories rows (harm_category = source = '*') alongside."""
    return f"""
        SELECT organisation_id, cell_size, COALESCE(harm_category, '{ALL}') AS harm_category,
               COALESCE(source, '{ALL}') AS source, month, cell_i, cell_j, sum(w)::int AS n
        FROM ({delta}) AS k
        GROUP BY GROUPING SETS (({KEY}), (organisation_id, cell_size, month, cell_i, cell_j))"""


def _subtract(delta: str) -> str:
    """Take the negative part of the signed per-key ``delta`` off the aggregate (a key that is not there —
    e.g. the organisation is being deleted — is left alone)."""
    return f"""
        UPDATE {TABLE} AS a SET incidents = a.incidents + d.n
        FROM ({_grouped(delta)}) AS d
        WHERE d.n < 0 AND (a.organisation_id, a.cell_size, a.month, a.cell_i, a.cell_j, a.harm_category, a.source)
                        = (d.organisation_id, d.cell_size, d.month, d.cell_i, d.cell_j, d.harm_category, d.source);"""


def _add(delta: str) -> str:
    """Add the positive part of ``delta`` with an upsert. Keys are taken in order so two concurrent writers
    lock shared rows in the same order."""
    return f"""
        INSERT INTO {TABLE} AS a ({KEY}, incidents)
        SELECT {KEY}, n FROM ({_grouped(delta)}) AS d
        WHERE d.n > 0 ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET incidents = a.incidents + EXCLUDED.incidents;"""


def upgrade() -> None:
    role = Settings().app_db_role
    op.execute(
        f"""
        CREATE TABLE {TABLE} (
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            cell_size smallint NOT NULL CHECK (cell_size IN ({", ".join(str(int(s)) for s in PUBLISHED_CELL_SIZES)})),
            month date NOT NULL CHECK (extract(day FROM month) = 1),
            cell_i integer NOT NULL,
            cell_j integer NOT NULL,
            harm_category varchar(32) NOT NULL CHECK (harm_category IN {_in((*HARM_CATEGORIES, ALL))}),
            source varchar(32) NOT NULL CHECK (source IN {_in((*INCIDENT_SOURCES, ALL))}),
            CHECK ((harm_category = '{ALL}') = (source = '{ALL}')),
            incidents integer NOT NULL CHECK (incidents >= 0),
            CONSTRAINT {TABLE}_pkey PRIMARY KEY ({KEY}) INCLUDE (incidents)
        );
        -- Rows whose count fell to zero, found without a scan and deleted by the same statement.
        CREATE INDEX {TABLE}_empty_idx ON {TABLE} (organisation_id) WHERE incidents = 0;
        """
    )
    op.execute(f"GRANT SELECT ON {TABLE} TO {role}")
    op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY organisation_isolation ON {TABLE} "
        f"USING (organisation_id = {CURRENT_ORG}) WITH CHECK (organisation_id = {CURRENT_ORG})"
    )
    drop_zeros = f"DELETE FROM {TABLE} WHERE incidents = 0;"
    # An insert only adds and a delete only subtracts: each groups its rows once. An update nets its old
    # and new rows per key first (an edit that changes no key writes nothing).
    moved = _keyed("new_rows", "1") + " UNION ALL " + _keyed("old_rows", "-1")
    bodies = {
        "insert": _add(_keyed("new_rows", "1")),
        "delete": _subtract(_keyed("old_rows", "-1")) + drop_zeros,
        "update": _subtract(moved) + _add(moved) + drop_zeros,
    }
    for op_name, body in bodies.items():
        op.execute(
            f"""
            CREATE FUNCTION {TABLE}_on_{op_name}() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
            BEGIN
                {body}
                RETURN NULL;
            END $fn$"""
        )
    op.execute(
        f"""
        CREATE TRIGGER {TABLE}_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_on_insert();
        CREATE TRIGGER {TABLE}_update AFTER UPDATE ON incidents
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_on_update();
        CREATE TRIGGER {TABLE}_delete AFTER DELETE ON incidents REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_on_delete();
        CREATE FUNCTION {TABLE}_on_truncate() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
        BEGIN
            DELETE FROM {TABLE};
            RETURN NULL;
        END $fn$;
        CREATE TRIGGER {TABLE}_truncate AFTER TRUNCATE ON incidents
            FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_on_truncate();
        """
    )
    # What the aggregate should say, counted from the incidents (the same key expression as the triggers):
    # the rebuild and the consistency check read it. security_invoker: the caller's row-level security
    # applies; the service role has no grant on it.
    op.execute(
        f"""
        CREATE VIEW {TABLE}_recount WITH (security_invoker = true) AS
        SELECT {KEY}, n AS incidents FROM ({_grouped(_keyed("incidents", "1"))}) AS g;
        REVOKE ALL ON {TABLE}_recount FROM PUBLIC;
        """
    )
    # The recount: one organisation, or all (NULL). Locks incidents against writes (SHARE) for the
    # transaction so no write lands between the delete and the count. Returns the rows written.
    op.execute(
        f"""
        CREATE FUNCTION {TABLE}_rebuild(organisation bigint) RETURNS bigint
        LANGUAGE plpgsql SET search_path = public, pg_temp AS $fn$
        DECLARE written bigint;
        BEGIN
            LOCK TABLE incidents IN SHARE MODE;
            DELETE FROM {TABLE} WHERE organisation IS NULL OR organisation_id = organisation;
            INSERT INTO {TABLE} ({KEY}, incidents)
            SELECT {KEY}, incidents FROM {TABLE}_recount
            WHERE organisation IS NULL OR organisation_id = organisation ORDER BY {KEY};
            GET DIAGNOSTICS written = ROW_COUNT;
            RETURN written;
        END $fn$;
        REVOKE ALL ON FUNCTION {TABLE}_rebuild(bigint) FROM PUBLIC;
        """
    )
    op.execute(f"SELECT {TABLE}_rebuild(NULL)")
    op.execute(f"ANALYZE {TABLE}")


def downgrade() -> None:
    op.execute(
        f"""
        DROP TRIGGER IF EXISTS {TABLE}_insert ON incidents;
        DROP TRIGGER IF EXISTS {TABLE}_update ON incidents;
        DROP TRIGGER IF EXISTS {TABLE}_delete ON incidents;
        DROP TRIGGER IF EXISTS {TABLE}_truncate ON incidents;
        DROP FUNCTION IF EXISTS {TABLE}_on_insert(), {TABLE}_on_update(), {TABLE}_on_delete(),
            {TABLE}_on_truncate(), {TABLE}_rebuild(bigint);
        DROP VIEW IF EXISTS {TABLE}_recount;
        DROP TABLE IF EXISTS {TABLE} CASCADE;
        """
    )
