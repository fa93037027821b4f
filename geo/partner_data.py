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


PartnerFormat = Literal["csv", "geojson", "gpkg"]
# A GeoPackage is an SQLite 3 file whose header carries the GeoPackage application id at byte 68
# (OGC 12-128r18, 1.1.1.1.1; "GP10"/"GP11" in files from before version 1.2).
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GEOPACKAGE_IDS = (b"GPKG", b"GP10", b"GP11")


def sniff_format(data: bytes) -> PartnerFormat:
    r"""Decide a partner file's format from its content, never from its name.

    Only three formats are accepted. The name is the uploader's to choose: an outside test named a GDAL
    VRT ``partner.geojson`` and GDAL, guessing the driver from the content, opened ``CSV:/etc/passwd`` and
    ``/vsicurl/`` URLs on the server's behalf. So GeoJSON and CSV are parsed here in Python, and only a file
    with the GeoPackage header ever reaches GDAL.

    >>> sniff_format(b'{"type": "FeatureCollection", "features": []}')
    'geojson'
    >>> sniff_format(b"name,kind,longitude,latitude\n")
    'csv'
    >>> sniff_format(b"<OGRVRTDataSource/>")
    Traceback (most recent call last):
    ...
    ValueError: an XML file (such as a GDAL VRT) is not accepted: upload CSV, GeoJSON or a GeoPackage
    """
    if data.startswith(_SQLITE_MAGIC):
        if data[68:72] in _GEOPACKAGE_IDS:
            return "gpkg"
        raise ValueError("an SQLite database that is not a GeoPackage is not accepted")
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return "geojson"
    if head.startswith(b"<"):
        raise ValueError("an XML file (such as a GDAL VRT) is not accepted: upload CSV, GeoJSON or a GeoPackage")
    return "csv"


def read_rows(data: bytes, filename: str = "") -> Iterator[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    """``(line, row, geometry)`` from a partner file's bytes (CSV, GeoJSON or GeoPackage, told apart by
    :func:`sniff_format`), geometries in EPSG:4326. Raises ``ValueError`` for an unreadable file; the
    message never quotes anything but the upload itself. ``filename`` is not used to choose the format."""
    kind = sniff_format(data)
    reader = {"csv": _csv_rows, "geojson": _geojson_rows, "gpkg": _geopackage_rows}[kind]
    empty = True
    for row in reader(data):
        empty = False
        yield row
    if empty:
        raise ValueError(f"no rows found (read as {kind.upper()}; CSV, GeoJSON or a GeoPackage expected)")


def _crs_transform(crs: Any) -> Any:
    """The old GeoJSON ``crs`` member (2008 spec; RFC 7946 dropped it): lon/lat, or British National Grid."""
    if crs is None:
        return None
    name = str(crs.get("properties", {}).get("name", "")) if isinstance(crs, dict) else ""
    if name.endswith(("CRS84", "EPSG::4326", "EPSG:4326")):
        return None
    if name.endswith(("EPSG::27700", "EPSG:27700")):
        return _bng_to_wgs84().transform
    raise ValueError("crs: a GeoJSON file must be in longitude/latitude (EPSG:4326) or EPSG:27700")


def _geojson_rows(data: bytes) -> Iterator[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    import shapely
    from shapely.geometry import mapping, shape

    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValueError("not a readable GeoJSON file (UTF-8 JSON expected)") from None
    if not isinstance(document, dict) or document.get("type") not in ("FeatureCollection", "Feature"):
        raise ValueError("a GeoJSON file must hold a FeatureCollection or a Feature")
    features = [document] if document["type"] == "Feature" else document.get("features")
    if not isinstance(features, list):
        raise ValueError("a GeoJSON FeatureCollection needs a list of features")
    transform = _crs_transform(document.get("crs"))
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise ValueError(f"feature {number}: not a GeoJSON Feature")
        properties = feature.get("properties") or {}
        geometry = feature.get("geometry")
        if not isinstance(properties, dict) or not (geometry is None or isinstance(geometry, dict)):
            raise ValueError(f"feature {number}: properties and geometry must be JSON objects")
        if geometry and transform is not None:
            try:
                geometry = dict(mapping(shapely.transform(shape(geometry), lambda xy: _bng_array(xy, transform))))
            except Exception:  # shapely raises several types for malformed coordinates
                raise ValueError(f"feature {number}: malformed geometry") from None
        yield number, properties, geometry


def _bng_array(xy: Any, transform: Any) -> Any:
    import numpy as np

    lon, lat = transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


# GDAL reads GeoPackages only. A view in an SQLite file could name a "VirtualOGR" table that opens any other
# data source; GDAL lists those only when asked (https://gdal.org/drivers/vector/sqlite.html), and we say no.
_GDAL_UPLOAD_OPTIONS = {"OGR_SQLITE_LIST_VIRTUAL_OGR": "NO", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}


def _geopackage_rows(data: bytes) -> Iterator[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    import io
    import warnings

    import pyogrio
    from geopandas import GeoDataFrame
    from shapely.geometry import mapping as to_geojson

    pyogrio.set_gdal_config_options(_GDAL_UPLOAD_OPTIONS)
    try:
        # The bytes go to GDAL's in-memory file system (/vsimem/, a name without ".gpkg": GDAL warns).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if pyogrio.read_info(io.BytesIO(data)).get("driver") != "GPKG":
                raise ValueError("not a GeoPackage")
            frame = pyogrio.read_dataframe(io.BytesIO(data))
    except Exception:  # pyogrio raises several types; its messages name server paths, so none is quoted
        raise ValueError("not a readable GeoPackage file") from None
    if not isinstance(frame, GeoDataFrame):
        raise ValueError("the GeoPackage's first layer has no geometry")
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
