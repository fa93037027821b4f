"""The SQL the map pages need that no other repository provides: the places, designations and
interventions drawn as layers, and the few look-ups the pages make. Incident aggregation (grids, time
steps, displacement) is :mod:`app.db.analysis`'s; safe spaces are :mod:`app.db.safe_spaces`'.

Everything runs in the signed-in organisation's session, so row-level security scopes every query.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import geopandas as gpd
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.session import CURRENT_ORG_SQL
from app.exceptions import NotFound


@dataclass(frozen=True)
class Near:
    """Within ``radius_m`` metres of a place (distances on the indexed metric column)."""

    place_id: int
    radius_m: float


def _near_sql(near: Near | None, column: str) -> tuple[str, dict[str, Any]]:
    if near is None:
        return "true", {}
    return (
        f"ST_DWithin({column}, (SELECT np.geom_metric FROM places np WHERE np.id = :near_id), :near_r)",
        {"near_id": near.place_id, "near_r": near.radius_m},
    )


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Rows with a GeoJSON ``geometry`` string → GeoDataFrame in EPSG:4326 (no rows allowed)."""
    geometries = [shape(json.loads(r["geometry"])) for r in rows]
    return gpd.GeoDataFrame({c: [r.get(c) for r in rows] for c in columns}, geometry=geometries, crs="EPSG:4326")


def place_points(session: Session, place_ids: Sequence[int]) -> dict[int, tuple[float, float]]:
    """A point on each place (inside it, for areas) as (lon, lat)."""
    rows = session.execute(
        text("SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM places "
             f"WHERE organisation_id = {CURRENT_ORG_SQL} AND id = ANY(:ids)"),
        {"ids": list(place_ids)},
    ).all()
    return {int(r[0]): (float(r[1]), float(r[2])) for r in rows}


def first_incident_at(session: Session) -> datetime | None:
    """When the organisation's earliest incident started (the start of its data)."""
    value = session.execute(text(
        f"SELECT min(occurred_from) FROM incidents WHERE organisation_id = {CURRENT_ORG_SQL}")).scalar()
    return value if isinstance(value, datetime) else None


# ---- places, designations, guardians, interventions -------------------------------------------------
def concerns(session: Session, start: datetime, end: datetime, near: Near | None = None) -> gpd.GeoDataFrame:
    """Places of concern during ``[start, end)``: each place once, with its latest concern designation."""
    near_where, near_params = _near_sql(near, "p.geom_metric")
    rows = session.execute(
        text(
            f"""
            SELECT DISTINCT ON (p.id) p.id AS place_id, p.name, p.kind, d.level, d.reason, d.review_by,
                   ST_AsGeoJSON(p.geom, 6) AS geometry
            FROM designations d JOIN places p ON p.organisation_id = d.organisation_id AND p.id = d.place_id
            WHERE d.organisation_id = {CURRENT_ORG_SQL} AND d.kind = 'concern' AND d.valid_from < :end
              AND (d.valid_to IS NULL OR d.valid_to > :start)
              AND {near_where}
            ORDER BY p.id, d.valid_from DESC
            """
        ),
        {"start": start, "end": end} | near_params,
    ).mappings()
    return _frame([dict(r) for r in rows], ("place_id", "name", "kind", "level", "reason", "review_by"))


def interventions(session: Session, start: date | None = None, end: date | None = None) -> gpd.GeoDataFrame:
    """Interventions with a location (their own geometry, else their place's) active during the window."""
    rows = session.execute(
        text(
            f"""
            SELECT v.id, v.kind, v.description, v.owning_partner, v.starts_on, v.ends_on, p.name AS place_name,
                   ST_AsGeoJSON(COALESCE(v.geom, p.geom), 6) AS geometry
            FROM interventions v LEFT JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id
            WHERE v.organisation_id = {CURRENT_ORG_SQL} AND COALESCE(v.geom, p.geom) IS NOT NULL
              AND (CAST(:end AS date) IS NULL OR v.starts_on < CAST(:end AS date))
              AND (CAST(:start AS date) IS NULL OR v.ends_on IS NULL OR v.ends_on >= CAST(:start AS date))
            ORDER BY v.starts_on, v.id
            """
        ),
        {"start": start, "end": end},
    ).mappings()
    return _frame(
        [dict(r) for r in rows],
        ("id", "kind", "description", "owning_partner", "starts_on", "ends_on", "place_name"),
    )


def intervention_list(session: Session) -> list[dict[str, Any]]:
    """Every intervention, newest first, with its place's name (for choosers and the home page)."""
    rows = session.execute(
        text(
            f"""
            SELECT v.id, v.kind, v.description, v.owning_partner, v.starts_on, v.ends_on, v.place_id,
                   p.name AS place_name, (COALESCE(v.geom, p.geom) IS NOT NULL) AS located
            FROM interventions v LEFT JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id
            WHERE v.organisation_id = {CURRENT_ORG_SQL}
            ORDER BY v.starts_on DESC, v.id DESC
            """
        )
    ).mappings()
    return [dict(r) for r in rows]


def intervention(session: Session, intervention_id: int) -> dict[str, Any]:
    """One intervention with the place whose surroundings its displacement is measured around."""
    row = session.execute(
        text(
            f"""
            SELECT v.id, v.kind, v.description, v.owning_partner, v.starts_on, v.ends_on, v.place_id,
                   p.name AS place_name, (COALESCE(v.geom, p.geom) IS NOT NULL) AS located
            FROM interventions v LEFT JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id
            WHERE v.organisation_id = {CURRENT_ORG_SQL} AND v.id = :id
            """
        ),
        {"id": intervention_id},
    ).mappings().first()
    if row is None:
        raise NotFound(f"no intervention with id {intervention_id} in your organisation", field="intervention")
    return dict(row)


def place(session: Session, place_id: int) -> dict[str, Any]:
    row = session.execute(
        text(
            "SELECT id, name, kind, address, opening_hours, place_manager, ST_AsGeoJSON(geom, 6) AS geometry "
            f"FROM places WHERE organisation_id = {CURRENT_ORG_SQL} AND id = :id"
        ),
        {"id": place_id},
    ).mappings().first()
    if row is None:
        raise NotFound(f"no place with id {place_id} in your organisation", field="place_id")
    out = dict(row)
    out["geometry"] = shape(json.loads(out["geometry"]))
    return out


def street_lines(session: Session, limit: int) -> dict[str, Any] | None:
    """The organisation's street network as one GeoJSON MultiLineString, or ``None`` if it has none.

    The map background when no basemap is loaded. At most ``limit`` edges (longest first, so the main
    roads survive a cut), simplified to about 2 m and rounded to 5 decimals (about 1 m): a town's
    streets stay a few hundred kilobytes.
    """
    row = session.execute(
        text(
            "SELECT ST_AsGeoJSON(ST_Collect(ST_SimplifyPreserveTopology(geom, 0.00002)), 5) FROM ("
            f"  SELECT geom FROM street_edges WHERE organisation_id = {CURRENT_ORG_SQL} "
            "  ORDER BY ST_Length(geom_metric) DESC, id LIMIT :limit) AS e"
        ),
        {"limit": limit},
    ).scalar()
    return None if row is None else dict(json.loads(row))


def has_streets(session: Session) -> bool:
    """Whether the organisation has a street network loaded."""
    return session.execute(text(
        f"SELECT EXISTS (SELECT 1 FROM street_edges WHERE organisation_id = {CURRENT_ORG_SQL})")).scalar() is True
