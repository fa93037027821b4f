"""Safety mapping with a young person on a phone (390×844, touch) in Chromium: a session walked to a printed
plan with the young person's agreement (a route drawn by tapping, a grid reference typed, a safe place and a
trusted adult) and without it (by keyboard, a typed street), what the database holds afterwards, the area
picture as a panel member sees it, and axe on every page. Screenshots: test-artifacts/browser/safety-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.db.session import Database
from tests.browser.axe import check_axe
from tests.browser.conftest import Browser
from tests.browser.test_web_finder import Phone

pytestmark = pytest.mark.browser

TABLES = ("safety_maps", "safety_map_marks", "safety_map_safe_places", "place_suggestions")


@pytest.fixture()
def worker(browser: Browser) -> Iterator[Phone]:
    made = Phone(browser, "youth_worker")
    yield made
    made.context.close()


def _counts(database: Database) -> dict[str, int]:
    with database.owner_session() as session:
        return {t: int(session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def _shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"safety-{name}.png"), full_page=True)


def _press(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def _finish(page: Any, agreed: str) -> None:
    page.check("input[name=age_band][value='14_15']")
    page.check(f"input[name=agreed][value={agreed}]")
    _press(page, "[data-safety-finish]")


def test_a_session_with_agreement_by_touch_to_a_printed_plan(worker: Phone, artifacts: Path,
                                                             database: Database) -> None:
    before = _counts(database)
    page, log = worker.open("/safety-mapping/session")
    _no_sideways_scroll(page)
    check_axe(page, "safety-session")
    # Finishing with nothing chosen: the error summary names each field, and nothing is written.
    _press(page, "[data-safety-finish]")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "age band" in summary and "agreed" in summary
    check_axe(page, "safety-session-errors")
    _no_sideways_scroll(page)
    assert _counts(database) == before
    log.errors[:] = [e for e in log.errors if "status of 422" not in e]  # the refused form's own status
    mapped = page.locator("[data-cm-safety-map]")
    page.wait_for_selector("[data-cm-safety-map].leaflet-container")
    # Draw a route with three taps on the map.
    page.click("[data-safety-mode=route]")
    box = mapped.bounding_box()
    for x, y in ((0.3, 0.4), (0.5, 0.5), (0.7, 0.55)):
        mapped.tap(position={"x": box["width"] * x, "y": box["height"] * y})
    assert "a route of 3 points" in page.locator("[data-safety-draw-status]").inner_text()
    assert '"LineString"' in page.input_value("#mark_shape")
    page.check("input[name=mark_rating][value=red]")
    page.fill("#mark_said", "older lads wait here after school")
    page.check("input[name=mark_shareable]")
    _press(page, "[data-safety-add-mark]")
    assert page.locator("[data-safety-mark]").count() == 1
    assert "A route on the map" in page.locator("[data-safety-mark]").first.inner_text()
    # The keyboard route: an OS grid reference typed instead of drawing.
    page.fill("#mark_where", "TL 0926 2145")
    page.check("input[name=mark_rating][value=amber]")
    page.fill("#mark_said", "my nan lives near")
    _press(page, "[data-safety-add-mark]")
    assert page.locator("[data-safety-mark]").count() == 2
    page.wait_for_selector("[data-cm-safety-map] path.leaflet-interactive")
    page.select_option("#safe_place", label="Wellgate Central Library")
    _press(page, "button[value=add-place]")
    page.fill("#adult_words", "My football coach")
    _press(page, "button[value=add-adult]")
    _no_sideways_scroll(page)
    _shot(page, artifacts, "session")
    check_axe(page, "safety-session-filled")
    _finish(page, "yes")

    assert page.locator("[data-safety-plan]").count() == 1
    reference = re.search(r"SM-(\d+)", page.locator("[data-safety-kept]").inner_text())
    assert reference is not None
    assert "older lads wait here after school" in page.locator("#plan-red + ul").inner_text()
    assert "Wellgate Central Library" in page.locator("[data-plan-safe-places]").inner_text()
    assert "My football coach" in page.locator("[data-plan-adults]").inner_text()
    assert page.locator("[data-plan-place-result]").count() == 2  # the plan's safe spaces near both places
    _no_sideways_scroll(page)
    check_axe(page, "safety-plan")
    _shot(page, artifacts, "plan")
    # Printed: the shell and buttons are left off the sheet.
    page.emulate_media(media="print")
    assert not page.locator(".govuk-header").is_visible()
    assert not page.locator("[data-safety-print]").is_visible()
    page.pdf(path=str(artifacts / "safety-plan.pdf"), format="A4")
    _shot(page, artifacts, "plan-print")
    log.assert_clean("safety session with agreement")

    with database.owner_session() as session:
        kept = session.execute(text("SELECT month, age_band FROM safety_maps WHERE id = :id"),
                               {"id": int(reference.group(1))}).one()
        marks = session.execute(text(
            "SELECT cell_size, cell_i, cell_j, rating, phrase FROM safety_map_marks WHERE safety_map_id = :id"),
            {"id": int(reference.group(1))}).all()
    assert tuple(kept) == (date.today().replace(day=1), "14_15")
    assert {m.rating for m in marks} == {"red", "amber"} and {m.cell_size for m in marks} == {250}
    assert {m.phrase for m in marks if m.rating == "red"} == {"older lads wait here after school"}
    assert {m.phrase for m in marks if m.rating == "amber"} == {None}  # not marked shareable
    after = _counts(database)
    assert after["safety_maps"] == before["safety_maps"] + 1
    assert after["safety_map_safe_places"] == before["safety_map_safe_places"] + 1


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} cannot be reached with the Tab key")


def test_a_session_without_agreement_by_keyboard_keeps_nothing(worker: Phone, artifacts: Path,
                                                               database: Database) -> None:
    before = _counts(database)
    page, log = worker.open("/safety-mapping/session")
    _tab_to(page, "#mark_where")
    page.keyboard.type("Alder Close")
    _tab_to(page, "input[name=mark_rating]")
    page.keyboard.press("Space")  # the first: unsafe (red)
    assert page.is_checked("input[name=mark_rating][value=red]")
    _tab_to(page, "#mark_said")
    page.keyboard.type("people shout at us")
    _tab_to(page, "[data-safety-add-mark]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("[data-safety-mark]").count() == 1
    assert "Alder Close" in page.locator("[data-safety-mark]").first.inner_text()
    _tab_to(page, "input[name=age_band]")
    page.keyboard.press("ArrowDown")  # radios move with the arrow keys: 10 to 13 → 14 or 15 → 16 or 17
    page.keyboard.press("ArrowDown")
    assert page.is_checked("input[name=age_band][value='16_17']")
    _tab_to(page, "input[name=agreed]")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("input[name=agreed][value=no]")
    _tab_to(page, "[data-safety-finish]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Nothing from this session was saved" in page.locator("[data-safety-kept]").inner_text()
    assert "people shout at us" in page.locator("#plan-red + ul").inner_text()
    _no_sideways_scroll(page)
    check_axe(page, "safety-plan-not-kept")
    _shot(page, artifacts, "plan-not-kept")
    log.assert_clean("safety session without agreement")
    assert _counts(database) == before


def test_the_area_picture_for_a_panel_member_on_a_phone(browser: Browser, artifacts: Path) -> None:
    panel = Phone(browser, "panel")
    try:
        page, log = panel.open("/safety-mapping/area")
        _no_sideways_scroll(page)
        check_axe(page, "safety-area")
        assert "not shown at all" in page.locator("[data-area-disclosure]").inner_text()
        assert page.locator("[data-area-suggestions]").count() == 0  # suggestions are for staff only
        _shot(page, artifacts, "area-panel")
        log.assert_clean("area picture for the panel")
    finally:
        panel.context.close()


def _unsafe_squares(page: Any) -> int:
    page.wait_for_function("window.contextmapLayers !== undefined")
    page.wait_for_load_state("networkidle")
    assert "Young people feel unsafe here" in page.evaluate("window.contextmapLayers")
    overlays = [o.strip() for o in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()]
    assert "Young people feel unsafe here" in overlays
    return int(page.locator("path.contextmap-young-unsafe").count())


@pytest.mark.parametrize("role", ["community_safety", "panel"])
def test_the_hot_spot_map_draws_where_young_people_feel_unsafe(browser: Browser, artifacts: Path, role: str) -> None:
    # April to June 2026, a quarter that has ended: the demo's young people coloured the outlet's square and the
    # park's river path red on at least 8 separate maps, so both roles see dashed squares over the cells.
    page, log = browser.open(role, "/maps/hotspots?from=2026-04-01&to=2026-06-30")
    try:
        drawn = _unsafe_squares(page)
        assert drawn >= 2, f"{role}: {drawn} squares"
        heading = page.locator("h2", has_text="Where young people feel unsafe")
        table = page.locator(f'[aria-labelledby="{heading.get_attribute("id")}"]')
        assert table.locator("tbody tr").count() == drawn
        if role == "panel":
            assert "one whole quarter" in heading.inner_text()
        page.screenshot(path=str(artifacts / f"safety-hotspots-layer-{role}.png"))
        log.assert_clean(f"hot-spot layer as {role}")
    finally:
        page.close()
    phone = Phone(browser, role)
    try:
        page, log = phone.open("/maps/hotspots?from=2026-04-01&to=2026-06-30")
        assert _unsafe_squares(page) == drawn
        _no_sideways_scroll(page)
        _shot(page, artifacts, f"hotspots-layer-phone-{role}")
        log.assert_clean(f"hot-spot layer on a phone as {role}")
    finally:
        phone.context.close()


def test_withdrawal_and_review_pages_on_a_phone_and_desktop(browser: Browser, artifacts: Path,
                                                            database: Database) -> None:
    with database.owner_session() as session:
        first = int(session.execute(text("SELECT min(id) FROM safety_maps")).scalar_one())
    for size in ("phone", "desktop"):
        context = Phone(browser, "admin") if size == "phone" else None
        try:
            pages = (("withdraw", "/admin/safety-maps"),
                     ("withdraw-confirm", f"/admin/safety-maps?reference=SM-{first}"),
                     ("suggestions", "/safety-mapping/suggestions"))
            for name, path in pages:
                page, log = context.open(path) if context else browser.open("admin", path)
                if size == "phone":
                    _no_sideways_scroll(page)
                check_axe(page, f"safety-{name}-{size}")
                _shot(page, artifacts, f"{name}-{size}")
                log.assert_clean(f"{path} as admin on a {size}")
                if name == "withdraw-confirm":
                    assert page.locator("[data-withdraw-summary]").is_visible()
                    page.click("[data-withdraw-form] button")  # not ticked: the page says what to do
                    page.wait_for_selector(".govuk-error-summary")
                    assert "Tick to confirm" in page.locator(".govuk-error-summary").inner_text()
                    check_axe(page, f"safety-{name}-error-{size}")
                if name == "suggestions":  # the demo has suggestions waiting
                    # Accepted without a kind: the select in error is labelled, what was typed is kept.
                    form = page.locator("[data-accept-form]").first
                    form.locator("input[name=grid_reference]").fill("TL 0926 2145")
                    form.locator("button[value=accept]").click()
                    page.wait_for_selector(".govuk-error-summary")
                    assert page.locator("label[for=kind]").count() == 1 and page.locator("select#kind").count() == 1
                    assert page.locator("#grid_reference").input_value() == "TL 0926 2145"
                    page.click(".govuk-error-summary a[href='#kind']")
                    assert page.evaluate("document.activeElement.id") == "kind"
                    check_axe(page, f"safety-{name}-error-{size}")
                page.close()
        finally:
            if context:
                context.context.close()
