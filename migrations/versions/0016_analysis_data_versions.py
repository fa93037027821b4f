"""Data versions for cached analyses (issue 11): ``analysis_data_versions`` says, per organisation, when the
data an analysis reads last changed, so a heavy analysis's answer can be reused until then and never after.

Rows per organisation and UTC calendar month of ``incidents.occurred_from`` (the column every analysis
filters its periods on), and per organisation with ``month = '-infinity'`` (the "sentinel") for everything
else an analysis reads: places (names, kinds, outlines, incident links), interventions and the organisation
itself (service area, disclosure thresholds). Statement triggers add one row (``changes = 1``, ``version``
from ``analysis_data_version_seq``) for each month and sentinel a write touches, inside the writer's
transaction — inserts, edits (the old and the new month), deletes, ``COPY`` imports, retention — so what a
reader counts and the data it sees commit together. Rows are only ever added (never updated), so writers
of one month never queue behind each other.

A month's version is ``(sum(changes), max(version))``: the sum grows with every committed change, whatever
order concurrent writers commit in (snapshots see a growing set of commits), and the sequence makes it
unique even for an organisation id reused after ``TRUNCATE ... RESTART IDENTITY`` (the sequence is owned by
no table). A month with no row has had no write since the sentinel was made. ``analysis_data_versions_compact()`` folds
each month's rows into one with the same sum and maximum, so the key is unchanged.

Citus: ``app.db.citus`` drops these triggers with the aggregate's (statement triggers with transition
tables do not run on shards); without them the cache is off (``app.db.data_versions.kept``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from app.settings import Settings

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CURRENT_ORG = "NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint"
TABLE = "analysis_data_versions"
SEQUENCE = "analysis_data_version_seq"
SENTINEL = "'-infinity'::date"


def _bump(keys: str) -> str:
    """Record a change to every ``(organisation_id, month)`` of ``keys``: one new row each, never an update,
    so concurrent writers of one month never wait for each other (an upsert of one row per month made every
    incident write queue behind the one before until it committed). An organisation being deleted (its row
    already gone in this transaction) is skipped: the cascade removes its versions."""
    return f"""
        INSERT INTO {TABLE} (organisation_id, month, version, changes)
        SELECT k.organisation_id, k.month, nextval('{SEQUENCE}'), 1
        FROM (SELECT DISTINCT organisation_id, month FROM ({keys}) AS d) AS k
        WHERE EXISTS (SELECT 1 FROM organisations o WHERE o.id = k.organisation_id);"""


def _months(rows: str) -> str:
    return (f"SELECT organisation_id, date_trunc('month', occurred_from AT TIME ZONE 'UTC')::date AS month "
            f"FROM {rows}")


def _sentinel(rows: str, column: str = "organisation_id") -> str:
    return f"SELECT {column} AS organisation_id, {SENTINEL} AS month FROM {rows}"


def _function(name: str, body: str) -> None:
    op.execute(
        f"""
        CREATE FUNCTION {name}() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
        BEGIN
            {body}
            RETURN NULL;
        END $fn$"""
    )


def upgrade() -> None:
    role = Settings().app_db_role
    op.execute(
        f"""
        CREATE SEQUENCE {SEQUENCE};
        CREATE TABLE {TABLE} (
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            month date NOT NULL CHECK (month = {SENTINEL} OR extract(day FROM month) = 1),
            version bigint NOT NULL,
            changes bigint NOT NULL CHECK (changes > 0),
            CONSTRAINT {TABLE}_pkey PRIMARY KEY (organisation_id, month, version) INCLUDE (changes)
        );
        GRANT SELECT ON {TABLE} TO {role};
        ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY;
        CREATE POLICY organisation_isolation ON {TABLE}
            USING (organisation_id = {CURRENT_ORG}) WITH CHECK (organisation_id = {CURRENT_ORG});
        INSERT INTO {TABLE} (organisation_id, month, version, changes)
            SELECT id, {SENTINEL}, nextval('{SEQUENCE}'), 1 FROM organisations ORDER BY id;
        """
    )
    # Incidents: the months of the rows written (old and new for an edit).
    _function(f"{TABLE}_incidents_new", _bump(_months("new_rows")))
    _function(f"{TABLE}_incidents_old", _bump(_months("old_rows")))
    _function(f"{TABLE}_incidents_moved",
              _bump(_months("new_rows") + " UNION ALL " + _months("old_rows")))
    # Places and interventions: the sentinel of their organisations.
    _function(f"{TABLE}_context_new", _bump(_sentinel("new_rows")))
    _function(f"{TABLE}_context_old", _bump(_sentinel("old_rows")))
    _function(f"{TABLE}_context_moved",
              _bump(_sentinel("new_rows") + " UNION ALL " + _sentinel("old_rows")))
    # The organisation itself (service area, thresholds); a new one starts with its sentinel.
    _function(f"{TABLE}_organisation", _bump(_sentinel("new_rows", "id")))
    # TRUNCATE has no transition tables: every organisation's sentinel.
    _function(f"{TABLE}_everything", _bump(_sentinel("organisations", "id")))
    for table, kind in (("incidents", "incidents"), ("places", "context"), ("interventions", "context")):
        op.execute(
            f"""
            CREATE TRIGGER {TABLE}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_{kind}_new();
            CREATE TRIGGER {TABLE}_update AFTER UPDATE ON {table}
                REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_{kind}_moved();
            CREATE TRIGGER {TABLE}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_{kind}_old();
            CREATE TRIGGER {TABLE}_truncate AFTER TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_everything();
            """
        )
    # Folds each month's change rows into one carrying their total (the owner runs it: `contextmap
    # retention apply`). The total, and so the key, is unchanged; rows written meanwhile are not touched.
    op.execute(
        f"""
        CREATE FUNCTION {TABLE}_compact() RETURNS bigint
        LANGUAGE sql SET search_path = public, pg_temp AS $fn$
            WITH folded AS (
                DELETE FROM {TABLE} v
                WHERE (v.organisation_id, v.month) IN (SELECT organisation_id, month FROM {TABLE}
                                                       GROUP BY 1, 2 HAVING count(*) > 1)
                RETURNING v.organisation_id, v.month, v.version, v.changes),
            written AS (
                INSERT INTO {TABLE} (organisation_id, month, version, changes)
                SELECT organisation_id, month, max(version), sum(changes) FROM folded GROUP BY 1, 2
                RETURNING 1)
            SELECT count(*) FROM folded;
        $fn$;
        REVOKE ALL ON FUNCTION {TABLE}_compact() FROM PUBLIC;
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER {TABLE}_insert AFTER INSERT ON organisations REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_organisation();
        CREATE TRIGGER {TABLE}_update AFTER UPDATE ON organisations REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_organisation();
        """
    )


def downgrade() -> None:
    for table in ("incidents", "places", "interventions", "organisations"):
        for verb in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{verb} ON {table}")
    for name in ("incidents_new", "incidents_old", "incidents_moved", "context_new", "context_old",
                 "context_moved", "organisation", "everything"):
        op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_{name}()")
    op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_compact()")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
    op.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
