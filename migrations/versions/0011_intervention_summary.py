"""Interventions gain a title and a summary marked as shareable with panels; an organisation's admins may
change its name and service area from the browser (issue 14).

- ``interventions.title`` and ``interventions.shareable_summary``: short texts written *to be read by a
  multi-agency panel*. They are not free-text notes (geo.privacy.FREE_TEXT_FIELDS keeps withholding the
  description and notes); the form says so where they are typed.
- Retention and the disclosure thresholds stay deployment settings (app.settings): the organisation
  settings page shows them; per-organisation values would need the retention job and every Disclosure to
  read them, which is not done here.
- The service role may update an organisation's name and service area (column privileges). Row-level security
  on ``organisations`` (0001: ``id = current organisation``) keeps an admin to their own organisation.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from app.settings import Settings

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

UPDATABLE = "name, service_area"


def upgrade() -> None:
    role = Settings().app_db_role
    op.execute("ALTER TABLE interventions ADD COLUMN title varchar(200)")
    op.execute("ALTER TABLE interventions ADD COLUMN shareable_summary varchar(1000)")
    op.execute(f"GRANT UPDATE ({UPDATABLE}) ON organisations TO {role}")


def downgrade() -> None:
    role = Settings().app_db_role
    op.execute(f"REVOKE UPDATE ({UPDATABLE}) ON organisations FROM {role}")
    op.execute("ALTER TABLE interventions DROP COLUMN shareable_summary, DROP COLUMN title")
