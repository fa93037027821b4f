"""SQL for safety mapping with young people (issue 21): where a worker's mark lies on the published grid, the
agreed maps written as snapped cells, and the area picture counted per cell.

A mark is snapped to the published 250 m squares of the analysis CRS: a point to the square it falls in
(half-open, ``floor(x / size)``, as :func:`app.db.analysis.cells_of_points_sql` counts incidents), a route or an
area to every square it touches (``ST_SquareGrid``, origin 0, 0 — the British National Grid's own squares).
The area picture's threshold is applied here, in ``HAVING``: a cell marked by fewer separate maps than the
threshold never leaves the database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.finder_places import match_rank
from app.db.session import CURRENT_ORG_SQL

ORG = CURRENT_ORG_SQL  # the one spelling app.db.session binds to the organisation (routing on Citus)
Cell = tuple[int, int]


@dataclass(frozen=True)
class Located:
    """What a typed name found: its label, and its geometry as GeoJSON text (EPSG:4326)."""

    label: str
    geometry: str


def cells_of_geometry(session: Session, geojson: str, srid: int, size: float, limit: int,
                      source_srid: int = 4326) -> list[Cell]:
    """The published squares a GeoJSON geometry (EPSG:4326, or ``source_srid``) touches, at most ``limit + 1``
    (the caller refuses more than ``limit``); a point gives the one square it lies in."""
    rows = session.execute(text(
        """
        WITH g AS (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:geojson), :source), :srid) AS geom)
        SELECT floor(ST_X(g.geom) / :size)::int, floor(ST_Y(g.geom) / :size)::int
        FROM g WHERE GeometryType(g.geom) = 'POINT'
        UNION
        SELECT c.i, c.j FROM g, ST_SquareGrid(:size, g.geom) AS c
        WHERE GeometryType(g.geom) <> 'POINT' AND ST_Intersects(c.geom, g.geom)
        ORDER BY 1, 2 LIMIT :lim
        """), {"geojson": geojson, "srid": srid, "size": size, "lim": limit + 1,
                                       "source": source_srid}).all()
    return [(int(i), int(j)) for i, j in rows]


def place_geometry(session: Session, place_id: int) -> Located | None:
    row = session.execute(text(
        f"SELECT name, ST_AsGeoJSON(geom, 6) FROM places WHERE organisation_id = {ORG} AND id = :id"),
        {"id": place_id}).first()
    return Located(str(row[0]), str(row[1])) if row else None


def locate_words(session: Session, words: str) -> Located | None:
    """A place (by name or address) or a street (all its segments, by name) of the organisation: the best
    match as the finder ranks them (:func:`app.db.finder_places.match_rank`: a whole name, then part of a
    name, places before streets, and last a place found only by its address)."""
    escaped = words.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    row = session.execute(text(
        f"""
        SELECT label, ST_AsGeoJSON(geom, 6) FROM (
            SELECT p.name AS label, p.geom, {match_rank("p.name")} AS rank, 0 AS source
            FROM places p WHERE p.organisation_id = {ORG} AND (p.name ILIKE :pattern OR p.address ILIKE :pattern)
            UNION ALL
            SELECT s.name, ST_Collect(s.geom), {match_rank("s.name")}, 1
            FROM street_edges s WHERE s.organisation_id = {ORG} AND s.name ILIKE :pattern GROUP BY s.name
        ) found
        ORDER BY rank, source, label LIMIT 1
        """), {"words": words.strip(), "pattern": f"%{escaped}%"}).first()
    return Located(str(row[0]), str(row[1])) if row else None


def in_service_area(session: Session, geojson: str, source_srid: int = 4326) -> bool:
    """Whether a geometry (GeoJSON in ``source_srid``) touches the organisation's service area (true when the
    organisation has none recorded: the typed name was found among its own places and streets)."""
    return bool(session.execute(text(
        f"""
        SELECT coalesce((SELECT ST_Intersects(o.service_area,
                                              ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:geojson), :source), 4326))
                         FROM organisations o WHERE o.id = {ORG} AND o.service_area IS NOT NULL), true)
        """), {"geojson": geojson, "source": source_srid}).scalar())


def cell_squares(session: Session, cells: Sequence[Cell], srid: int, size: float) -> dict[Cell, Any]:
    """Each square's outline as a GeoJSON geometry (EPSG:4326), for the session's and the area picture's maps."""
    if not cells:
        return {}
    rows = session.execute(text(
        """
        SELECT c.i, c.j, ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(c.i * :size, c.j * :size, (c.i + 1) * :size,
                                                                   (c.j + 1) * :size, :srid), 4326), 6)
        FROM unnest(CAST(:i AS int[]), CAST(:j AS int[])) AS c(i, j)
        """), {"i": [c[0] for c in cells], "j": [c[1] for c in cells], "size": size, "srid": srid}).all()
    return {(int(i), int(j)): json.loads(g) for i, j, g in rows}


