"""The fixed calendar a disclosure-controlled reader asks safety-map counts of (Disclosure.map_quarter): one
whole calendar quarter that has ended, so no two ranges a panel can ask for overlap. Pure: no database."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from app.services.disclosure import Disclosure
from geo.privacy import DisclosureRule

PANEL = Disclosure(True, DisclosureRule(7, 5))
STAFF = Disclosure(False, DisclosureRule(7, 5))
TODAY = date(2026, 12, 1)  # in October to December 2026, which has not ended


@pytest.mark.parametrize(("first", "last", "expected"), [
    (date(2026, 7, 1), date(2026, 9, 1), (date(2026, 7, 1), date(2026, 9, 1))),  # a quarter: as asked
    (date(2026, 8, 1), date(2026, 8, 1), (date(2026, 7, 1), date(2026, 9, 1))),  # a month: its quarter
    (date(2025, 11, 1), date(2026, 5, 1), (date(2026, 4, 1), date(2026, 6, 1))),  # a range: the quarter it ends in
    (date(2026, 1, 1), date(2026, 12, 1), (date(2026, 7, 1), date(2026, 9, 1))),  # ends in the current quarter
    (date(2027, 1, 1), date(2027, 3, 1), (date(2026, 7, 1), date(2026, 9, 1))),  # the future
    (date(2024, 1, 1), date(2024, 1, 1), (date(2024, 1, 1), date(2024, 3, 1))),
])
def test_a_panel_gets_one_whole_quarter_that_has_ended(first: date, last: date, expected: tuple[date, date]) -> None:
    assert PANEL.map_quarter(first, last, TODAY) == expected
    assert STAFF.map_quarter(first, last, TODAY) == (first, last)


def test_quarters_a_panel_can_be_given_never_overlap() -> None:
    given = {PANEL.map_quarter(date(y, m, 1), date(y2, m2, 1), TODAY)
             for y in (2025, 2026) for m in range(1, 13) for y2 in (2025, 2026) for m2 in range(1, 13)}
    ordered = sorted(given)
    assert all(a[1] < b[0] for a, b in pairwise(ordered))
    assert all((q[1].year - q[0].year) * 12 + q[1].month - q[0].month == 2 and q[0].month in (1, 4, 7, 10)
               for q in given)
