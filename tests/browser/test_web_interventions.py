"""Interventions and the hot-spot flag of issue 14 in Chromium, through the pages only, as each role that may
do them, with the refusals for the roles that may not (panel and youth worker read; the panel sees only
the title and the summary written for it). Every page is checked with axe-core, at 390×844 for sideways
scrolling, and photographed (test-artifacts/screenshots)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.db.session import Database
from tests.browser.conftest import Browser
from tests.browser.test_web_pages import check_page
from tests.conftest import count_rows, unique

pytestmark = pytest.mark.browser

BANNER = ".govuk-notification-banner--success"
SUMMARY = ".govuk-error-summary"


def _clean(log: Any, where: str) -> None:
    # A form sent back with errors is 422 and a refusal 403, as intended; Chromium logs both on the console.
    log.errors = [e for e in log.errors if "status of 422" not in e and "status of 403" not in e]
    log.assert_clean(where)


def _submit(page: Any, form: str) -> None:
    with page.expect_navigation():
        page.click(f"form[{form}] button[type=submit]")


def _date(page: Any, prefix: str, when: date) -> None:
    page.fill(f"#{prefix}-day", str(when.day))
    page.fill(f"#{prefix}-month", str(when.month))
    page.fill(f"#{prefix}-year", str(when.year))


def _record(page: Any, title: str, summary: str, description: str, partner: str) -> str:
    """Fill the intervention form at a place (the library) and save it; returns the intervention's path."""
    page.select_option("#kind", "youth_provision")
    page.fill("#title", title)
    page.fill("#shareable_summary", summary)
    page.fill("#description", description)
    page.fill("#owning_partner", partner)
    page.fill("#partners", "Library service\nYoung people's advisory group")
    _date(page, "starts_on", date.today() - timedelta(days=30))
    page.check("#location")  # "At a place"
    page.select_option("#place_id", label="Wellgate Central Library")
    _submit(page, "data-intervention-form")
    assert page.locator(BANNER).inner_text().endswith("Intervention recorded")
    return str(urlsplit(page.url).path)


def test_community_safety_records_changes_and_ends_an_intervention(browser: Browser, database: Database) -> None:
    page, log = browser.open("community_safety", "/interventions")
    title = unique("Pop-up youth club ")
    partner = unique("Youth service ")
    try:
        check_page(page, "interventions")
        with page.expect_navigation():
            page.get_by_role("link", name="Record an intervention").click()
        check_page(page, "form-new-intervention")
        before = count_rows(database, "interventions")
        page.fill("#title", title)
        _date(page, "starts_on", date.today())
        _date(page, "ends_on", date.today() - timedelta(days=3))
        _submit(page, "data-intervention-form")
        summary = page.locator(SUMMARY).inner_text()
        for message in ("Choose the kind of intervention", "Write a short summary a panel may read",
                        "Describe what is being done", "Say which partner owns the intervention",
                        "The end date must be the same as or after the start date",
                        "Choose the place of the intervention"):
            assert message in summary
        assert page.input_value("#title") == title  # what was typed comes back
        check_page(page, "form-new-intervention-errors")
        assert count_rows(database, "interventions") == before  # nothing written
        page.fill("#ends_on-day", "")
        page.fill("#ends_on-month", "")
        page.fill("#ends_on-year", "")
        path = _record(page, title, "A youth club in the library after school, co-designed with young people",
                       "Two youth workers run it Tuesday and Thursday; staff briefed", partner)
        assert count_rows(database, "interventions") == before + 1
        assert page.locator("[data-intervention-title]").inner_text().startswith(title)
        assert "co-designed with young people" in page.locator("[data-shareable-summary]").inner_text()
        details = page.locator("[data-intervention-details]").inner_text()
        assert "Two youth workers run it" in details and partner in details
        assert page.locator("[data-intervention-details] a").get_attribute("href").startswith("/places/")
        link = page.locator("[data-displacement-link]")
        intervention_id = path.rsplit("/", 1)[1]
        assert link.get_attribute("href") == f"/maps/displacement?intervention={intervention_id}"
        check_page(page, "intervention")

        with page.expect_navigation():
            page.get_by_role("link", name="Change the intervention").click()
        check_page(page, "form-edit-intervention")
        page.fill("#title", title + " (Thursdays)")
        _submit(page, "data-intervention-form")
        assert page.locator(BANNER).inner_text().endswith("Intervention saved")
        assert "(Thursdays)" in page.locator("[data-intervention-title]").inner_text()

        with page.expect_navigation():
            page.get_by_role("link", name="End the intervention").click()
        check_page(page, "form-end-intervention")
        _date(page, "ends_on", date.today() - timedelta(days=31))
        _submit(page, "data-end-intervention-form")
        assert "The intervention ends before it starts" in page.locator(SUMMARY).inner_text()
        _date(page, "ends_on", date.today() - timedelta(days=1))
        _submit(page, "data-end-intervention-form")
        assert page.locator(BANNER).inner_text().endswith("Intervention ended")
        assert "Ended" in page.locator("[data-intervention-title]").inner_text()
        assert page.get_by_role("link", name="End the intervention").count() == 0

        # The list's filters find it: ended, this partner (an other partner's name matches too).
        page.goto("/interventions")
        page.select_option("#status", "ended")
        page.fill("#partner", partner)
        _submit(page, "data-intervention-filters")
        table = page.locator("[data-interventions-table]").inner_text()
        assert title in table and page.locator("[data-interventions-total]").inner_text().startswith("1 intervention")
        check_page(page, "interventions-filtered")
        page.select_option("#status", "current")
        _submit(page, "data-intervention-filters")
        assert page.locator("[data-interventions-table]").count() == 0
        _clean(log, "community safety interventions journey")
    finally:
        page.close()


