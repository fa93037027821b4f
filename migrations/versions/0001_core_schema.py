"""Core domain schema: organisations, users, tokens, places, designations, guardians, incidents,
interventions, audit; row-level security keyed on the request's organisation; the service role.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

from app.settings import Settings
from geo.vocabulary import (
    CONCERN_LEVELS,
    DESIGNATION_KINDS,
    GUARDIAN_ROLES,
    HARM_CATEGORIES,
    INCIDENT_SOURCES,
    INTERVENTION_KINDS,
    LOCATION_PRECISIONS,
    PLACE_KINDS,
    ROLES,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = ("users", "api_tokens", "places", "designations", "guardians", "incidents", "interventions")

# The request's organisation, set per transaction by the service (set_config(..., is_local => true)).
CURRENT_ORG = "NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    settings = Settings()
    srid = settings.analysis_srid
    role = settings.app_db_role
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")

    op.execute(
        """
        CREATE TABLE organisations (
            id bigserial PRIMARY KEY,
            slug varchar(64) NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
            name varchar(200) NOT NULL,
            service_area geometry(MultiPolygon, 4326),
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        f"""
        CREATE TABLE users (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            email varchar(320) NOT NULL,
            role varchar(32) NOT NULL CHECK (role IN {_in(ROLES)}),
            password_hash text,
            created_at timestamptz NOT NULL DEFAULT now(),
            disabled_at timestamptz
        );
        CREATE UNIQUE INDEX users_email_key ON users (lower(email));
        CREATE INDEX users_organisation_id_idx ON users (organisation_id);

        CREATE TABLE api_tokens (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            kind varchar(16) NOT NULL CHECK (kind IN ('api', 'session')),
            token_hash varchar(64) NOT NULL UNIQUE,
            prefix varchar(16) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz
        );
        CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

        CREATE TABLE places (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
            kind varchar(32) NOT NULL CHECK (kind IN {_in(PLACE_KINDS)}),
            address text,
            opening_hours text,
            place_manager text,
            notes text,
            geom geometry(Geometry, 4326) NOT NULL CHECK (NOT ST_IsEmpty(geom) AND ST_IsValid(geom)),
            geom_metric geometry(Geometry, {srid}) GENERATED ALWAYS AS (ST_Transform(geom, {srid})) STORED,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX places_organisation_id_idx ON places (organisation_id);
        CREATE INDEX places_geom_idx ON places USING gist (geom);
        CREATE INDEX places_geom_metric_idx ON places USING gist (geom_metric);

        CREATE TABLE designations (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            place_id bigint NOT NULL REFERENCES places(id) ON DELETE CASCADE,
            kind varchar(16) NOT NULL CHECK (kind IN {_in(DESIGNATION_KINDS)}),
            valid_from timestamptz NOT NULL,
            valid_to timestamptz CHECK (valid_to IS NULL OR valid_to > valid_from),
            level varchar(16) CHECK (level IS NULL OR level IN {_in(CONCERN_LEVELS)}),
            reason text,
            review_by date,
            scheme text,
            age_min integer CHECK (age_min IS NULL OR age_min BETWEEN 0 AND 25),
            age_max integer CHECK (age_max IS NULL OR age_max BETWEEN 0 AND 25),
            help_offered text[] NOT NULL DEFAULT '{{}}',
            accessibility text,
            verified_on date,
            notes text,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK (age_min IS NULL OR age_max IS NULL OR age_min <= age_max),
            -- A place keeps a history, but never two overlapping judgements of the same kind.
            CONSTRAINT designations_no_overlap EXCLUDE USING gist (
                place_id WITH =, kind WITH =, tstzrange(valid_from, valid_to) WITH &&
            )
        );
        CREATE INDEX designations_organisation_id_idx ON designations (organisation_id);
        CREATE INDEX designations_place_id_idx ON designations (place_id);

        CREATE TABLE guardians (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            place_id bigint NOT NULL REFERENCES places(id) ON DELETE CASCADE,
            role varchar(32) NOT NULL CHECK (role IN {_in(GUARDIAN_ROLES)}),
            description text,
            trainings jsonb NOT NULL DEFAULT '[]',
            hours text,
            notes text,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX guardians_organisation_id_idx ON guardians (organisation_id);
        CREATE INDEX guardians_place_id_idx ON guardians (place_id);

        CREATE TABLE incidents (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            occurred_from timestamptz NOT NULL,
            occurred_to timestamptz CHECK (occurred_to IS NULL OR occurred_to >= occurred_from),
            harm_category varchar(32) NOT NULL CHECK (harm_category IN {_in(HARM_CATEGORIES)}),
            source_category text,
            source varchar(32) NOT NULL CHECK (source IN {_in(INCIDENT_SOURCES)}),
            source_ref varchar(128),
            location_precision varchar(16) NOT NULL CHECK (location_precision IN {_in(LOCATION_PRECISIONS)}),
            young_people integer CHECK (young_people IS NULL OR young_people BETWEEN 0 AND 1000),
            description text,
            place_id bigint REFERENCES places(id) ON DELETE SET NULL,
            place_link varchar(16) CHECK (place_link IS NULL OR place_link IN ('explicit', 'auto')),
            geom geometry(Point, 4326) NOT NULL CHECK (NOT ST_IsEmpty(geom)),
            geom_metric geometry(Point, {srid}) GENERATED ALWAYS AS (ST_Transform(geom, {srid})) STORED,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT incidents_source_ref_key UNIQUE (organisation_id, source, source_ref)
        );
        CREATE INDEX incidents_org_time_idx ON incidents (organisation_id, occurred_from);
        CREATE INDEX incidents_place_id_idx ON incidents (place_id);
        CREATE INDEX incidents_geom_idx ON incidents USING gist (geom);
        CREATE INDEX incidents_geom_metric_idx ON incidents USING gist (geom_metric);

        CREATE TABLE interventions (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            place_id bigint REFERENCES places(id) ON DELETE SET NULL,
            kind varchar(32) NOT NULL CHECK (kind IN {_in(INTERVENTION_KINDS)}),
            description text NOT NULL,
            owning_partner text NOT NULL,
            partners text[] NOT NULL DEFAULT '{{}}',
            starts_on date NOT NULL,
            ends_on date CHECK (ends_on IS NULL OR ends_on >= starts_on),
            notes text,
            geom geometry(Geometry, 4326),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX interventions_organisation_id_idx ON interventions (organisation_id);
        CREATE INDEX interventions_place_id_idx ON interventions (place_id);

        CREATE TABLE audit_events (
            id bigserial PRIMARY KEY,
            organisation_id bigint,
            user_id bigint,
            at timestamptz NOT NULL DEFAULT now(),
            action varchar(64) NOT NULL,
            resource text,
            request_id varchar(64),
            client varchar(64),
            detail jsonb NOT NULL DEFAULT '{{}}'
        );
        CREATE INDEX audit_events_org_at_idx ON audit_events (organisation_id, at);
        """
    )

    # The service's own role: it neither owns the tables nor bypasses RLS.
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            END IF;
        END $$;
        """
    )
    if settings.app_db_password:
        # Deployments that do not use trust authentication (docker-compose) give the role a password.
        quoted = settings.app_db_password.replace("'", "''")
        op.execute(f"ALTER ROLE {role} WITH PASSWORD '{quoted}'")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    op.execute(f"GRANT SELECT ON organisations TO {role}")
    for table in TENANT_TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {table}_id_seq TO {role}")
    # Append-only audit: no UPDATE or DELETE for the service.
    op.execute(f"GRANT SELECT, INSERT ON audit_events TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE audit_events_id_seq TO {role}")
    op.execute(f"GRANT SELECT ON spatial_ref_sys TO {role}")

    op.execute("ALTER TABLE organisations ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY organisation_isolation ON organisations USING (id = {CURRENT_ORG})")
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY organisation_isolation ON {table} "
            f"USING (organisation_id = {CURRENT_ORG}) WITH CHECK (organisation_id = {CURRENT_ORG})"
        )
    op.execute("ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY audit_read ON audit_events FOR SELECT USING (organisation_id = {CURRENT_ORG})")
    # A failed sign-in for an unknown e-mail has no organisation yet: allow NULL with no org set.
    op.execute(
        f"CREATE POLICY audit_append ON audit_events FOR INSERT "
        f"WITH CHECK (organisation_id IS NOT DISTINCT FROM {CURRENT_ORG})"
    )

    # Authentication happens before the organisation is known, so the service looks users up through
    # two narrow SECURITY DEFINER functions instead of reading the users table across tenants.
    op.execute(
        """
        CREATE FUNCTION contextmap_token_user(p_token_hash text)
        RETURNS TABLE (user_id bigint, organisation_id bigint, role text, email text, kind text,
                       token_id bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT u.id, u.organisation_id, u.role, u.email, t.kind, t.id
            FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL AND t.expires_at > now()
              AND u.disabled_at IS NULL
        $$;
        CREATE FUNCTION contextmap_login_user(p_email text)
        RETURNS TABLE (user_id bigint, organisation_id bigint, role text, email text, password_hash text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT u.id, u.organisation_id, u.role, u.email, u.password_hash
            FROM users u WHERE lower(u.email) = lower(p_email) AND u.disabled_at IS NULL
        $$;
        """
    )
    op.execute("REVOKE ALL ON FUNCTION contextmap_token_user(text) FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION contextmap_login_user(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION contextmap_token_user(text) TO {role}")
    op.execute(f"GRANT EXECUTE ON FUNCTION contextmap_login_user(text) TO {role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS contextmap_login_user(text)")
    op.execute("DROP FUNCTION IF EXISTS contextmap_token_user(text)")
    for table in ("audit_events", "interventions", "incidents", "guardians", "designations", "places",
                  "api_tokens", "users", "organisations"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
