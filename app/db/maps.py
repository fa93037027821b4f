"""The SQL the map pages need that no other repository provides.

Everything runs in the signed-in organisation's session, so row-level security scopes every query.
Incident counts are aggregated in PostGIS on the indexed metric column (``geom_metric``, the analysis
CRS) into square cells keyed by integer ``(i, j)``: cell ``(i, j)`` is
``[size*i, size*(i+1)) x [size*j, size*(j+1))``, the same cells as ``ST_SquareGrid`` and
:func:`geo.grid.square_polygon`. No incident coordinate or description leaves this module.

An incident known only to a time window (a police.uk month) is counted at the window's start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import NotFound

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class IncidentFilter:
    """Incidents whose start lies in ``[start, end)``, optionally of some harm categories only."""

    start: datetime
    end: datetime
    harm_categories: tuple[str, ...] = ()

    def sql(self, alias: str = "i") -> tuple[str, dict[str, Any]]:
        where = f"{alias}.occurred_from >= :f_start AND {alias}.occurred_from < :f_end"
        params: dict[str, Any] = {"f_start": self.start, "f_end": self.end}
        if self.harm_categories:
            where += f" AND {alias}.harm_category = ANY(:f_harm)"
            params["f_harm"] = list(self.harm_categories)
        return where, params


@dataclass(frozen=True)
class GridCounts:
    """Incident counts per square cell of ``size`` metres (cells with no incidents are absent)."""

    i: IntArray
    j: IntArray
    count: IntArray
    size: float


@dataclass(frozen=True)
class Centre:
    """What distances are measured from: a place, or an intervention (its own geometry, else its place's)."""

    kind: str  # "place" or "intervention"
    id: int
    srid: int

    def sql(self) -> tuple[str, dict[str, Any]]:
        """A scalar subquery giving the centre's geometry in the metric CRS."""
        params = {"centre_id": self.id, "centre_srid": self.srid}
        if self.kind == "place":
            return "(SELECT cp.geom_metric FROM places cp WHERE cp.id = :centre_id)", params
        if self.kind == "intervention":
            return (
                "(SELECT ST_Transform(COALESCE(cv.geom, cp.geom), CAST(:centre_srid AS integer)) "
                "FROM interventions cv LEFT JOIN places cp ON cp.id = cv.place_id WHERE cv.id = :centre_id)",
                params,
            )
        raise ValueError(f"unknown centre kind {self.kind!r}")


@dataclass(frozen=True)
class Near:
    """Within ``radius_m`` metres of a centre."""

    centre: Centre
    radius_m: float


def _near_sql(near: Near | None, column: str) -> tuple[str, dict[str, Any]]:
    if near is None:
        return "true", {}
    centre, params = near.centre.sql()
    return f"ST_DWithin({column}, {centre}, :near_r)", params | {"near_r": near.radius_m}


def _two_windows(before: IncidentFilter, after: IncidentFilter) -> tuple[str, str, dict[str, Any]]:
    """SQL conditions for two incident windows with distinct parameter names."""
    before_where, before_params = before.sql()
    after_where, after_params = after.sql()
    params = {"b_" + k[2:]: v for k, v in before_params.items()}
    params |= {"a_" + k[2:]: v for k, v in after_params.items()}
    return before_where.replace(":f_", ":b_"), after_where.replace(":f_", ":a_"), params


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Rows with a GeoJSON ``geometry`` string → GeoDataFrame in EPSG:4326 (empty rows allowed)."""
    geometries = [shape(json.loads(r["geometry"])) for r in rows]
    data = {c: [r.get(c) for r in rows] for c in columns}
    return gpd.GeoDataFrame(data, geometry=geometries, crs="EPSG:4326")


# ---- incidents, aggregated -------------------------------------------------------------------------
def incident_extent(
    session: Session, incidents: IncidentFilter, near: Near | None = None
) -> tuple[float, float, float, float] | None:
    """Bounding box (metric CRS) of the matching incidents, or ``None`` when there are none."""
    where, params = incidents.sql()
    near_where, near_params = _near_sql(near, "i.geom_metric")
    row = session.execute(
        text(
            "SELECT min(ST_X(i.geom_metric)), min(ST_Y(i.geom_metric)), max(ST_X(i.geom_metric)), "
            f"max(ST_Y(i.geom_metric)) FROM incidents i WHERE {where} AND {near_where}"
        ),
        params | near_params,
    ).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def service_area_extent(session: Session, srid: int) -> tuple[float, float, float, float] | None:
    """The organisation's service area bounds in the metric CRS, if it has one."""
    row = session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            "ST_Extent(ST_Transform(service_area, CAST(:srid AS integer)))::geometry AS e "
            "FROM organisations WHERE service_area IS NOT NULL) AS s"
        ),
        {"srid": srid},
    ).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def grid_counts(
    session: Session,
    incidents: IncidentFilter,
    size: float,
    bounds: tuple[float, float, float, float] | None = None,
    near: Near | None = None,
) -> GridCounts:
    """Count incidents per ``size``-metre square cell, in one pass over the index-filtered rows."""
    where, params = incidents.sql()
    near_where, near_params = _near_sql(near, "i.geom_metric")
    box = "true"
    if bounds is not None:
        box = "i.geom_metric && ST_MakeEnvelope(:x0, :y0, :x1, :y1, ST_SRID(i.geom_metric))"
        params |= dict(zip(("x0", "y0", "x1", "y1"), bounds, strict=True))
    rows = session.execute(
        text(
            "SELECT floor(ST_X(i.geom_metric) / :size)::bigint AS i, "
            "floor(ST_Y(i.geom_metric) / :size)::bigint AS j, count(*) AS n "
            f"FROM incidents i WHERE {where} AND {near_where} AND {box} GROUP BY 1, 2"
        ),
        params | near_params | {"size": size},
    ).all()
    array = np.array([(r[0], r[1], r[2]) for r in rows], dtype=np.int64).reshape(-1, 3)
    return GridCounts(array[:, 0], array[:, 1], array[:, 2], float(size))


