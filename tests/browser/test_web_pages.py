"""Every page of the web application's part 1 in Chromium: axe-core with the page's CSP in force, no
sideways scrolling at 390×844, no console or CSP error, and screenshots at desktop and phone size
(``test-artifacts/screenshots/``) for people to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.axe import check_axe
from tests.browser.conftest import Browser

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
def ids(client: Any, demo_headers: dict[str, dict[str, str]]) -> dict[str, int]:
    headers = demo_headers["admin"]
    places = {f["properties"]["name"]: f["id"] for f in
              client.get("/api/places?limit=1000", headers=headers).json()["features"]}
    library = places["Wellgate Central Library"]
    guardian = client.get(f"/api/guardians?place_id={library}", headers=headers).json()["features"][0]["id"]
    current = [f for f in client.get(f"/api/places/{library}/designations", headers=headers).json()["features"]
               if f["properties"]["current"]]
    return {"library": library, "bus": places["Townsend Bus Interchange"], "guardian": guardian,
            "designation": current[0]["id"]}


def check_page(page: Any, name: str) -> None:
    """axe, screenshots and the phone-width check on the page as loaded."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    check_axe(page, name)
    page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(50)  # let the layout settle at the new width (not a timing assertion)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{name}: scrolls sideways at 390 px ({widths[0]} > {widths[1]})"
    page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
    check_axe(page, f"{name}-phone")


def _pages(ids: dict[str, int]) -> list[tuple[str, str, str]]:
    library, guardian = ids["library"], ids["guardian"]
    return [
        ("home-admin", "admin", "/"),
        ("home-community-safety", "community_safety", "/"),
        ("home-youth-worker", "youth_worker", "/"),
        ("home-panel", "panel", "/"),
        ("places", "community_safety", "/places"),
        ("places-filtered", "youth_worker", "/places?designation=safe_space&has_guardians=true&sort=kind"),
        ("place-library", "community_safety", f"/places/{library}"),
        ("place-library-panel", "panel", f"/places/{library}"),
        ("place-concern", "community_safety", f"/places/{ids['bus']}"),
        ("form-new-place", "youth_worker", "/places/new"),
        ("form-edit-place", "community_safety", f"/places/{library}/edit"),
        ("form-designate-concern", "community_safety", f"/places/{ids['bus']}/designate?kind=concern"),
        ("form-designate-safe-space", "youth_worker", f"/places/{ids['bus']}/designate?kind=safe_space"),
        ("form-end-designation", "youth_worker", f"/places/{library}/designations/{ids['designation']}/end"),
        ("form-new-guardian", "youth_worker", f"/places/{library}/guardians/new"),
        ("form-edit-guardian", "youth_worker", f"/places/{library}/guardians/{guardian}/edit"),
        ("form-remove-guardian", "youth_worker", f"/places/{library}/guardians/{guardian}/remove"),
        ("form-new-assessment", "youth_worker", f"/places/{library}/assessments/new"),
    ]


def test_every_page_is_accessible_and_fits_a_phone(browser: Browser, ids: dict[str, int]) -> None:
    for name, role, path in _pages(ids):
        page, log = browser.open(role, path)
        try:
            page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == "en-GB"
            assert page.locator(".govuk-skip-link").count() == 1
            assert page.locator("[data-organisation]").inner_text() == "Demo Town Community Safety Partnership"
            check_page(page, name)
            log.assert_clean(f"{path} as {role}")
        finally:
            page.close()


def test_error_pages_and_a_form_with_errors_are_accessible(browser: Browser, ids: dict[str, int]) -> None:
    cases = [("error-404", "community_safety", "/places/987654321", 404),
             ("error-403", "panel", "/places/new", 403)]
    for name, role, path, status in cases:
        page = browser._context(role).new_page()
        try:
            response = page.goto(path)
            assert response is not None and response.status == status
            assert page.locator("h1").count() == 1 and page.locator("[data-signed-in]").count() == 1
            check_page(page, name)
        finally:
            page.close()
    page, log = browser.open("youth_worker", "/places/new")
    try:
        page.click("form[data-place-form] button[type=submit]")
        page.wait_for_selector(".govuk-error-summary")
        # GOV.UK Frontend's script moves the focus to the summary once it has loaded.
        # A locator assertion, not wait_for_function: a string expression is eval, which the page's CSP refuses.
        expect(page.locator(".govuk-error-summary")).to_be_focused(timeout=15_000)
        check_page(page, "form-new-place-errors")
        # The form comes back as 422 Unprocessable Content, which Chromium reports on the console.
        log.errors = [e for e in log.errors if "status of 422" not in e]
        log.assert_clean("/places/new with errors")
    finally:
        page.close()


def test_sign_in_page_is_accessible(chromium: Any, live_server: str) -> None:
    context = chromium.new_context(base_url=live_server)
    try:
        page = context.new_page()
        page.goto("/signin")
        page.fill("#email", "nobody@example.test")
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        page.wait_for_selector(".govuk-error-summary")
        assert page.input_value("#email") == "nobody@example.test"  # the e-mail is kept after a wrong password
        check_page(page, "signin-error")
        page.goto("/signin")
        check_page(page, "signin")
    finally:
        context.close()
