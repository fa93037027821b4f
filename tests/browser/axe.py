"""axe-core in the page, with the page's own Content Security Policy in force.

axe is loaded from this server (``/static/vendor/axe-core``, from npm), as any same-origin script the CSP
allows, never injected inline. Each check writes ``test-artifacts/axe/<name>.json`` (the accessibility
statement is generated from those files) and fails on any critical or serious violation.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AXE_URL = "/static/vendor/axe-core/axe.min.js"
AXE_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe"
# WCAG 2.2 AA (public sector bodies accessibility regulations) plus axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("critical", "serious")


def check_axe(page: Any, name: str) -> list[dict[str, Any]]:
    """Run axe on the page as it is now; record the result as ``<name>.json``; fail on critical/serious."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
        page.wait_for_function("typeof window.axe !== 'undefined'")
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await window.axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                                                targets: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }""",
        TAGS,
    )
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    record = {"page": name, "url": page.url, "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "violations": [{k: v[k] for k in ("id", "impact", "help", "nodes")} for v in violations]}
    (AXE_DIR / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{name}: axe found {json.dumps(blocking, indent=1)}"
    return violations
