"""axe-core in the page, with the page's own Content Security Policy in force.

``check_axe(page, name)`` runs axe (WCAG 2.2 A and AA rules) on the page as it is, writes
``test-artifacts/axe/<name>.json`` = ``{"page", "url", "checked_at", "violations": [{"id", "impact", "help",
"nodes"}]}``, fails on any critical or serious violation that is not a documented known issue (``known``),
and returns the violations. The accessibility statement (``/accessibility``) is built from those files: see
``app/governance/accessibility.py`` and the session hook in ``tests/browser/conftest.py``.

axe is loaded from this server (``/static/vendor/axe-core``, from npm), as any same-origin script the CSP
allows, never injected inline.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from app.governance.accessibility import AXE_RESULTS_DIR, AXE_TAGS

AXE_URL = "/static/vendor/axe-core/axe.min.js"
AXE_DIR = AXE_RESULTS_DIR
BLOCKING = ("critical", "serious")

# Pages checked in this test session: the session hook refreshes the statement's results only after a run
# that checked some.
CHECKED: set[str] = set()


def check_axe(page: Any, name: str, known: Collection[str] = ()) -> list[dict[str, Any]]:
    """Run axe on the page as it is now; record the result as ``<name>.json``; fail on critical/serious
    violations except the rule ids in ``known`` (documented known issues with a fix date)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
        page.wait_for_function("typeof window.axe !== 'undefined'")
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await window.axe.run(document, {runOnly: {type: "tag", values: tags},
                                                           resultTypes: ["violations"]});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}));
        }""",
        list(AXE_TAGS),
    )
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    record = {"page": name, "url": page.url, "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "violations": violations}
    (AXE_DIR / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    CHECKED.add(name)
    blocking = [v for v in violations if v["impact"] in BLOCKING and v["id"] not in known]
    assert not blocking, f"{name}: axe found {json.dumps(blocking, indent=1)}"
    return violations
