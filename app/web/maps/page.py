"""A rendered folium map inside the web application's shell, and the map's information again as tables.

folium's page template (branca's ``Figure``) is a whole document: no ``lang``, a viewport that forbids zooming
(``maximum-scale=1.0, user-scalable=no``), page-wide styles that pin ``html``/``body`` to the window, and no
landmarks. :func:`map_document` takes it apart (the head's links and styles, the map's element, the scripts
that build it) so the shell's template (``maps/map.html`` extending ``layout.html``) can place them: the shell
brings ``lang``, a zoomable viewport, the header, navigation, skip link, breadcrumbs and ``main``. No
``<script>`` is changed, so the inline-script hashes of the page's CSP hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.web.maps.layers import escape_text

# Dropped from folium's head: the shell has its own charset and viewport; the page-wide styles would pin the
# shell to the window; Bootstrap's stylesheet would restyle GOV.UK Frontend (folium links it for its own
# icons, which contextmap draws with Font Awesome and its own markers).
_DROPPED = (
    re.compile(r'<meta http-equiv="content-type"[^>]*>', re.DOTALL),
    re.compile(r'<meta name="viewport"[^>]*>', re.DOTALL),
    re.compile(r"<style>\s*html, body \{[^}]*\}\s*</style>", re.DOTALL),
    re.compile(r"<style>\s*#map \{[^}]*\}\s*</style>", re.DOTALL),
    re.compile(r'<link rel="stylesheet" href="[^"]*/bootstrap/dist/css/bootstrap\.min\.css"/>'),
)

# The map fills the width and nearly the whole window below the shell's header: on a 390 x 844 phone it keeps
# most of the screen; the header and breadcrumbs scroll away above it, the tables follow below.
PAGE_CSS = """
.cm-map-width { margin: 0 15px; }
.cm-map-width .govuk-main-wrapper { padding: 0 0 20px; }
.cm-map-width .govuk-breadcrumbs { margin: 8px 0 6px; }
.cm-map-width .folium-map { height: calc(100vh - 3rem) !important; min-height: 320px; }
.contextmap-skip:not(:focus) { position: absolute; left: -9999px; }
.contextmap-skip:focus { display: inline-block; margin: 4px 0; }
.cm-map-finder { padding-top: 15px; }
.contextmap-below { padding: 8px 0 16px; max-width: 70rem; }
.contextmap-table-wrap { overflow-x: auto; }
.contextmap-table-wrap:focus { outline: 3px solid #fd0; }
"""
_SECTION = {name: re.compile(pattern, re.DOTALL) for name, pattern in (
    ("head", r"<head>(.*)</head>"), ("body", r"<body>(.*)</body>"), ("scripts", r"</body>(.*)</html>"))}


@dataclass(frozen=True)
class MapDocument:
    """The parts of a rendered folium page: ``head`` (asset links, styles), ``body`` (the map's element),
    ``scripts`` (the inline scripts that build the map, run after the element exists)."""

    head: str
    body: str
    scripts: str


def map_document(html: str) -> MapDocument:
    parts = {}
    for name, pattern in _SECTION.items():
        found = pattern.search(html)
        parts[name] = found.group(1) if found else ""
    for dropped in _DROPPED:
        parts["head"] = dropped.sub("", parts["head"])
    return MapDocument(**parts)


@dataclass(frozen=True)
class Table:
    """One table of the map's information: cells are escaped here unless listed in ``html_columns``."""

    caption: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    empty: str = "None."
    html_columns: frozenset[int] = frozenset()
    note: str = ""  # a sentence under the heading: how to read the table


def link(href: str, label: object) -> str:
    """An escaped link (for a ``Table`` column named in ``html_columns``)."""
    return f'<a href="{escape_text(href)}">{escape_text(label)}</a>'


def table_html(table: Table, index: int) -> str:
    """One captioned GOV.UK table in a focusable, labelled scroll box (narrow screens scroll it sideways)."""
    caption = escape_text(table.caption)
    if not table.rows:
        return (f'<h2 class="govuk-heading-m">{caption}</h2>'
                f'<p class="govuk-body">{escape_text(table.empty)}</p>')
    head = "".join(f'<th scope="col" class="govuk-table__header">{escape_text(h)}</th>' for h in table.headers)
    body = "".join(
        '<tr class="govuk-table__row">' + "".join(
            f'<td class="govuk-table__cell">{value if i in table.html_columns else escape_text(value)}</td>'
            for i, value in enumerate(row)
        ) + "</tr>"
        for row in table.rows
    )
    note = f'<p class="govuk-body-s" data-table-note>{escape_text(table.note)}</p>' if table.note else ""
    return (f'<h2 class="govuk-heading-m" id="contextmap-table-{index}">{caption}</h2>{note}'
            f'<div class="contextmap-table-wrap" tabindex="0" role="region" '
            f'aria-labelledby="contextmap-table-{index}">'
            f'<table class="govuk-table"><thead class="govuk-table__head"><tr class="govuk-table__row">{head}'
            f'</tr></thead><tbody class="govuk-table__body">{body}</tbody></table></div>')


def tables_html(tables: Sequence[Table], title: str) -> str:
    """The map's information as tables, in a labelled section the skip link above the map points at."""
    if not tables:
        return ""
    below = "".join(table_html(t, i) for i, t in enumerate(tables, start=1))
    return (f'<section class="contextmap-below" id="contextmap-tables" aria-label="{escape_text(title)}: as tables">'
            f"{below}</section>")
