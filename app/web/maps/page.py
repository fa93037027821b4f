"""The accessible page around a rendered folium map: language, zoomable viewport, landmarks, and the
map's information again as tables below it.

folium's page template (branca's ``Figure``) has no ``lang``, a viewport that forbids zooming
(``maximum-scale=1.0, user-scalable=no``) and no landmarks; axe-core reports each (WCAG 3.1.1, 1.4.4,
1.3.1). The rendered document is patched here rather than forking folium's templates: the patches touch
no ``<script>``, so the inline-script hashes of the page's CSP are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.web.maps.layers import escape_text

# Never disable zoom (WCAG 1.4.4): the same viewport as the web application's shell.
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />'
_VIEWPORT_RE = re.compile(r'<meta name="viewport"[^>]*>', re.DOTALL)

PAGE_CSS = """
.contextmap-main > .folium-map { height: calc(100vh - 2.5rem) !important; }
.contextmap-skip { position: absolute; left: -9999px; top: 0; z-index: 2000; background: #fd0; color: #0b0c0c;
  padding: 8px; font: 16px system-ui, sans-serif; }
.contextmap-skip:focus { left: 8px; }
.contextmap-below { font: 16px/1.4 system-ui, sans-serif; color: #0b0c0c; padding: 8px 16px 32px;
  max-width: 70rem; }
.contextmap-below h2 { font-size: 20px; margin: 20px 0 8px; }
.contextmap-table-wrap { overflow-x: auto; }
.contextmap-table-wrap:focus { outline: 3px solid #fd0; }
.contextmap-below table { border-collapse: collapse; width: 100%; }
.contextmap-below caption { text-align: left; font-weight: 600; padding: 4px 0; }
.contextmap-below th, .contextmap-below td { border-bottom: 1px solid #b1b4b6; padding: 6px 8px 6px 0;
  text-align: left; vertical-align: top; }
.contextmap-below a { color: #1d70b8; }
.contextmap-below a:focus { background: #fd0; color: #0b0c0c; outline: 3px solid #fd0; }
"""


@dataclass(frozen=True)
class Table:
    """One table of the map's information: cells are escaped here unless listed in ``html_columns``."""

    caption: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    empty: str = "None."
    html_columns: frozenset[int] = frozenset()


def link(href: str, label: object) -> str:
    """An escaped link (for a ``Table`` column named in ``html_columns``)."""
    return f'<a href="{escape_text(href)}">{escape_text(label)}</a>'


def table_html(table: Table, index: int) -> str:
    """One captioned table in a focusable, labelled scroll box (narrow screens scroll it sideways)."""
    caption = escape_text(table.caption)
    if not table.rows:
        return f"<h2>{caption}</h2><p>{escape_text(table.empty)}</p>"
    head = "".join(f'<th scope="col">{escape_text(h)}</th>' for h in table.headers)
    body = "".join(
        "<tr>" + "".join(
            f"<td>{value if i in table.html_columns else escape_text(value)}</td>" for i, value in enumerate(row)
        ) + "</tr>"
        for row in table.rows
    )
    return (f'<h2 id="contextmap-table-{index}">{caption}</h2>'
            f'<div class="contextmap-table-wrap" tabindex="0" role="region" '
            f'aria-labelledby="contextmap-table-{index}">'
            f'<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def accessible_document(html: str, *, title: str, tables: Sequence[Table]) -> str:
    """The rendered folium page with a language, a zoomable viewport, a main landmark and the tables."""
    html = html.replace("<html>", '<html lang="en-GB">', 1)
    html = _VIEWPORT_RE.sub(VIEWPORT, html, count=1)
    below = "".join(table_html(t, i) for i, t in enumerate(tables, start=1))
    section = (f'<section class="contextmap-below" id="contextmap-tables" aria-label="{escape_text(title)}: as tables">'
               f"{below}</section>") if tables else ""
    skip = ('<a class="contextmap-skip" href="#contextmap-tables">Skip the map: the same information as tables</a>'
            if tables else "")
    html = html.replace("<body>", f'<body>\n{skip}<main class="contextmap-main" id="main-content">', 1)
    return html.replace("</body>", f"{section}</main>\n</body>", 1)
