"""Headless Chromium against a real uvicorn server: fixtures for the browser tests of the map pages.

The server runs the application in a background thread on a free port of 127.0.0.1, against the test
database the other tests use (with the demo loaded). Chromium is Debian's (``/usr/bin/chromium``); no
browser is ever downloaded. Each role signs in once through the /signin form and keeps its cookie in
its own browser context. The network is closed: tile requests get an empty image, and any other
request off 127.0.0.1 is aborted and reported, so a test can fail on it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from app.db.demo_loader import DemoLogin
from app.main import create_app
from app.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# A 1x1 transparent PNG: what every tile request gets, so maps draw their data with no basemap.
EMPTY_TILE = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000b49444154789c63600002"
    "00000500017a5eab3f0000000049454e44ae426082"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(settings: Settings, demo: list[DemoLogin]) -> Iterator[str]:
    """The application served by uvicorn in a thread; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-browser-tests", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM}: run `make system-packages`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PageLog:
    """What a page did that a user (or an attacker) would notice."""

    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self, where: str) -> None:
        assert not self.errors, f"{where}: JavaScript or console errors: {self.errors}"
        assert not self.external, f"{where}: requests off this server: {self.external}"
        assert not self.dialogs, f"{where}: a dialog opened: {self.dialogs}"


class Browser:
    """One signed-in browser context per role; ``open`` gives a fresh page with its log."""

    def __init__(self, chromium: Any, base_url: str, logins: dict[str, DemoLogin], tile_host: str | None) -> None:
        self.chromium, self.base_url, self.logins, self.tile_host = chromium, base_url, logins, tile_host
        self.contexts: dict[str, Any] = {}

    def _context(self, role: str) -> Any:
        if role not in self.contexts:
            context = self.chromium.new_context(viewport={"width": 1400, "height": 900}, base_url=self.base_url)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto("/signin")
            page.fill("input[name=email]", self.logins[role].email)
            page.fill("input[name=password]", self.logins[role].password)
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert urlsplit(page.url).path == "/", f"{role} could not sign in: {page.url}"
            page.close()
            self.contexts[role] = context
        return self.contexts[role]

    def open(self, role: str, path: str) -> tuple[Any, PageLog]:
        page = self._context(role).new_page()
        log = PageLog()
        page.on("pageerror", lambda error: log.errors.append(f"pageerror: {error}"))
        page.on("console", lambda message: log.errors.append(f"console: {message.text}")
                if message.type == "error" else None)
        page.on("dialog", lambda dialog: (log.dialogs.append(dialog.message), dialog.dismiss()))

        def route(request_route: Any) -> None:
            url = request_route.request.url
            host = urlsplit(url).hostname
            if host == "127.0.0.1":
                request_route.continue_()
            elif host == self.tile_host:
                request_route.fulfill(status=200, content_type="image/png", body=EMPTY_TILE)
            else:
                log.external.append(url)
                request_route.abort()

        page.route("**/*", route)
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path} as {role}: {response and response.status}"
        return page, log

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture(scope="session")
def browser(chromium: Any, live_server: str, demo: list[DemoLogin], settings: Settings) -> Iterator[Browser]:
    opened = Browser(chromium, live_server, {login.role: login for login in demo}, urlsplit(settings.tile_url).hostname)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a run that checked pages with axe, rebuild ``docs/accessibility-results.json`` from the results
    (what ``contextmap docs accessibility`` does), so ``/accessibility`` shows the last run."""
    from tests.browser import axe

    if axe.CHECKED:
        from app.governance.accessibility import collect, write_results

        write_results(collect())
