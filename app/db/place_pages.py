"""SQL for the web application's places pages: the searchable, sortable list and the place's own history
(everything else on the place page comes from the same repositories as the JSON API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.session import CURRENT_ORG_SQL

_CURRENT = "d.valid_from <= now() AND (d.valid_to IS NULL OR d.valid_to > now())"

# Sortable columns: the query parameter names a key here, never SQL.
SORTS = {
    "name": ("lower(r.name), r.id", "lower(r.name) DESC, r.id"),
    "kind": ("r.kind, lower(r.name), r.id", "r.kind DESC, lower(r.name), r.id"),
    "review": ("r.review_by NULLS LAST, lower(r.name), r.id", "r.review_by DESC NULLS LAST, lower(r.name), r.id"),
    "updated": ("r.updated_at, r.id", "r.updated_at DESC, r.id"),
}


@dataclass(frozen=True)
class PlaceSearch:
    text: str | None = None
    kinds: tuple[str, ...] = ()
    designation: str | None = None  # "concern", "safe_space" or "none"
    review_overdue: bool = False
    has_guardians: bool = False
    sort: str = "name"
    descending: bool = False
    limit: int = 20
    offset: int = 0


def search_places(session: Session, search: PlaceSearch) -> tuple[list[dict[str, Any]], int]:
    """One page of places matching the search, and how many match in all."""
    where: list[str] = []
    params: dict[str, Any] = {"lim": search.limit, "off": search.offset}
    if search.text:
        # ILIKE with the user's text as a parameter; % and _ in it are escaped so they match literally.
        escaped = search.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("(r.name ILIKE :q OR r.address ILIKE :q)")
        params["q"] = f"%{escaped}%"
    if search.kinds:
        where.append("r.kind = ANY(:kinds)")
        params["kinds"] = list(search.kinds)
    if search.designation in ("concern", "safe_space"):
        where.append(":designation = ANY(r.designations)")
        params["designation"] = search.designation
    elif search.designation == "none":
        where.append("cardinality(r.designations) = 0")
    if search.review_overdue:
        where.append("r.review_overdue")
    if search.has_guardians:
        where.append("r.guardians > 0")
    order = SORTS.get(search.sort, SORTS["name"])[1 if search.descending else 0]
    sql = f"""
        SELECT r.*, count(*) OVER () AS total FROM (
            SELECT p.id, p.name, p.kind, p.address, p.updated_at,
                   ST_X(ST_PointOnSurface(p.geom)) AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat,
                   COALESCE(cur.kinds, ARRAY[]::text[]) AS designations, cur.level, cur.review_by,
                   COALESCE(cur.overdue, false) AS review_overdue, COALESCE(g.n, 0) AS guardians
            FROM places p
            LEFT JOIN LATERAL (
                SELECT array_agg(DISTINCT d.kind ORDER BY d.kind) AS kinds,
                       max(d.level) FILTER (WHERE d.kind = 'concern') AS level,
                       min(d.review_by) FILTER (WHERE d.kind = 'concern') AS review_by,
                       bool_or(d.kind = 'concern' AND d.review_by < current_date) AS overdue
                FROM designations d WHERE d.organisation_id = p.organisation_id AND d.place_id = p.id AND {_CURRENT}
            ) cur ON true
            LEFT JOIN LATERAL (SELECT count(*) AS n FROM guardians g
                               WHERE g.organisation_id = p.organisation_id AND g.place_id = p.id) g ON true
        ) r
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY {order} LIMIT :lim OFFSET :off"""
    rows = [dict(r) for r in session.execute(text(sql), params).mappings()]
    if not rows and search.offset:  # past the last page: the total still tells the pager where to go
        _, total = search_places(session, PlaceSearch(**{**search.__dict__, "offset": 0, "limit": 1}))
        return [], total
    return rows, int(rows[0]["total"]) if rows else 0


def place_point(session: Session, place_id: int) -> tuple[float, float] | None:
    """A point on the place (its centre if it is an area), lon/lat."""
    row = session.execute(text(
        "SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat FROM places "
        f"WHERE organisation_id = {CURRENT_ORG_SQL} AND id = :id"
    ), {"id": place_id}).first()
    return None if row is None else (float(row.lon), float(row.lat))


def service_area_centre(session: Session) -> tuple[float, float] | None:
    row = session.execute(text(
        "SELECT ST_X(c) AS lon, ST_Y(c) AS lat FROM (SELECT ST_Centroid(ST_Extent(geom)) AS c FROM places) x "
        "WHERE c IS NOT NULL")).first()
    return None if row is None else (float(row.lon), float(row.lat))


def interventions_around(session: Session, place_id: int, within_m: float, srid: int, limit: int = 50
                         ) -> list[dict[str, Any]]:
    """Interventions *around* a place, not at it: those whose own area, or whose place, lies within
    ``within_m`` metres of the place (its point or outline), nearest first, with the distance in metres
    (0 when they touch or overlap)."""
    srid = int(srid)
    return [dict(r) for r in session.execute(text(f"""
        SELECT v.id, v.kind, v.title, v.description, v.owning_partner, v.starts_on, v.ends_on, v.place_id,
               vp.name AS place_name, v.geom IS NOT NULL AS has_area,
               round(ST_Distance(ST_Transform(COALESCE(v.geom, vp.geom), {srid}), p.geom_metric))::integer
                   AS distance_m
        FROM places p
        JOIN interventions v ON v.organisation_id = p.organisation_id AND v.place_id IS DISTINCT FROM p.id
        LEFT JOIN places vp ON vp.organisation_id = v.organisation_id AND vp.id = v.place_id
        WHERE p.organisation_id = {CURRENT_ORG_SQL} AND p.id = :id AND COALESCE(v.geom, vp.geom) IS NOT NULL
          AND ST_DWithin(ST_Transform(COALESCE(v.geom, vp.geom), {srid}), p.geom_metric, :within)
        ORDER BY distance_m, v.starts_on DESC, v.id
        LIMIT :lim"""), {"id": place_id, "within": within_m, "lim": limit}).mappings()]
