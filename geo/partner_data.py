"""Partner data (CSV, GeoJSON, GeoPackage): column mapping, coordinates, and row validation. Pure.

A partner's file names things its own way; a *mapping* says which of their columns holds each of our
fields (``{"occurred_from": "Date reported", "harm_category": "Category"}``); unmapped fields are looked
up under their own name. Locations come as a geometry (GeoJSON, GeoPackage), as ``longitude``/``latitude``
(EPSG:4326), or as ``easting``/``northing`` on the British National Grid (EPSG:27700), which are
transformed with pyproj.

Each row becomes a :class:`PartnerRecord` or a :class:`RowError` with its line (CSV: the physical line,
header = 1; GeoJSON/GeoPackage: the feature number, from 1).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal

from geo.vocabulary import HARM_CATEGORIES, LOCATION_PRECISIONS, LONDON, PLACE_KINDS

Target = Literal["incidents", "places", "safe_spaces"]
TARGETS: tuple[str, ...] = ("incidents", "places", "safe_spaces")

FIELDS: dict[str, tuple[str, ...]] = {
    "incidents": ("occurred_from", "occurred_to", "harm_category", "source_category", "source_ref",
                  "location_precision", "young_people", "description"),
    "places": ("name", "kind", "address", "opening_hours", "place_manager", "notes"),
    "safe_spaces": ("name", "kind", "address", "opening_hours", "place_manager", "notes", "valid_from",
                    "valid_to", "scheme", "age_min", "age_max", "help_offered", "accessibility", "verified_on"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "incidents": ("occurred_from", "harm_category"),
    "places": ("name", "kind"),
    "safe_spaces": ("name", "kind"),
}
LOCATION_FIELDS = ("longitude", "latitude", "easting", "northing")


class MappingError(ValueError):
    """The column mapping itself is unusable (not JSON, unknown field, not a string column name)."""


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class PartnerRecord:
    line: int
    values: dict[str, Any]
    lon: float | None = None  # a point location, or…
    lat: float | None = None
    geometry: dict[str, Any] | None = field(default=None)  # …a GeoJSON geometry (lon/lat)


def parse_mapping(raw: str | Mapping[str, Any] | None, target: str) -> dict[str, str]:
    """Validate a mapping of our field → their column (JSON text or a dict).

    >>> parse_mapping('{"harm_category": "Category"}', "incidents")
    {'harm_category': 'Category'}
    """
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise MappingError(f"mapping is not JSON: {exc.msg}") from exc
    if not isinstance(raw, Mapping):
        raise MappingError("mapping must be a JSON object of our field -> your column")
    allowed = set(FIELDS[target]) | set(LOCATION_FIELDS)
    mapping: dict[str, str] = {}
    for ours, theirs in raw.items():
        if ours not in allowed:
            raise MappingError(f"mapping: unknown field {ours!r} for {target}; fields: {', '.join(sorted(allowed))}")
        if not isinstance(theirs, str) or not theirs:
            raise MappingError(f"mapping: the column for {ours!r} must be a column name")
        mapping[ours] = theirs
    return mapping


@lru_cache(maxsize=1)
def _bng_to_wgs84() -> Any:
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def easting_northing_to_lon_lat(easting: float, northing: float) -> tuple[float, float]:
    """British National Grid (EPSG:27700) metres → longitude, latitude (EPSG:4326).

    >>> lon, lat = easting_northing_to_lon_lat(530_000, 180_000)  # central London
    >>> round(lon, 3), round(lat, 3)
    (-0.129, 51.508)
    """
    lon, lat = _bng_to_wgs84().transform(easting, northing)
    return float(lon), float(lat)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from a data frame
        return None
    text = str(value).strip()
    return text or None


def _instant(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%d/%m/%Y %H:%M")
        except ValueError:
            try:
                parsed = datetime.strptime(text, "%d/%m/%Y")
            except ValueError:
                raise ValueError(f"{name}: {text!r} is not a date-time (ISO 8601 or DD/MM/YYYY [HH:MM])") from None
    # Partner logs record local time: a naive time is taken as Europe/London.
    if parsed.tzinfo is None:

        parsed = parsed.replace(tzinfo=LONDON)
    return parsed.astimezone(UTC)


def _day(value: Any, name: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return _instant(value, name).date()


def _integer(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(float(str(value).strip()))
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise ValueError(f"{name}: {number} is outside {low}..{high}")
    return number


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    normal = value.strip().lower().replace(" ", "_").replace("-", "_")
    if normal not in allowed:
        raise ValueError(f"{name}: unknown value {value!r}; expected one of: {', '.join(allowed)}")
    return normal


def _coerce(name: str, value: Any) -> Any:
    if name in ("occurred_from", "occurred_to", "valid_from", "valid_to"):
        return _instant(value, name)
    if name == "verified_on":
        return _day(value, name)
    if name == "harm_category":
        return _choice(str(value), name, HARM_CATEGORIES)
    if name == "kind":
        return _choice(str(value), name, PLACE_KINDS)
    if name == "location_precision":
        return _choice(str(value), name, LOCATION_PRECISIONS)
    if name == "young_people":
        return _integer(value, name, 0, 1000)
    if name in ("age_min", "age_max"):
        return _integer(value, name, 0, 25)
    if name == "help_offered":
        return [part.strip() for part in str(value).split(";") if part.strip()]
    text = str(value).strip()
    if name == "name" and len(text) > 200:
        raise ValueError("name: longer than 200 characters")
    return text


def _float(value: Any, name: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a number") from None
    if number != number:
        raise ValueError(f"{name}: not a number")
    return number


def content_ref(values: Mapping[str, Any], lon: float | None, lat: float | None) -> str:
    """A stable ``source_ref`` for a partner incident that has none: SHA-256 of its content."""
    canonical = json.dumps({"values": values, "lon": lon, "lat": lat}, sort_keys=True, default=str)
    return "partner:" + hashlib.sha256(canonical.encode()).hexdigest()


def records(
    rows: Iterable[tuple[int, Mapping[str, Any], dict[str, Any] | None]], target: str, mapping: Mapping[str, str],
    crs: str | None = None,
) -> Iterator[PartnerRecord | RowError]:
    """Turn ``(line, row, geometry)`` triples into validated records or row errors.

    ``geometry`` is a GeoJSON geometry in lon/lat (from GeoJSON/GeoPackage) or ``None`` for CSV, where the
    location comes from longitude/latitude or, with ``crs="EPSG:27700"`` or easting/northing columns,
    from easting/northing.
    """
    if target not in TARGETS:
        raise MappingError(f"target must be one of {', '.join(TARGETS)}")

    def column(row: Mapping[str, Any], ours: str) -> Any:
        return row.get(mapping.get(ours, ours))

    counts: dict[str, int] = {}
    for line, row, geometry in rows:
        values: dict[str, Any] = {}
        try:
            for name in FIELDS[target]:
                raw = _text(column(row, name)) if not isinstance(column(row, name), datetime | date) \
                    else column(row, name)
                if raw is None:
                    if name in REQUIRED[target]:
                        raise ValueError(f"{name}: missing (column {mapping.get(name, name)!r})")
                    continue
                values[name] = _coerce(name, raw)
            lon = lat = None
            if geometry is None:
                east, north = _text(column(row, "easting")), _text(column(row, "northing"))
                if crs == "EPSG:27700" or (east is not None and north is not None):
                    if east is None or north is None:
                        raise ValueError("easting/northing: both are needed")
                    e, n = _float(east, "easting"), _float(north, "northing")
                    if not (0 <= e <= 700_000 and 0 <= n <= 1_300_000):
                        raise ValueError(f"easting/northing: ({e}, {n}) is off the British National Grid")
                    lon, lat = easting_northing_to_lon_lat(e, n)
                else:
                    lon_text, lat_text = _text(column(row, "longitude")), _text(column(row, "latitude"))
                    if lon_text is None or lat_text is None:
                        raise ValueError("location: give longitude and latitude, or easting and northing")
                    lon, lat = _float(lon_text, "longitude"), _float(lat_text, "latitude")
                    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                        raise ValueError(f"longitude/latitude: ({lon}, {lat}) out of range")
            if "occurred_to" in values and values["occurred_to"] < values["occurred_from"]:
                raise ValueError("occurred_to: before occurred_from")
            if "valid_to" in values and "valid_from" in values and values["valid_to"] <= values["valid_from"]:
                raise ValueError("valid_to: not after valid_from")
            if values.get("age_min") is not None and values.get("age_max") is not None \
                    and values["age_min"] > values["age_max"]:
                raise ValueError("age_min: greater than age_max")
        except ValueError as exc:
            message = str(exc)
            yield RowError(line, message.split(":", 1)[0], message)
            continue
        if target == "incidents" and "source_ref" not in values:
            # Identical rows in one file are distinct incidents: count them into the key, as for police.uk ASB.
            key = content_ref(values, lon, lat)
            occurrence = counts.get(key, 0)
            counts[key] = occurrence + 1
            values["source_ref"] = key if occurrence == 0 else content_ref({**values, "occurrence": occurrence},
                                                                           lon, lat)
        yield PartnerRecord(line, values, lon, lat, geometry)


def read_rows(data: bytes, filename: str) -> Iterator[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    """``(line, row, geometry)`` from a partner file's bytes: CSV by name, else anything GDAL reads
    (GeoJSON, GeoPackage), reprojected to EPSG:4326. Raises ``ValueError`` for an unreadable file."""
    if filename.lower().endswith((".csv", ".txt")):
        yield from _csv_rows(data)
        return
    import io

    import pyogrio
    from shapely.geometry import mapping as to_geojson

    try:
        frame = pyogrio.read_dataframe(io.BytesIO(data))
    except Exception as exc:  # pyogrio raises several types for files GDAL cannot open
        raise ValueError(f"{filename}: not a readable GeoJSON or GeoPackage file ({exc})") from exc
    if not hasattr(frame, "geometry"):  # pyogrio returns a plain DataFrame for a layer with no geometry
        raise ValueError("the layer has no geometry column: export the layer with its geometry, or send a CSV "
                         "with longitude/latitude or easting/northing columns")
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    for number, (values, geometry) in enumerate(zip(frame[columns].to_dict("records"), frame.geometry,
                                                   strict=True), start=1):
        shape = None if geometry is None or geometry.is_empty else dict(to_geojson(geometry))
        yield number, values, shape


def _csv_rows(data: bytes) -> Iterator[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    import csv
    import io

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    line = 2
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's 128 KB limit
            raise ValueError(f"line {line}: unreadable row ({exc})") from exc
        start, line = line, reader.line_num + 1
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        yield start, {k.strip(): v for k, v in row.items() if k is not None}, None