def monthly_grid_counts(
    session: Session, incidents: IncidentFilter, size: float, near: Near
) -> list[tuple[int, int, str, int]]:
    """``(i, j, "YYYY-MM", count)`` per cell and month (Europe/London months) near a place."""
    where, params = incidents.sql()
    near_where, near_params = _near_sql(near, "i.geom_metric")
    rows = session.execute(
        text(
            "SELECT floor(ST_X(i.geom_metric) / :size)::bigint, floor(ST_Y(i.geom_metric) / :size)::bigint, "
            "to_char(i.occurred_from AT TIME ZONE 'Europe/London', 'YYYY-MM') AS month, count(*) "
            f"FROM incidents i WHERE {where} AND {near_where} GROUP BY 1, 2, 3 ORDER BY 3, 1, 2"
        ),
        params | near_params | {"size": size},
    ).all()
    return [(int(r[0]), int(r[1]), str(r[2]), int(r[3])) for r in rows]


def monthly_counts(session: Session, incidents: IncidentFilter, near: Near | None = None) -> dict[str, int]:
    """Incidents a month ("YYYY-MM", Europe/London) — only months with incidents are present."""
    where, params = incidents.sql()
    near_where, near_params = _near_sql(near, "i.geom_metric")
    rows = session.execute(
        text(
            "SELECT to_char(i.occurred_from AT TIME ZONE 'Europe/London', 'YYYY-MM') AS month, count(*) "
            f"FROM incidents i WHERE {where} AND {near_where} GROUP BY 1 ORDER BY 1"
        ),
        params | near_params,
    ).all()
    return {str(r[0]): int(r[1]) for r in rows}


def first_incident_at(session: Session) -> datetime | None:
    """When the organisation's earliest incident started (the start of its data)."""
    value = session.execute(text("SELECT min(occurred_from) FROM incidents")).scalar()
    return value if isinstance(value, datetime) else None


@dataclass(frozen=True)
class AreaCounts:
    """Before/after incident counts in the target, its buffer ring and the control ring."""

    target: tuple[int, int]
    buffer: tuple[int, int]
    control: tuple[int, int]


def area_counts(
    session: Session,
    centre: Centre,
    radii: tuple[float, float, float, float],
    before: IncidentFilter,
    after: IncidentFilter,
) -> AreaCounts:
    """Counts by distance from a centre: target ``[0, r0]``, buffer ``(r0, r1]``, control ``(r2, r3]``.

    Rings around one centre rather than arbitrary polygons, so one indexed radius query and one
    distance per row does it (ST_DWithin on the GiST-indexed metric column).
    """
    r0, r1, r2, r3 = radii
    before_where, after_where, params = _two_windows(before, after)
    centre_sql, centre_params = centre.sql()
    row = session.execute(
        text(
            f"""
            WITH c AS (SELECT {centre_sql} AS g),
            d AS (
                SELECT ST_Distance(i.geom_metric, c.g) AS d,
                       ({before_where}) AS is_before, ({after_where}) AS is_after
                FROM incidents i, c
                WHERE ST_DWithin(i.geom_metric, c.g, :r3) AND (({before_where}) OR ({after_where}))
            )
            SELECT count(*) FILTER (WHERE d <= :r0 AND is_before), count(*) FILTER (WHERE d <= :r0 AND is_after),
                   count(*) FILTER (WHERE d > :r0 AND d <= :r1 AND is_before),
                   count(*) FILTER (WHERE d > :r0 AND d <= :r1 AND is_after),
                   count(*) FILTER (WHERE d > :r2 AND is_before), count(*) FILTER (WHERE d > :r2 AND is_after)
            FROM d
            """
        ),
        params | centre_params | {"r0": r0, "r1": r1, "r2": r2, "r3": r3},
    ).one()
    return AreaCounts((row[0], row[1]), (row[2], row[3]), (row[4], row[5]))


