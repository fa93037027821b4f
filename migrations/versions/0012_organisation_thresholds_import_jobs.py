"""Per-organisation disclosure thresholds and retention; import jobs in the database (issues 13/14).

- ``organisations.suppress_max``, ``round_to`` and ``retention_days``: an organisation's own values, NULL
  meaning "the deployment's" (app.settings). The deployment's settings are the floor: the service uses
  ``max(deployment, organisation)`` for both thresholds, so an organisation may suppress *more*, never
  less (app.services.disclosure), and its retention is capped by the deployment's period
  (app.db.retention). The CHECKs below are absolute sanity bounds; the admin page checks the safe bounds
  against the settings. The service role may update these columns (row-level security on
  ``organisations`` keeps an admin to their own).
- ``contextmap_token_user`` also returns the organisation's thresholds, so the request's ``Principal``
  carries them and ``Disclosure`` is resolved without another query.
- ``import_jobs``: the state of imports started from the web pages (stage, progress, report), so that
  every worker process answers the progress and result pages. A job's runner writes a heartbeat; a running
  job whose heartbeat stops (its process died) is read as failed. The import itself stays one transaction
  (nothing half-written).
- ``users (organisation_id, id)`` is unique so that tenant tables can reference a user with a composite
  foreign key that includes ``organisation_id``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from app.settings import Settings

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CURRENT_ORG = "NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint"
UPDATABLE = "suppress_max, round_to, retention_days"
STAGES = "('mapping', 'queued', 'reading', 'writing', 'done', 'refused', 'failed')"

LOOKUP_V1 = """
    CREATE FUNCTION contextmap_token_user(p_token_hash text)
    RETURNS TABLE (user_id bigint, organisation_id bigint, role text, email text, kind text,
                   token_id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
        SELECT u.id, u.organisation_id, u.role, u.email, t.kind, t.id
        FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL AND t.expires_at > now()
          AND u.disabled_at IS NULL
    $$;
"""

LOOKUP_V2 = """
    CREATE FUNCTION contextmap_token_user(p_token_hash text)
    RETURNS TABLE (user_id bigint, organisation_id bigint, role text, email text, kind text,
                   token_id bigint, suppress_max integer, round_to integer)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
        SELECT u.id, u.organisation_id, u.role, u.email, t.kind, t.id,
               o.suppress_max::integer, o.round_to::integer
        FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.organisation_id
        WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL AND t.expires_at > now()
          AND u.disabled_at IS NULL
    $$;
"""


def _token_function(definition: str, role: str) -> None:
    op.execute("DROP FUNCTION IF EXISTS contextmap_token_user(text)")
    op.execute(definition)
    op.execute("REVOKE ALL ON FUNCTION contextmap_token_user(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION contextmap_token_user(text) TO {role}")


def upgrade() -> None:
    role = Settings().app_db_role
    op.execute(
        """
        ALTER TABLE organisations
            ADD COLUMN suppress_max smallint CHECK (suppress_max BETWEEN 1 AND 100),
            ADD COLUMN round_to smallint CHECK (round_to BETWEEN 1 AND 100),
            ADD COLUMN retention_days integer CHECK (retention_days BETWEEN 30 AND 36500)
        """
    )
    op.execute(f"GRANT UPDATE ({UPDATABLE}) ON organisations TO {role}")
    _token_function(LOOKUP_V2, role)

    op.execute("ALTER TABLE users ADD CONSTRAINT users_organisation_id_id_key UNIQUE (organisation_id, id)")
    op.execute(
        f"""
        CREATE TABLE import_jobs (
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            id varchar(32) NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]+$'),
            user_id bigint NOT NULL,
            kind varchar(16) NOT NULL CHECK (kind IN ('police_uk', 'partner')),
            target varchar(16) NOT NULL DEFAULT 'incidents',
            files jsonb NOT NULL DEFAULT '[]'::jsonb,
            workdir text NOT NULL,
            dry_run boolean NOT NULL DEFAULT false,
            allow_partial boolean NOT NULL DEFAULT false,
            mapping jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            crs varchar(16),
            stage varchar(16) NOT NULL CHECK (stage IN {STAGES}),
            rows_read bigint NOT NULL DEFAULT 0,
            done_bytes bigint NOT NULL DEFAULT 0,
            report jsonb,
            message text,
            new_incidents_from date,
            new_incidents_to date,
            started_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            PRIMARY KEY (organisation_id, id),
            FOREIGN KEY (organisation_id, user_id) REFERENCES users (organisation_id, id) ON DELETE CASCADE
        );
        CREATE INDEX import_jobs_started_idx ON import_jobs (organisation_id, started_at);
        """
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON import_jobs TO {role}")
    op.execute("ALTER TABLE import_jobs ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY organisation_isolation ON import_jobs "
        f"USING (organisation_id = {CURRENT_ORG}) WITH CHECK (organisation_id = {CURRENT_ORG})"
    )


def downgrade() -> None:
    role = Settings().app_db_role
    op.execute("DROP TABLE IF EXISTS import_jobs CASCADE")
    op.execute("ALTER TABLE users DROP CONSTRAINT IF EXISTS users_organisation_id_id_key")
    _token_function(LOOKUP_V1, role)
    op.execute(f"REVOKE UPDATE ({UPDATABLE}) ON organisations FROM {role}")
    op.execute("ALTER TABLE organisations DROP COLUMN retention_days, DROP COLUMN round_to, "
               "DROP COLUMN suppress_max")
