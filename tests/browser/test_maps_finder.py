"""The desktop safe-spaces map uses the finder of ``/safe-spaces/find`` (issue 15): a youth worker types a street
and the young person's age into the form beside the map, at a demo time when the library is open and the
school closed; the map marks the starting point with a line to each result, the list beside it names the library
with its guardians and the school left out with the reason. The panel sees the map without the finder.
Screenshots: ``test-artifacts/browser/map-finder-*.png``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.axe import check_axe
from tests.browser.conftest import Browser
from tests.browser.test_web_finder import LIBRARY, SCHOOL

pytestmark = pytest.mark.browser


def test_the_desktop_safe_spaces_map_finds_with_the_finder(browser: Browser, artifacts: Path) -> None:
    page, log = browser.open("youth_worker", "/maps/safe-spaces?at=2026-09-15T17:30")
    try:
        form = page.locator("[data-map-finder] form")
        form.locator("#where").fill("Wellgate Street")
        form.locator("#age").fill("14")
        with page.expect_navigation():
            form.locator("button").click()
        page.wait_for_load_state("networkidle")
        results = page.locator("[data-finder-result]")
        assert results.count() >= 1
        first = results.first.inner_text()
        assert LIBRARY in first and "Open until 19:00" in first, first
        guardians = results.first.locator("[data-finder-guardians]").inner_text()
        assert "Youth worker running the pop-up youth club" in guardians, guardians
        assert f"{SCHOOL}: closed at that time" in page.locator("[data-finder-left-out] + ul").inner_text()
        assert "for a 14-year-old" in page.locator("[data-finder-results] h3").first.inner_text()
        # On the map: the starting point, named, and one straight line to each listed safe space.
        start = page.locator("path.contextmap-finder-start")
        assert start.count() == 1 and (start.get_attribute("aria-label") or "") == "Starting point: Wellgate Street"
        assert page.locator("path.contextmap-finder-line").count() == results.count()
        # The list is beside the map, not under it.
        map_box = page.locator(".folium-map").bounding_box()
        list_box = page.locator("[data-map-finder]").bounding_box()
        assert map_box and list_box and list_box["x"] >= map_box["x"] + map_box["width"] - 1
        assert_shell_for(page)
        log.assert_clean("map finder")
        page.screenshot(path=artifacts / "map-finder-desktop.png")
        check_axe(page, "map-safe-spaces-finder-desktop")
    finally:
        page.close()


def assert_shell_for(page: Any) -> None:
    assert "(youth worker)" in page.locator("[data-signed-in]").inner_text()
    assert page.locator("a.govuk-skip-link[href='#main-content']").count() == 1


def test_a_wrong_street_is_an_error_beside_the_map(browser: Browser, artifacts: Path) -> None:
    page, _ = browser.open("youth_worker", "/maps/safe-spaces?where=Nowhere+Road&age=99")
    try:
        summary = page.locator(".govuk-error-summary").inner_text()
        assert "No place or street called" in summary and "whole number from 0 to 25" in summary
        assert page.title().startswith("Error:")
        assert page.locator("path.contextmap-finder-start").count() == 0
        page.screenshot(path=artifacts / "map-finder-error-desktop.png")
        check_axe(page, "map-safe-spaces-finder-error")
    finally:
        page.close()


def test_the_panel_sees_the_map_without_the_finder(browser: Browser) -> None:
    page, _ = browser.open("panel", "/maps/safe-spaces?where=Wellgate+Street")
    try:
        assert page.locator("[data-map-finder]").count() == 0
        assert page.locator("path.contextmap-finder-start").count() == 0
        assert "(panel)" in page.locator("[data-signed-in]").inner_text()
    finally:
        page.close()
