"""The safe-space finder on a phone (390×844) in Chromium: by a typed street name, by a tapped map point and
with the browser's location granted, at a demo time when the library is open and the school closed; the
fallback advice when nothing is near; axe; the whole finder with the keyboard alone. Screenshots are saved
in test-artifacts/browser/finder-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from geo.demo import _lonlat
from tests.browser.axe import check_axe
from tests.browser.conftest import EMPTY_TILE, Browser, PageLog

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LIBRARY = "Wellgate Central Library"
SCHOOL = "Riverside Academy"


class Phone:
    """A youth worker's phone: its own signed-in context at 390×844, optionally with a location granted."""

    def __init__(self, browser: Browser, role: str, geolocation: tuple[float, float] | None = None) -> None:
        options: dict[str, Any] = {"viewport": PHONE, "base_url": browser.base_url, "is_mobile": True,
                                   "has_touch": True}
        if geolocation is not None:
            options["geolocation"] = {"longitude": geolocation[0], "latitude": geolocation[1]}
        self.context = browser.chromium.new_context(**options)
        if geolocation is not None:
            self.context.grant_permissions(["geolocation"], origin=browser.base_url)
        self.context.set_default_timeout(15_000)
        self.tile_host = browser.tile_host
        login = browser.logins[role]
        page = self.context.new_page()
        page.goto("/signin")
        page.fill("input[name=email]", login.email)
        page.fill("input[name=password]", login.password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert urlsplit(page.url).path == "/"
        page.close()

    def open(self, path: str) -> tuple[Any, PageLog]:
        page = self.context.new_page()
        log = PageLog()
        page.on("pageerror", lambda error: log.errors.append(f"pageerror: {error}"))
        page.on("console", lambda m: log.errors.append(f"console: {m.text}") if m.type == "error" else None)

        def route(request_route: Any) -> None:
            host = urlsplit(request_route.request.url).hostname
            if host == "127.0.0.1":
                request_route.continue_()
            elif host == self.tile_host:
                request_route.fulfill(status=200, content_type="image/png", body=EMPTY_TILE)
            else:
                log.external.append(request_route.request.url)
                request_route.abort()

        page.route("**/*", route)
        response = page.goto(path)
        assert response is not None and response.status == 200
        return page, log


@pytest.fixture()
def phone(browser: Browser) -> Iterator[Phone]:
    made = Phone(browser, "youth_worker")
    yield made
    made.context.close()


def _library_open_school_closed(page: Any) -> None:
    """Tuesday 15 September 2026, 17:30: the library is open until 19:00 (a safe space again since June,
    its youth worker on duty 15:00-19:00); the school closed at 16:00."""
    page.check("input[name=when][value=later]")
    page.fill("#day", "2026-09-15")
    page.fill("#time", "17:30")


def _submit(page: Any) -> None:
    with page.expect_navigation():
        page.click("form[data-finder-form] button[type=submit]")


def _assert_library_listed_school_left_out(page: Any) -> None:
    first = page.locator("[data-finder-result]").first
    assert LIBRARY in first.inner_text()
    guardians = first.locator("[data-finder-guardians]").inner_text()
    assert "Youth worker running the pop-up youth club" in guardians and "Library staff" in guardians
    assert "Open until 19:00" in first.inner_text()
    left_out = page.locator("[data-finder-left-out] + ul").inner_text()
    assert f"{SCHOOL}: closed at that time" in left_out


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def _shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"finder-{name}.png"), full_page=True)


