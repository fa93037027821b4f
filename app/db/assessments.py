"""SQL for context assessments, through the generic repository (one spec, no copied CRUD)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.db.repository import ResourceSpec

SIDES = ("young_people", "guardianship", "environment")

_OVERDUE = "(a.review_on IS NOT NULL AND a.review_on < current_date)"

ASSESSMENTS = ResourceSpec(
    name="assessment",
    table="assessments",
    select_sql=f"""
        SELECT a.id, ST_AsGeoJSON(p.geom, 7)::json AS geometry, p.geom AS _geom,
               a.place_id, p.name AS place_name, a.assessed_on,
               json_build_object('rating', a.young_people_rating, 'notes', a.young_people_notes) AS young_people,
               json_build_object('rating', a.guardianship_rating, 'notes', a.guardianship_notes) AS guardianship,
               json_build_object('rating', a.environment_rating, 'notes', a.environment_notes) AS environment,
               a.methods, a.context_weighting, a.recommended_responses, a.review_on,
               {_OVERDUE} AS review_overdue, a.goals, a.notes, a.created_at, a.updated_at,
               a.organisation_id AS _org
        FROM assessments a JOIN places p ON p.organisation_id = a.organisation_id AND p.id = a.place_id""",
    writable=("place_id", "assessed_on", "young_people_rating", "young_people_notes", "guardianship_rating",
              "guardianship_notes", "environment_rating", "environment_notes", "methods", "context_weighting",
              "recommended_responses", "review_on", "goals", "notes", "updated_at"),
    geometry_column=None,
    geometry_sql="r._geom",
    time_range=("r.assessed_on::timestamptz", "r.assessed_on::timestamptz"),
    filterable={"place_id": "r.place_id", "review_overdue": "r.review_overdue"},
    array_columns=("methods", "recommended_responses"),
    json_columns=("goals",),
    order_by="r.place_id, r.assessed_on, r.id",
)


def columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """Request fields (nested sides) as table columns (``young_people_rating``, ``young_people_notes``...)."""
    flat: dict[str, Any] = {}
    for name, value in values.items():
        if name in SIDES:
            flat[f"{name}_rating"] = value["rating"]
            flat[f"{name}_notes"] = value.get("notes")
        else:
            flat[name] = value
    return flat
