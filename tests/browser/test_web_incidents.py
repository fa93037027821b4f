"""The incident journeys of issue 14 in Chromium, through the pages only, against the demo: record (with
the error summary first, and the place suggested for the point), read back, change and delete as
community safety; record as a youth worker, who may not change or delete; filter and page the list as
admin; the panel is refused every incident page. axe-core, 390×844 and screenshots on every page."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import Browser
from tests.browser.test_web_pages import check_page
from tests.conftest import unique

pytestmark = pytest.mark.browser

BANNER = ".govuk-notification-banner--success"


def _clean(log: Any, where: str) -> None:
    # A form sent back with errors is 422 and a refusal 403, as intended; Chromium logs both on the console.
    log.errors = [e for e in log.errors if "status of 422" not in e and "status of 403" not in e]
    log.assert_clean(where)


def _submit(page: Any, form: str, button: str = "save") -> None:
    with page.expect_navigation():
        page.click(f"form[{form}] button[name=action][value={button}]")


def _date(page: Any, prefix: str, when: date) -> None:
    page.fill(f"#{prefix}-day", str(when.day))
    page.fill(f"#{prefix}-month", str(when.month))
    page.fill(f"#{prefix}-year", str(when.year))


def _library_point(page: Any) -> tuple[str, str]:
    """The library's coordinates, read from its place page's map (the pages only, no API)."""
    page.goto("/places?q=Wellgate+Central+Library")
    with page.expect_navigation():
        page.get_by_role("link", name="Wellgate Central Library", exact=True).click()
    first = json.loads(page.locator("[data-cm-places-map]").get_attribute("data-places"))[0]
    return f"{first['lon'] + 0.0002:.6f}", f"{first['lat']:.6f}"


def test_community_safety_records_changes_and_deletes_an_incident(browser: Browser) -> None:
    page, log = browser.open("community_safety", "/incidents")
    description = unique("Group gathered by the side entrance ")
    try:
        lon, lat = _library_point(page)
        page.goto("/incidents")
        with page.expect_navigation():
            page.get_by_role("link", name="Record an incident").click()
        check_page(page, "incident-form-new")
        _submit(page, "data-incident-form")  # nothing filled in
        summary = page.locator(".govuk-error-summary").inner_text()
        assert "Choose the place on the map" in summary and "Choose the kind of harm" in summary
        assert "Enter the date" in summary
        check_page(page, "incident-form-errors")

        page.fill("#lon", lon)
        page.fill("#lat", lat)
        _submit(page, "data-incident-form", "suggest")  # the place for this point, nothing written
        assert "Wellgate Central Library (suggested)" in page.locator("#place option[value=auto]").inner_text()
        page.select_option("#harm_category", "criminal_exploitation")
        yesterday = date.today() - timedelta(days=1)
        _date(page, "occurred", yesterday)
        page.fill("#occurred_time", "16:00")
        page.check("#timing-2")  # some time in a window
        _date(page, "until", yesterday)
        page.fill("#until_time", "15:00")  # ends before it starts
        page.fill("#young_people", "three")
        page.fill("#description", description)
        _submit(page, "data-incident-form")
        summary = page.locator(".govuk-error-summary").inner_text()
        assert "The window must end after it starts" in summary
        assert "Enter how many young people were involved as a whole number" in summary
        page.fill("#until_time", "18:30")
        page.fill("#young_people", "3")
        _submit(page, "data-incident-form")
        assert page.locator(BANNER).inner_text().endswith("Incident recorded")
        about = page.locator("[data-incident]").inner_text()
        assert "Criminal exploitation" in about and description in about and "Wellgate Central Library" in about
        assert "Between" in about and "16:00" in about and "18:30" in about and "3" in about
        incident_url = urlsplit(page.url).path
        check_page(page, "incident-page")

        with page.expect_navigation():
            page.get_by_role("link", name="Change the incident").click()
        check_page(page, "incident-form-edit")
        page.select_option("#harm_category", "drugs")
        page.fill("#young_people", "4")
        mallgate = page.locator("#place option", has_text="The Mallgate Centre").get_attribute("value")
        page.select_option("#place", mallgate)  # a chosen place, not the nearest
        _submit(page, "data-incident-form")
        assert page.locator(BANNER).inner_text().endswith("Incident saved")
        about = page.locator("[data-incident]").inner_text()
        assert "Drugs" in about and "The Mallgate Centre (chosen)" in about and "4" in about

        with page.expect_navigation():
            page.get_by_role("link", name="Delete the incident").click()
        check_page(page, "incident-delete")
        with page.expect_navigation():
            page.click("form[data-delete-form] button[type=submit]")
        assert page.locator(BANNER).inner_text().endswith("Incident deleted")
        gone = page.goto(incident_url)
        assert gone is not None and gone.status == 404
        log.errors = [e for e in log.errors if "status of 404" not in e]  # the deleted incident's page, as intended
        _clean(log, "community safety incident journey")
    finally:
        page.close()


def test_youth_worker_records_but_may_not_change_or_delete(browser: Browser) -> None:
    page, log = browser.open("youth_worker", "/incidents/new")
    try:
        assert page.get_by_role("link", name="Imports").count() == 0
        page.fill("#grid_reference", "TL 0900 2150")
        page.select_option("#harm_category", "antisocial_behaviour")
        _date(page, "occurred", date.today())
        page.fill("#occurred_time", "00:05")
        page.check("#location_precision-3")  # street
        _submit(page, "data-incident-form")
        assert page.locator(BANNER).inner_text().endswith("Incident recorded")
        assert "Antisocial behaviour" in page.locator("[data-incident]").inner_text()
        assert page.get_by_role("link", name="Change the incident").count() == 0
        path = urlsplit(page.url).path
        for refused in (f"{path}/edit", f"{path}/delete"):
            response = page.goto(refused)
            assert response is not None and response.status == 403, refused
        _clean(log, "youth worker incident journey")
    finally:
        page.close()


def test_admin_filters_and_pages_the_list(browser: Browser) -> None:
    page, log = browser.open("admin", "/incidents")
    try:
        total = page.locator("[data-incidents-total]").inner_text()
        assert "page 1 of" in total
        check_page(page, "incidents-list")
        with page.expect_navigation():
            page.locator(".govuk-pagination__next a").click()
        assert "page 2 of" in page.locator("[data-incidents-total]").inner_text()

        page.goto("/incidents")
        page.check("#harm")  # the first harm category: criminal exploitation
        page.select_option("#source", "partner")
        page.fill("#from", "2025-01-01")
        page.fill("#to", "2025-12-31")
        with page.expect_navigation():
            page.click("form[data-incident-filters] button:has-text('Apply filters')")
        rows = page.locator("[data-incidents-table] tbody tr")
        assert rows.count() > 0
        for text in rows.all_inner_texts():
            assert "Criminal exploitation" in text and "Partner file" in text and "2025" in text
        check_page(page, "incidents-list-filtered")

        page.goto("/incidents?bbox=1,2,3")
        assert "The map area must be four numbers" in page.locator(".govuk-error-summary").inner_text()
        page.goto("/incidents")
        page.fill("#bbox", "")
        page.click("[data-use-map-area]")
        assert page.input_value("#bbox").count(",") == 3
        with page.expect_navigation():
            page.click("form[data-incident-filters] button:has-text('Apply filters')")
        assert page.locator("[data-incidents-table] tbody tr").count() > 0
        _clean(log, "admin incidents list")
    finally:
        page.close()


def test_panel_cannot_see_incidents(browser: Browser) -> None:
    page, log = browser.open("panel", "/")
    try:
        assert page.get_by_role("link", name="Incidents").count() == 0
        for path in ("/incidents", "/incidents/1", "/incidents/new", "/imports"):
            response = page.goto(path)
            assert response is not None and response.status == 403, path
        check_page(page, "incidents-refused-panel")
        _clean(log, "panel refused")
    finally:
        page.close()
