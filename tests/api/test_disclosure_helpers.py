"""Small helpers shared by API tests (no tests here)."""

from __future__ import annotations

import math


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int, int]:
    """The XYZ tile holding a point (the slippy-map formula)."""
    n = 2**zoom
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return zoom, int((lon + 180) / 360 * n), int(y)
