"""Opening hours: parsing, OSM override semantics, bank holidays and Europe/London clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.opening_hours import LONDON, OpeningHours, OpeningHoursError, validate_opening_hours

NEW_YORK = ZoneInfo("America/New_York")


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def assert_instant(actual: datetime | None, expected: datetime, offset_hours: int | None = None) -> None:
    """Same instant, reported in Europe/London (with the given UTC offset when one is expected).

    Comparing two datetimes that share a tzinfo ignores ``fold``, so compare in UTC.
    """
    assert actual is not None
    assert actual.tzinfo is LONDON
    assert actual.astimezone(UTC) == expected.astimezone(UTC)
    if offset_hours is not None:
        assert actual.utcoffset() == timedelta(hours=offset_hours)


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants (subtracting in one zone would count wall-clock time)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def hours(text: str) -> OpeningHours:
    return OpeningHours.parse(text)


# -- parsing and normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Mo-Fr 09:00-17:30; Sa 10:00-16:00", "Mo-Fr 09:00-17:30; Sa 10:00-16:00"),
        ("mo-fr 9:00-17:30;sa 10:00 - 16:00", "Mo-Fr 09:00-17:30; Sa 10:00-16:00"),
        ("Mo-Fr 08:00-12:00, 13:00-17:00", "Mo-Fr 08:00-12:00,13:00-17:00"),
        ("Mo-Fr 09:00-17:00; PH closed", "Mo-Fr 09:00-17:00; PH off"),
        ("  24/7 ;PH off ", "24/7; PH off"),
        ("open", "24/7"),
        ("Su,PH 10:00-14:00", "Su,PH 10:00-14:00"),
        ("jan-mar Mo,We,Fr 10:00-12:00", "Jan-Mar Mo,We,Fr 10:00-12:00"),
        ("Fr-Sa 18:00-02:00, Su 12:00-22:00", "Fr-Sa 18:00-02:00, Su 12:00-22:00"),
        ("Mo 22:00-26:00", "Mo 22:00-26:00"),
    ],
)
def test_parse_normalises_text(text: str, normalised: str) -> None:
    assert hours(text).text == normalised
    assert validate_opening_hours(text) == normalised
    assert hours(normalised).text == normalised


@pytest.mark.parametrize(
    ("text", "position", "message_part"),
    [
        ("Mo-Fx 09:00-17:00", 3, "unknown weekday 'Fx'"),
        ("Mo 25:00-26:00", 3, "hour 25 is out of range"),
        ("Mo 09:00-", 9, "expected a closing time"),
        ("Mo-Fr 09:00-17:00;;", 18, "expected a rule after ';'"),
        ("Mo-Fr 09:00-17:00;", 18, "expected a rule after ';'"),
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("Mo 09:60-10:00", 6, "minute 60"),
        ("Mo 9:5-10:00", 5, "two-digit minutes"),
        ("Mo 09:00 17:00", 9, "expected '-'"),
        ("Mo 10:00-49:00", 9, "after 48:00"),
        ("Sa, Su 10:00-12:00", 2, "write a list of days as 'Sa,Su'"),
        ("Monday 10:00-12:00", 0, "two letters"),
        ("Mo 10:00-16:00/01:30", 14, "repeating times"),
        ("Mo 10:00", 8, "point in time"),
        ('Mo 10:00-12:00 "by appointment', 15, "no closing '\"'"),
        ("Mo 10:00-12:00 ||", 17, "expected a rule"),
        ("Mo[0] 10:00-12:00", 3, "nth weekday"),
        ("Mo[1 10:00-12:00", 4, "expected ']'"),
        ("Mo-Fr[1] 10:00-12:00", 5, "nth weekday of a single day"),
        ("week 54 Mo 10:00-12:00", 5, "week 54"),
        ("Jan 32 off", 4, "day 32"),
        ("2026 Jan 05-Feb off", 12, "not a mix"),
        ("(noon+01:00)-18:00", 1, "expected sunrise"),
        # Superscript and subscript digits: positioned, not a bare ValueError from int().
        ("Mo-Fr 1\u2070:00-12:00", 7, "digits 0-9"),
        ("Mo-Fr 10:0\u2082-12:00", 10, "digits 0-9"),
        ("Mo-Fr 10:00-1\u00b2:00", 13, "digits 0-9"),
        ("PH-Mo off", 2, "PH cannot start a range"),
        ("Mo-Fr 09:00-17:00 Tu", 18, "unknown word 'Tu'"),
    ],
)
def test_malformed_hours_report_position_and_message(text: str, position: int, message_part: str) -> None:
    with pytest.raises(OpeningHoursError) as caught:
        OpeningHours.parse(text)
    assert caught.value.position == position
    assert message_part in caught.value.message
    assert f"at character {position}" in str(caught.value)


def test_opening_hours_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown weekday"):
        validate_opening_hours("Mo-Fx 09:00-17:00")


# -- weekdays, ranges and overrides (2026-05-04 is a Monday) -------------------------------------------


def test_weekday_ranges_with_exclusive_closing_time() -> None:
    shop = hours("Mo-Fr 09:00-17:30; Sa 10:00-16:00")
    assert not shop.is_open(london(2026, 5, 4, 8, 59))
    assert shop.is_open(london(2026, 5, 4, 9, 0))
    assert shop.is_open(london(2026, 5, 8, 17, 29))
    assert not shop.is_open(london(2026, 5, 8, 17, 30))
    assert shop.is_open(london(2026, 5, 9, 12, 0))
    assert not shop.is_open(london(2026, 5, 9, 16, 0))
    assert not shop.is_open(london(2026, 5, 10, 12, 0))


def test_several_ranges_a_day() -> None:
    office = hours("Mo-Fr 08:00-12:00,13:00-17:00")
    assert office.is_open(london(2026, 5, 5, 11, 59))
    assert not office.is_open(london(2026, 5, 5, 12, 30))
    assert office.is_open(london(2026, 5, 5, 13, 0))
    assert_instant(office.next_open(london(2026, 5, 5, 12, 30)), london(2026, 5, 5, 13, 0))


def test_overnight_range_runs_into_the_next_morning() -> None:
    club = hours("Fr-Sa 18:00-02:00")
    assert not club.is_open(london(2026, 5, 1, 1, 0))  # Thursday night: not listed
    assert club.is_open(london(2026, 5, 1, 23, 0))
    assert club.is_open(london(2026, 5, 2, 1, 59))
    assert not club.is_open(london(2026, 5, 2, 2, 0))
    assert club.is_open(london(2026, 5, 3, 1, 0))  # Saturday night into Sunday
    assert not club.is_open(london(2026, 5, 3, 3, 0))
    week = club.intervals(london(2026, 4, 27), london(2026, 5, 4))
    assert week == [
        (london(2026, 5, 1, 18, 0), london(2026, 5, 2, 2, 0)),
        (london(2026, 5, 2, 18, 0), london(2026, 5, 3, 2, 0)),
    ]
    # Open across midnight is one opening, so it closes at 02:00, not at midnight.
    assert_instant(club.next_close(london(2026, 5, 1, 20, 0)), london(2026, 5, 2, 2, 0))
    assert hours("Fr-Sa 18:00-26:00").intervals(london(2026, 4, 27), london(2026, 5, 4)) == week


@pytest.mark.parametrize("text", ["Su-Mo 22:00-02:00", "Su,Mo 22:00-02:00"])
def test_overnight_range_across_the_end_of_the_week(text: str) -> None:
    nights = hours(text)
    assert not nights.is_open(london(2026, 5, 3, 1, 0))  # Saturday night
    assert nights.is_open(london(2026, 5, 3, 23, 0))  # Sunday
    assert nights.is_open(london(2026, 5, 4, 1, 0))  # Sunday night into Monday
    assert nights.is_open(london(2026, 5, 5, 1, 0))  # Monday night into Tuesday
    assert not nights.is_open(london(2026, 5, 6, 1, 0))
    assert_instant(nights.next_open(london(2026, 5, 5, 3, 0)), london(2026, 5, 10, 22, 0))


def test_later_rule_replaces_earlier_rules_on_the_days_it_names() -> None:
    library = hours("Mo-Fr 09:00-17:00; We 12:00-19:00")
    assert not library.is_open(london(2026, 5, 6, 10, 0))
    assert library.is_open(london(2026, 5, 6, 18, 0))
    assert library.is_open(london(2026, 5, 7, 10, 0))


def test_later_rule_also_replaces_the_early_hours_spilled_into_its_day() -> None:
    # As in opening_hours.js: "Sa off" closes all of Saturday, including Friday night after midnight.
    assert not hours("Fr 18:00-02:00; Sa off").is_open(london(2026, 5, 2, 1, 0))
    assert not hours("Fr 18:00-02:00; Sa 10:00-12:00").is_open(london(2026, 5, 2, 1, 0))
    # An additional rule (", ") adds to Saturday instead.
    assert hours("Fr 18:00-02:00, Sa 10:00-12:00").is_open(london(2026, 5, 2, 1, 0))
    # A later rule's night keeps its hours after midnight.
    assert hours("Mo-Sa 09:00-17:00; Fr 20:00-03:00").is_open(london(2026, 5, 2, 2, 0))


def test_off_for_part_of_the_day() -> None:
    centre = hours("Mo-Fr 09:00-17:00; 12:00-13:00 off")
    assert centre.is_open(london(2026, 5, 5, 11, 0))
    assert not centre.is_open(london(2026, 5, 5, 12, 30))
    assert centre.is_open(london(2026, 5, 5, 13, 0))


def test_days_without_times_are_open_all_day() -> None:
    park = hours("Sa-Su")
    assert park.is_open(london(2026, 5, 2, 0, 0))
    assert park.is_open(london(2026, 5, 3, 23, 59))
    assert not park.is_open(london(2026, 5, 4, 0, 0))


def test_month_ranges_including_ones_that_wrap_the_year() -> None:
    winter = hours("Nov-Feb Mo-Fr 15:00-19:00; Mar-Oct Mo-Fr 15:00-21:00")
    assert winter.is_open(london(2026, 1, 5, 18, 0))
    assert not winter.is_open(london(2026, 1, 5, 20, 0))
    assert winter.is_open(london(2026, 5, 4, 20, 0))
    assert winter.is_open(london(2026, 12, 1, 18, 0))


@pytest.mark.parametrize("text", ["off", "closed", "Mo-Su off"])
def test_always_closed(text: str) -> None:
    shut = hours(text)
    at = london(2026, 5, 4, 12, 0)
    assert not shut.is_open(at)
    assert shut.next_change(at) is None
    assert shut.next_open(at) is None
    assert shut.next_close(at) is None
    assert shut.open_fraction(at, at + timedelta(days=30)) == 0.0


def test_twenty_four_seven() -> None:
    always = hours("24/7")
    at = london(2026, 3, 29, 1, 30)
    assert always.is_open(at)
    assert always.next_change(at) is None
    assert always.next_close(at) is None
    assert_instant(always.next_open(at), at)
    assert always.open_fraction(at, at + timedelta(days=400)) == 1.0


# -- public holidays -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "holiday",
    [
        london(2026, 8, 31, 12),  # Summer bank holiday (Monday)
        london(2026, 12, 25, 12),  # Christmas Day (Friday)
        london(2026, 12, 26, 12),  # Boxing Day (Saturday): a public holiday, not a bank holiday
        london(2026, 12, 28, 12),  # Boxing Day substitute (Monday)
    ],
)
def test_ph_off_closes_on_england_and_wales_holidays(holiday: datetime) -> None:
    library = hours("Mo-Sa 09:00-17:00; PH off")
    assert not library.is_open(holiday)
    assert library.is_open(holiday - timedelta(days=7))


def test_ph_with_its_own_hours() -> None:
    centre = hours("Mo-Fr 09:00-17:00; PH 10:00-14:00")
    assert not centre.is_open(london(2026, 8, 31, 9, 30))
    assert centre.is_open(london(2026, 8, 31, 10, 0))
    assert not centre.is_open(london(2026, 8, 31, 14, 0))
    assert_instant(centre.next_open(london(2026, 8, 31, 8, 0)), london(2026, 8, 31, 10, 0))
    assert_instant(centre.next_close(london(2026, 8, 31, 8, 0)), london(2026, 8, 31, 14, 0))
    assert centre.is_open(london(2026, 9, 1, 9, 30))


def test_ph_in_a_list_of_days() -> None:
    hub = hours("Su,PH 10:00-14:00")
    assert hub.is_open(london(2026, 5, 3, 11))  # Sunday
    assert hub.is_open(london(2026, 5, 4, 11))  # Early May bank holiday
    assert not hub.is_open(london(2026, 5, 5, 11))


def test_next_change_skips_a_run_of_holidays() -> None:
    shop = hours("24/7; PH off")
    assert_instant(shop.next_change(london(2026, 12, 24, 12)), london(2026, 12, 25, 0, 0))
    # Closed Christmas Day and Boxing Day, open again on Sunday the 27th.
    assert_instant(shop.next_change(london(2026, 12, 25, 12)), london(2026, 12, 27, 0, 0))


# -- next open / next close ----------------------------------------------------------------------------


def test_next_open_and_close_across_days_and_weeks() -> None:
    session = hours("Mo 10:00-12:00")
    tuesday = london(2026, 5, 5, 9, 0)
    assert_instant(session.next_open(tuesday), london(2026, 5, 11, 10, 0))
    assert_instant(session.next_close(tuesday), london(2026, 5, 11, 12, 0))
    assert_instant(session.next_change(tuesday), london(2026, 5, 11, 10, 0))
    during = london(2026, 5, 11, 11, 0)
    assert_instant(session.next_open(during), during)  # open now: next_open is "now"
    assert_instant(session.next_close(during), london(2026, 5, 11, 12, 0))
    assert_instant(session.next_change(london(2026, 5, 11, 10, 0)), london(2026, 5, 11, 12, 0))


def test_next_open_after_a_bank_holiday_weekend() -> None:
    office = hours("Mo-Fr 09:00-17:00; PH off")
    assert_instant(office.next_open(london(2026, 8, 28, 18, 0)), london(2026, 9, 1, 9, 0), offset_hours=1)


def test_next_open_months_ahead() -> None:
    grotto = hours("Dec Sa 10:00-16:00")
    assert_instant(grotto.next_open(london(2026, 1, 10, 12)), london(2026, 12, 5, 10, 0), offset_hours=0)


# -- time zones and clock changes ----------------------------------------------------------------------


def test_clocks_forward_night() -> None:
    # 2026-03-29: at 01:00 GMT clocks go forward to 02:00 BST. Sunday 00:00-04:00 local is 3 real hours.
    early = hours("Su 00:00-04:00")
    assert not early.is_open(utc(2026, 3, 28, 23, 59))
    assert early.is_open(utc(2026, 3, 29, 0, 0))
    assert early.is_open(utc(2026, 3, 29, 0, 59))
    assert early.is_open(utc(2026, 3, 29, 1, 0))  # 02:00 BST
    assert early.is_open(utc(2026, 3, 29, 2, 59))  # 03:59 BST
    assert not early.is_open(utc(2026, 3, 29, 3, 0))  # 04:00 BST
    closes = early.next_close(utc(2026, 3, 29, 0, 30))
    assert_instant(closes, utc(2026, 3, 29, 3, 0), offset_hours=1)
    assert closes is not None and (closes.hour, closes.minute) == (4, 0)
    day = (utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 23, 0))  # the 23-hour local day
    assert early.open_fraction(*day) == pytest.approx(3 / 23)


def test_clocks_back_night() -> None:
    # 2026-10-25: at 02:00 BST clocks go back to 01:00 GMT. Sunday 00:00-04:00 local is 5 real hours.
    early = hours("Su 00:00-04:00")
    assert not early.is_open(utc(2026, 10, 24, 22, 59))  # 23:59 BST Saturday
    assert early.is_open(utc(2026, 10, 24, 23, 0))  # 00:00 BST
    assert early.is_open(utc(2026, 10, 25, 0, 30))  # 01:30 BST
    assert early.is_open(utc(2026, 10, 25, 1, 30))  # 01:30 GMT, the repeated hour
    assert early.is_open(utc(2026, 10, 25, 3, 59))
    assert not early.is_open(utc(2026, 10, 25, 4, 0))
    closes = early.next_close(utc(2026, 10, 24, 23, 30))
    assert_instant(closes, utc(2026, 10, 25, 4, 0), offset_hours=0)
    [(opens, shuts)] = early.intervals(utc(2026, 10, 24), utc(2026, 10, 26))
    assert elapsed(opens, shuts) == timedelta(hours=5)
    assert shuts - opens == timedelta(hours=4)  # Python's wall-clock arithmetic within one zone
    day = (utc(2026, 10, 24, 23, 0), utc(2026, 10, 26, 0, 0))  # the 25-hour local day
    assert early.open_fraction(*day) == pytest.approx(5 / 25)
    assert_instant(opens, utc(2026, 10, 24, 23, 0), offset_hours=1)


def test_range_inside_the_skipped_hour_starts_when_the_clocks_jump() -> None:
    night = hours("Su 01:00-03:00")
    [(opens, closes)] = night.intervals(utc(2026, 3, 28), utc(2026, 3, 30))
    assert_instant(opens, utc(2026, 3, 29, 1, 0), offset_hours=1)  # 02:00 BST
    assert_instant(closes, utc(2026, 3, 29, 2, 0), offset_hours=1)  # 03:00 BST
    assert not night.is_open(utc(2026, 3, 29, 0, 30))
    # The night the clocks go back, 01:00-03:00 local covers both 01:00s: three real hours.
    [(opens, closes)] = night.intervals(utc(2026, 10, 24), utc(2026, 10, 26))
    assert elapsed(opens, closes) == timedelta(hours=3)


def test_instants_in_other_zones_are_converted_to_london() -> None:
    shop = hours("Mo-Fr 09:00-17:00")
    # 04:30 in New York is 09:30 in London on 2026-05-04 (EDT = UTC-4, BST = UTC+1).
    assert shop.is_open(datetime(2026, 5, 4, 4, 30, tzinfo=NEW_YORK))
    assert not shop.is_open(datetime(2026, 5, 4, 9, 30, tzinfo=timezone(timedelta(hours=5))))
    assert shop.is_open(datetime(2026, 5, 4, 8, 30, tzinfo=UTC))
    assert_instant(
        shop.next_close(datetime(2026, 5, 4, 8, 30, tzinfo=ZoneInfo("UTC"))), london(2026, 5, 4, 17)
    )


def test_naive_datetimes_are_rejected() -> None:
    shop = hours("Mo-Fr 09:00-17:00")
    naive = datetime(2026, 5, 4, 12, 0)
    for query in (shop.is_open, shop.next_change, shop.next_open, shop.next_close):
        with pytest.raises(ValueError, match="naive datetime"):
            query(naive)
    with pytest.raises(ValueError, match="naive datetime"):
        shop.intervals(naive, london(2026, 5, 5))


# -- intervals and coverage ----------------------------------------------------------------------------


def test_intervals_are_clipped_to_the_window() -> None:
    shop = hours("Mo-Fr 09:00-17:00")
    assert shop.intervals(london(2026, 5, 4, 12), london(2026, 5, 5, 10)) == [
        (london(2026, 5, 4, 12), london(2026, 5, 4, 17)),
        (london(2026, 5, 5, 9), london(2026, 5, 5, 10)),
    ]
    assert shop.intervals(london(2026, 5, 5), london(2026, 5, 4)) == []


def test_open_fraction_of_an_ordinary_week() -> None:
    shop = hours("Mo-Fr 09:00-17:00")
    assert shop.open_fraction(london(2026, 5, 11), london(2026, 5, 18)) == pytest.approx(40 / 168)
    with pytest.raises(ValueError, match="end after start"):
        shop.open_fraction(london(2026, 5, 18), london(2026, 5, 11))


# -- properties ----------------------------------------------------------------------------------------

_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


@st.composite
def _time(draw: st.DrawFn) -> str:
    return f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 15, 30, 59])):02d}"


@st.composite
def _rule(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()):
        first, last = draw(st.sampled_from(_DAYS)), draw(st.sampled_from(_DAYS))
        parts.append(draw(st.sampled_from([first, f"{first}-{last}", f"{first},PH", "PH"])))
    spans = draw(st.lists(st.tuples(_time(), _time()), min_size=0, max_size=2))
    if spans:
        parts.append(",".join(f"{a}-{b}" for a, b in spans))
    if draw(st.integers(0, 4)) == 0 or not parts:
        parts.append("off")
    return " ".join(parts)


_expressions = st.lists(_rule(), min_size=1, max_size=4).map("; ".join)
_instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(text=_expressions, at=_instants)
def test_state_changes_agree_with_is_open(text: str, at: datetime) -> None:
    schedule = hours(text)
    assert hours(schedule.text).text == schedule.text  # normalisation is stable
    change = schedule.next_change(at)
    if change is None:
        return
    assert change > at
    # Nothing changes before the reported change, and the state flips at it.
    assert schedule.is_open(change - timedelta(microseconds=1)) == schedule.is_open(at)
    assert schedule.is_open(change) != schedule.is_open(at)
    window = schedule.intervals(at, change + timedelta(hours=1))
    assert all(schedule.is_open(opens) for opens, _ in window)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='MoTuWeFrSaPH0123456789:-,;/ offJanDec24"|+[]', max_size=30))
def test_parser_only_ever_raises_opening_hours_error_with_a_position_in_the_text(text: str) -> None:
    try:
        OpeningHours.parse(text)
    except OpeningHoursError as error:
        assert 0 <= error.position <= len(text)
        assert error.message
