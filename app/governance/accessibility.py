"""The accessibility statement's facts: the last browser-test run's axe results, and the known issues.

The browser tests write one ``test-artifacts/axe/<page>.json`` per page checked (``tests/browser/axe.py``);
:func:`collect` turns them into ``docs/accessibility-results.json`` (committed), which ``/accessibility``
renders in the structure of the GOV.UK model accessibility statement
(https://www.gov.uk/government/publications/sample-accessibility-statement). The Public Sector Bodies
(Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018 require the statement; WCAG 2.2 AA
is the standard (DESIGN.md).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.db.bootstrap import PROJECT_ROOT

AXE_RESULTS_DIR = PROJECT_ROOT / "test-artifacts" / "axe"
RESULTS_FILE = PROJECT_ROOT / "docs" / "accessibility-results.json"
STANDARD = "WCAG 2.2 level AA"
# axe-core rule tags the browser tests run: WCAG 2.0, 2.1 and 2.2, levels A and AA.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


@dataclass(frozen=True)
class KnownIssue:
    """A failure we know of and when it will be fixed: an axe rule id, or a finding of manual checks."""

    key: str  # the axe rule id ("color-contrast") or "manual:<topic>"
    summary: str
    criterion: str  # the WCAG success criterion it fails
    fix_by: date


# Failures axe found (keyed by its rule id), and limitations axe cannot test but that follow from how the maps
# are built (Leaflet's vector shapes are not keyboard-focusable; layers are coloured), each with the date it
# will be fixed by.
# An axe violation in the results with no entry here is shown as "fix date not yet set" (and
# tests/api/test_governance.py fails, so a new failure cannot ship without a plan).
KNOWN_ISSUES: tuple[KnownIssue, ...] = (
    # The map pages' language, zoom-blocking viewport and unfocusable summary box were fixed in issue 16
    # (app/web/maps/page.py); tests/browser/test_maps_offline.py checks every map with axe.
    KnownIssue("manual:map-keyboard",
               "On the maps, individual shapes (cells, places, catchments) cannot all be reached with a keyboard "
               "alone, and their pop-ups are not announced by screen readers. Tables below each map give the "
               "same information (hot spots with their places, safe spaces with opening times) as text.",
               "2.1.1 Keyboard; 4.1.2 Name, Role, Value", date(2027, 3, 31)),
    KnownIssue("manual:map-colour",
               "Map layers (hot-spot confidence, safe-space open or closed) are told apart partly by colour; the "
               "legend names them, but some shapes rely on colour alone.", "1.4.1 Use of Colour",
               date(2027, 3, 31)),
    KnownIssue("manual:screen-reader-testing",
               "The service has not yet been tested by screen-reader users or audited manually; automated "
               "checks find only some kinds of problem.", "all", date(2027, 6, 30)),
)


def _page_result(raw: dict[str, Any]) -> dict[str, Any]:
    # Only the path: the test server listens on a random port, and the host says nothing to a reader.
    parts = urlsplit(str(raw.get("url", "")))
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    violations = sorted(
        ({"id": str(v["id"]), "impact": v.get("impact"), "help": str(v.get("help", "")), "nodes": int(v["nodes"])}
         for v in raw.get("violations", [])),
        key=lambda v: v["id"],
    )
    return {"page": str(raw["page"]), "path": path or "/", "checked_at": str(raw["checked_at"]),
            "violations": violations}


def collect(results_dir: Path = AXE_RESULTS_DIR) -> dict[str, Any]:
    """The accessibility results document from a directory of per-page axe results."""
    files = sorted(results_dir.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no axe results in {results_dir}: run the browser tests first")
    pages = sorted((_page_result(json.loads(f.read_text())) for f in files), key=lambda p: p["page"])
    return {
        "standard": STANDARD,
        "tool": "axe-core, run by the browser tests (tests/browser/axe.py) in Chromium with the pages' CSP",
        "axe_tags": list(AXE_TAGS),
        "checked_at": max(p["checked_at"] for p in pages),
        "pages": pages,
    }


def write_results(document: dict[str, Any], target: Path = RESULTS_FILE) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return target


def load_results(path: Path = RESULTS_FILE) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


@dataclass(frozen=True)
class Failure:
    """One line of "Non-compliance with the accessibility regulations"."""

    key: str
    summary: str
    criterion: str
    pages: list[str]
    fix_by: date | None


def failures(results: dict[str, Any] | None) -> list[Failure]:
    """Every axe rule that failed on some page (with its known-issue fix date), then the manual findings."""
    known = {issue.key: issue for issue in KNOWN_ISSUES}
    by_rule: dict[str, dict[str, Any]] = {}
    for page in (results or {}).get("pages", []):
        for violation in page["violations"]:
            entry = by_rule.setdefault(violation["id"], {"help": violation["help"], "pages": []})
            entry["pages"].append(page["page"])
    found = []
    for rule, entry in sorted(by_rule.items()):
        issue = known.get(rule)
        found.append(Failure(rule, issue.summary if issue else entry["help"], issue.criterion if issue else
                             "see the axe rule", sorted(set(entry["pages"])), issue.fix_by if issue else None))
    found += [Failure(i.key, i.summary, i.criterion, [], i.fix_by) for i in KNOWN_ISSUES
              if i.key.startswith("manual:")]
    return found


def statement_context(results: dict[str, Any] | None) -> dict[str, Any]:
    """What the statement template needs: the results, the failures and the compliance status."""
    found = failures(results)
    status = "partially compliant" if found else "fully compliant"
    if results is None:
        status = "not yet tested"
    return {"results": results, "failures": [asdict(f) for f in found], "status": status, "standard": STANDARD}
