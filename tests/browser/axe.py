"""axe-core accessibility checks for the browser tests, with the page's Content Security Policy in force.

``check_axe(page, name)`` runs axe on the page as it is, writes ``test-artifacts/axe/<name>.json`` =
``{"page", "url", "checked_at", "violations": [{"id", "impact", "help", "nodes"}]}`` and returns the
violations. The accessibility statement (``/accessibility``) is built from those files: see
``app/governance/accessibility.py`` and the session hook in ``tests/browser/conftest.py``.

axe-core comes from npm (no CDN): ``app/static/node_modules`` when the served assets include it, else
``tests/browser/node_modules`` (``npm ci --prefix tests/browser``). Its source is evaluated through the
DevTools protocol, which a page's CSP does not govern, so the CSP stays on while axe runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from app.governance.accessibility import AXE_RESULTS_DIR, AXE_TAGS

ROOT = Path(__file__).resolve().parents[2]
AXE_SOURCES = (ROOT / "app" / "static" / "node_modules" / "axe-core" / "axe.min.js",
               ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js")

# Pages checked in this test session: the session hook refreshes the statement's results only after a run
# that checked some.
CHECKED: set[str] = set()

_RUN = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
    return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}));
}"""


@cache
def _axe_source() -> str:
    for path in AXE_SOURCES:
        if path.is_file():
            return path.read_text()
    pytest.fail("axe-core is not installed: run `npm ci --prefix tests/browser` (or `make vendor`)")


def check_axe(page: Any, name: str) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.2 A and AA rules) on ``page`` and record the result as ``name``."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source() + "\n;undefined")
    violations: list[dict[str, Any]] = page.evaluate(_RUN, list(AXE_TAGS))
    AXE_RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    record = {"page": name, "url": page.url, "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "violations": violations}
    (AXE_RESULTS_DIR / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    CHECKED.add(name)
    return violations
