"""Small tile archives for the basemap tests, written here: a vector MBTiles and PMTiles (Mapbox vector
tiles encoded by PostGIS ``ST_AsMVT``, with the Protomaps basemap's layer names so protomaps-leaflet's
"light" flavour draws them) and a raster MBTiles (PNG tiles drawn with Pillow)."""

from __future__ import annotations

import gzip
import io
import math
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
from PIL import Image, ImageDraw
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

# The demo town (geo/demo.py) and a margin around it.
BOUNDS = (-0.47, 51.845, -0.36, 51.915)
ZOOMS = range(11, 17)

# One tile: land ("earth"), a river ("water") and a grid of roads, in tile coordinates via ST_TileEnvelope.
MVT_SQL = """
WITH env AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS e),
earth AS (SELECT ST_AsMVTGeom(e, e) AS geom, 'earth' AS kind FROM env),
water AS (SELECT ST_AsMVTGeom(ST_Buffer(ST_MakeLine(ST_Translate(ST_Centroid(e), -2e4, -300),
                                                    ST_Translate(ST_Centroid(e), 2e4, 300)), 60), e) AS geom,
                 'water' AS kind FROM env),
roads AS (SELECT ST_AsMVTGeom(ST_MakeLine(ST_MakePoint(ST_XMin(e) + k * (ST_XMax(e) - ST_XMin(e)) / 4, ST_YMin(e)),
                                          ST_MakePoint(ST_XMin(e) + k * (ST_XMax(e) - ST_XMin(e)) / 4, ST_YMax(e))),
                              e) AS geom, 'major_road' AS kind
          FROM env, generate_series(1, 3) AS k)
SELECT (SELECT ST_AsMVT(earth, 'earth') FROM earth) || (SELECT ST_AsMVT(water, 'water') FROM water)
       || (SELECT ST_AsMVT(roads, 'roads') FROM roads)
"""


def _column(lon: float, z: int) -> int:
    return int((lon + 180) / 360 * 2**z)


def _row(lat: float, z: int) -> int:  # Web Mercator (XYZ), rows from the north
    return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)


def tiles_in(bounds: tuple[float, float, float, float], zooms: range) -> Iterator[tuple[int, int, int]]:
    west, south, east, north = bounds
    for z in zooms:
        for x in range(_column(west, z), _column(east, z) + 1):
            for y in range(_row(north, z), _row(south, z) + 1):
                yield z, x, y


def vector_tiles(conninfo: str) -> dict[tuple[int, int, int], bytes]:
    with psycopg.connect(conninfo) as connection:
        return {(z, x, y): bytes(connection.execute(MVT_SQL, {"z": z, "x": x, "y": y}).fetchone()[0])
                for z, x, y in tiles_in(BOUNDS, ZOOMS)}


def _mbtiles(path: Path, tile_format: str, tiles: dict[tuple[int, int, int], bytes]) -> Path:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [
            ("name", "Demo town test basemap"), ("format", tile_format), ("minzoom", str(min(ZOOMS))),
            ("maxzoom", str(max(ZOOMS))), ("bounds", ",".join(map(str, BOUNDS))),
            ("attribution", "Test basemap <b>not</b> OpenStreetMap")])
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                       [(z, x, (2**z - 1) - y, data) for (z, x, y), data in tiles.items()])
    return path


def vector_mbtiles(path: Path, conninfo: str) -> Path:
    return _mbtiles(path, "pbf", {k: gzip.compress(v) for k, v in vector_tiles(conninfo).items()})


def raster_mbtiles(path: Path) -> Path:
    tiles = {}
    for z, x, y in tiles_in(BOUNDS, ZOOMS):
        image = Image.new("RGB", (256, 256), (233, 229, 220))
        draw = ImageDraw.Draw(image)
        for k in (64, 128, 192):
            draw.line([(k, 0), (k, 255)], fill=(255, 255, 255), width=6)
            draw.line([(0, k), (255, k)], fill=(255, 255, 255), width=6)
        out = io.BytesIO()
        image.save(out, "PNG")
        tiles[(z, x, y)] = out.getvalue()
    return _mbtiles(path, "png", tiles)


def vector_pmtiles(path: Path, conninfo: str) -> Path:
    tiles = vector_tiles(conninfo)
    with path.open("wb") as handle:
        writer = Writer(handle)
        for (z, x, y), data in sorted(tiles.items(), key=lambda item: zxy_to_tileid(*item[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), gzip.compress(data))
        west, south, east, north = BOUNDS
        writer.finalize({
            "tile_type": TileType.MVT, "tile_compression": Compression.GZIP, "min_zoom": min(ZOOMS),
            "max_zoom": max(ZOOMS), "min_lon_e7": int(west * 1e7), "min_lat_e7": int(south * 1e7),
            "max_lon_e7": int(east * 1e7), "max_lat_e7": int(north * 1e7), "center_zoom": 14,
            "center_lon_e7": int((west + east) / 2 * 1e7), "center_lat_e7": int((south + north) / 2 * 1e7),
        }, {"name": "Demo town test basemap (PMTiles)", "attribution": "Test basemap",
            "vector_layers": [{"id": name} for name in ("earth", "water", "roads")]})
    return path
