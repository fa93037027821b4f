"""Let spatial indexes work under row-level security: mark PostGIS's ``&&`` (bounding boxes overlap) leakproof.

Under RLS, PostgreSQL evaluates the policy's condition (``organisation_id = <the request's organisation>``)
before any user condition whose function is not LEAKPROOF, so such a condition can never drive an index
scan. PostGIS ships ``geometry_overlaps`` (the ``&&`` operator) without LEAKPROOF: every bbox filter by the
service role (OGC items, exports, tiles, analysis) scanned the organisation's whole incident table in time
order — 2.6 s instead of 16 ms for 1,000 incidents in a bbox among 1,000,000 (bench/bench_ogc.py).

``&&`` compares two bounding boxes and raises no error that depends on the values compared, so it leaks
nothing the row-level security hides. Marking a function LEAKPROOF needs a superuser: without one the
migration leaves a NOTICE and the service stays correct, only slower. (An extension upgrade that
re-creates the function resets the flag: re-run ``ALTER FUNCTION`` then.)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _set(leakproof: bool) -> None:
    flag = "LEAKPROOF" if leakproof else "NOT LEAKPROOF"
    op.execute(
        f"""
        DO $$ BEGIN
            IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                ALTER FUNCTION geometry_overlaps(geometry, geometry) {flag};
            ELSE
                RAISE NOTICE 'not a superuser: geometry_overlaps left as it is (spatial filters under row-level '
                             'security will not use the GiST indexes)';
            END IF;
        END $$;
        """
    )


def upgrade() -> None:
    _set(True)


def downgrade() -> None:
    _set(False)
