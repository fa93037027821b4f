"""Mapbox vector tiles (``ST_AsMVT``) for the large layers: incident points and hexagon-cell counts.

PostGIS encodes the tiles (``ST_TileEnvelope`` → ``ST_AsMVTGeom`` → ``ST_AsMVT``); Python only passes
the cell counts through disclosure control. The tile envelope is Web Mercator (EPSG:3857); incidents are
found through the EPSG:4326 index — a Mercator rectangle is a lon/lat rectangle, so the filter is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.analysis import Grid, IncidentFilter, grid_counts, record_time_sql

EXTENT = 4096
BUFFER = 64
#: Most incident points in one tile; a denser tile is a sign to zoom in or use the cell layer.
MAX_TILE_FEATURES = 20_000
#: Below this zoom a tile spans more than ~25 km in England and a 250 m hexagon is under a pixel or two:
#: the cell layer is left empty there rather than aggregating a whole region per tile.
MIN_CELL_ZOOM = 10


def _time_filter(interval: tuple[datetime | None, datetime | None] | None) -> tuple[list[str], dict[str, Any]]:
    if interval is None:
        return [], {}
    return record_time_sql("i.occurred_from", "i.occurred_to", *interval)


def incident_tile(
    session: Session, z: int, x: int, y: int, *,
    interval: tuple[datetime | None, datetime | None] | None = None, harm_categories: Sequence[str] = (),
) -> tuple[bytes, int]:
    """The ``incidents`` layer of tile z/x/y: one point per incident (individual records). Returns the tile
    and the number of incidents in it (for the audit trail)."""
    where, params = _time_filter(interval)
    if harm_categories:
        where.append("i.harm_category = ANY(:harm)")
        params["harm"] = list(harm_categories)
    row = session.execute(text(
        f"""
        WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env),
        features AS (
            SELECT i.id, i.harm_category, i.source_category, i.source, i.location_precision,
                   to_json(i.occurred_from) #>> '{{}}' AS occurred_from,
                   to_json(i.occurred_to) #>> '{{}}' AS occurred_to, i.place_id,
                   ST_AsMVTGeom(ST_Transform(i.geom, 3857), bounds.env, {EXTENT}, {BUFFER}, true) AS geom
            FROM incidents i, bounds
            -- The envelope is spelled out (no reference to ``bounds``) so that ``&&`` stays leakproof and
            -- drives the GiST index under row-level security (migration 0004).
            WHERE i.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326)
                  {"AND " + " AND ".join(where) if where else ""}
            ORDER BY i.occurred_from DESC, i.id
            LIMIT {MAX_TILE_FEATURES}
        )
        SELECT ST_AsMVT(features, 'incidents', {EXTENT}, 'geom', 'id') AS tile, count(*) AS n FROM features
        """
    ), {"z": z, "x": x, "y": y, **params}).one()
    return bytes(row.tile or b""), int(row.n)


def tile_cell_counts(session: Session, z: int, x: int, y: int, *, grid: Grid, filt: IncidentFilter
                     ) -> list[tuple[int, int, int]]:
    """``(i, j, count)`` of the cells touching tile z/x/y, counted over whole cells.

    The incidents are gathered from the tile grown by four cell widths, so a cell cut by the tile edge
    still counts all of its incidents (and matches the neighbouring tile and the OGC collection).
    """
    if z < MIN_CELL_ZOOM:
        return []
    box = session.execute(text(
        f"""SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (
                SELECT ST_Expand(ST_Transform(ST_TileEnvelope(:z, :x, :y), {int(grid.srid)}), :margin)::box2d AS b) s"""
    ), {"z": z, "x": x, "y": y, "margin": 4 * grid.size}).one()
    counts = grid_counts(session, grid, replace(filt, bbox=None, box=(float(box[0]), float(box[1]), float(box[2]),
                                                                      float(box[3])), box_srid=grid.srid))
    return [(int(i), int(j), int(n)) for i, j, n in zip(counts.i, counts.j, counts.count, strict=True)]


def cell_tile(session: Session, z: int, x: int, y: int, cells: Sequence[tuple[int, int, int]], *,
              grid: Grid) -> bytes:
    """The ``hotspot-cells`` layer of tile z/x/y from ``(i, j, count)`` rows (already disclosure-controlled)."""
    if not cells:
        return b""
    row = session.execute(text(
        f"""
        WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env),
        features AS (
            SELECT c.i, c.j, c.n AS incidents,
                   ST_AsMVTGeom(ST_Transform({grid.single}(:size, c.i, c.j,
                                                           ST_SetSRID(ST_MakePoint(0, 0), {int(grid.srid)})), 3857),
                                bounds.env, {EXTENT}, {BUFFER}, true) AS geom
            FROM unnest(CAST(:ii AS int[]), CAST(:jj AS int[]), CAST(:nn AS int[])) AS c(i, j, n), bounds
        )
        SELECT ST_AsMVT(features, 'hotspot-cells', {EXTENT}, 'geom') FROM features WHERE geom IS NOT NULL
        """
    ), {"z": z, "x": x, "y": y, "size": grid.size, "ii": [c[0] for c in cells], "jj": [c[1] for c in cells],
        "nn": [c[2] for c in cells]}).scalar()
    return bytes(row or b"")
