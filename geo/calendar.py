"""Calendar months in Europe/London: the one home of month arithmetic (analysis windows, map sliders,
disclosure-controlled periods).

A month starts at local midnight on its first day, so a month is 743, 744 or 745 hours long across the
clock changes; instants are returned as aware datetimes in UTC.

Examples
--------
>>> add_months(date(2025, 11, 30), 3)
datetime.date(2026, 2, 28)
>>> month_floor(datetime(2025, 3, 31, 23, 30, tzinfo=UTC)).isoformat()   # 00:30 BST on 1 April
'2025-03-31T23:00:00+00:00'
>>> months_between(date(2025, 11, 1), date(2026, 2, 1))
3
>>> step_floor(datetime(2025, 3, 31, 23, 30, tzinfo=UTC), "week"), add_steps(date(2025, 1, 31), "month", 1)
(datetime.date(2025, 3, 31), datetime.date(2025, 2, 28))
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from geo.vocabulary import LONDON


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, the day clipped to the target month's length (31 Jan + 1 = 28 Feb)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    following = date(year + (month == 11), (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (following - timedelta(days=1)).day))


def months_between(first: date, last: date) -> int:
    """Whole calendar months from ``first``'s month to ``last``'s month."""
    return (last.year - first.year) * 12 + last.month - first.month


def quarter_start(day: date) -> date:
    """The first day of the calendar quarter (January, April, July, October) ``day`` lies in.

    >>> quarter_start(date(2026, 8, 17))
    datetime.date(2026, 7, 1)
    """
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_name(first: date) -> str:
    """A quarter in words, by its first day: "July to September 2026"."""
    return f"{first:%B} to {add_months(first, 2):%B %Y}"


def london_midnight(day: date) -> datetime:
    """Local midnight at the start of ``day``, in UTC."""
    return datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)


def month_floor(moment: datetime) -> datetime:
    """The start (local midnight on the 1st) of the Europe/London month containing ``moment``, in UTC."""
    return london_midnight(moment.astimezone(LONDON).date().replace(day=1))


def month_ceil(moment: datetime) -> datetime:
    """``moment`` itself when it is a month start, else the start of the next month (UTC)."""
    floor = month_floor(moment)
    if floor == moment:
        return floor
    return london_midnight(add_months(moment.astimezone(LONDON).date().replace(day=1), 1))


def month_labels(first: date, end: date) -> list[str]:
    """"YYYY-MM" for every month from ``first``'s month up to, not including, ``end``'s month."""
    start = first.replace(day=1)
    return [f"{add_months(start, k):%Y-%m}" for k in range(months_between(start, end))]


# ---- analysis steps: Europe/London weeks (from Monday) and months --------------------------------------
Step = Literal["week", "month"]


def step_floor(moment: datetime, step: Step | str) -> date:
    """The local date on which the week (Monday) or month containing ``moment`` starts."""
    local = moment.astimezone(LONDON).date()
    if step == "month":
        return local.replace(day=1)
    return local - timedelta(days=local.weekday())


def add_steps(day: date, step: Step | str, n: int = 1) -> date:
    """``day`` moved by ``n`` weeks or whole months (:func:`add_months`)."""
    return day + timedelta(weeks=n) if step == "week" else add_months(day, n)


# ---- records dated in the future ---------------------------------------------------------------------
#: Minutes a record may lie ahead of now (clock skew between systems); ``future_tolerance_minutes`` setting.
FUTURE_TOLERANCE_MINUTES = 60


def too_far_ahead(moment: datetime | None, tolerance_minutes: float = FUTURE_TOLERANCE_MINUTES,
                  now: datetime | None = None) -> bool:
    """True when ``moment`` lies more than ``tolerance_minutes`` after ``now`` (default: the clock) — the one
    rule for incidents dated in the future, for the write use case and the police.uk and partner imports
    alike (one incident dated 2206 moved an organisation's default emerging-hot-spots window to 2204-2206).

    >>> too_far_ahead(datetime(2026, 1, 1, 12, 30, tzinfo=UTC), 60, now=datetime(2026, 1, 1, 12, tzinfo=UTC))
    False
    >>> too_far_ahead(datetime(2026, 1, 1, 13, 1, tzinfo=UTC), 60, now=datetime(2026, 1, 1, 12, tzinfo=UTC))
    True
    """
    return moment is not None and moment > (now or datetime.now(UTC)) + timedelta(minutes=tolerance_minutes)
