"""/docs works in Chromium under the service's Content Security Policy, with no request off this server
(issue 10: FastAPI's page loaded Swagger UI from a CDN and started it inline, which the CSP blocks)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Browser

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_the_api_under_the_csp(browser: Browser) -> None:
    page, log = browser.open("panel", "/docs")
    try:
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/places" in path for path in paths), paths[:10]
        log.assert_clean("/docs")
    finally:
        page.close()
