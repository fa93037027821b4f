"""Context assessments (the practice's triangle, outcome goals) and each organisation's street network.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from app.settings import Settings

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TENANT_TABLES = ("street_edges", "assessments")

# Same expression as 0001: the request's organisation, set per transaction by the service.
CURRENT_ORG = "NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint"

RATINGS = ("red", "amber", "green")
# Kept literal here (not imported) so the migration keeps meaning what it meant when it ran.
ASSESSMENT_METHODS = (
    "observation", "walkabout", "young_people_consultation", "survey", "focus_group",
    "practitioner_interview", "place_manager_interview", "partner_data", "peer_group_mapping", "other",
)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def upgrade() -> None:
    settings = Settings()
    srid = settings.analysis_srid
    role = settings.app_db_role

    # Walkable street segments, loaded by `contextmap import streets`. Shortest paths are computed in
    # Python (scipy) because pgRouting is not part of the supported stack; the segment length is
    # stored once, in metres of the analysis CRS, so the graph build is a plain SELECT.
    op.execute(
        f"""
        CREATE TABLE street_edges (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            name text,
            geom geometry(LineString, 4326) NOT NULL CHECK (NOT ST_IsEmpty(geom) AND ST_NPoints(geom) >= 2),
            geom_metric geometry(LineString, {srid}) GENERATED ALWAYS AS (ST_Transform(geom, {srid})) STORED,
            length_m double precision GENERATED ALWAYS AS (ST_Length(ST_Transform(geom, {srid}))) STORED,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        -- (organisation, id): the cached graph's version check is an index-only max(id).
        CREATE INDEX street_edges_organisation_id_idx ON street_edges (organisation_id, id);
        CREATE INDEX street_edges_geom_metric_idx ON street_edges USING gist (geom_metric);
        """
    )

    # The nearest-safe-space search walks places in distance order (KNN) and probes each for a current
    # safe-space designation. Without this btree the planner probes the GiST exclusion index
    # (place_id, kind, period), about eight times slower per probe; INCLUDE allows index-only probes.
    op.execute("CREATE INDEX designations_place_kind_idx ON designations (place_id, kind) "
               "INCLUDE (valid_from, valid_to)")

    rating = f"varchar(8) NOT NULL CHECK ({{col}} IN {_in(RATINGS)})"
    op.execute(
        f"""
        CREATE TABLE assessments (
            id bigserial PRIMARY KEY,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            place_id bigint NOT NULL REFERENCES places(id) ON DELETE CASCADE,
            assessed_on date NOT NULL,
            young_people_rating {rating.format(col="young_people_rating")},
            young_people_notes text,
            guardianship_rating {rating.format(col="guardianship_rating")},
            guardianship_notes text,
            environment_rating {rating.format(col="environment_rating")},
            environment_notes text,
            methods text[] NOT NULL DEFAULT '{{}}' CHECK (methods <@ {_array(ASSESSMENT_METHODS)}),
            context_weighting integer CHECK (context_weighting IS NULL OR context_weighting >= 1),
            recommended_responses text[] NOT NULL DEFAULT '{{}}',
            review_on date,
            -- [{{statement, measure: change|effort, baseline: {{observed_on, value, notes}},
            --   observations: [{{observed_on, value, notes}}]}}], validated by the service.
            goals jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(goals) = 'array'),
            notes text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK (review_on IS NULL OR review_on >= assessed_on)
        );
        CREATE INDEX assessments_organisation_id_idx ON assessments (organisation_id);
        CREATE INDEX assessments_place_id_idx ON assessments (place_id, assessed_on);
        """
    )

    for table in TENANT_TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {table}_id_seq TO {role}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY organisation_isolation ON {table} "
            f"USING (organisation_id = {CURRENT_ORG}) WITH CHECK (organisation_id = {CURRENT_ORG})"
        )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS designations_place_kind_idx")
    for table in ("assessments", "street_edges"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
