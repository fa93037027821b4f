"""Each organisation's school terms: the ``SH`` (school holidays) opening-hours selector comes from them.

England's term dates are set by each council (and by academies for themselves), so they are loaded per
organisation (`contextmap school-terms load`, `PUT /api/school-terms`); see geo.school_terms.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from app.settings import Settings

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Same expression as 0001: the request's organisation, set per transaction by the service.
CURRENT_ORG = "NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint"


def upgrade() -> None:
    role = Settings().app_db_role
    op.execute(
        """
        CREATE TABLE school_terms (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            name text NOT NULL CHECK (name <> ''),
            starts_on date NOT NULL,
            ends_on date NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK (ends_on >= starts_on)
        );
        CREATE INDEX school_terms_organisation_id_idx ON school_terms (organisation_id, starts_on);
        """
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON school_terms TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE school_terms_id_seq TO {role}")
    op.execute("ALTER TABLE school_terms ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY organisation_isolation ON school_terms "
        f"USING (organisation_id = {CURRENT_ORG}) WITH CHECK (organisation_id = {CURRENT_ORG})"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS school_terms CASCADE")
