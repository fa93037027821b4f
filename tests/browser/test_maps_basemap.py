"""The admin's local basemap drawn with no internet: a vector PMTiles archive (drawn in the browser by
protomaps-leaflet) at desktop size and on a 390 x 844 phone, and a raster MBTiles archive, each loaded as
``contextmap basemap load`` does, with every request off 127.0.0.1 blocked (the ``browser`` fixture).
Screenshots: ``test-artifacts/browser/basemap-<kind>-<size>.png``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import URL

from app.services.basemap import load_basemap
from app.settings import Settings
from tests.basemap_files import raster_mbtiles, vector_pmtiles
from tests.browser.axe import check_axe
from tests.browser.conftest import Browser
from tests.browser.test_maps_browser import _paths, demo_ids  # noqa: F401 (a fixture)
from tests.browser.test_maps_offline import assert_shell, phone  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

# How many of the basemap's drawn tiles have any painted pixel (canvas for vector tiles, img for raster).
PAINTED = """(pane) => {
    const tiles = Array.from(document.querySelectorAll(pane + " .leaflet-tile"));
    return tiles.filter((tile) => {
        if (tile.tagName === "IMG") return tile.complete && tile.naturalWidth > 0;
        const data = tile.getContext("2d").getImageData(0, 0, tile.width, tile.height).data;
        for (let i = 3; i < data.length; i += 4 * 97) { if (data[i] > 0) return true; }
        return false;
    }).length;
}"""


@pytest.fixture
def basemap(request: pytest.FixtureRequest, settings: Settings, database_url: URL, tmp_path: Path) -> Iterator[str]:
    conninfo = database_url.set(drivername="postgresql").render_as_string(hide_password=False)
    kind = request.param
    source = vector_pmtiles(tmp_path / "town.pmtiles", conninfo) if kind == "pmtiles" \
        else raster_mbtiles(tmp_path / "town.mbtiles")
    load_basemap(source, settings)
    yield kind
    for path in settings.basemap_dir.glob("basemap.*"):
        path.unlink()


@pytest.mark.parametrize(("basemap", "size"), [("pmtiles", "desktop"), ("pmtiles", "phone"),
                                               ("mbtiles", "desktop")], indirect=["basemap"])
def test_the_local_basemap_is_drawn_with_no_internet(
    browser: Browser, phone: Browser, demo_ids: dict[str, Any], artifacts: Path, basemap: str,  # noqa: F811
    size: str,
) -> None:
    for name in ("safe-spaces", "hotspots"):
        page, log = (phone if size == "phone" else browser).open("community_safety", _paths(demo_ids)[name])
        try:
            page.wait_for_load_state("networkidle")
            pane = ".leaflet-contextmapBasemap-pane"
            page.wait_for_selector(f"{pane} .leaflet-tile", state="attached")
            page.wait_for_timeout(500)  # protomaps-leaflet paints after the tile's data arrive
            painted = page.evaluate(PAINTED, pane)
            assert painted >= 1, f"{basemap} {name} at {size}: no basemap tile drawn"
            # The basemap replaces the street network and asks nothing of the internet.
            assert page.locator("path.contextmap-street").count() == 0
            sources = page.eval_on_selector_all("img.leaflet-tile", "(imgs) => imgs.map((i) => i.src)")
            assert all(urlsplit(src).hostname == "127.0.0.1" for src in sources), sources
            assert not log.external, log.external
            log.assert_clean(f"{basemap} {name} at {size}")
            assert_shell(page, f"{basemap} {name} at {size}")
            page.screenshot(path=artifacts / f"basemap-{basemap}-{name}-{size}.png")
            check_axe(page, f"map-{name}-basemap-{size}")
        finally:
            page.close()
