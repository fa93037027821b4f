"""The sign-in throttle moves into the database, so every worker process (and every host) shares it.

One row per throttled key: a SHA-256 of the lower-cased e-mail and the client address (no e-mail or
address is stored in clear), the failures counted in the current window and when the last one happened.
Not tenant data (the organisation is not known before sign-in), so no row-level security: the service role
may read and change this one table, and nothing in it identifies a person without the e-mail.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from app.settings import Settings

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    role = Settings().app_db_role
    op.execute(
        """
        CREATE TABLE sign_in_failures (
            key_hash text PRIMARY KEY,
            failures integer NOT NULL,
            last_failed_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX sign_in_failures_last_idx ON sign_in_failures (last_failed_at)")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_failures TO {role}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sign_in_failures")