def test_admin_draws_an_area_on_the_map(browser: Browser) -> None:
    page, log = browser.open("admin", "/interventions/new")
    title = unique("Street lighting ")
    try:
        page.select_option("#kind", "environmental_change")
        page.fill("#title", title)
        page.fill("#shareable_summary", "Brighter lighting along the path behind the shops")
        page.fill("#description", "Council replaced six lamps")
        page.fill("#owning_partner", "Highways")
        page.check("#location-2")  # "Over an area"
        drawer = page.locator("[data-cm-area-drawer]")
        drawer.wait_for(state="visible")
        drawer.scroll_into_view_if_needed()  # clicks land only inside the viewport
        box = drawer.bounding_box()
        assert box is not None
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for dx, dy in ((-40, -30), (40, -30), (40, 30), (-40, 30)):
            page.mouse.click(cx + dx, cy + dy)
        drawn = page.input_value("#area")
        assert '"type":"Polygon"' in drawn and drawn.count("[") >= 6  # four points and the closing one
        page.get_by_role("button", name="Undo the last point").click()
        assert page.input_value("#area").count("],[") == 3  # three points, closed: a triangle
        _submit(page, "data-intervention-form")
        assert page.locator(BANNER).inner_text().endswith("Intervention recorded")
        assert "A drawn area" in page.locator("[data-intervention-details]").inner_text()
        page.wait_for_selector("[data-cm-area-map] path.leaflet-interactive")
        _clean(log, "admin draws an area")
    finally:
        page.close()


def test_pasted_geojson_without_javascript(chromium: Any, browser: Browser, live_server: str) -> None:
    """The area works without JavaScript: a GeoJSON box (a wrong one gets its error, nothing written)."""
    context = chromium.new_context(base_url=live_server, java_script_enabled=False)
    context.add_cookies(browser._context("community_safety").cookies())
    page = context.new_page()
    try:
        page.goto("/interventions/new")
        page.select_option("#kind", "outreach")
        page.fill("#title", unique("Outreach walk "))
        page.fill("#shareable_summary", "Detached youth work on the estate on Friday evenings")
        page.fill("#description", "Two workers, 6pm to 10pm")
        page.fill("#owning_partner", "Youth service")
        page.check("#location-2")
        page.fill("#area", '{"type": "LineString", "coordinates": [[-0.41, 51.88], [-0.42, 51.88]]}')
        _submit(page, "data-intervention-form")
        assert "The area must be a polygon" in page.locator(SUMMARY).inner_text()
        page.fill("#area", '{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": '
                           '[[[-0.414, 51.879], [-0.411, 51.879], [-0.411, 51.881], [-0.414, 51.879]]]}}')
        _submit(page, "data-intervention-form")
        assert page.locator(BANNER).inner_text().endswith("Intervention recorded")
    finally:
        context.close()


