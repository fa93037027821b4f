"""The resource specifications: how each domain table is shaped into GeoJSON features."""

from __future__ import annotations

from app.db.analysis import ORG
from app.db.repository import ResourceSpec
from geo.vocabulary import (
    CONCERN_LEVELS,
    DESIGNATION_KINDS,
    GUARDIAN_ROLES,
    HARM_CATEGORIES,
    INCIDENT_SOURCES,
    INTERVENTION_KINDS,
    PLACE_KINDS,
)

# A designation is current when its validity period contains now; a concern past its review-by date
# while current is "review overdue" (Information governance issue: reviews must not lapse silently).
_CURRENT = "(d.valid_from <= now() AND (d.valid_to IS NULL OR d.valid_to > now()))"
_OVERDUE = f"(d.kind = 'concern' AND {_CURRENT} AND d.review_by IS NOT NULL AND d.review_by < current_date)"

# The place's organisation, spelled so that on Citus the correlated subquery routes to one shard: the service
# binds the request's organisation as a constant (app.db.session) and COALESCE(42, x) folds to 42; an owner
# session has none bound and keeps the place's own.
_SAME_ORG = f"COALESCE({ORG}, p.organisation_id)"

PLACES = ResourceSpec(
    name="place",
    table="places",
    select_sql=f"""
        SELECT p.id, ST_AsGeoJSON(p.geom, 7)::json AS geometry, p.geom AS _geom,
               p.name, p.kind, p.address, p.opening_hours, p.place_manager, p.notes,
               COALESCE((
                   SELECT json_agg(json_build_object(
                       'id', d.id, 'kind', d.kind, 'level', d.level, 'valid_from', d.valid_from,
                       'valid_to', d.valid_to, 'review_by', d.review_by, 'review_overdue', {_OVERDUE})
                       ORDER BY d.valid_from)
                   FROM designations d
                   WHERE d.organisation_id = {_SAME_ORG} AND d.place_id = p.id AND {_CURRENT}
               ), '[]'::json) AS current_designations,
               p.created_at, p.updated_at, p.organisation_id AS _org
        FROM places p""",
    writable=("name", "kind", "address", "opening_hours", "place_manager", "notes"),
    geometry_column="geom",
    geometry_sql="r._geom",
    time_range=("r.updated_at", "r.updated_at"),
    filterable={"kind": "r.kind"},
    vocabularies={"kind": PLACE_KINDS},
    required=("name", "kind"),
    # Incidents and interventions linked to a deleted place keep their record but lose the link (and an
    # incident its kind). The service does it, not ON DELETE SET NULL: Citus refuses SET NULL on a foreign
    # key holding the distribution column (0015).
    before_delete=(
        "UPDATE incidents SET place_id = NULL, place_link = NULL WHERE organisation_id = :org AND place_id = :id",
        "UPDATE interventions SET place_id = NULL WHERE organisation_id = :org AND place_id = :id",
    ),
)

DESIGNATIONS = ResourceSpec(
    name="designation",
    table="designations",
    select_sql=f"""
        SELECT d.id, ST_AsGeoJSON(p.geom, 7)::json AS geometry, p.geom AS _geom,
               d.place_id, p.name AS place_name, d.kind, d.valid_from, d.valid_to, {_CURRENT} AS current,
               d.level, d.reason, d.review_by, {_OVERDUE} AS review_overdue, d.scheme, d.age_min, d.age_max,
               d.help_offered, d.accessibility, d.verified_on, d.notes, d.created_at, d.organisation_id AS _org
        FROM designations d JOIN places p ON p.organisation_id = d.organisation_id AND p.id = d.place_id""",
    writable=("place_id", "kind", "valid_from", "valid_to", "level", "reason", "review_by", "scheme",
              "age_min", "age_max", "help_offered", "accessibility", "verified_on", "notes"),
    geometry_column=None,
    geometry_sql="r._geom",
    time_range=("r.valid_from", "r.valid_to"),
    filterable={"kind": "r.kind", "place_id": "r.place_id", "level": "r.level",
                "review_overdue": "r.review_overdue", "current": "r.current"},
    array_columns=("help_offered",),
    conflicts={
        "designations_no_overlap": (
            "valid_from",
            "this place already has a designation of the same kind during that period; end it first",
        )
    },
    order_by="r.place_id, r.valid_from, r.id",
    vocabularies={"kind": DESIGNATION_KINDS, "level": CONCERN_LEVELS},
    required=("place_id", "kind", "valid_from", "help_offered"),
)

