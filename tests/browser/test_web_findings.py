"""The intervention findings page and the glossary in Chromium (issue 17): axe-core with the page's CSP in
force, as a community-safety officer and as a panel member, with screenshots for people to look at."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browser
from tests.browser.test_web_pages import check_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def wifi(client: Any, demo_headers: dict[str, dict[str, str]]) -> int:
    found = client.get("/api/interventions?limit=1000", headers=demo_headers["community_safety"]).json()
    return int(next(f["id"] for f in found["features"] if "WiFi" in (f["properties"]["description"] or "")))


def test_findings_and_glossary_are_accessible(browser: Browser, wifi: int) -> None:
    for name, role, path in [("findings-wifi", "community_safety", f"/interventions/{wifi}/findings"),
                             ("findings-wifi-panel", "panel", f"/interventions/{wifi}/findings"),
                             ("glossary", "panel", "/glossary"),
                             ("pack-new", "community_safety", "/packs/new")]:
        page, log = browser.open(role, path)
        try:
            page.wait_for_load_state("networkidle")
            assert page.locator("[data-findings], [data-glossary], form").count() >= 1
            check_page(page, name)
            log.assert_clean(f"{path} as {role}")
        finally:
            page.close()


PRINTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "print"


def test_findings_month_by_month_at_phone_width_with_a_chosen_control(browser: Browser, wifi: int) -> None:
    """The panel chooses a control place with the keyboard and reads the month by month at 390 x 844."""
    page, log = browser.open("panel", f"/interventions/{wifi}/findings")
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        expect(page.locator("[data-small-multiples] li").first).to_be_visible()
        assert page.locator("[data-small-multiples] li").count() <= 24
        # The phone gets the chart drawn for its width: only it shows, and its smallest text (the axis) reads at
        # 11 px or more once scaled to the column (the 640-unit chart put it at about 6 px).
        expect(page.locator("[data-series-chart] svg.cm-series-chart--narrow")).to_be_visible()
        expect(page.locator("[data-series-chart] svg.cm-series-chart--wide")).to_be_hidden()
        smallest = page.evaluate("""() => {
            const svg = document.querySelector('[data-series-chart] svg.cm-series-chart--narrow');
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')));
            return Math.min(...sizes) * scale;
        }""")
        assert smallest >= 11, smallest
        shots = PRINTS.parent / "screenshots"
        page.locator("[data-series-chart]").screenshot(path=str(shots / "findings-chart-phone.png"))
        name = "Crescent Fields Estate"  # a control with incidents of its own either side: the WDD has a verdict
        page.locator("#control_place").select_option(label=name)
        page.locator("[data-control-form] button[type=submit]").focus()
        page.keyboard.press("Enter")
        expect(page.locator("[data-finding='wdd']")).not_to_have_attribute("data-verdict", "undefined")
        expect(page.locator(".govuk-summary-list").first).to_contain_text(f"{name}: the place")
        check_page(page, "findings-wifi-panel-control")
        # Draw a control area instead: select points on the map, which fills the GeoJSON box.
        page.set_viewport_size({"width": 1400, "height": 900})
        page.locator("#control_place").select_option("service-area")
        drawer = page.locator("[data-cm-area-drawer]")
        drawer.scroll_into_view_if_needed()
        box = drawer.bounding_box()
        assert box is not None
        for dx, dy in ((0.8, 0.2), (0.95, 0.2), (0.95, 0.4), (0.8, 0.4)):
            page.mouse.click(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
        expect(page.locator("#control_area")).to_have_value(re.compile(r'"Polygon"'))
        page.locator("[data-control-form] button[type=submit]").click()
        expect(page.locator(".govuk-summary-list").first).to_contain_text("An area you drew")
        page.screenshot(path=str(PRINTS.parent / "screenshots" / "findings-drawn-control.png"), full_page=True)
        log.assert_clean("findings with a control place and a drawn area")
    finally:
        page.close()


def test_findings_place_and_intervention_pages_print_cleanly(browser: Browser, wifi: int, client: Any,
                                                             demo_headers: dict[str, dict[str, str]]) -> None:
    """Chromium's page.pdf with the print stylesheet: the content, no navigation, footer or buttons, nothing
    cut off at the right edge; the pages are saved as PNGs in test-artifacts/print/ to look at."""
    places = {f["properties"]["name"]: f["id"] for f in client.get(
        "/api/places?limit=1000", headers=demo_headers["community_safety"]).json()["features"]}
    PRINTS.mkdir(parents=True, exist_ok=True)
    for name, role, path, heading in [
        ("findings", "panel", f"/interventions/{wifi}/findings", "Month by month"),
        ("place", "panel", f"/places/{places['Wellgate Central Library']}", "Wellgate Central Library"),
        ("intervention", "community_safety", f"/interventions/{wifi}", "WiFi"),
    ]:
        page, log = browser.open(role, path)
        try:
            page.wait_for_load_state("networkidle")
            page.emulate_media(media="print")
            page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
            widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            wide = page.evaluate("Array.from(document.querySelectorAll('body *')).filter(e => "
                                 "e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
                                 ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + "
                                 "Math.round(e.getBoundingClientRect().right))")
            assert widths[0] <= widths[1], f"{name}: clipped in print ({widths[0]} > {widths[1]}): {wide}"
            for hidden in (".govuk-header", ".govuk-footer", ".govuk-breadcrumbs", ".govuk-button"):
                for element in page.locator(hidden).all():
                    expect(element).to_be_hidden()
            pdf = PRINTS / f"{name}.pdf"
            page.pdf(path=str(pdf), format="A4", print_background=True)
            subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(PRINTS / name)], check=True)
            text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                                  text=True).stdout
            assert heading in text, name
            assert "Sign out" not in text and "not a GOV.UK service" not in text, name
            log.assert_clean(f"{path} printed")
        finally:
            page.close()
