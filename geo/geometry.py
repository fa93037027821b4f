"""Validation of GeoJSON geometry coming from users: valid, non-empty, lon/lat in range, in the area."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

ALLOWED_TYPES = frozenset({"Point", "Polygon", "MultiPolygon", "LineString", "MultiLineString", "MultiPoint"})

# Every geometry a user sends is later intersected, buffered and point-in-polygon tested by PostGIS, at a cost
# that grows with its vertices: an outside test sent a 20,000-vertex control area that grew one backend to
# 23.6 GB, and a 180,000-vertex place that slowed every analysis of its organisation 470-fold. A hand-drawn
# place or area needs far fewer; a detailed boundary can be simplified before upload.
MAX_VERTICES = 2_000
MAX_RINGS = 100


@dataclass(frozen=True)
class GeometryLimits:
    """How complex one incoming geometry may be: vertices in all, and rings or parts in all."""

    max_vertices: int = MAX_VERTICES
    max_rings: int = MAX_RINGS


class GeometryError(ValueError):
    def __init__(self, message: str, field: str = "geometry"):
        super().__init__(message)
        self.message = message
        self.field = field


def parse_geometry(
    geojson: Mapping[str, Any] | None,
    *,
    service_area: BaseGeometry | None = None,
    allowed_types: frozenset[str] = ALLOWED_TYPES,
    field: str = "geometry",
    limits: GeometryLimits | None = None,
) -> BaseGeometry:
    """Parse a GeoJSON geometry (RFC 7946: longitude, latitude) and refuse what would mislead analysis.

    Points outside ``service_area`` are refused: with a UK service area this also catches swapped
    latitude/longitude, the commonest data-entry error. Geometries over ``limits`` (default
    :class:`GeometryLimits`) are refused before any costly check.
    """
    if not geojson:
        raise GeometryError("a geometry is required", field)
    kind = geojson.get("type")
    if kind not in allowed_types:
        raise GeometryError(f"geometry type must be one of {sorted(allowed_types)}, not {kind!r}", field)
    try:
        geom = shape(geojson)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise GeometryError(f"malformed {kind} coordinates: {exc}", field) from exc
    if geom.is_empty:
        raise GeometryError("geometry is empty", field)
    check_complexity(geom, limits or GeometryLimits(), field)
    # RFC 7946 allows an altitude; our columns are 2-D, and height does not matter for where harm is.
    geom = shapely.force_2d(geom)
    coords = shapely.get_coordinates(geom)
    if not ((coords[:, 0] >= -180).all() and (coords[:, 0] <= 180).all()):
        raise GeometryError("longitude out of range [-180, 180]", field)
    if not ((coords[:, 1] >= -90).all() and (coords[:, 1] <= 90).all()):
        raise GeometryError("latitude out of range [-90, 90]", field)
    if not geom.is_valid:
        raise GeometryError(f"invalid geometry: {shapely.is_valid_reason(geom)}", field)
    if service_area is not None and not service_area.covers(geom):
        raise GeometryError(
            "geometry lies outside the organisation's service area (are longitude and latitude swapped? "
            "GeoJSON order is [longitude, latitude])", field,
        )
    return geom


def rings_and_parts(geom: BaseGeometry) -> int:
    """Polygon rings (exterior and interior) plus line and point parts: what PostGIS loops over per vertex."""
    parts = shapely.get_parts(geom)
    polygons = parts[shapely.get_type_id(parts) == 3]
    return int(len(parts) + shapely.get_num_interior_rings(polygons).sum())


def check_complexity(geom: BaseGeometry, limits: GeometryLimits, field: str = "geometry") -> None:
    """Refuse a geometry with more vertices or rings than ``limits`` allow (:class:`GeometryError`).

    >>> from shapely.geometry import Point
    >>> try:
    ...     check_complexity(Point(0, 0).buffer(1, quad_segs=600), GeometryLimits(max_vertices=100))
    ... except GeometryError as exc:
    ...     print(exc.message)
    geometry has 2401 vertices; at most 100 are accepted (simplify it first)
    """
    vertices = int(shapely.get_num_coordinates(geom))
    if vertices > limits.max_vertices:
        raise GeometryError(
            f"geometry has {vertices} vertices; at most {limits.max_vertices} are accepted (simplify it first)", field)
    rings = rings_and_parts(geom)
    if rings > limits.max_rings:
        raise GeometryError(f"geometry has {rings} rings or parts; at most {limits.max_rings} are accepted", field)
