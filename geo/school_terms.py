"""School terms, from which the ``SH`` (school holidays) opening-hours selector is computed.

England's term dates are set by each local authority (and by academies and free schools for themselves),
so there is no national list: an organisation loads its council's published dates as a CSV, one row per
teaching period::

    term,starts_on,ends_on
    Autumn 1,2026-09-03,2026-10-23
    Autumn 2,2026-11-02,2026-12-18

Half-terms are the gaps between rows. **School holidays** are the days from the first term's start to the
last term's end that no term covers (weekends inside a holiday included, weekends during term not), as
the OpenStreetMap wiki defines ``SH``. Days before the first or after the last loaded term are not known to
be holidays; they do not match ``SH``, and :func:`geo.opening_hours` users see ``SH`` rules only where
terms are loaded. Inset (training) days are not holidays for young people's services and are not listed.

Examples
--------
>>> terms = parse_school_terms("term,starts_on,ends_on\\n"
...                            "Autumn 1,2026-09-03,2026-10-23\\nAutumn 2,2026-11-02,2026-12-18\\n")
>>> holidays = school_holidays(terms)
>>> date(2026, 10, 26) in holidays, date(2026, 10, 22) in holidays, date(2026, 12, 21) in holidays
(True, False, False)
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["SchoolTerm", "SchoolTermsError", "parse_school_terms", "school_holidays"]

COLUMNS = ("term", "starts_on", "ends_on")
MAX_ROWS = 200  # about 30 years of six-term calendars: more is not a term-dates file


class SchoolTermsError(ValueError):
    """A school-terms file that cannot be used, with the 1-based line and the column at fault."""

    def __init__(self, line: int, field: str, message: str) -> None:
        super().__init__(f"line {line}, {field}: {message}")
        self.line = line
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class SchoolTerm:
    """One teaching period, both days included."""

    name: str
    starts_on: date
    ends_on: date


def parse_school_terms(text: str, max_rows: int = MAX_ROWS) -> list[SchoolTerm]:
    """Terms from CSV text with the header ``term,starts_on,ends_on`` (ISO dates), in date order.

    Raises
    ------
    SchoolTermsError
        For a missing column, an unreadable date, an end before its start, overlapping terms, no rows or
        more than ``max_rows`` rows; nothing is returned in part.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise SchoolTermsError(1, missing[0], f"missing column; the header must be {','.join(COLUMNS)}")
    terms: list[tuple[int, SchoolTerm]] = []
    for line, row in enumerate(reader, start=2):
        if len(terms) >= max_rows:
            raise SchoolTermsError(line, "term", f"more than {max_rows} terms in one file")
        name = (row.get("term") or "").strip()
        if not name:
            raise SchoolTermsError(line, "term", "each term needs a name, e.g. 'Autumn 1'")
        days = []
        for column in ("starts_on", "ends_on"):
            value = (row.get(column) or "").strip()
            try:
                days.append(date.fromisoformat(value))
            except ValueError:
                raise SchoolTermsError(line, column, f"{value!r} is not a date (YYYY-MM-DD)") from None
        if days[1] < days[0]:
            raise SchoolTermsError(line, "ends_on", "the term ends before it starts")
        terms.append((line, SchoolTerm(name, days[0], days[1])))
    if not terms:
        raise SchoolTermsError(2, "term", "no terms in the file")
    terms.sort(key=lambda pair: pair[1].starts_on)
    for (_, earlier), (line, later) in itertools.pairwise(terms):
        if later.starts_on <= earlier.ends_on:
            raise SchoolTermsError(line, "starts_on", f"{later.name!r} overlaps {earlier.name!r}")
    return [term for _, term in terms]


def school_holidays(terms: Iterable[SchoolTerm]) -> frozenset[date]:
    """The days between the first start and the last end of ``terms`` that no term covers."""
    ordered = sorted(terms, key=lambda term: term.starts_on)
    holidays: set[date] = set()
    for earlier, later in itertools.pairwise(ordered):
        day = earlier.ends_on + timedelta(days=1)
        while day < later.starts_on:
            holidays.add(day)
            day += timedelta(days=1)
    return frozenset(holidays)
