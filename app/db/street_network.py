"""Each organisation's walkable street network: loading it, and the cached graph built from it."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.walking import StreetNetwork


@dataclass(frozen=True)
class StreetLine:
    """One street line in EPSG:4326, with the source feature's number for error reports."""

    geometry: BaseGeometry
    name: str | None = None
    feature: int | None = None


def _segments(geometry: BaseGeometry) -> list[LineString]:
    if isinstance(geometry, LineString):
        return [geometry]
    if isinstance(geometry, MultiLineString):
        return list(geometry.geoms)
    return []


def load_street_edges(
    session: Session, organisation_id: int, lines: Iterable[StreetLine], *, replace: bool = True,
) -> int:
    """Store the lines as the organisation's street network (replacing the old one unless told not to).

    Multi-lines are split into their parts; lines need two distinct vertices. Returns the number stored.
    """
    rows = []
    for line in lines:
        for part in _segments(line.geometry):
            if part.is_empty or len(shapely.get_coordinates(part)) < 2 or part.length == 0:
                continue
            rows.append({"org": organisation_id, "name": line.name, "wkb": shapely.force_2d(part).wkb})
    if replace:
        session.execute(text("DELETE FROM street_edges WHERE organisation_id = :org"), {"org": organisation_id})
    if rows:
        session.execute(
            text("INSERT INTO street_edges (organisation_id, name, geom) "
                 "VALUES (:org, :name, ST_SetSRID(ST_GeomFromWKB(:wkb), 4326))"),
            rows,
        )
    return len(rows)


def network_version(session: Session, organisation_id: int) -> int | None:
    """The newest edge id of the organisation's network, or ``None`` if it has none.

    Loading always inserts new rows (replacing deletes the old ones first), so the newest id changes
    with every load: a cheap, index-only version stamp for the cached graph.
    """
    version = session.execute(
        text("SELECT max(id) FROM street_edges WHERE organisation_id = :org"), {"org": organisation_id}
    ).scalar()
    return None if version is None else int(version)


# Graphs are built once per organisation and network version, and shared by requests: building one from
# a town's ~50,000 segments takes about a second; a shortest-path query over it a few milliseconds.
_cache: dict[tuple[str, int], tuple[int, StreetNetwork]] = {}
_lock = threading.Lock()


def street_network(session: Session, organisation_id: int) -> StreetNetwork | None:
    """The organisation's street graph in the analysis CRS (RLS scopes the rows), or ``None`` if none."""
    version = network_version(session, organisation_id)
    if version is None:
        return None
    key = (str(session.get_bind().engine.url), organisation_id)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    wkbs = session.execute(text("SELECT ST_AsBinary(geom_metric) FROM street_edges WHERE organisation_id = :org "
                                "ORDER BY id"), {"org": organisation_id}).scalars()
    lines = [shapely.get_coordinates(shapely.from_wkb(bytes(wkb))) for wkb in wkbs]
    network = StreetNetwork.from_lines(lines)
    with _lock:
        _cache[key] = (version, network)
    return network


@dataclass
class StreetFile:
    """Lines read from a file, and the features that could not be used (1-based feature numbers)."""

    lines: list[StreetLine]
    rejected: list[tuple[int, str]]


def read_street_file(path: str, layer: str | None = None) -> StreetFile:
    """Read a line layer (GeoPackage, GeoJSON, Shapefile...) reprojected to EPSG:4326.

    Features that are not lines, are empty, or fall outside longitude/latitude range are reported by
    number, not silently dropped.
    """
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer=layer)
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    names = frame["name"] if "name" in frame.columns else None
    lines, rejected = [], []
    for position, geometry in enumerate(frame.geometry, start=1):
        if geometry is None or geometry.is_empty:
            rejected.append((position, "no geometry"))
            continue
        if not _segments(geometry):
            rejected.append((position, f"{geometry.geom_type} is not a line"))
            continue
        x0, y0, x1, y1 = geometry.bounds
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            rejected.append((position, "coordinates out of longitude/latitude range (is the CRS declared?)"))
            continue
        name = names.iloc[position - 1] if names is not None else None
        lines.append(StreetLine(geometry, str(name) if isinstance(name, str) else None, position))
    return StreetFile(lines, rejected)


def street_lines_in_box(
    session: Session, box: tuple[float, float, float, float], srid: int, limit: int,
) -> list[npt.NDArray[np.float64]]:
    """The street lines crossing a box of the analysis CRS, clipped to it, as coordinate arrays in that
    CRS (the background of a static map). At most ``limit`` lines, longest first, simplified to 1 m."""
    rows = session.execute(
        text(f"""
            SELECT ST_AsBinary(ST_SimplifyPreserveTopology(ST_Intersection(e.geom_metric, b.g), 1.0))
            FROM street_edges e, (SELECT ST_MakeEnvelope(:x0, :y0, :x1, :y1, {int(srid)}) AS g) AS b
            WHERE e.geom_metric && b.g
            ORDER BY ST_Length(e.geom_metric) DESC, e.id LIMIT :limit"""),
        {"x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3], "limit": limit},
    ).scalars()
    lines: list[npt.NDArray[np.float64]] = []
    for wkb in rows:
        geometry = shapely.from_wkb(bytes(wkb))
        parts = getattr(geometry, "geoms", [geometry])
        lines.extend(shapely.get_coordinates(part) for part in parts if not part.is_empty and part.length > 0)
    return lines
