"""The governance documents in ``docs/`` rendered as HTML for the web pages, and ``security.txt``.

Markdown is rendered by markdown-it-py (CommonMark, tables on, raw HTML off: anything that looks like
HTML in a document is shown as text, never interpreted). Links between the documents point at their
pages; links to files in the repository (the tests that prove a measure) are shown as their text, since
a deployed service does not serve its source tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from app.db.bootstrap import PROJECT_ROOT

DOCS_DIR = PROJECT_ROOT / "docs"


@dataclass(frozen=True)
class Document:
    slug: str  # served at /about/<slug>
    title: str
    filename: str

    @property
    def path(self) -> Path:
        return DOCS_DIR / self.filename


DOCUMENTS: dict[str, Document] = {d.slug: d for d in (
    Document("data-inventory", "Data inventory", "data-inventory.md"),
    Document("dpia", "Data protection impact assessment (starter)", "dpia.md"),
    Document("information-sharing-agreement", "Information-sharing agreement (template)",
             "information-sharing-agreement.md"),
    Document("security", "Security", "security.md"),
)}
_BY_FILENAME = {d.filename: d for d in DOCUMENTS.values()}
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _slug(heading: str) -> str:
    # GitHub's heading anchors, so a fragment works on the page and in the repository alike.
    return re.sub(r"[^\w\- ]", "", heading.lower()).strip().replace(" ", "-")


def _heading_ids(state: StateCore) -> None:
    for index, token in enumerate(state.tokens):
        if token.type == "heading_open":
            token.attrSet("id", _slug(state.tokens[index + 1].content))


_markdown.core.ruler.push("heading_ids", _heading_ids)


def _relink(match: re.Match[str]) -> str:
    label, target = match.group(1), match.group(2)
    if re.match(r"^(https?:|mailto:|#|/)", target):
        return match.group(0)
    filename, _, fragment = target.partition("#")
    document = _BY_FILENAME.get(Path(filename).name)
    if document is not None:
        return f"[{label}](/about/{document.slug}{'#' + fragment if fragment else ''})"
    return label


def render(document: Document) -> str:
    """The document as HTML (raw HTML in the source is escaped, not interpreted)."""
    source = _COMMENT.sub("", document.path.read_text())
    return _markdown.render(_LINK.sub(_relink, source))


def security_txt(contact: str | None, base_url: str, now: datetime | None = None) -> str:
    """RFC 9116 ``security.txt``: Contact and Expires are required; Expires is kept under a year ahead.

    The file is generated when asked for, from the deployment's settings, so Expires rolls forward with
    it: 180 days, well inside RFC 9116's advice of less than a year.
    """
    base = base_url.rstrip("/")
    expires = (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(days=180)
    lines = [
        f"Contact: {contact or base + '/about/security#reporting-a-vulnerability'}",
        f"Expires: {expires.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: en",
        f"Canonical: {base}/.well-known/security.txt",
        f"Canonical: {base}/security.txt",
        f"Policy: {base}/about/security",
    ]
    return "\n".join(lines) + "\n"
