"""Safety maps made with young people, kept only as the anonymous area picture (issue 21).

A worker and a young person colour places and routes red, amber or green on a map; the session lives in
the browser until the worker finishes. Only when the young person agrees is anything kept, and then only:

- ``safety_maps``: one row per agreed map (so the area picture counts *separate* maps per cell), with the
  month and an age band — no day, no time, no worker, no words — and the random id the session form was
  given, so that a finished form posted twice (a reload) is one map, not two;
- ``safety_map_marks``: the map's red/amber/green marks snapped to the organisation's published grid
  (250 m squares of the analysis CRS, :data:`geo.grid.PUBLISHED_CELL_SIZES`), never the drawn shapes; a
  phrase only when the worker marked it shareable (free text: withheld from panels);
- ``safety_map_safe_places``: places of ours the young person named as safe;
- ``place_suggestions``: new places suggested for review, with the month and the published cell they lie
  in, and no link to any safety map.

Keys are Citus-ready: primary keys ``(organisation_id, id)`` and foreign keys that include
``organisation_id``; ``places`` gains the unique key ``(organisation_id, id)`` they point at.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from app.settings import Settings
from geo.vocabulary import AGE_BANDS, PLACE_KINDS, SAFETY_RATINGS

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Same expression as 0001: the request's organisation, set per transaction by the service.
CURRENT_ORG = "NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint"
TABLES = ("safety_maps", "safety_map_marks", "safety_map_safe_places", "place_suggestions")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    role = Settings().app_db_role
    op.execute("ALTER TABLE places ADD CONSTRAINT places_organisation_id_id_key UNIQUE (organisation_id, id)")
    op.execute(
        f"""
        CREATE TABLE safety_maps (
            id bigserial,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            month date NOT NULL CHECK (extract(day FROM month) = 1),
            age_band varchar(8) NOT NULL CHECK (age_band IN {_in(AGE_BANDS)}),
            submission_id uuid NOT NULL,
            PRIMARY KEY (organisation_id, id),
            CONSTRAINT safety_maps_submission_key UNIQUE (organisation_id, submission_id)
        );
        CREATE INDEX safety_maps_month_idx ON safety_maps (organisation_id, month);

        CREATE TABLE safety_map_marks (
            id bigserial,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            safety_map_id bigint NOT NULL,
            cell_size integer NOT NULL CHECK (cell_size = 250),
            cell_i integer NOT NULL,
            cell_j integer NOT NULL,
            rating varchar(8) NOT NULL CHECK (rating IN {_in(SAFETY_RATINGS)}),
            phrase varchar(200) CHECK (phrase IS NULL OR length(btrim(phrase)) > 0),
            PRIMARY KEY (organisation_id, id),
            FOREIGN KEY (organisation_id, safety_map_id) REFERENCES safety_maps (organisation_id, id)
                ON DELETE CASCADE,
            CONSTRAINT safety_map_marks_cell_key UNIQUE (organisation_id, safety_map_id, cell_size, cell_i, cell_j,
                                                         rating)
        );
        CREATE INDEX safety_map_marks_cell_idx ON safety_map_marks (organisation_id, cell_size, cell_i, cell_j);

        CREATE TABLE safety_map_safe_places (
            id bigserial,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            safety_map_id bigint NOT NULL,
            place_id bigint NOT NULL,
            PRIMARY KEY (organisation_id, id),
            FOREIGN KEY (organisation_id, safety_map_id) REFERENCES safety_maps (organisation_id, id)
                ON DELETE CASCADE,
            FOREIGN KEY (organisation_id, place_id) REFERENCES places (organisation_id, id) ON DELETE CASCADE,
            CONSTRAINT safety_map_safe_places_key UNIQUE (organisation_id, safety_map_id, place_id)
        );
        CREATE INDEX safety_map_safe_places_place_idx ON safety_map_safe_places (organisation_id, place_id);

        CREATE TABLE place_suggestions (
            id bigserial,
            organisation_id bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
            kind varchar(32) CHECK (kind IS NULL OR kind IN {_in(PLACE_KINDS)}),
            month date NOT NULL CHECK (extract(day FROM month) = 1),
            cell_size integer CHECK (cell_size IS NULL OR cell_size = 250),
            cell_i integer,
            cell_j integer,
            PRIMARY KEY (organisation_id, id),
            CHECK ((cell_size IS NULL) = (cell_i IS NULL) AND (cell_i IS NULL) = (cell_j IS NULL))
        );
        CREATE INDEX place_suggestions_month_idx ON place_suggestions (organisation_id, month);
        """
    )
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, DELETE ON {table} TO {role}")
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {table}_id_seq TO {role}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY organisation_isolation ON {table} "
                   f"USING (organisation_id = {CURRENT_ORG}) WITH CHECK (organisation_id = {CURRENT_ORG})")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("ALTER TABLE places DROP CONSTRAINT IF EXISTS places_organisation_id_id_key")
