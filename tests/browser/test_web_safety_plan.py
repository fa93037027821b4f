"""The Level 1 safety plan on a phone (390×844) in Chromium: from the finder to a plan made with the keyboard
alone; the largest plan the form allows, built without JavaScript's help (Add another place posts back),
printed with Chromium's page.pdf(format="A4") and downloaded as the server's PDF — each one A4 page;
errors in the summary; axe on the form and the plan. Screenshots in test-artifacts/browser/plan-*.png."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.axe import check_axe
from tests.browser.conftest import Browser
from tests.browser.test_web_finder import LIBRARY, Phone, _library_open_school_closed, _no_sideways_scroll, _tab_to
from tests.web.test_safety_plan_page import largest_plan

pytestmark = pytest.mark.browser


@pytest.fixture()
def phone(browser: Browser) -> Iterator[Phone]:
    made = Phone(browser, "youth_worker")
    yield made
    made.context.close()


def _pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    found = re.search(r"^Pages:\s+(\d+)", info, re.M)
    assert found, info
    return int(found.group(1))


def _shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"plan-{name}.png"), full_page=True)


def test_from_the_finder_to_a_plan_with_the_keyboard(phone: Phone, artifacts: Path) -> None:
    page, log = phone.open("/safe-spaces/find")
    page.fill("#where", "Wellgate Street")
    page.fill("#age", "14")
    _library_open_school_closed(page)
    with page.expect_navigation():
        page.click("form[data-finder-form] button[type=submit]")
    _tab_to(page, "[data-finder-plan]", limit=120)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Make a safety plan"
    assert "Wellgate Street" in page.input_value("#where-1") and page.input_value("#age") == "14"
    assert page.input_value("#from-1-1") == "17:30" and page.input_value("#days-1-1") == "d1"  # Tuesdays
    expect(page.locator("[data-plan-not-stored]")).to_contain_text("Nothing about the young person is stored")
    _no_sideways_scroll(page)
    check_axe(page, "safety-plan-form")
    _shot(page, artifacts, "form")
    _tab_to(page, "#label-1")
    page.keyboard.type("Outside the chicken shop")
    _tab_to(page, "#contact-name-1", limit=80)
    page.keyboard.type("Sam, youth worker")
    _tab_to(page, "#contact-number-1")
    page.keyboard.type("07700 900123")
    _tab_to(page, "[data-plan-make]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    plan = page.locator("[data-plan]")
    expect(plan).to_contain_text("Outside the chicken shop")
    expect(plan).to_contain_text("Tuesdays 17:30\u201319:30")
    expect(plan.locator("[data-plan-space]").first).to_contain_text(LIBRARY)
    expect(plan).to_contain_text("Youth worker running the pop-up youth club")
    expect(plan).to_contain_text("Sam, youth worker")
    expect(page.locator("[data-plan-not-stored]")).to_contain_text("Nothing about the young person is stored")
    _no_sideways_scroll(page)
    check_axe(page, "safety-plan")
    _shot(page, artifacts, "plan-phone")
    _tab_to(page, "[data-plan-pdf]")  # the download is reachable with the keyboard too
    log.assert_clean("safety plan from the finder")


def test_the_largest_plan_prints_and_downloads_on_one_a4_page(phone: Phone, artifacts: Path) -> None:
    page, log = phone.open("/safe-spaces/plan")
    fields = largest_plan()
    for n in range(2, int(fields["count"]) + 1):  # no script needed: each press posts the form back
        with page.expect_navigation():
            page.click("[data-plan-add]")
        page.locator(f"#where-{n}").wait_for()
    assert page.locator("[data-plan-add]").count() == 0
    for name, value in fields.items():
        if name in ("count", "point-4", "pointlabel-4"):
            continue
        target = page.locator(f"[name='{name}']")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    page.fill("#where-4", "Riverside Lane")  # a typed street (the fixture's far point needs hidden fields)
    with page.expect_navigation():
        page.click("[data-plan-make]")
    expect(page.locator("[data-plan-place-result]")).to_have_count(4)
    _shot(page, artifacts, "largest-phone")
    printed = artifacts / "plan-printed.pdf"
    page.emulate_media(media="print")
    _shot(page, artifacts, "largest-print-media")
    page.pdf(path=str(printed), format="A4", print_background=True)
    assert _pages(printed) == 1, "the printed plan does not fit one A4 sheet"
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.click("[data-plan-pdf]")
    saved = artifacts / "plan-download.pdf"
    download.value.save_as(saved)
    assert _pages(saved) == 1, "the downloaded plan does not fit one A4 sheet"
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-singlefile", str(printed), str(artifacts / "plan-printed")],
                   check=True)
    log.assert_clean("largest plan")


def test_errors_are_summarised_and_focused(phone: Phone, artifacts: Path) -> None:
    page, log = phone.open("/safe-spaces/plan")
    page.fill("#where-1", "No such street anywhere")
    page.fill("#from-1-1", "15:30")
    page.fill("#to-1-1", "15:30")
    with page.expect_navigation():
        page.click("[data-plan-make]")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused(timeout=15_000)
    expect(summary.locator("a[href='#where-1']")).to_be_visible()
    expect(summary.locator("a[href='#to-1-1']")).to_contain_text("different from the start")
    check_axe(page, "safety-plan-errors")
    _shot(page, artifacts, "errors")
    # A form sent back with errors is 422, as intended; Chromium logs it on the console.
    log.errors = [e for e in log.errors if "status of 422" not in e]
    log.assert_clean("safety plan errors")