def test_find_by_typed_street_name(phone: Phone, artifacts: Path) -> None:
    page, log = phone.open("/safe-spaces/find")
    _no_sideways_scroll(page)
    check_axe(page, "finder-form")
    page.fill("#where", "Wellgate Street")
    page.fill("#age", "14")
    _library_open_school_closed(page)
    _submit(page)
    assert page.locator("#results-heading").inner_text() == "Safe spaces near Wellgate Street"  # the street itself
    _assert_library_listed_school_left_out(page)
    page.wait_for_selector("[data-cm-finder-map] .leaflet-interactive")
    if "along the streets" in page.locator("[data-finder-route-note]").inner_text():
        # The walk is drawn along the streets: solid lines, not the dashed straight ones.
        solid = page.locator("[data-cm-finder-map] path.leaflet-interactive[stroke='#1d70b8']:not([stroke-dasharray])")
        assert solid.count() >= 1
    _no_sideways_scroll(page)
    check_axe(page, "finder-results")
    _shot(page, artifacts, "typed-street")
    log.assert_clean("finder by typed street")


def test_find_by_tapping_the_map(phone: Phone, artifacts: Path) -> None:
    page, log = phone.open("/safe-spaces/find")
    picker = page.locator("[data-cm-finder-picker]")
    picker.wait_for(state="visible")
    page.wait_for_selector("[data-cm-finder-picker].leaflet-container")
    box = picker.bounding_box()
    picker.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    assert page.input_value("#lon") and page.input_value("#lat")
    _library_open_school_closed(page)
    _submit(page)
    assert "the point you chose" in page.locator("#results-heading").inner_text()
    assert page.locator("[data-finder-result]").count() >= 1
    _shot(page, artifacts, "tapped-point")
    log.assert_clean("finder by map tap")


def test_find_with_the_location_granted(browser: Browser, artifacts: Path) -> None:
    located = Phone(browser, "youth_worker", geolocation=_lonlat(100, -100))  # between the outlet and library
    try:
        page, log = located.open("/safe-spaces/find")
        _library_open_school_closed(page)
        with page.expect_navigation():
            page.click("[data-finder-locate]")
        assert "the point you chose" in page.locator("#results-heading").inner_text()
        _assert_library_listed_school_left_out(page)
        _shot(page, artifacts, "geolocation")
        log.assert_clean("finder with geolocation")
    finally:
        located.context.close()


def test_fallback_advice_first_when_nothing_is_near(phone: Phone, artifacts: Path) -> None:
    lon, lat = _lonlat(2400, 2400)  # the far corner of the demo town
    page, log = phone.open(f"/safe-spaces/find?lon={lon}&lat={lat}&when=later&day=2026-09-15&time=17:30")
    advice = page.locator("[data-finder-advice]")
    assert "Nothing open is within a 15-minute walk" in advice.inner_text()
    first_result = page.locator("[data-finder-result]").first
    assert advice.bounding_box()["y"] < first_result.bounding_box()["y"]
    check_axe(page, "finder-fallback")
    _shot(page, artifacts, "fallback")
    log.assert_clean("finder fallback")


def _tab_to(page: Any, selector: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} cannot be reached with the Tab key")


def test_the_whole_finder_with_the_keyboard_alone(phone: Phone, artifacts: Path) -> None:
    page, log = phone.open("/safe-spaces/find")
    _tab_to(page, "#where")
    page.keyboard.type("Wellgate Street")
    _tab_to(page, "#age")
    page.keyboard.type("14")
    _tab_to(page, "input[name=when][value=now]")
    page.keyboard.press("ArrowDown")  # radios move with the arrow keys: "Another day or time"
    assert page.is_checked("input[name=when][value=later]")
    _tab_to(page, "#day")
    page.evaluate("document.activeElement.value = '2026-09-15'")  # the date picker's typing order is locale's
    _tab_to(page, "#time")
    page.evaluate("document.activeElement.value = '17:30'")
    _tab_to(page, "form[data-finder-form] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _assert_library_listed_school_left_out(page)
    _tab_to(page, "[data-finder-result]:first-child h3 a")  # the library, first (asserted above)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert LIBRARY in page.locator("h1").inner_text()
    _shot(page, artifacts, "keyboard-place")
    log.assert_clean("finder by keyboard")
