"""axe-core over the pages people use most, with each page's CSP in force: sign-in, home, the three maps
and the accessibility statement itself.

Each check writes ``test-artifacts/axe/<page>.json``; at the end of the run the session hook in
``tests/browser/conftest.py`` rebuilds ``docs/accessibility-results.json``, which ``/accessibility``
shows. A failure axe finds must be listed in ``app/governance/accessibility.py`` with the date it will be
fixed by (the statement promises one), so a new failure cannot ship silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.governance.accessibility import AXE_RESULTS_DIR, KNOWN_ISSUES
from tests.browser.axe import check_axe
from tests.browser.conftest import Browser

pytestmark = pytest.mark.browser

SIGNED_IN_PAGES = {
    "home": "/",
    "map-hotspots": "/maps/hotspots",
    "map-safe-spaces": "/maps/safe-spaces",
    "map-displacement": "/maps/displacement",
}
PUBLIC_PAGES = {"sign-in": "/signin", "accessibility-statement": "/accessibility",
                "data-inventory": "/about/data-inventory"}
KNOWN = {issue.key for issue in KNOWN_ISSUES}


def _check(page: Any, name: str) -> list[dict[str, Any]]:
    violations = check_axe(page, name, known=KNOWN)
    recorded = json.loads((AXE_RESULTS_DIR / f"{name}.json").read_text())
    assert recorded["page"] == name and recorded["url"] == page.url
    assert recorded["violations"] == violations
    return violations


def _unplanned(violations: list[dict[str, Any]]) -> list[str]:
    return [f"{v['id']} ({v['impact']}, {v['nodes']} elements): {v['help']}" for v in violations
            if v["id"] not in KNOWN]


@pytest.mark.parametrize("name", sorted(SIGNED_IN_PAGES))
def test_signed_in_pages_have_no_unplanned_accessibility_failures(browser: Browser, name: str) -> None:
    page, _ = browser.open("community_safety", SIGNED_IN_PAGES[name])
    try:
        if name == "map-displacement":  # from the chooser to the first intervention's map
            with page.expect_navigation():
                page.locator('a[href^="/maps/displacement?intervention="]').first.click()
        if name.startswith("map-"):
            page.wait_for_function("window.contextmapLayers !== undefined")
        page.wait_for_load_state("networkidle")
        violations = _check(page, name)
    finally:
        page.close()
    assert not _unplanned(violations), f"{name}: fix these or list them with a fix date: {_unplanned(violations)}"


@pytest.mark.parametrize("name", sorted(PUBLIC_PAGES))
def test_public_pages_have_no_unplanned_accessibility_failures(browser: Browser, live_server: str,
                                                               artifacts: Path, name: str) -> None:
    context = browser.chromium.new_context(viewport={"width": 390, "height": 844}, base_url=live_server)
    try:
        page = context.new_page()
        response = page.goto(PUBLIC_PAGES[name])
        assert response is not None and response.status == 200
        violations = _check(page, name)
        page.screenshot(path=artifacts / f"{name}-phone.png", full_page=True)
        # DESIGN.md: every page works at 390 x 844 with no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"
    finally:
        context.close()
    assert not _unplanned(violations), f"{name}: fix these or list them with a fix date: {_unplanned(violations)}"