def test_panel_sees_only_the_shareable_summary_and_cannot_write(browser: Browser) -> None:
    writer, _ = browser.open("community_safety", "/interventions/new")
    title = unique("Staff training ")
    secret = unique("Staff member J. Smith trained ")
    try:
        path = _record(writer, title, "Library staff trained in bystander intervention", secret, "Library service")
    finally:
        writer.close()
    page, log = browser.open("panel", path)
    try:
        text = page.locator("main").inner_text()
        assert title in text and "Library staff trained in bystander intervention" in text
        assert secret not in text and "Library service" not in text  # description and partners withheld
        assert page.get_by_role("link", name="Change the intervention").count() == 0
        check_page(page, "intervention-panel")
        page.goto("/interventions")
        assert page.get_by_role("link", name="Record an intervention").count() == 0
        assert page.locator("#partner").count() == 0  # partners are not theirs to search
        assert title in page.locator("[data-interventions-table]").inner_text()
        assert "Library service" not in page.locator("[data-interventions-table]").inner_text()
        check_page(page, "interventions-panel")
        for refused in ("/interventions/new", path + "/edit", path + "/end"):
            response = page.goto(refused)
            assert response is not None and response.status == 403, refused
            assert "You cannot do this with your role" in page.locator("h1").inner_text()
        _clean(log, "panel interventions")
    finally:
        page.close()


def test_youth_worker_reads_interventions_but_cannot_record_them(browser: Browser) -> None:
    page, log = browser.open("youth_worker", "/interventions")
    try:
        assert page.get_by_role("link", name="Record an intervention").count() == 0
        with page.expect_navigation():
            page.locator("[data-interventions-table] a").first.click()
        assert page.locator("[data-intervention-details]").count() == 1
        assert page.get_by_role("link", name="Change the intervention").count() == 0
        response = page.goto("/interventions/new")
        assert response is not None and response.status == 403
        _clean(log, "youth worker interventions")
    finally:
        page.close()


def _hot_cell_link(page: Any) -> str:
    """The first "Flag as a place of concern" link in the hot-spot map's data (significant hot cells only)."""
    found = re.search(r'href=\\?"(/places/flag\?.*?)\\?"', page.content())
    assert found is not None, "the hot-spot map offers no significant cell to flag"
    return found.group(1).replace("\\u0026amp;", "&").replace("&amp;", "&")


def _select_flaggable_cell(page: Any) -> None:
    """Select cells on the map (as a click does) until one's popup offers the flag link."""
    opened = page.evaluate("""() => {
        for (const cell of document.querySelectorAll("path.leaflet-interactive")) {
            cell.dispatchEvent(new MouseEvent("click", {bubbles: true, view: window}));
            if (document.querySelector('.leaflet-popup-content a[href^="/places/flag"]')) return true;
        }
        return false;
    }""")
    assert opened, "no cell of the hot-spot map offered 'Flag as a place of concern'"


def test_community_safety_flags_a_hot_spot_cell(browser: Browser, database: Database) -> None:
    page, log = browser.open("community_safety", "/maps/hotspots")
    try:
        link = _hot_cell_link(page)
        query = parse_qs(urlsplit(link).query)
        assert set(query) >= {"cell", "size", "from", "to"}
        # Selecting a significant cell opens its popup with the link; following it opens the flag form.
        _select_flaggable_cell(page)
        with page.expect_navigation():
            page.locator('.leaflet-popup-content a[href^="/places/flag"]').click()
        assert urlsplit(page.url).path == "/places/flag"
        assert "Hot spot" in page.locator("[data-flag-cell]").inner_text()
        check_page(page, "form-flag-hotspot")
        before = count_rows(database, "designations")
        page.fill("#reason", "")
        _date(page, "review_by", date.today() - timedelta(days=1))
        _submit(page, "data-flag-form")
        summary = page.locator(SUMMARY).inner_text()
        assert "Choose the level of concern" in summary and "Say why this is a place of concern" in summary
        assert "The review date must be today or in the future" in summary
        assert count_rows(database, "designations") == before
        # Sorts after the demo places, so the places list's first page (tests/web/test_shell.py) keeps them.
        name = unique("Yard behind the station ")
        page.fill("#name", name)
        page.check("#level-3")
        page.fill("#reason", "Repeated reports of older males meeting young people here after dark")
        _date(page, "review_by", date.today() + timedelta(days=60))
        _submit(page, "data-flag-form")
        assert page.locator(BANNER).inner_text().endswith("Place of concern recorded from the hot-spot map")
        assert page.locator("[data-place-name]").inner_text() == name
        current = page.locator('[data-current-designation="concern"]').inner_text()
        assert "Repeated reports of older males" in current and "Getis-Ord Gi*" in current
        assert "Place of concern (high)" in current
        _clean(log, "flag a hot spot")
    finally:
        page.close()


def test_flagging_is_refused_to_youth_workers_and_panels(browser: Browser) -> None:
    page, _ = browser.open("community_safety", "/maps/hotspots")
    link = _hot_cell_link(page)
    page.close()
    for role in ("youth_worker", "panel"):
        page, _ = browser.open(role, "/maps/hotspots")
        try:
            assert "/places/flag?" not in page.content()
            response = page.goto(link)
            assert response is not None and response.status == 403
        finally:
            page.close()
