"""Opening hours as real places write them: dates, weeks, Easter, nth weekdays, offsets, SH, states and comments.

The differential test (tests/differential) checks agreement with opening_hours.js on hundreds of values;
these tests pin the behaviour a youth worker would notice, day by day, on dates checked by hand.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from geo.bank_holidays import is_public_holiday
from geo.opening_hours import (
    LONDON,
    Calendar,
    HoursState,
    OpeningHours,
    OpeningHoursError,
    describe_hours,
    hours_note,
    sun_minutes,
)
from geo.opening_hours_syntax import OPEN_END_COMMENT, easter
from geo.school_terms import SchoolTermsError, parse_school_terms, school_holidays


def london(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def state(text: str, at: datetime, calendar: Calendar | None = None) -> HoursState:
    return OpeningHours.parse(text, calendar).state(at)


# -- dates, months, years, weeks, Easter -------------------------------------------------------------------


def test_single_dates_and_ranges_that_wrap_the_year() -> None:
    hours = OpeningHours.parse("Mo-Su 09:00-17:00; Dec 24-Jan 02 off; Jan 01 off")
    assert not hours.is_open(london(2026, 12, 24))
    assert not hours.is_open(london(2027, 1, 2))
    assert hours.is_open(london(2027, 1, 3))
    assert hours.is_open(london(2026, 12, 23))


def test_month_ranges_with_weekdays() -> None:
    summer = OpeningHours.parse("Apr-Sep Mo-Fr 09:00-18:00; Oct-Mar Mo-Fr 10:00-16:00")
    assert summer.is_open(london(2026, 9, 30, 17))
    assert not summer.is_open(london(2026, 10, 1, 17))
    assert summer.is_open(london(2026, 10, 1, 15))


def test_years_and_dated_ranges() -> None:
    hours = OpeningHours.parse("2026 Mo-Fr 09:00-17:00; 2027+ Mo-Fr 10:00-16:00")
    assert hours.is_open(london(2026, 6, 1, 9, 30))
    assert not hours.is_open(london(2027, 6, 1, 9, 30))
    assert hours.is_open(london(2030, 6, 3, 10, 30))
    closure = OpeningHours.parse("Mo-Fr 09:00-17:00; 2026 Dec 24-2027 Jan 04 off")
    assert not closure.is_open(london(2027, 1, 4))
    assert closure.is_open(london(2027, 12, 29))  # the closure was for one winter only


def test_iso_week_numbers_with_a_step() -> None:
    fortnightly = OpeningHours.parse("week 01-53/2 Tu 19:00-21:00")
    # 2026-01-06 is in ISO week 2, 2026-01-13 in week 3.
    assert not fortnightly.is_open(london(2026, 1, 6, 20))
    assert fortnightly.is_open(london(2026, 1, 13, 20))


def test_easter_and_offsets_from_it() -> None:
    assert easter(2026) == date(2026, 4, 5) and easter(2027) == date(2027, 3, 28)
    hours = OpeningHours.parse("Mo-Su 10:00-16:00; easter -2 days off; easter off")
    assert not hours.is_open(london(2026, 4, 3))  # Good Friday
    assert not hours.is_open(london(2026, 4, 5))
    assert hours.is_open(london(2026, 4, 4))


def test_nth_weekday_of_the_month_and_day_offsets() -> None:
    first_saturday = OpeningHours.parse("Sa[1] 10:00-12:00")
    assert first_saturday.is_open(london(2026, 5, 2, 11))
    assert not first_saturday.is_open(london(2026, 5, 9, 11))
    last_saturday = OpeningHours.parse("Sa[-1] 10:00-14:00")
    assert last_saturday.is_open(london(2026, 5, 30, 11))
    assert not last_saturday.is_open(london(2026, 5, 23, 11))
    monday_before = OpeningHours.parse("Sa[1] -5 days 10:00-12:00")
    assert monday_before.is_open(london(2026, 3, 2, 11))  # Saturday 7 March minus five days
    both = OpeningHours.parse("Mo[1,3] 18:00-20:00")
    assert both.is_open(london(2026, 5, 18, 19)) and not both.is_open(london(2026, 5, 11, 19))


def test_public_holiday_with_a_day_offset() -> None:
    # Closed the day after a bank holiday: Tuesday 26 May 2026 follows the Spring bank holiday.
    hours = OpeningHours.parse("Mo-Fr 09:00-17:00; PH +1 day off")
    assert not hours.is_open(london(2026, 5, 26))
    assert hours.is_open(london(2026, 5, 25))  # no rule says the holiday itself is closed
    assert is_public_holiday(date(2026, 5, 25))


# -- states, comments, fallbacks, open ends ----------------------------------------------------------------


def test_a_comment_without_a_state_means_unknown_not_closed() -> None:
    assert state('Mo-Fr 10:00-18:00 "by appointment"', london(2026, 5, 5, 11)) == HoursState(
        "unknown", "by appointment")
    assert state('Mo-Fr 10:00-18:00 open "by appointment"', london(2026, 5, 5, 11)) == HoursState(
        "open", "by appointment")
    assert state('"ring the bell"', london(2026, 5, 5, 3)) == HoursState("unknown", "ring the bell")
    assert state('off "temporarily closed"', london(2026, 5, 5)) == HoursState("closed", "temporarily closed")


def test_unknown_and_fallback_rules() -> None:
    hours = OpeningHours.parse('Mo-Fr 09:00-17:00 || unknown "outside these hours ring first"')
    assert hours.state(london(2026, 5, 5, 10)) == HoursState("open")
    assert hours.state(london(2026, 5, 5, 18)) == HoursState("unknown", "outside these hours ring first")
    assert not hours.is_open(london(2026, 5, 5, 18))
    assert hours.text == 'Mo-Fr 09:00-17:00 || unknown "outside these hours ring first"'


def test_open_end_is_unknown_until_the_guessed_closing_time() -> None:
    late = OpeningHours.parse("Fr-Sa 18:00+")
    assert late.state(london(2026, 5, 8, 23)) == HoursState("unknown", OPEN_END_COMMENT)
    assert late.state(london(2026, 5, 9, 3, 59)).state == "unknown"  # ten hours: until 04:00
    assert late.state(london(2026, 5, 9, 4)).state == "closed"
    extended = OpeningHours.parse("Mo-Fr 14:00-17:00+")
    assert extended.state(london(2026, 5, 5, 16)).state == "open"
    assert extended.state(london(2026, 5, 5, 17, 30)).state == "unknown"


def test_sun_times_follow_suncalc_for_london() -> None:
    # SunCalc 2 (what opening_hours.js uses) for central London: 21 June 2026 04:43 and 21:21 BST.
    assert divmod(sun_minutes(date(2026, 6, 21), "sunrise", 51.5074, -0.1278), 60) == (4, 43)
    park = OpeningHours.parse("sunrise-sunset")
    assert park.is_open(london(2026, 6, 21, 21, 20)) and not park.is_open(london(2026, 6, 21, 21, 22))


# -- school holidays ---------------------------------------------------------------------------------------

TERMS = """term,starts_on,ends_on
Autumn 1,2026-09-03,2026-10-23
Autumn 2,2026-11-02,2026-12-18
Spring 1,2027-01-05,2027-02-12
"""


def test_school_holidays_come_from_the_organisations_terms() -> None:
    calendar = Calendar(is_public_holiday, school_holidays(parse_school_terms(TERMS)))
    hours = OpeningHours.parse("Mo-Fr 15:00-19:00; SH Mo-Fr 10:00-16:00", calendar)
    assert hours.is_open(london(2026, 10, 27, 11))  # half-term Tuesday
    assert not hours.is_open(london(2026, 10, 20, 11))  # term time: after school only
    assert hours.is_open(london(2026, 10, 20, 16))
    assert not hours.is_open(london(2026, 10, 31, 11))  # a half-term Saturday: SH and Mo-Fr both needed


def test_without_school_terms_sh_hours_are_unknown_not_closed() -> None:
    hours = OpeningHours.parse("Mo-Fr 15:00-19:00; SH off")
    assert hours.uses_school_holidays
    assert hours.state(london(2026, 10, 27, 16)).state == "unknown"  # open unless it is a school holiday
    assert hours.state(london(2026, 10, 27, 3)).state == "closed"  # closed either way
    assert hours.intervals(london(2026, 10, 26, 0), london(2026, 11, 2, 0)) == []  # never surely open
    assert "school" in describe_hours(hours, london(2026, 10, 27))


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("term,starts_on\nA,2026-09-03\n", 1, "ends_on"),
        ("term,starts_on,ends_on\nA,2026-09-31,2026-10-01\n", 2, "starts_on"),
        ("term,starts_on,ends_on\nA,2026-10-03,2026-09-01\n", 2, "ends_on"),
        ("term,starts_on,ends_on\nA,2026-09-03,2026-10-23\nB,2026-10-20,2026-12-18\n", 3, "starts_on"),
        ("term,starts_on,ends_on\n,2026-09-03,2026-10-23\n", 2, "term"),
        ("term,starts_on,ends_on\n", 2, "term"),
    ],
)
def test_bad_school_terms_name_the_line_and_column(text: str, line: int, field: str) -> None:
    with pytest.raises(SchoolTermsError) as caught:
        parse_school_terms(text)
    assert (caught.value.line, caught.value.field) == (line, field)


# -- words for people --------------------------------------------------------------------------------------


def test_notes_for_the_finder() -> None:
    assert hours_note(HoursState("open", "by appointment")) == "open, by appointment"
    assert hours_note(HoursState("unknown", "ring the bell")) == "hours not known \u2014 ring first (ring the bell)"
    assert hours_note(HoursState("unknown", OPEN_END_COMMENT)).startswith("open until late")
    assert hours_note(None) == "opening hours not recorded \u2014 ring first"


def test_describe_the_day_in_plain_words() -> None:
    library = OpeningHours.parse("Mo-Fr 09:00-19:00; Sa 10:00-16:00; PH off")
    assert describe_hours(library, london(2026, 5, 5)) == "Open today 09:00\u201319:00; closed bank holidays"
    assert describe_hours(library, london(2026, 5, 10)) == "Closed today; closed bank holidays"
    assert describe_hours(OpeningHours.parse("24/7; PH off"), london(2026, 5, 5)) == (
        "Open today all day; closed bank holidays")
    club = OpeningHours.parse("Fr-Sa 18:00-02:00; PH 12:00-16:00")
    assert describe_hours(club, london(2026, 5, 8)) == "Open today 18:00\u201302:00; bank holidays 12:00\u201316:00"


# -- no crash on any digit ---------------------------------------------------------------------------------


@pytest.mark.parametrize("digit", ["\u00b9", "\u2082", "\u0661", "\uff11", "\u2460"])
@pytest.mark.parametrize("template", ["Mo {d}0:00-12:00", "Mo 10:{d}0-12:00", "Jan {d} off", "week {d}",
                                      "Mo[{d}] 10:00-12:00", "20{d}6 Mo 10:00-12:00", "PH +{d} day off"])
def test_unusual_digits_raise_a_positioned_error(template: str, digit: str) -> None:
    text = template.format(d=digit)
    with pytest.raises(OpeningHoursError) as caught:
        OpeningHours.parse(text)
    assert 0 <= caught.value.position <= len(text)


def test_day_segments_cover_the_day() -> None:
    hours = OpeningHours.parse('Mo-Fr 09:00-17:00; 12:00-13:00 off "lunch"')
    segments = hours.day_segments(date(2026, 5, 5))
    assert segments[0][0] == 0 and segments[-1][1] == 24 * 60
    assert (12 * 60, 13 * 60, "closed", "lunch") in segments
    assert all(a[1] == b[0] for a, b in itertools.pairwise(segments))


def test_normalised_text_means_the_same_hours_for_every_accepted_reference_value() -> None:
    """What we store (the normalised text) must parse again to the same text and the same states."""
    corpus = Path(__file__).parents[1] / "differential" / "reference_values.json"
    values = json.loads(corpus.read_text(encoding="utf-8"))["values"]
    instants = [datetime(2026, 1, 1, tzinfo=LONDON) + timedelta(hours=7 * k, minutes=30) for k in range(60)]
    checked = 0
    for value in values:
        try:
            hours = OpeningHours.parse(value)
        except OpeningHoursError:
            continue
        again = OpeningHours.parse(hours.text)
        assert again.text == hours.text, value
        assert [again.state(at) for at in instants] == [hours.state(at) for at in instants], value
        checked += 1
    assert checked > 400
