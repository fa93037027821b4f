"""Owner-only archive for incidents past the retention period.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Same columns as incidents (geom_metric as a plain column: archives are not analysed) plus when.
    op.execute(
        """
        CREATE TABLE incidents_archive AS
        SELECT id, organisation_id, occurred_from, occurred_to, harm_category, source_category, source,
               source_ref, location_precision, young_people, description, place_id, place_link, geom,
               geom_metric, created_at, now() AS archived_at
        FROM incidents WITH NO DATA
        """
    )
    op.execute("ALTER TABLE incidents_archive ADD PRIMARY KEY (id)")
    op.execute("REVOKE ALL ON incidents_archive FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS incidents_archive")
