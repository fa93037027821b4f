"""The local basemap: one tile archive an admin loaded (``contextmap basemap load FILE``), read tile by tile.

Two archive formats, both single files a council can copy onto an intranet server:

- **MBTiles** 1.3 (https://github.com/mapbox/mbtiles-spec/blob/master/1.3/spec.md): an SQLite database with a
  ``metadata`` table (``name``, ``format`` = png/jpg/webp/pbf, ``minzoom``, ``maxzoom``, ``bounds``) and a
  ``tiles`` table keyed by zoom, column and row, rows counted from the south (TMS), so ``y`` is flipped.
- **PMTiles** v3 (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md), read with the ``pmtiles``
  package's reader over a memory map.

The SQL here is SQLite's, on a read-only connection to the admin's file, never the service database.
"""

from __future__ import annotations

import gzip
import json
import mmap
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import Compression, MagicNumberNotFound, SpecVersionUnsupported, TileType

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
               "pbf": "application/vnd.mapbox-vector-tile", "mvt": "application/vnd.mapbox-vector-tile"}
PMTILES_TYPES = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp", TileType.MVT: "pbf"}
SQLITE_MAGIC = b"SQLite format 3\x00"
PMTILES_MAGIC = b"PMTiles\x03"
MAX_ZOOM = 24


class BasemapError(ValueError):
    """The file is not a tile archive contextmap can serve; the message says why, for the admin."""


@dataclass(frozen=True)
class BasemapInfo:
    archive: str  # "mbtiles" | "pmtiles"
    format: str  # "png" | "jpg" | "webp" | "pbf"
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float] | None  # west, south, east, north (WGS84)
    name: str
    attribution: str | None
    tiles: int | None  # how many tiles (MBTiles; PMTiles' header count)

    @property
    def vector(self) -> bool:
        return self.format == "pbf"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def sniff(path: Path) -> str:
    """``mbtiles`` or ``pmtiles`` from the file's first bytes (never from its name)."""
    with path.open("rb") as handle:
        start = handle.read(16)
    if start.startswith(SQLITE_MAGIC):
        return "mbtiles"
    if start.startswith(PMTILES_MAGIC):
        return "pmtiles"
    raise BasemapError("not an MBTiles (SQLite) or PMTiles v3 file")


def _connect(path: Path) -> sqlite3.Connection:
    # Read-only and immutable: the archive is never written, and SQLite takes no locks on it.
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def _bounds(value: Any) -> tuple[float, float, float, float] | None:
    try:
        west, south, east, north = (float(v) for v in (value.split(",") if isinstance(value, str) else value))
    except (TypeError, ValueError):
        return None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return None
    return west, south, east, north


def _zoom(value: Any, default: int) -> int:
    try:
        zoom = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(zoom, 0), MAX_ZOOM)


def read_info(path: Path) -> BasemapInfo:
    """What the archive holds; raises :class:`BasemapError` naming what is wrong."""
    archive = sniff(path)
    if archive == "mbtiles":
        try:
            with closing(_connect(path)) as connection:
                metadata = dict(connection.execute("SELECT name, value FROM metadata").fetchall())
                tiles, low, high = connection.execute(
                    "SELECT count(*), min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BasemapError("an SQLite file without the MBTiles tables (metadata, tiles)") from exc
        tile_format = str(metadata.get("format", "png")).lower()
        if tile_format not in MEDIA_TYPES:
            raise BasemapError(f"format {tile_format!r} is not png, jpg, webp or pbf")
        if not tiles:
            raise BasemapError("the archive holds no tiles")
        return BasemapInfo("mbtiles", "pbf" if tile_format == "mvt" else tile_format,
                           _zoom(metadata.get("minzoom"), low), _zoom(metadata.get("maxzoom"), high),
                           _bounds(metadata.get("bounds")), str(metadata.get("name", path.stem)),
                           metadata.get("attribution"), int(tiles))
    with path.open("rb") as handle:
        try:
            reader = Reader(MmapSource(handle))
            header = reader.header()
            metadata = reader.metadata()
        except (ValueError, KeyError, OSError, json.JSONDecodeError, gzip.BadGzipFile, MagicNumberNotFound,
                SpecVersionUnsupported) as exc:
            raise BasemapError("a PMTiles file whose header or metadata cannot be read") from exc
    if header["tile_compression"] not in (Compression.NONE, Compression.GZIP):
        raise BasemapError("the PMTiles tiles are compressed with brotli or zstd; use gzip or none")
    pm_format = PMTILES_TYPES.get(header["tile_type"])
    if pm_format is None:
        raise BasemapError("the PMTiles tile type is not png, jpg, webp or vector (MVT)")
    bounds = (header["min_lon_e7"] / 1e7, header["min_lat_e7"] / 1e7, header["max_lon_e7"] / 1e7,
              header["max_lat_e7"] / 1e7)
    return BasemapInfo("pmtiles", pm_format, _zoom(header["min_zoom"], 0), _zoom(header["max_zoom"], MAX_ZOOM),
                       _bounds(bounds), str(metadata.get("name", path.stem)) if isinstance(metadata, dict)
                       else path.stem, metadata.get("attribution") if isinstance(metadata, dict) else None,
                       header.get("addressed_tiles_count"))


class TileArchive:
    """An open archive serving ``tile(z, x, y)`` (XYZ, rows from the north) as stored bytes.

    Vector tiles are returned as stored; ``gzipped`` says whether they need ``Content-Encoding: gzip``.
    """

    def __init__(self, path: Path):
        self.path = path
        self.info = read_info(path)
        self._connection: sqlite3.Connection | None = None
        self._reader: Reader | None = None
        self._compression = Compression.NONE
        if self.info.archive == "mbtiles":
            self._connection = _connect(path)
        else:
            self._handle = path.open("rb")
            self._map = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ)
            self._reader = Reader(lambda offset, length: self._map[offset:offset + length])
            self._compression = self._reader.header()["tile_compression"]

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
            return None
        if self._connection is not None:
            row = self._connection.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (2**z - 1) - y),
            ).fetchone()
            return bytes(row[0]) if row else None
        assert self._reader is not None
        data = self._reader.get(z, x, y)
        return bytes(data) if data else None

    def gzipped(self, data: bytes) -> bool:
        if self.info.archive == "pmtiles":
            return self._compression == Compression.GZIP
        return data[:2] == b"\x1f\x8b"  # MBTiles vector tiles are gzip-compressed by convention

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        else:
            self._map.close()
            self._handle.close()
