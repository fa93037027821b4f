"""Which incidents an analysis selects: values from the vocabulary, and periods given as RFC 3339
intervals (start inclusive, end exclusive), in Europe/London local time where a calendar matters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.exceptions import InvalidInput
from app.query import parse_interval


def vocabulary_values(values: Sequence[str] | None, allowed: Sequence[str], field: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(v.strip() for v in (values or []) if v.strip()))
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise InvalidInput(f"{field}: unknown value {unknown[0]!r}; expected one of: {', '.join(allowed)}",
                           field=field)
    return chosen


def analysis_period(value: str | None, field: str) -> tuple[datetime | None, datetime | None]:
    interval = parse_interval(value, field)
    if interval is None:
        return None, None
    start, end = interval
    if start is not None and start == end:
        raise InvalidInput(f"{field}: give an interval start/end; an analysis needs a period, not an instant",
                           field=field)
    return start, end


def analysis_window(value: str, field: str) -> tuple[datetime, datetime]:
    start, end = analysis_period(value, field)
    if start is None or end is None:
        raise InvalidInput(f"{field}: give both ends of the window (start/end)", field=field)
    return start, end
