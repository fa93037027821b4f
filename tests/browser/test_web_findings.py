"""The intervention findings page and the glossary in Chromium (issue 17): axe-core with the page's CSP in
force, as a community-safety officer and as a panel member, with screenshots for people to look at."""

from __future__ import annotations

from typing import Any

import pytest

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
