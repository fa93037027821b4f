"""The places journeys of issue 13 in Chromium, through the forms only (no API call in a journey), as
each role that may do them, with the refusals for the roles that may not; what was saved is read back
from the pages. One journey is done with the keyboard alone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Browser
from tests.conftest import unique

pytestmark = pytest.mark.browser

BANNER = ".govuk-notification-banner--success"


def _assert_clean(log: Any, where: str) -> None:
    # A form sent back with errors is 422 and a refusal 403, as intended; Chromium logs both on the console.
    log.errors = [e for e in log.errors if "status of 422" not in e and "status of 403" not in e]
    log.assert_clean(where)


def _banner(page: Any) -> str:
    return str(page.locator(BANNER).inner_text())


def _date(page: Any, prefix: str, when: date) -> None:
    page.fill(f"#{prefix}-day", str(when.day))
    page.fill(f"#{prefix}-month", str(when.month))
    page.fill(f"#{prefix}-year", str(when.year))


def _submit(page: Any, form: str) -> None:
    with page.expect_navigation():
        page.click(f"form[{form}] button[type=submit]")


def _find_place(page: Any, name: str) -> None:
    """Search the places list by name and open the place (the list's own form)."""
    page.goto("/places")
    page.fill("#q", name)
    with page.expect_navigation():
        page.click("form[data-place-filters] button[type=submit]")
    with page.expect_navigation():
        page.get_by_role("link", name=name, exact=True).click()


def test_community_safety_adds_flags_ends_and_moves_a_place(browser: Browser) -> None:
    page, log = browser.open("community_safety", "/places")
    name = unique("Underpass ")
    try:
        with page.expect_navigation():
            page.get_by_role("link", name="Add a place").click()
        page.fill("#name", name)
        page.select_option("#kind", "street")
        page.fill("#opening_hours", "Mo-Su 00:00-24:00")
        page.fill("#lon", "-0.4123")
        page.fill("#lat", "51.8801")
        _submit(page, "data-place-form")
        assert _banner(page).endswith("Place added")
        assert page.locator("[data-place-name]").inner_text() == name

        with page.expect_navigation():
            page.get_by_role("link", name="Flag as a place of concern").click()
        page.check("#level-3")  # high
        page.fill("#reason", "Older males seen approaching young people after school")
        _date(page, "review_by", date.today() - timedelta(days=2))
        _submit(page, "data-designation-form")
        assert "The review date must be today or in the future" in page.locator(".govuk-error-summary").inner_text()
        _date(page, "review_by", date.today() + timedelta(days=60))
        _submit(page, "data-designation-form")
        assert _banner(page).endswith("Place of concern recorded")
        current = page.locator('[data-current-designation="concern"]')
        assert "Older males seen approaching" in current.inner_text()
        assert "Place of concern (high)" in current.inner_text()

        with page.expect_navigation():
            page.get_by_role("link", name="End this designation").click()
        _submit(page, "data-end-form")
        assert _banner(page).endswith("Designation ended")
        assert page.locator("[data-current-designation]").count() == 0
        assert "Place of concern (high)" in page.locator("[data-designation-history]").inner_text()

        with page.expect_navigation():
            page.get_by_role("link", name="Change the place's details").click()
        page.fill("#grid_reference", "TL 0926 2145")
        page.fill("#address", "Under the ring road")
        _submit(page, "data-place-form")
        assert _banner(page).endswith("Place details saved")
        assert "Under the ring road" in page.locator("[data-place-about]").inner_text()
        _assert_clean(log, "community safety journey")
    finally:
        page.close()


def test_youth_worker_records_a_safe_space_guardians_and_an_assessment(browser: Browser) -> None:
    page, log = browser.open("youth_worker", "/places/new")
    name = unique("Skate park ")
    try:
        page.fill("#name", name)
        page.select_option("#kind", "park")
        page.fill("#lon", "-0.4150")
        page.fill("#lat", "51.8785")
        _submit(page, "data-place-form")
        assert page.get_by_role("link", name="Flag as a place of concern").count() == 0
        place_url = page.url.split("?")[0]
        refused = page.goto(place_url + "/designate?kind=concern")
        assert refused is not None and refused.status == 403
        assert "You cannot do this with your role" in page.locator("h1").inner_text()

        _find_place(page, name)
        with page.expect_navigation():
            page.get_by_role("link", name="Record as a safe space").click()
        page.fill("#scheme", "Safe Places Demo Town")
        page.fill("#age_min", "11")
        page.fill("#age_max", "18")
        page.fill("#help_offered", "phone a trusted adult\nwait indoors")
        _date(page, "verified_on", date.today())
        _submit(page, "data-designation-form")
        assert _banner(page).endswith("Safe space recorded")
        safe_space = page.locator('[data-current-designation="safe_space"]').inner_text()
        assert "phone a trusted adult, wait indoors" in safe_space

        with page.expect_navigation():
            page.get_by_role("link", name="Add a guardian").click()
        page.select_option("#role", "staff")
        page.fill("#description", "Skate park attendants")
        page.fill("#hours", "whenever")
        _submit(page, "data-guardian-form")
        assert page.locator(".govuk-error-summary a[href='#hours']").count() == 1
        page.fill("#hours", "Mo-Fr 15:00-19:00")
        _date(page, "training-bystander_intervention", date(2026, 3, 9))
        _submit(page, "data-guardian-form")
        assert _banner(page).endswith("Guardian added")
        guardians = page.locator("[data-guardians]").inner_text()
        assert "Skate park attendants" in guardians and "Bystander intervention (9 March 2026)" in guardians

        with page.expect_navigation():
            page.get_by_role("link", name="Change guardian: Staff").click()
        page.select_option("#role", "volunteer")
        assert page.input_value("#role") == "volunteer", page.url
        _submit(page, "data-guardian-form")
        assert _banner(page).endswith("Guardian saved")
        assert "Volunteer" in page.locator("[data-guardians]").inner_text()
        with page.expect_navigation():
            page.get_by_role("link", name="Remove guardian: Volunteer").click()
        _submit(page, "data-remove-form")
        assert _banner(page).endswith("Guardian removed")
        assert page.locator("[data-guardians]").count() == 0, page.locator("[data-guardians]").inner_text()

        with page.expect_navigation():
            page.get_by_role("link", name="Record a location assessment").click()
        page.check("#young_people_rating-2")  # amber
        page.check("#guardianship_rating")  # red
        page.check("#environment_rating-3")  # green
        page.fill("#guardianship_notes", "No adults present after 17:00")
        page.check("#methods")  # observation
        page.fill("#goal_statement", "An adult present until 19:00")
        page.check("#goal_measure-2")  # effort
        page.fill("#goal_baseline_value", "0")
        _date(page, "goal_baseline_on", date.today())
        _submit(page, "data-assessment-form")
        assert _banner(page).endswith("Location assessment recorded"), page.content()[:3000]
        assessment = page.locator("[data-assessment]").inner_text()
        assert "Guardianship: red" in assessment and "No adults present after 17:00" in assessment
        assert "An adult present until 19:00 (effort)" in assessment
        _assert_clean(log, "youth worker journey")
    finally:
        page.close()


def test_admin_places_a_point_by_clicking_the_map(browser: Browser) -> None:
    page, log = browser.open("admin", "/places/new")
    name = unique("Bus shelter ")
    try:
        page.wait_for_selector("[data-cm-point-picker].leaflet-container")
        page.fill("#name", name)
        page.select_option("#kind", "transport_hub")
        page.locator("[data-cm-point-picker]").click(position={"x": 200, "y": 150})
        lon, lat = float(page.input_value("#lon")), float(page.input_value("#lat"))
        assert -0.5 < lon < -0.3 and 51.8 < lat < 51.95
        _submit(page, "data-place-form")
        assert _banner(page).endswith("Place added")
        with page.expect_navigation():
            page.get_by_role("link", name="Change the place's details").click()
        assert abs(float(page.input_value("#lon")) - lon) < 1e-5 and abs(float(page.input_value("#lat")) - lat) < 1e-5
        _assert_clean(log, "admin map picker")
    finally:
        page.close()


def test_panel_reads_places_and_may_change_nothing(browser: Browser) -> None:
    page, log = browser.open("panel", "/places")
    try:
        with page.expect_navigation():
            page.get_by_role("link", name="Wellgate Central Library", exact=True).click()
        for text in ("Add a guardian", "Change the place's details", "Record a location assessment",
                     "End this designation", "Flag as a place of concern", "Record as a safe space"):
            assert page.get_by_text(text).count() == 0, text
        assert page.locator("[data-suppressed]").count() > 0
        assert [t.strip() for t in page.locator(".govuk-service-navigation__item").all_inner_texts()] == [
            "Home", "Places", "Interventions", "Maps", "Safety mapping"]
        for path in ("/places/new", page.url.split("?")[0] + "/guardians/new"):
            response = page.goto(path)
            assert response is not None and response.status == 403, path
        _assert_clean(log, "panel")
    finally:
        page.close()


# ---- keyboard only ------------------------------------------------------------------------------------
def _tab_to(page: Any, selector: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement !== null && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _type_into(page: Any, selector: str, text: str) -> None:
    _tab_to(page, selector)
    page.keyboard.type(text)


def _type_date(page: Any, prefix: str, when: date) -> None:
    _type_into(page, f"#{prefix}-day", str(when.day))
    _type_into(page, f"#{prefix}-month", str(when.month))
    _type_into(page, f"#{prefix}-year", str(when.year))


def _press_enter_on(page: Any, selector: str) -> None:
    _tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_keyboard_only_add_a_place_record_a_safe_space_and_a_guardian(browser: Browser) -> None:
    page, log = browser.open("youth_worker", "/")
    name = unique("Keyboard cafe ")
    try:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.classList.contains('govuk-skip-link')")
        _press_enter_on(page, "a[href='/places/new']")
        _type_into(page, "#name", name)
        _tab_to(page, "#kind")
        page.keyboard.type("Park")  # a select's type-ahead
        assert page.input_value("#kind") == "park"
        _type_into(page, "#lon", "-0.4177")
        _type_into(page, "#lat", "51.8794")
        _press_enter_on(page, "form[data-place-form] button[type=submit]")
        assert _banner(page).endswith("Place added")

        _press_enter_on(page, "a[href$='designate?kind=safe_space']")
        _type_into(page, "#help_offered", "charge a phone")
        _type_date(page, "verified_on", date.today())
        _press_enter_on(page, "form[data-designation-form] button[type=submit]")
        assert _banner(page).endswith("Safe space recorded")

        _press_enter_on(page, "a[href$='/guardians/new']")
        _tab_to(page, "#role")
        page.keyboard.type("Place")
        assert page.input_value("#role") == "place_manager"
        _type_into(page, "#description", "Cafe owner")
        _type_date(page, "training-safeguarding", date(2026, 1, 12))
        _press_enter_on(page, "form[data-guardian-form] button[type=submit]")
        assert _banner(page).endswith("Guardian added")
        assert "Cafe owner" in page.locator("[data-guardians]").inner_text()
        assert "Safe space" in page.locator('[data-current-designation="safe_space"]').inner_text()
        _assert_clean(log, "keyboard journey")
    finally:
        page.close()