def place_choices(session: Session, limit: int) -> list[dict[str, Any]]:
    """The organisation's places to choose from (a young person's safe place), by name."""
    rows = session.execute(text(
        f"SELECT id, name, kind FROM places WHERE organisation_id = {ORG} ORDER BY name, id LIMIT :lim"),
        {"lim": limit}).mappings()
    return [dict(r) for r in rows]


def guardian_choices(session: Session, limit: int) -> list[dict[str, Any]]:
    """Guardians (roles at places, never named people) to choose a trusted adult from."""
    rows = session.execute(text(
        f"""
        SELECT g.id, g.role, p.name AS place_name, p.id AS place_id FROM guardians g
        JOIN places p ON p.organisation_id = g.organisation_id AND p.id = g.place_id
        WHERE g.organisation_id = {ORG} ORDER BY p.name, g.role, g.id LIMIT :lim
        """), {"lim": limit}).mappings()
    return [dict(r) for r in rows]


# ---- writing an agreed map --------------------------------------------------------------------------------
def insert_map(session: Session, organisation_id: int, month: date, age_band: str, submission_id: UUID
               ) -> int | None:
    """The new map's id; ``None`` when this submission was already kept (the finished form posted again)."""
    found = session.execute(text(
        "INSERT INTO safety_maps (organisation_id, month, age_band, submission_id) "
        "VALUES (:org, :month, :band, :submission) "
        "ON CONFLICT ON CONSTRAINT safety_maps_submission_key DO NOTHING RETURNING id"),
        {"org": organisation_id, "month": month, "band": age_band, "submission": submission_id}).scalar()
    return int(found) if found is not None else None


def insert_marks(session: Session, organisation_id: int, map_id: int, size: int,
                 marks: Sequence[tuple[Cell, str, str | None]]) -> None:
    """One row per (cell, rating); the first shareable phrase for it is kept."""
    rows: dict[tuple[Cell, str], str | None] = {}
    for cell, rating, phrase in marks:
        rows[(cell, rating)] = rows.get((cell, rating)) or phrase
    if not rows:
        return
    session.execute(text(
        """
        INSERT INTO safety_map_marks (organisation_id, safety_map_id, cell_size, cell_i, cell_j, rating, phrase)
        VALUES (:org, :map, :size, :i, :j, :rating, :phrase)
        """), [{"org": organisation_id, "map": map_id, "size": size, "i": c[0], "j": c[1], "rating": r, "phrase": p}
               for (c, r), p in rows.items()])


def insert_safe_places(session: Session, organisation_id: int, map_id: int, place_ids: Sequence[int]) -> None:
    if not place_ids:
        return
    session.execute(text(
        "INSERT INTO safety_map_safe_places (organisation_id, safety_map_id, place_id) "
        "VALUES (:org, :map, :place) ON CONFLICT DO NOTHING"),
        [{"org": organisation_id, "map": map_id, "place": p} for p in dict.fromkeys(place_ids)])


def insert_suggestions(session: Session, organisation_id: int, month: date, size: int,
                       suggestions: Sequence[tuple[str, Cell | None]]) -> None:
    if not suggestions:
        return
    session.execute(text(
        "INSERT INTO place_suggestions (organisation_id, name, month, cell_size, cell_i, cell_j) "
        "VALUES (:org, :name, :month, :size, :i, :j)"),
        [{"org": organisation_id, "name": name, "month": month, "size": size if cell else None,
          "i": cell[0] if cell else None, "j": cell[1] if cell else None} for name, cell in suggestions])