GUARDIANS = ResourceSpec(
    name="guardian",
    table="guardians",
    select_sql="""
        SELECT g.id, ST_AsGeoJSON(p.geom, 7)::json AS geometry, p.geom AS _geom,
               g.place_id, p.name AS place_name, g.role, g.description, g.trainings, g.hours, g.notes,
               g.created_at, g.organisation_id AS _org
        FROM guardians g JOIN places p ON p.organisation_id = g.organisation_id AND p.id = g.place_id""",
    writable=("place_id", "role", "description", "trainings", "hours", "notes"),
    geometry_column=None,
    geometry_sql="r._geom",
    time_range=None,
    filterable={"role": "r.role", "place_id": "r.place_id"},
    json_columns=("trainings",),
    vocabularies={"role": GUARDIAN_ROLES},
    required=("place_id", "role", "trainings"),
)

INCIDENTS = ResourceSpec(
    name="incident",
    table="incidents",
    select_sql="""
        SELECT i.id, ST_AsGeoJSON(i.geom, 7)::json AS geometry, i.geom AS _geom,
               i.occurred_from, i.occurred_to, i.harm_category, i.source_category, i.source, i.source_ref,
               i.location_precision, i.young_people, i.description, i.place_id, i.place_link, i.created_at,
               i.organisation_id AS _org
        FROM incidents i""",
    writable=("occurred_from", "occurred_to", "harm_category", "source_category", "source", "source_ref",
              "location_precision", "young_people", "description", "place_id", "place_link"),
    geometry_column="geom",
    geometry_sql="r._geom",
    time_range=("r.occurred_from", "r.occurred_to"),
    open_end_is_instant=True,
    filterable={"harm_category": "r.harm_category", "source": "r.source", "place_id": "r.place_id"},
    conflicts={
        "incidents_source_ref_key": (
            "properties.source_ref", "an incident with this source and source_ref already exists",
        )
    },
    order_by="r.occurred_from, r.id",
    vocabularies={"harm_category": HARM_CATEGORIES, "source": INCIDENT_SOURCES},
    required=("occurred_from", "harm_category", "source", "location_precision"),
)

INTERVENTIONS = ResourceSpec(
    name="intervention",
    table="interventions",
    select_sql="""
        SELECT v.id, ST_AsGeoJSON(COALESCE(v.geom, p.geom), 7)::json AS geometry,
               COALESCE(v.geom, p.geom) AS _geom,
               v.place_id, p.name AS place_name, v.kind, v.title, v.shareable_summary, v.description,
               v.owning_partner, v.partners, v.starts_on, v.ends_on, v.notes, v.created_at, v.organisation_id AS _org
        FROM interventions v LEFT JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id""",
    writable=("place_id", "kind", "title", "shareable_summary", "description", "owning_partner", "partners",
              "starts_on", "ends_on", "notes"),
    geometry_column="geom",
    geometry_sql="r._geom",
    # ends_on is the last day of the intervention: it runs until the start of the next day.
    time_range=("r.starts_on::timestamptz", "(r.ends_on + 1)::timestamptz"),
    filterable={"kind": "r.kind", "place_id": "r.place_id"},
    array_columns=("partners",),
    vocabularies={"kind": INTERVENTION_KINDS},
    required=("kind", "description", "owning_partner", "partners", "starts_on"),
)
