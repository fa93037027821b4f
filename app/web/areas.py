"""An area (a place's outline, an intervention's area) from a form: drawn on the map (the script fills the
GeoJSON box and the list of points), pasted as GeoJSON, or typed as a list of points — one longitude and
latitude, easting and northing, or grid reference a line (:mod:`geo.point_list`), the keyboard route.

Checked with the deployment's :class:`geo.geometry.GeometryLimits` and PostGIS-valid shape rules
(:func:`geo.geometry.parse_geometry`); each error names the box it came from.
"""

from __future__ import annotations

import json
from typing import Any

from shapely.geometry import mapping

from app.web.forms import FormErrors, Posted
from geo.geometry import GeometryError, GeometryLimits, parse_geometry
from geo.point_list import PointListError, parse_point_list, points_to_polygon

AREA_TYPES = frozenset({"Polygon", "MultiPolygon"})


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _geojson(text: str, errors: FormErrors, field: str) -> dict[str, Any] | None:
    """A pasted or drawn GeoJSON area: a geometry, a Feature, or a FeatureCollection of one feature."""
    try:
        found = json.loads(text)
    except ValueError:
        errors.add(field, "The area must be GeoJSON, like {\"type\": \"Polygon\", \"coordinates\": [...]}")
        return None
    if isinstance(found, dict) and found.get("type") == "FeatureCollection":
        features = found.get("features") or []
        if len(features) != 1:
            errors.add(field, f"Paste one area: the GeoJSON has {len(features)} features")
            return None
        found = features[0]
    if isinstance(found, dict) and found.get("type") == "Feature":
        found = found.get("geometry")
    if not isinstance(found, dict) or found.get("type") not in AREA_TYPES:
        errors.add(field, "The area must be a polygon: draw at least three points, or paste a GeoJSON Polygon")
        return None
    return found


def posted_area(posted: Posted, errors: FormErrors, limits: GeometryLimits, *, geojson_field: str,
                points_field: str) -> dict[str, Any] | None:
    """The area the form gives (the list of points wins over the GeoJSON box when both are filled), checked;
    None when neither is filled or when it is wrong (then ``errors`` names the box)."""
    points_text, geojson_text = posted.get(points_field), posted.get(geojson_field)
    field = points_field if points_text else geojson_field
    if points_text:
        try:
            found: dict[str, Any] | None = points_to_polygon(
                parse_point_list(points_text, max_points=max(3, limits.max_vertices - 1)))
        except PointListError as exc:
            errors.add(points_field, _sentence(str(exc)))
            return None
    elif geojson_text:
        found = _geojson(geojson_text, errors, geojson_field)
    else:
        return None
    if found is None:
        return None
    try:
        area = parse_geometry(found, allowed_types=AREA_TYPES, field=field, limits=limits)
    except GeometryError as exc:
        what = "the outline crosses itself or is not a closed shape" if "invalid geometry" in exc.message else \
            exc.message
        errors.add(field, _sentence(what))
        return None
    return json.loads(json.dumps(mapping(area)))  # tuples to lists, as GeoJSON parsers give
