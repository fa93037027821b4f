"""The map pages with no internet: every request off 127.0.0.1 is blocked (the ``browser`` fixture aborts
and records them), and each map still shows street context: the demo town's own streets, drawn as
vector paths under the data, at desktop size and on a 390 x 844 phone. axe-core checks each page with
its own CSP in force. Screenshots land in ``test-artifacts/browser/`` as ``offline-<map>-<size>.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.axe import check_axe
from tests.browser.conftest import Browser
from tests.browser.test_maps_browser import _paths, demo_ids  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1400, 900), "phone": (390, 844)}


class PhoneBrowser(Browser):
    """The ``browser`` fixture's pages (same sign-in, same blocking of other hosts) at 390 x 844, from the
    first paint: the phone layout is chosen when the page loads, not on a later resize."""

    def _context(self, role: str) -> Any:
        if role not in self.contexts:
            context = self.chromium.new_context(viewport={"width": 390, "height": 844}, base_url=self.base_url,
                                                has_touch=True, is_mobile=True)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto("/signin")
            page.fill("input[name=email]", self.logins[role].email)
            page.fill("input[name=password]", self.logins[role].password)
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert urlsplit(page.url).path == "/", f"{role} could not sign in: {page.url}"
            page.close()
            self.contexts[role] = context
        return self.contexts[role]


def assert_shell(page: Any, where: str) -> None:
    """The web application's shell around the map (issue 13): the organisation, who is signed in and their role,
    the navigation, Sign out, the skip link to main, breadcrumbs; and the map still keeps most of the screen."""
    assert page.locator("header.govuk-header [data-organisation]").inner_text().strip(), f"{where}: no organisation"
    assert "(community safety)" in page.locator("[data-signed-in]").inner_text(), f"{where}: no user and role"
    assert page.locator("[data-sign-out]").count() == 1, f"{where}: no Sign out"
    assert page.locator("a.govuk-skip-link[href='#main-content']").count() == 1, f"{where}: no skip link"
    assert page.locator("nav.govuk-breadcrumbs a[href='/']").count() == 1, f"{where}: no breadcrumbs"
    assert page.locator(".govuk-service-navigation a[href='/maps/hotspots']").count() == 1, f"{where}: no Maps link"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{where}: scrolls sideways ({width} px)"


@pytest.fixture(scope="module")
def phone(browser: Browser) -> Iterator[Browser]:
    phone = PhoneBrowser(browser.chromium, browser.base_url, browser.logins, browser.tile_host)
    yield phone
    phone.close()


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("name", ["hotspots", "safe-spaces", "displacement", "place"])
def test_every_map_shows_its_streets_with_no_internet(
    browser: Browser, phone: Browser, demo_ids: dict[str, Any], artifacts: Path, name: str,  # noqa: F811
    size: str,
) -> None:
    page, log = (phone if size == "phone" else browser).open("community_safety", _paths(demo_ids)[name])
    try:
        assert page.viewport_size == {"width": SIZES[size][0], "height": SIZES[size][1]}
        page.wait_for_function("window.contextmapLayers !== undefined")
        page.wait_for_load_state("networkidle")
        streets = page.locator(".leaflet-contextmapStreets-pane path.contextmap-street")
        assert streets.count() >= 1, f"{name} at {size}: no street layer"
        # The one path holds the streets in view (Leaflet clips to the screen): several lines, not an outline.
        assert (streets.first.get_attribute("d") or "").count("M") >= 6, f"{name} at {size}: streets not drawn"
        # Nothing asked of an internet tile server: the streets are the basemap.
        assert page.locator(".leaflet-tile").count() == 0, f"{name} at {size}: internet tiles requested"
        page.screenshot(path=artifacts / f"offline-{name}-{size}.png")
        log.assert_clean(f"{name} at {size}")
        if size == "phone":
            check_axe(page, f"map-{name}-phone")
            # The boxes fold behind their buttons: the map keeps most of the screen.
            assert page.locator(".contextmap-box details[open]").count() == 0, f"{name}: a box is open"
            assert page.locator(".leaflet-control-layers-expanded").count() == 0, f"{name}: the layer list is open"
            map_box = page.locator(".folium-map").bounding_box()
            assert map_box is not None and map_box["height"] >= 0.8 * SIZES[size][1]
        else:
            check_axe(page, f"map-{name}-desktop")
        # The map's information as tables below it, reachable by keyboard (a focusable region each).
        assert page.locator("#contextmap-tables table").count() >= 1, f"{name}: no table below the map"
        assert page.locator("main#main-content").count() == 1
        assert page.locator("html").get_attribute("lang") == "en-GB"
        assert_shell(page, f"{name} at {size}")
        if name == "safe-spaces":
            # A symbol per kind of place in each marker, and each marker named for assistive technology.
            assert page.locator(".contextmap-symbol .fa-book").count() >= 1, f"{name} at {size}: no library symbol"
            assert page.locator("[role=img][aria-label*='Wellgate Central Library']").count() >= 1
    finally:
        page.close()
