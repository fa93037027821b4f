"""Lists in pages: the filter-keeping link to a list and GOV.UK's pagination component, written once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

# Either side of the current page, the numbered links shown (GOV.UK pagination: keep the list short).
NEIGHBOURS = 2


def list_url(path: str, params: Mapping[str, Any], **changes: Any) -> str:
    """``path`` with the list's filters (and ``changes``) as its query; empty values are left out and a list
    value repeats its key (``kind=a&kind=b``), as the filter form sends them."""
    flat: list[tuple[str, Any]] = []
    for key, value in {**params, **changes}.items():
        if value in (None, "", [], False):  # False == 0: a zero is "not set" too
            continue
        flat.extend((key, item) for item in value) if isinstance(value, list) else flat.append((key, value))
    return path + (f"?{urlencode(flat)}" if flat else "")


def page_count(total: int, size: int) -> int:
    """How many pages ``total`` rows fill, at least one (an empty list is one empty page)."""
    return max(1, -(-total // size))


def pagination(url: Callable[[int], str], page_number: int, pages: int, *, numbered: bool = True) -> dict[str, Any]:
    """The parameters of GOV.UK's ``govukPagination``: previous, next and (if ``numbered``) the pages around
    the current one, each linking to ``url(n)``."""
    links: dict[str, Any] = {
        "previous": {"href": url(page_number - 1)} if page_number > 1 else None,
        "next": {"href": url(page_number + 1)} if page_number < pages else None,
    }
    if numbered:
        links["items"] = [{"number": n, "href": url(n), "current": n == page_number}
                          for n in range(max(1, page_number - NEIGHBOURS), min(pages, page_number + NEIGHBOURS) + 1)]
    return links
