"""An outline typed as a list of points, one a line: the keyboard route to drawing an area on a map.

Each line is a longitude and latitude (``-0.4123, 51.8802``), a British National Grid easting and northing
in metres (``506320, 221850``), or an Ordnance Survey grid reference (``TL 0632 2185``), so an outline can
be read off a paper map, council GIS or a phone's location. The points, in order, are the outline's corners;
the ring is closed for the user.

>>> points_to_polygon(parse_point_list("-0.41, 51.88\\n-0.40, 51.88\\n-0.40, 51.89"))["coordinates"][0][-1]
[-0.41, 51.88]
"""

from __future__ import annotations

import re
from typing import Any

from pyproj import Transformer

from geo.os_grid import GridReferenceError, grid_reference_to_bng

_NUMBERS = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*$")
_BNG_TO_LONLAT = Transformer.from_crs(27700, 4326, always_xy=True)
# Great Britain's latitudes and longitudes: a pair the wrong way round is the commonest typing slip.
_GB_LAT, _GB_LON = (49.0, 61.5), (-9.0, 2.5)


class PointListError(ValueError):
    """The list cannot be read; the message names the line."""


def _is_gb_lat(value: float) -> bool:
    return _GB_LAT[0] <= value <= _GB_LAT[1]


def _is_gb_lon(value: float) -> bool:
    return _GB_LON[0] <= value <= _GB_LON[1]


def parse_line(text: str, number: int) -> tuple[float, float]:
    """One point as (longitude, latitude)."""
    match = _NUMBERS.match(text)
    if match:
        first, second = float(match.group(1)), float(match.group(2))
        if abs(first) > 1000 and abs(second) > 1000:  # easting and northing in metres
            if not (0 <= first <= 700_000 and 0 <= second <= 1_300_000):
                raise PointListError(f"line {number}: {text.strip()} is not an easting and northing in Great Britain")
            lon, lat = _BNG_TO_LONLAT.transform(first, second)
            return round(lon, 7), round(lat, 7)
        if _is_gb_lat(first) and _is_gb_lon(second) and not (_is_gb_lat(second) and _is_gb_lon(first)):
            raise PointListError(f"line {number}: {text.strip()} looks like latitude then longitude; "
                                 "give the longitude first, like -0.4123, 51.8802")
        if not (-180 <= first <= 180 and -90 <= second <= 90):
            raise PointListError(f"line {number}: {text.strip()} is not a longitude and latitude")
        return first, second
    try:
        easting, northing = grid_reference_to_bng(text)
    except GridReferenceError as exc:
        raise PointListError(f"line {number}: {text.strip()[:40]} is not a longitude and latitude, an easting and "
                             f"northing, or a grid reference ({exc})") from exc
    lon, lat = _BNG_TO_LONLAT.transform(easting, northing)
    return round(lon, 7), round(lat, 7)


def parse_point_list(text: str, *, max_points: int = 2000) -> list[tuple[float, float]]:
    """The points of a typed list, in order (blank lines skipped); at most ``max_points``."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if len(lines) > max_points:
        raise PointListError(f"the list has {len(lines)} points; at most {max_points} are accepted")
    points = [parse_line(line, n) for n, line in lines]
    if points and points[0] == points[-1]:
        points = points[:-1]  # the user closed the ring themselves
    distinct = list(dict.fromkeys(points))
    if len(distinct) < 3:
        raise PointListError("an outline needs at least three different points, one on each line")
    return points


def points_to_polygon(points: list[tuple[float, float]]) -> dict[str, Any]:
    """A GeoJSON Polygon through the points, its ring closed."""
    ring = [[x, y] for x, y in points]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def polygon_to_point_list(geometry: dict[str, Any] | None) -> str | None:
    """The list of points of a Polygon without holes (for editing as text); None for anything else."""
    if not geometry or geometry.get("type") != "Polygon" or len(geometry.get("coordinates") or []) != 1:
        return None
    ring = geometry["coordinates"][0]
    return "\n".join(f"{x:.6f}, {y:.6f}" for x, y, *_ in ring[:-1])
