"""England and Wales bank holidays and public holidays.

Two calendars, because opening hours and the official list disagree on one point:

* **bank holidays** follow the GOV.UK list (https://www.gov.uk/bank-holidays): always weekdays, with a
  substitute day when Christmas Day, Boxing Day or New Year's Day falls at a weekend, and one-off days
  such as the 2022 Platinum Jubilee, the 2022 State Funeral and the 2023 Coronation;
* **public holidays** are the bank holidays *plus* Christmas Day, Boxing Day and New Year's Day when they
  fall at a weekend. A library tagged ``PH off`` is closed on Christmas Day even when it is a Sunday, so
  this is the calendar the OpenStreetMap ``PH`` selector uses (see :mod:`geo.opening_hours`).

The dates come from the maintained ``holidays`` package (``GB``, subdivision ``ENG``; Wales has the same
days), so newly announced one-off bank holidays arrive with a package upgrade rather than a code change.

Examples
--------
>>> from datetime import date
>>> is_bank_holiday(date(2026, 12, 28))  # Boxing Day falls on a Saturday
True
>>> is_bank_holiday(date(2022, 12, 25)), is_public_holiday(date(2022, 12, 25))  # a Sunday
(False, True)
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

__all__ = ["bank_holidays", "is_bank_holiday", "is_public_holiday", "public_holidays"]

# The holidays package says "(observed)"; GOV.UK, which our users read, says "(substitute day)".
_OBSERVED = "(observed)"
_SUBSTITUTE = "(substitute day)"


@lru_cache(maxsize=64)
def _calendar(year: int) -> tuple[tuple[date, str], ...]:
    # Building a holidays calendar computes Easter and the substitution rules; cache per year because
    # opening-hours evaluation asks about the same few years thousands of times.
    raw = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return tuple(sorted((day, name.replace(_OBSERVED, _SUBSTITUTE)) for day, name in raw.items()))


def public_holidays(year: int) -> dict[date, str]:
    """Public holidays in England and Wales in ``year``, as used by the ``PH`` opening-hours selector.

    Parameters
    ----------
    year : int
        Calendar year.

    Returns
    -------
    dict[datetime.date, str]
        Date to holiday name, in date order: every bank holiday plus Christmas Day, Boxing Day and New
        Year's Day on the day itself when that day is a Saturday or Sunday.

    Examples
    --------
    >>> sorted(d.isoformat() for d in public_holidays(2022) if d.month == 12)
    ['2022-12-25', '2022-12-26', '2022-12-27']
    """
    return dict(_calendar(year))


def bank_holidays(year: int) -> dict[date, str]:
    """Bank holidays in England and Wales in ``year``, matching the GOV.UK list.

    Parameters
    ----------
    year : int
        Calendar year.

    Returns
    -------
    dict[datetime.date, str]
        Date to holiday name, in date order. Weekend dates are left out: GOV.UK lists the substitute
        weekday instead (e.g. 2026-12-28 "Boxing Day (substitute day)").

    Examples
    --------
    >>> bank_holidays(2023)[date(2023, 5, 8)]
    'Coronation of Charles III'
    """
    # Bank holidays are by definition weekdays; the weekend "holidays" the package lists are the
    # traditional dates whose bank holiday moved to a substitute day.
    return {day: name for day, name in _calendar(year) if day.weekday() < 5}


def is_bank_holiday(day: date) -> bool:
    """Whether ``day`` is a bank holiday in England and Wales (GOV.UK list).

    Parameters
    ----------
    day : datetime.date
        The date; a ``datetime`` is accepted and only its date part is used.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_bank_holiday(date(2026, 8, 31))
    True
    """
    day = _as_date(day)
    return day in bank_holidays(day.year)


def is_public_holiday(day: date) -> bool:
    """Whether ``day`` is a public holiday in England and Wales (what ``PH`` means in opening hours).

    Parameters
    ----------
    day : datetime.date
        The date; a ``datetime`` is accepted and only its date part is used.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_public_holiday(date(2022, 12, 25))
    True
    """
    day = _as_date(day)
    return day in _public_dates(day.year)


@lru_cache(maxsize=64)
def _public_dates(year: int) -> frozenset[date]:
    return frozenset(day for day, _ in _calendar(year))


def _as_date(day: date) -> date:
    # datetime is a subclass of date, and "datetime in dict_of_dates" is always False: normalise first.
    return date(day.year, day.month, day.day)
