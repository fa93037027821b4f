"""Areas in the browser: an intervention's area made with the keyboard alone (skip the map, type the
corners), a place's outline drawn on the map and changed as a list of corners, the place page's interventions
around it, and the organisation's own thresholds on the admin page (axe, screenshots, 390 px)."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.browser.conftest import Browser
from tests.browser.test_web_journeys import _press_enter_on, _tab_to, _type_date, _type_into
from tests.browser.test_web_pages import check_page
from tests.conftest import unique

BANNER = ".govuk-notification-banner--success"
SUMMARY = ".govuk-error-summary"


def _clean(log: Any, where: str) -> None:
    log.errors = [e for e in log.errors if "status of 422" not in e and "status of 403" not in e]
    log.assert_clean(where)


def test_keyboard_only_record_an_intervention_over_an_area(browser: Browser) -> None:
    page, log = browser.open("community_safety", "/interventions")
    title = unique("Keyboard patrol ")
    try:
        _press_enter_on(page, "a[href='/interventions/new']")
        _tab_to(page, "#kind")
        page.keyboard.type("Outreach")  # a select's type-ahead
        assert page.input_value("#kind") == "outreach"
        _type_into(page, "#title", title)
        _type_into(page, "#shareable_summary", "Detached youth work around the shops")
        _type_into(page, "#description", "Two workers on Friday evenings")
        _type_into(page, "#owning_partner", "Youth service")
        _type_date(page, "starts_on", date(2026, 9, 1))
        # The radios: Tab reaches the group, an arrow key chooses "Over an area".
        _tab_to(page, "input[name=location]")
        page.keyboard.press("ArrowDown")
        assert page.is_checked("#location-2")
        # Next to the map: a link that skips it and puts the focus in the list of corners.
        _tab_to(page, "a[data-skip-map]")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "area_points"
        for n, corner in enumerate(("-0.4130, 51.8790", "-0.4110, 51.8790", "TL 0925 2145")):
            if n:
                page.keyboard.press("Enter")
            page.keyboard.type(corner)
        _press_enter_on(page, "form[data-intervention-form] button[type=submit]")
        assert page.locator(BANNER).inner_text().endswith("Intervention recorded")
        assert title in page.locator("h1").inner_text()
        assert "A drawn area" in page.locator("[data-intervention-details]").inner_text()
        page.wait_for_selector("[data-cm-area-map] path.leaflet-interactive")
        _clean(log, "keyboard intervention area")
    finally:
        page.close()


def test_a_place_outline_drawn_on_the_map_then_changed_as_corners(browser: Browser) -> None:
    page, log = browser.open("youth_worker", "/places/new")
    name = unique("Drawn park ")
    try:
        check_page(page, "form-new-place-outline")
        page.fill("#name", name)
        page.select_option("#kind", "park")
        drawer = page.locator("[data-cm-area-drawer]")
        drawer.scroll_into_view_if_needed()
        box = drawer.bounding_box()
        assert box is not None
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for dx, dy in ((-40, -30), (40, -30), (40, 30), (-40, 30)):
            page.mouse.click(cx + dx, cy + dy)
        assert page.is_checked("#shape-2")  # drawing says it is an area
        assert len(page.input_value("#outline_points").splitlines()) == 4
        assert '"type":"Polygon"' in page.input_value("#outline")
        with page.expect_navigation():
            page.click("form[data-place-form] button[type=submit]")
        assert page.locator(BANNER).inner_text().endswith("Place added")

        page.click("text=Change the place's details")
        corners = page.input_value("#outline_points").splitlines()
        assert len(corners) == 4 and page.is_checked("#shape-2")
        page.fill("#outline_points", "\n".join(corners[:3]) + "\nnot a corner")
        with page.expect_navigation():
            page.click("form[data-place-form] button[type=submit]")
        assert "Line 4: not a corner is not" in page.locator(SUMMARY).inner_text()
        check_page(page, "form-edit-place-outline-errors")
        page.fill("#outline_points", "\n".join(corners[:3]))
        with page.expect_navigation():
            page.click("form[data-place-form] button[type=submit]")
        assert page.locator(BANNER).inner_text().endswith("Place details saved")
        _clean(log, "place outline")
    finally:
        page.close()


def test_place_page_lists_interventions_around_it(browser: Browser) -> None:
    page, log = browser.open("community_safety", "/places")
    try:
        page.fill("#q", "Wellgate Central Library")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        with page.expect_navigation():
            page.click("text=Wellgate Central Library")
        assert page.locator("h3", has_text="Around this place").count() == 1
        check_page(page, "place-library-interventions-around")
        _clean(log, "place page around")
    finally:
        page.close()


def test_admin_sets_a_stricter_threshold_and_a_looser_one_is_refused(browser: Browser) -> None:
    page, log = browser.open("admin", "/admin/organisation")
    try:
        check_page(page, "admin-organisation-thresholds")
        page.fill("#suppress_max", "3")
        page.fill("#round_to", "")
        with page.expect_navigation():
            page.click("form[data-organisation-form] button[type=submit]")
        summary = page.locator(SUMMARY)
        assert "never fewer" in summary.inner_text()
        summary.locator("a[href='#suppress_max']").click()
        assert page.evaluate("document.activeElement.id") == "suppress_max"
        check_page(page, "admin-organisation-thresholds-errors")
        page.fill("#suppress_max", "10")
        with page.expect_navigation():
            page.click("form[data-organisation-form] button[type=submit]")
        assert page.locator(BANNER).count() == 1
        assert "1 to 10 (your organisation's)" in page.locator("[data-deployment-settings]").inner_text()
        page.fill("#suppress_max", "")  # back to the deployment's, for the other tests
        with page.expect_navigation():
            page.click("form[data-organisation-form] button[type=submit]")
        assert "1 to 7" in page.locator("[data-deployment-settings]").inner_text()
        _clean(log, "admin thresholds")
    finally:
        page.close()
