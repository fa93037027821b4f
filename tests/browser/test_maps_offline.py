"""The map pages with no internet: every request off 127.0.0.1 is blocked (the ``browser`` fixture aborts
and records them), and each map still shows street context: the demo town's own streets, drawn as
vector paths under the data, at desktop size and on a 390 x 844 phone. axe-core checks each page with
its own CSP in force. Screenshots land in ``test-artifacts/browser/`` as ``offline-<map>-<size>.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.axe import check_axe
from tests.browser.conftest import Browser
from tests.browser.test_maps_browser import _paths, demo_ids  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1400, 900), "phone": (390, 844)}


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("name", ["hotspots", "safe-spaces", "displacement", "place"])
def test_every_map_shows_its_streets_with_no_internet(
    browser: Browser, demo_ids: dict[str, Any], artifacts: Path, name: str, size: str  # noqa: F811
) -> None:
    page, log = browser.open("community_safety", _paths(demo_ids)[name])
    try:
        width, height = SIZES[size]
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_function("window.contextmapLayers !== undefined")
        page.wait_for_load_state("networkidle")
        streets = page.locator(".leaflet-contextmapStreets-pane path.contextmap-street")
        assert streets.count() >= 1, f"{name} at {size}: no street layer"
        # The one path holds the whole grid: many move-to commands, not an empty outline.
        assert (streets.first.get_attribute("d") or "").count("M") >= 20, f"{name} at {size}: streets not drawn"
        # Nothing asked of an internet tile server: the streets are the basemap.
        assert page.locator(".leaflet-tile").count() == 0, f"{name} at {size}: internet tiles requested"
        page.screenshot(path=artifacts / f"offline-{name}-{size}.png")
        log.assert_clean(f"{name} at {size}")
        if size == "phone":
            check_axe(page, f"map-{name}-phone")
    finally:
        page.close()