def rings(session: Session, centre: Centre, radii: Sequence[tuple[float, float]]) -> list[Any]:
    """Shapely (EPSG:4326) discs (inner radius 0) or rings around a centre, built in the metric CRS."""
    centre_sql, centre_params = centre.sql()
    shapes = []
    for inner, outer in radii:
        geojson = session.execute(
            text(
                "SELECT ST_AsGeoJSON(ST_Transform(CASE WHEN :inner > 0 THEN "
                "ST_Difference(ST_Buffer(g, :outer, 32), ST_Buffer(g, :inner, 32)) "
                f"ELSE ST_Buffer(g, :outer, 32) END, 4326), 6) FROM (SELECT {centre_sql} AS g) AS c "
                "WHERE g IS NOT NULL"
            ),
            centre_params | {"inner": inner, "outer": outer},
        ).scalar()
        shapes.append(shape(json.loads(geojson)) if geojson else None)
    return shapes


def place_counts_before_after(
    session: Session, near: Near, radius_m: float, before: IncidentFilter, after: IncidentFilter,
    exclude_place_id: int | None = None,
) -> list[dict[str, Any]]:
    """For each place within ``near``: incidents within ``radius_m`` of it before and after.

    Incidents are counted by distance, not by the stored place link, so places of any size and
    incidents that were never linked are treated alike.
    """
    before_where, after_where, params = _two_windows(before, after)
    near_where, near_params = _near_sql(near, "p.geom_metric")
    rows = session.execute(
        text(
            f"""
            SELECT p.id AS place_id, p.name, ST_X(ST_PointOnSurface(p.geom)) AS lon,
                   ST_Y(ST_PointOnSurface(p.geom)) AS lat, c.before, c.after
            FROM places p
            CROSS JOIN LATERAL (
                SELECT count(*) FILTER (WHERE {before_where}) AS before,
                       count(*) FILTER (WHERE {after_where}) AS after
                FROM incidents i
                WHERE ST_DWithin(i.geom_metric, p.geom_metric, :radius)
                  AND (({before_where}) OR ({after_where}))
            ) AS c
            WHERE {near_where} AND p.id IS DISTINCT FROM :exclude
            ORDER BY p.id
            """
        ),
        params | near_params | {"radius": radius_m, "exclude": exclude_place_id},
    ).mappings()
    return [dict(r) for r in rows]


# ---- places, designations, guardians, interventions -------------------------------------------------
def concerns(session: Session, start: datetime, end: datetime, near: Near | None = None) -> gpd.GeoDataFrame:
    """Places of concern during ``[start, end)``: each place once, with its latest concern designation."""
    near_where, near_params = _near_sql(near, "p.geom_metric")
    rows = session.execute(
        text(
            f"""
            SELECT DISTINCT ON (p.id) p.id AS place_id, p.name, p.kind, d.level, d.reason, d.review_by,
                   ST_AsGeoJSON(p.geom, 6) AS geometry
            FROM designations d JOIN places p ON p.id = d.place_id
            WHERE d.kind = 'concern' AND d.valid_from < :end AND (d.valid_to IS NULL OR d.valid_to > :start)
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
            """
            SELECT v.id, v.kind, v.description, v.owning_partner, v.starts_on, v.ends_on, p.name AS place_name,
                   ST_AsGeoJSON(COALESCE(v.geom, p.geom), 6) AS geometry
            FROM interventions v LEFT JOIN places p ON p.id = v.place_id
            WHERE COALESCE(v.geom, p.geom) IS NOT NULL
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
            """
            SELECT v.id, v.kind, v.description, v.owning_partner, v.starts_on, v.ends_on, v.place_id,
                   p.name AS place_name, (COALESCE(v.geom, p.geom) IS NOT NULL) AS located
            FROM interventions v LEFT JOIN places p ON p.id = v.place_id
            ORDER BY v.starts_on DESC, v.id DESC
            """
        )
    ).mappings()
    return [dict(r) for r in rows]


def intervention(session: Session, intervention_id: int) -> dict[str, Any]:
    """One intervention with the place whose surroundings its displacement is measured around."""
    row = session.execute(
        text(
            """
            SELECT v.id, v.kind, v.description, v.owning_partner, v.starts_on, v.ends_on, v.place_id,
                   p.name AS place_name, (COALESCE(v.geom, p.geom) IS NOT NULL) AS located
            FROM interventions v LEFT JOIN places p ON p.id = v.place_id WHERE v.id = :id
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
            "FROM places WHERE id = :id"
        ),
        {"id": place_id},
    ).mappings().first()
    if row is None:
        raise NotFound(f"no place with id {place_id} in your organisation", field="place_id")
    out = dict(row)
    out["geometry"] = shape(json.loads(out["geometry"]))
    return out


def designation_history(session: Session, place_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            "SELECT kind, valid_from, valid_to, level, reason, scheme FROM designations "
            "WHERE place_id = :id ORDER BY valid_from, id"
        ),
        {"id": place_id},
    ).mappings()
    return [dict(r) for r in rows]


def guardians_of(session: Session, place_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        text("SELECT role, trainings, hours FROM guardians WHERE place_id = :id ORDER BY role, id"),
        {"id": place_id},
    ).mappings()
    return [dict(r) for r in rows]
