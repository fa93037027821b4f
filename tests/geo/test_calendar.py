"""Europe/London calendar months (geo.calendar) and the published grid (geo.grid): the fixed calendar and
geography disclosure-controlled answers are snapped to."""

from __future__ import annotations

import doctest
from datetime import UTC, date, datetime
from itertools import pairwise

import geo.calendar
import geo.grid
from geo.calendar import add_months, month_ceil, month_floor, month_labels
from geo.grid import PUBLISHED_CELL_SIZES, published_cell_size, snap_box_outwards


def test_month_edges_follow_london_clock_changes() -> None:
    # 1 April 2025 00:00 BST is 31 March 23:00 UTC; 1 November 2025 00:00 GMT is 00:00 UTC.
    assert month_floor(datetime(2025, 4, 13, 12, tzinfo=UTC)) == datetime(2025, 3, 31, 23, tzinfo=UTC)
    assert month_ceil(datetime(2025, 10, 31, 23, 30, tzinfo=UTC)) == datetime(2025, 11, 1, tzinfo=UTC)
    assert month_ceil(datetime(2025, 3, 31, 23, tzinfo=UTC)) == datetime(2025, 3, 31, 23, tzinfo=UTC)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert month_labels(date(2025, 11, 1), date(2026, 2, 1)) == ["2025-11", "2025-12", "2026-01"]


def test_published_sizes_nest_and_boxes_snap_outwards_to_whole_cells() -> None:
    assert all(b % a == 0 for a, b in pairwise(PUBLISHED_CELL_SIZES))
    assert published_cell_size(50) == 250 and published_cell_size(251) == 500 and published_cell_size(9e3) == 1000
    for shift in (0.0, 10.0, 124.9):  # an edge sliding inside one cell gives the same whole cells
        assert snap_box_outwards((510_010.0 + shift, 220_010.0, 510_300.0, 220_260.0), 250.0) == (
            510_000.0, 220_000.0, 510_500.0, 220_500.0)


def test_docstring_examples_run() -> None:
    for module in (geo.calendar, geo.grid):
        assert doctest.testmod(module).failed == 0
