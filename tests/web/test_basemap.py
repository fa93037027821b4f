"""The local basemap: ``contextmap basemap load`` checks and copies an archive, ``/basemap/{z}/{x}/{y}`` serves
its tiles to signed-in users with cache headers, and the map pages use it (and only then) before the streets."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL
from typer.testing import CliRunner

from app.services.basemap import BasemapError, current_basemap, load_basemap
from app.settings import Settings
from tests.basemap_files import BOUNDS, raster_mbtiles, tiles_in, vector_mbtiles, vector_pmtiles

Z, X, Y = next(t for t in tiles_in(BOUNDS, range(14, 15)))


def _conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def loaded(settings: Settings) -> Iterator[None]:
    yield
    for path in settings.basemap_dir.glob("basemap.*"):
        path.unlink()


@pytest.mark.parametrize("kind", ["raster-mbtiles", "vector-mbtiles", "vector-pmtiles"])
def test_a_loaded_basemap_is_served_tile_by_tile(
    kind: str, client: Any, demo_headers: dict[str, dict[str, str]], settings: Settings, database_url: URL,
    tmp_path: Path, loaded: None,
) -> None:
    source = {"raster-mbtiles": lambda p: raster_mbtiles(p),
              "vector-mbtiles": lambda p: vector_mbtiles(p, _conninfo(database_url)),
              "vector-pmtiles": lambda p: vector_pmtiles(p, _conninfo(database_url))}[kind](tmp_path / "town.bin")
    info = load_basemap(source, settings)
    assert (info.minzoom, info.maxzoom, info.vector) == (11, 16, kind.startswith("vector"))
    response = client.get(f"/basemap/{Z}/{X}/{Y}", headers=demo_headers["panel"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, max-age=86400" and response.headers["etag"]
    if kind == "raster-mbtiles":
        assert response.headers["content-type"] == "image/png" and response.content.startswith(b"\x89PNG")
    else:
        # Gzipped as stored and sent with Content-Encoding: the client sees the protobuf.
        assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        assert response.headers["content-encoding"] == "gzip" and b"roads" in response.content
    again = client.get(f"/basemap/{Z}/{X}/{Y}",
                       headers=demo_headers["panel"] | {"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    # Outside the archive: nothing, without an error the browser would log.
    assert client.get("/basemap/3/0/0", headers=demo_headers["panel"]).status_code == 204
    # The map pages draw it, and ask no internet tile host for anything.
    page = client.get("/maps/safe-spaces", headers=demo_headers["community_safety"])
    assert page.status_code == 200 and "contextmapBasemap" in page.text
    assert ("protomaps-leaflet.js" in page.text) == info.vector
    assert re.search(r"img-src 'self' data:;", page.headers["content-security-policy"])
    assert "contextmap-street" not in page.text


def test_tiles_need_a_sign_in_and_a_loaded_basemap(client: Any, demo_headers: dict[str, dict[str, str]],
                                                   settings: Settings) -> None:
    assert current_basemap(settings) is None
    # Signed out: sent to sign in, as for the map pages (an API client asking for JSON gets a 401 problem).
    assert client.get(f"/basemap/{Z}/{X}/{Y}", follow_redirects=False).status_code == 303
    assert client.get(f"/basemap/{Z}/{X}/{Y}", headers=demo_headers["youth_worker"]).status_code == 404
    page = client.get("/maps/safe-spaces", headers=demo_headers["community_safety"])
    assert "contextmapBasemap" not in page.text and "contextmap-street" in page.text


def test_load_refuses_what_it_cannot_serve(settings: Settings, tmp_path: Path) -> None:
    not_tiles = tmp_path / "notes.mbtiles"
    not_tiles.write_text("SELECT 1")
    with pytest.raises(BasemapError, match="not an MBTiles"):
        load_basemap(not_tiles, settings)
    too_big = raster_mbtiles(tmp_path / "big.mbtiles")
    with pytest.raises(BasemapError, match="CONTEXTMAP_BASEMAP_MAX_BYTES"):
        load_basemap(too_big, settings.model_copy(update={"basemap_max_bytes": 1000}))
    gzip_file = tmp_path / "tiles.pmtiles"
    gzip_file.write_bytes(gzip.compress(b"PMTiles"))
    with pytest.raises(BasemapError):
        load_basemap(gzip_file, settings)
    assert list(settings.basemap_dir.glob("basemap.*")) == []  # nothing replaced


def test_the_cli_reports_what_it_loaded(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        loaded: None) -> None:
    from app import cli

    monkeypatch.setattr(cli, "settings", lambda: settings)
    result = CliRunner().invoke(cli.cli, ["basemap", "load", str(raster_mbtiles(tmp_path / "r.mbtiles"))])
    assert result.exit_code == 0, result.output
    assert "mbtiles raster (png)" in result.output and "zoom 11-16" in result.output
    bad = tmp_path / "bad.pmtiles"
    bad.write_bytes(b"nothing")
    result = CliRunner().invoke(cli.cli, ["basemap", "load", str(bad)])
    assert result.exit_code != 0