def delete_map(session: Session, organisation_id: int, map_id: int) -> bool:
    """Remove one agreed map and (cascading) its marks and named places: the young person withdrew."""
    return session.execute(text("DELETE FROM safety_maps WHERE organisation_id = :org AND id = :id RETURNING id"),
                           {"org": organisation_id, "id": map_id}).first() is not None


# ---- the area picture ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CellMaps:
    """How many separate maps marked a cell, in all and per rating (exact: the caller discloses them)."""

    i: int
    j: int
    maps: int
    red: int
    amber: int
    green: int
    phrases: tuple[str, ...]


def area_cells(session: Session, size: int, start: date, end: date, threshold: int,
               age_bands: Sequence[str] = (), cell: Cell | None = None, counted: str | None = None
               ) -> list[CellMaps]:
    """Cells marked by at least ``threshold`` separate maps in months ``[start, end)``; fewer are never returned.
    With ``counted`` (a rating), the threshold applies to the maps giving the cell that rating (the hot-spot map's
    "young people feel unsafe here": at least ``threshold`` separate maps coloured it red)."""
    rows = session.execute(text(
        f"""
        SELECT m.cell_i, m.cell_j, count(DISTINCT m.safety_map_id) AS maps,
               count(DISTINCT m.safety_map_id) FILTER (WHERE m.rating = 'red') AS red,
               count(DISTINCT m.safety_map_id) FILTER (WHERE m.rating = 'amber') AS amber,
               count(DISTINCT m.safety_map_id) FILTER (WHERE m.rating = 'green') AS green,
               array_remove(array_agg(DISTINCT m.phrase), NULL) AS phrases
        FROM safety_map_marks m
        JOIN safety_maps s ON s.organisation_id = m.organisation_id AND s.id = m.safety_map_id
        WHERE m.organisation_id = {ORG} AND m.cell_size = :size AND s.month >= :start AND s.month < :end
          AND (cardinality(CAST(:bands AS text[])) = 0 OR s.age_band = ANY(CAST(:bands AS text[])))
          AND (CAST(:ci AS int) IS NULL OR (m.cell_i = :ci AND m.cell_j = :cj))
        GROUP BY m.cell_i, m.cell_j
        HAVING count(DISTINCT m.safety_map_id)
                   FILTER (WHERE CAST(:counted AS text) IS NULL OR m.rating = :counted) >= :threshold
        ORDER BY m.cell_i, m.cell_j
        """), {"size": size, "start": start, "end": end, "threshold": threshold, "bands": list(age_bands),
          "counted": counted,
          "ci": cell[0] if cell else None, "cj": cell[1] if cell else None}).all()
    return [CellMaps(int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), tuple(r[6] or ()))
            for r in rows]


def named_safe_places(session: Session, start: date, end: date, threshold: int) -> list[dict[str, Any]]:
    """Places named as safe by at least ``threshold`` separate maps that are not a current safe space."""
    rows = session.execute(text(
        f"""
        SELECT p.id, p.name, p.kind, count(DISTINCT sp.safety_map_id) AS maps
        FROM safety_map_safe_places sp
        JOIN safety_maps s ON s.organisation_id = sp.organisation_id AND s.id = sp.safety_map_id
        JOIN places p ON p.organisation_id = sp.organisation_id AND p.id = sp.place_id
        WHERE sp.organisation_id = {ORG} AND s.month >= :start AND s.month < :end
          AND NOT EXISTS (SELECT 1 FROM designations d
                          WHERE d.organisation_id = p.organisation_id AND d.place_id = p.id
                            AND d.kind = 'safe_space' AND d.valid_from <= now()
                            AND (d.valid_to IS NULL OR d.valid_to > now()))
        GROUP BY p.id, p.name, p.kind
        HAVING count(DISTINCT sp.safety_map_id) >= :threshold
        ORDER BY maps DESC, p.name
        """), {"start": start, "end": end, "threshold": threshold}).mappings()
    return [dict(r) for r in rows]


def suggestions(session: Session, start: date, end: date, limit: int) -> list[dict[str, Any]]:
    rows = session.execute(text(
        f"""
        SELECT id, name, kind, month, cell_i, cell_j FROM place_suggestions
        WHERE organisation_id = {ORG} AND month >= :start AND month < :end ORDER BY month DESC, name LIMIT :lim
        """), {"start": start, "end": end, "lim": limit}).mappings()
    return [dict(r) for r in rows]


