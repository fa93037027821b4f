"""Ordnance Survey National Grid references ("TL 0632 2185") to British National Grid metres (EPSG:27700).

Practitioners read grid references off OS maps and council GIS; the letters name a 100 km square and the
digits the position inside it, to a precision set by how many digits are given. The letter arithmetic is
Ordnance Survey's ("A guide to coordinate systems in Great Britain", 2020, section 2.3; the 500 km square
letters S, T, N, O, H and the 25-letter grid without I).
"""

from __future__ import annotations

import re

_REFERENCE = re.compile(r"^([A-HJ-Z]{2})\s*(\d+)\s*(\d*)$")


class GridReferenceError(ValueError):
    """The text is not a National Grid reference of Great Britain."""


def grid_reference_to_bng(text: str) -> tuple[float, float]:
    """Easting and northing (metres, EPSG:27700) of the centre of the square a reference names.

    >>> grid_reference_to_bng("TQ 30247 79662")
    (530247.5, 179662.5)
    >>> grid_reference_to_bng("TL0621")
    (506500.0, 221500.0)
    """
    cleaned = " ".join(text.upper().split())
    match = _REFERENCE.match(cleaned)
    if not match:
        raise GridReferenceError("a grid reference is two letters and an even number of digits, like TL 0632 2185")
    letters, first, second = match.groups()
    digits = first + second
    if second and len(first) != len(second):
        raise GridReferenceError("the easting and northing must have the same number of digits")
    if len(digits) % 2 or not 2 <= len(digits) <= 10:
        raise GridReferenceError("a grid reference has 2, 4, 6, 8 or 10 digits")
    l1, l2 = (ord(c) - ord("A") for c in letters)
    l1, l2 = l1 - (l1 > 7), l2 - (l2 > 7)  # the grid of letters skips I
    e100k = ((l1 - 2) % 5) * 5 + l2 % 5
    n100k = (19 - (l1 // 5) * 5) - l2 // 5
    if not (0 <= e100k <= 6 and 0 <= n100k <= 12):
        raise GridReferenceError(f"{letters} is not a 100 km square of the National Grid")
    half = len(digits) // 2
    resolution = 10 ** (5 - half)
    easting = e100k * 100_000 + int(digits[:half]) * resolution + resolution / 2
    northing = n100k * 100_000 + int(digits[half:]) * resolution + resolution / 2
    return float(easting), float(northing)


def bng_to_grid_reference(easting: float, northing: float, digits: int = 8) -> str:
    """The grid reference of the square (of ``digits`` digits) a British National Grid point lies in — the
    inverse of :func:`grid_reference_to_bng` (the same letter arithmetic, after C. Veness, "OS National Grid
    references", movable-type.co.uk, MIT licence).

    >>> bng_to_grid_reference(530247.5, 179662.5, 10)
    'TQ 30247 79662'
    >>> bng_to_grid_reference(508250, 221500)
    'TL 0825 2150'
    """
    if digits % 2 or not 2 <= digits <= 10:
        raise GridReferenceError("a grid reference has 2, 4, 6, 8 or 10 digits")
    e100k, n100k = int(easting // 100_000), int(northing // 100_000)
    if not (0 <= e100k <= 6 and 0 <= n100k <= 12):
        raise GridReferenceError("the point is outside the National Grid")
    l1 = (19 - n100k) - (19 - n100k) % 5 + (e100k + 10) // 5
    l2 = (19 - n100k) * 5 % 25 + e100k % 5
    l1, l2 = l1 + (l1 > 7), l2 + (l2 > 7)  # skip I
    half = digits // 2
    resolution = 10 ** (5 - half)
    e = int(easting % 100_000 // resolution)
    n = int(northing % 100_000 // resolution)
    return f"{chr(l1 + ord('A'))}{chr(l2 + ord('A'))} {e:0{half}d} {n:0{half}d}"
