"""England and Wales bank holidays, checked against the GOV.UK published list."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from geo.bank_holidays import bank_holidays, is_bank_holiday, is_public_holiday, public_holidays

# GOV.UK "Bank holidays: England and Wales" (https://www.gov.uk/bank-holidays), copied by hand.
GOV_UK_2022 = {
    date(2022, 1, 3),  # New Year's Day substitute
    date(2022, 4, 15),
    date(2022, 4, 18),
    date(2022, 5, 2),
    date(2022, 6, 2),  # Spring bank holiday moved for the Platinum Jubilee
    date(2022, 6, 3),  # Platinum Jubilee
    date(2022, 8, 29),
    date(2022, 9, 19),  # State Funeral of Queen Elizabeth II
    date(2022, 12, 26),
    date(2022, 12, 27),  # Christmas Day substitute
}
GOV_UK_2026 = {
    date(2026, 1, 1),
    date(2026, 4, 3),
    date(2026, 4, 6),
    date(2026, 5, 4),
    date(2026, 5, 25),
    date(2026, 8, 31),
    date(2026, 12, 25),
    date(2026, 12, 28),  # Boxing Day substitute (26th is a Saturday)
}


@pytest.mark.parametrize(("year", "expected"), [(2022, GOV_UK_2022), (2026, GOV_UK_2026)])
def test_bank_holidays_match_the_gov_uk_list(year: int, expected: set[date]) -> None:
    assert set(bank_holidays(year)) == expected


@pytest.mark.parametrize(
    ("day", "name_part"),
    [
        (date(2022, 6, 3), "Jubilee"),
        (date(2022, 9, 19), "Funeral"),
        (date(2023, 5, 8), "Coronation"),
        (date(2026, 12, 28), "Boxing Day (substitute day)"),
    ],
)
def test_one_off_and_substitute_days_are_named(day: date, name_part: str) -> None:
    assert is_bank_holiday(day)
    assert name_part in bank_holidays(day.year)[day]


def test_ordinary_days_are_not_bank_holidays() -> None:
    assert not is_bank_holiday(date(2026, 8, 28))
    assert not is_bank_holiday(date(2026, 3, 17))  # St Patrick's Day: Northern Ireland only
    assert not is_bank_holiday(date(2026, 11, 30))  # St Andrew's Day: Scotland only
    assert not is_bank_holiday(date(2026, 8, 3))  # Scottish summer bank holiday


def test_weekend_christmas_is_a_public_holiday_but_not_a_bank_holiday() -> None:
    # 25 December 2022 was a Sunday: the bank holiday moved to the 27th, but a place tagged "PH off"
    # is still closed on Christmas Day itself.
    christmas = date(2022, 12, 25)
    assert not is_bank_holiday(christmas)
    assert is_public_holiday(christmas)
    assert set(public_holidays(2022)) == GOV_UK_2022 | {date(2022, 1, 1), christmas}


def test_datetimes_are_accepted_by_their_date() -> None:
    assert is_bank_holiday(datetime(2026, 8, 31, 23, 59))
    assert is_public_holiday(datetime(2026, 12, 26, 12, 0))


def test_every_bank_holiday_is_a_weekday_and_a_public_holiday() -> None:
    for year in range(2015, 2031):
        holidays = bank_holidays(year)
        assert 8 <= len(holidays) <= 10
        assert all(day.weekday() < 5 and is_public_holiday(day) for day in holidays)
