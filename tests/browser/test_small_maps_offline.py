"""The small maps of the pages and forms with no internet (a new-user walk-through found them grey): every
request off 127.0.0.1 is blocked (the ``browser`` fixture), and the place page's map, the finder's map, the
incident and place point pickers draw the organisation's own streets under the data
(``/static/web/background.js`` from ``/maps/streets.geojson``). Screenshots: ``small-map-<page>.png``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import Browser

pytestmark = pytest.mark.browser

PAGES = {
    "place": ("community_safety", "/places/2"),
    "finder": ("youth_worker", "/safe-spaces/find?where=Wellgate+Street&age=14&when=now"),
    "incident-new": ("community_safety", "/incidents/new"),
    "place-new": ("community_safety", "/places/new"),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_small_maps_draw_the_streets_with_no_internet(browser: Browser, artifacts: Path, name: str) -> None:
    role, path = PAGES[name]
    page, log = browser.open(role, path)
    try:
        page.locator("[data-streets-drawn='true']").first.wait_for(state="attached")
        # The streets are vector paths in their own pane, under the data.
        assert page.locator(".leaflet-cmStreets-pane path").count() > 0
        assert page.locator(".leaflet-tile").count() == 0  # no internet tiles asked for
        page.screenshot(path=artifacts / f"small-map-{name}.png")
        log.assert_clean(name)
    finally:
        page.close()
