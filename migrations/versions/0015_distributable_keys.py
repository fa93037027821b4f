"""Keys a distributed database can keep: every tenant table is keyed by ``(organisation_id, id)`` (issue 19).

Citus spreads a table over workers by one column, here ``organisation_id``; it can enforce a primary key,
a unique or an exclusion constraint only when the constraint includes that column, and a foreign key
between two distributed tables only when both sides include it. This migration makes the schema so on a
single PostgreSQL too, so one schema serves both (and an organisation's rows can move to Citus unchanged):

- every table with an ``organisation_id`` column, except the reference tables (``organisations``, ``users``,
  ``api_tokens``: small, looked up before the organisation is known, replicated to every node), gets the
  primary key ``(organisation_id, <old key>)``; unique and exclusion constraints and unique indexes gain
  ``organisation_id`` in front;
- foreign keys between such tables become ``(organisation_id, x_id) REFERENCES t (organisation_id, id)``.
  Citus refuses ``ON DELETE SET NULL`` on a key holding the distribution column, so those become NO ACTION
  and the service clears the links itself before deleting (``app.db.resources.PLACES.before_delete``);
- audit rows with no organisation (a sign-in refused before anyone is known) move to their own table,
  ``audit_events_unattributed``, which only the owner may read; ``audit_events.organisation_id`` becomes
  NOT NULL (a distribution column cannot hold NULL).

The tables are found in the catalog, not listed here, so tables added by later migrations are converted
the same way when this one runs after them. Distributing the tables is not a migration step: ``contextmap
migrate`` does it when the database has the ``citus`` extension (``app.db.citus``).

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import re

from alembic import op
from sqlalchemy import text

from app.settings import Settings

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Replicated whole to every node (Citus reference tables): keyed as before.
REFERENCE_TABLES = ("organisations", "users", "api_tokens")
UNATTRIBUTED_INSERTABLE = "user_id, action, resource, request_id, client_request_id, client, detail"


def _routed_tables() -> list[str]:
    rows = op.get_bind().execute(text(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organisation_id' AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname
        """
    )).scalars()
    return [name for name in rows if name not in REFERENCE_TABLES]


def _constraints(tables: list[str], kinds: str) -> list[dict[str, object]]:
    rows = op.get_bind().execute(text(
        """
        SELECT con.conname AS name, con.contype AS kind, c.relname AS tbl, r.relname AS ref,
               pg_get_constraintdef(con.oid) AS def, con.confdeltype AS on_delete,
               ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i)::text[]
                   AS cols,
               ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)::text[]
                   AS ref_cols
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        LEFT JOIN pg_class r ON r.oid = con.confrelid
        WHERE c.relname = ANY(:tables) AND con.contype = ANY(:kinds)
          AND c.relnamespace = 'public'::regnamespace
        ORDER BY c.relname, con.conname
        """
    ), {"tables": tables, "kinds": list(kinds)}).mappings()
    return [dict(r) for r in rows]


def _move_unattributed_audit(role: str) -> None:
    op.execute(
        """
        CREATE TABLE audit_events_unattributed (
            id bigserial PRIMARY KEY,
            user_id bigint,
            at timestamptz NOT NULL DEFAULT now(),
            action varchar(64) NOT NULL,
            resource text,
            request_id varchar(64),
            client_request_id varchar(64),
            client varchar(64),
            detail jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_events_unattributed_at_idx ON audit_events_unattributed (at);
        INSERT INTO audit_events_unattributed (user_id, at, action, resource, request_id, client_request_id,
                                               client, detail)
        SELECT user_id, at, action, resource, request_id, client_request_id, client, detail
        FROM audit_events WHERE organisation_id IS NULL ORDER BY id;
        DELETE FROM audit_events WHERE organisation_id IS NULL;
        ALTER TABLE audit_events ALTER COLUMN organisation_id SET NOT NULL;
        REVOKE ALL ON audit_events_unattributed FROM PUBLIC;
        """
    )
    # Append-only for the service, readable by the owner only; ``at`` is the server's (column privileges).
    op.execute(f"GRANT INSERT ({UNATTRIBUTED_INSERTABLE}) ON audit_events_unattributed TO {role}")
    op.execute(f"GRANT USAGE ON SEQUENCE audit_events_unattributed_id_seq TO {role}")


def upgrade() -> None:
    role = Settings().app_db_role
    _move_unattributed_audit(role)
    # Archived incidents always had an organisation; CREATE TABLE AS (0002) just did not say so.
    op.execute("ALTER TABLE incidents_archive ALTER COLUMN organisation_id SET NOT NULL")

    tables = _routed_tables()
    # Keys that already name the organisation (tables added Citus-ready by later migrations) stay as they are.
    foreign = [c for c in _constraints(tables, "f")
               if c["ref"] in tables and "organisation_id" not in c["cols"]]  # type: ignore[operator]
    for fk in foreign:
        op.execute(f'ALTER TABLE {fk["tbl"]} DROP CONSTRAINT {fk["name"]}')

    for con in _constraints(tables, "pux"):
        cols = list(con["cols"])  # type: ignore[call-overload]
        if "organisation_id" in cols:
            continue
        definition = str(con["def"])
        if con["kind"] == "p":
            new = f"PRIMARY KEY (organisation_id, {', '.join(cols)})"
        elif con["kind"] == "u":
            new = definition.replace("(", "(organisation_id, ", 1)
        else:  # EXCLUDE USING gist (a WITH =, ...): equal organisations are a further condition (btree_gist)
            new = definition.replace("(", "(organisation_id WITH =, ", 1)
        op.execute(f'ALTER TABLE {con["tbl"]} DROP CONSTRAINT {con["name"]}')
        op.execute(f'ALTER TABLE {con["tbl"]} ADD CONSTRAINT {con["name"]} {new}')

    # Unique indexes that back no constraint (an expression, a partial index) gain organisation_id too.
    indexes = op.get_bind().execute(text(
        """
        SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(:tables) AND t.relnamespace = 'public'::regnamespace AND x.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
          AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'organisation_id'
                          AND a.attnum = ANY(x.indkey))
        """
    ), {"tables": tables}).mappings().all()
    for index in indexes:
        op.execute(f'DROP INDEX {index["name"]}')
        op.execute(re.sub(r"USING (\w+) \(", r"USING \1 (organisation_id, ", str(index["def"]), count=1))

    for fk in foreign:
        # Citus cannot SET NULL a key that holds the distribution column: the service unlinks first.
        action = {"c": "CASCADE", "r": "RESTRICT"}.get(str(fk["on_delete"]), "NO ACTION")
        cols = ", ".join(["organisation_id", *fk["cols"]])  # type: ignore[misc]
        ref_cols = ", ".join(["organisation_id", *fk["ref_cols"]])  # type: ignore[misc]
        op.execute(f'ALTER TABLE {fk["tbl"]} ADD CONSTRAINT {fk["name"]} FOREIGN KEY ({cols}) '
                   f'REFERENCES {fk["ref"]} ({ref_cols}) ON DELETE {action}')


def downgrade() -> None:
    raise NotImplementedError("0015 changes every tenant table's keys; restore from a backup taken before it")