def first_map_month(session: Session) -> date | None:
    """The month of the organisation's earliest safety map (the area picture's quarter list starts there)."""
    found = session.execute(text(f"SELECT min(month) FROM safety_maps WHERE organisation_id = {ORG}")).scalar()
    return found if isinstance(found, date) else None


def names_near_cells(session: Session, cells: Sequence[Cell], srid: int, size: float, within: float
                     ) -> dict[Cell, str]:
    """For each published square, the name of the nearest place lying in it or within ``within`` metres of it
    (ties by name), so a square can be read as "TL 0925 2075, near Wellgate Central Library". Squares with no
    place that close are left out. Place names are register entries, not free text."""
    if not cells:
        return {}
    rows = session.execute(text(
        f"""
        SELECT c.i, c.j, near.name
        FROM unnest(CAST(:is AS int[]), CAST(:js AS int[])) AS c(i, j)
        CROSS JOIN LATERAL (
            SELECT p.name
            FROM places p
            WHERE p.organisation_id = {ORG}
              AND ST_DWithin(ST_Transform(p.geom, :srid),
                             ST_MakeEnvelope(c.i * :size, c.j * :size, (c.i + 1) * :size, (c.j + 1) * :size, :srid),
                             :within)
            ORDER BY ST_Distance(ST_Transform(p.geom, :srid),
                                 ST_MakeEnvelope(c.i * :size, c.j * :size, (c.i + 1) * :size, (c.j + 1) * :size,
                                                 :srid)), p.name
            LIMIT 1) near
        """), {"is": [c[0] for c in cells], "js": [c[1] for c in cells], "srid": srid, "size": size,
               "within": within}).all()
    return {(int(r[0]), int(r[1])): str(r[2]) for r in rows}


def place_cell(session: Session, place_id: int, srid: int, size: float) -> Cell | None:
    """The published square a place's point on surface lies in."""
    row = session.execute(text(
        f"""
        SELECT floor(ST_X(pt) / :size)::int, floor(ST_Y(pt) / :size)::int
        FROM (SELECT ST_Transform(ST_PointOnSurface(geom), :srid) AS pt FROM places
              WHERE organisation_id = {ORG} AND id = :id) p
        """), {"id": place_id, "srid": srid, "size": size}).first()
    return (int(row[0]), int(row[1])) if row else None


# ---- review: withdrawing a map, suggested places ------------------------------------------------------------
def map_summary(session: Session, map_id: int) -> dict[str, Any] | None:
    """What an admin confirms before withdrawing a map: its month, age band and how many squares it marked."""
    row = session.execute(text(
        f"""
        SELECT s.id, s.month, s.age_band,
               (SELECT count(DISTINCT (m.cell_i, m.cell_j)) FROM safety_map_marks m
                WHERE m.organisation_id = s.organisation_id AND m.safety_map_id = s.id) AS squares,
               (SELECT count(*) FROM safety_map_safe_places p
                WHERE p.organisation_id = s.organisation_id AND p.safety_map_id = s.id) AS safe_places
        FROM safety_maps s WHERE s.organisation_id = {ORG} AND s.id = :id
        """), {"id": map_id}).mappings().first()
    return dict(row) if row else None


def suggestion(session: Session, suggestion_id: int) -> dict[str, Any] | None:
    row = session.execute(text(
        f"SELECT id, name, kind, month, cell_i, cell_j FROM place_suggestions "
        f"WHERE organisation_id = {ORG} AND id = :id"),
        {"id": suggestion_id}).mappings().first()
    return dict(row) if row else None


def delete_suggestion(session: Session, suggestion_id: int) -> bool:
    return session.execute(text(
        f"DELETE FROM place_suggestions WHERE organisation_id = {ORG} AND id = :id RETURNING id"),
        {"id": suggestion_id}).first() is not None


def lonlat(session: Session, x: float, y: float, srid: int) -> tuple[float, float]:
    """A point of ``srid`` (the analysis CRS, or the National Grid) as longitude and latitude."""
    row = session.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), :srid), 4326) AS p"),
        {"x": x, "y": y, "srid": srid}).one()
    return round(float(row[0]), 7), round(float(row[1]), 7)
