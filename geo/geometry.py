"""Validation of GeoJSON geometry coming from users: valid, non-empty, lon/lat in range, in the area."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

ALLOWED_TYPES = frozenset({"Point", "Polygon", "MultiPolygon", "LineString", "MultiLineString", "MultiPoint"})


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
) -> BaseGeometry:
    """Parse a GeoJSON geometry (RFC 7946: longitude, latitude) and refuse what would mislead analysis.

    Points outside ``service_area`` are refused: with a UK service area this also catches swapped
    latitude/longitude, the commonest data-entry error.
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
