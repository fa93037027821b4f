"""The parser behind :mod:`geo.opening_hours`: OSM ``opening_hours`` text to rules, with positioned errors.

The grammar is the one of the specification (https://wiki.openstreetmap.org/wiki/Key:opening_hours/
specification) in *time-range mode*, the mode the reference implementation (opening_hours.js) uses for
the ``opening_hours`` key. Every problem raises :class:`OpeningHoursError` with the 0-based character
position where it starts; only ASCII digits are digits (``str.isdigit`` accepts superscripts such as
``¹``, which ``int`` then refuses with a bare ``ValueError``).

Refused on purpose, with a position and a reason: repeating times (``10:00-16:00/01:30``, points in time
for ``collection_times``: the reference refuses them for ``opening_hours`` too), single points in time,
the error-tolerant spellings the reference accepts only with a warning (``10-12``, ``10am``, ``Monday``,
``Sa, Su`` for a list: we would rather ask than guess), and ``Mo[1]`` combined with a range of weekdays.

Not yet covered, each rare in UK venues' hours (measured: the reference's own test values are 96 %
accepted, tests/differential): dates given as the nth weekday of a month (``Jan Su[-1]``), day ranges
with a step (``Jan 01-31/8``), the word ``week`` repeated in a list (``week 01,week 03``), a comment
placed before the times it qualifies, and ``Easter - 7 days`` written with spaces around the sign.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NoReturn

__all__ = ["DAY", "EVERY_DAY", "Calendar", "OpeningHoursError", "Rule", "Span", "parse_rules"]

DAY = 24 * 60
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAY_BY_NAME = {name.lower(): index for index, name in enumerate(WEEKDAYS)}
_MONTH_BY_NAME = {name.lower(): index + 1 for index, name in enumerate(MONTHS)}
_DIGITS = "0123456789"
_STATES = {"open": "open", "closed": "closed", "off": "closed", "unknown": "unknown"}
_SUN_EVENTS = ("sunrise", "sunset", "dawn", "dusk")
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FULL_MONTHS = (
    "january", "february", "march", "april", "june", "july",
    "august", "september", "october", "november", "december",
)  # fmt: skip
# The reference's stand-in times for sun events when parsing (opening_hours.js word_value_replacement):
# they decide whether a span runs past midnight ("sunset-sunrise" does).
STAND_IN = {"dawn": 5 * 60 + 30, "sunrise": 6 * 60, "sunset": 18 * 60, "dusk": 18 * 60 + 30}
# Opening-end guesses of the reference (opening_hours.js ``parseTimeRange``): "18:00+" is "open, closing
# time not known" until a guessed hour, and we report it the same way (state unknown, with a comment).
OPEN_END_COMMENT = "Specified as open end. Closing time was guessed."


class OpeningHoursError(ValueError):
    """Malformed or unsupported opening hours.

    Parameters
    ----------
    position : int
        0-based character offset in the submitted text where the problem starts.
    message : str
        Readable explanation, without the position.
    """

    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"{message} (at character {position})")
        self.position = position
        self.message = message


@dataclass(frozen=True)
class Calendar:
    """The days a rule's holiday selectors need: ``PH`` (public holidays) and ``SH`` (school holidays).

    ``school_holidays`` is ``None`` when the organisation has loaded no school-term dates: ``SH`` then
    matches no day, and :meth:`geo.opening_hours.OpeningHours.state` says the hours are unknown.
    """

    is_public_holiday: Callable[[date], bool]
    school_holidays: Container[date] | None = None
    latitude: float = 51.5074  # central London: sun times when no location is given
    longitude: float = -0.1278


class _EveryDay:
    """Every day is a school holiday: one of the two readings of SH when no terms are loaded."""

    def __contains__(self, item: object) -> bool:
        return True


EVERY_DAY = _EveryDay()


# A day predicate takes the calendar too: PH and SH depend on the organisation's calendars.
DayTest = Callable[[date, Calendar], bool]


@dataclass(frozen=True)
class Span:
    """Minutes after the day's midnight; ``end`` may pass 1440 (overnight). Sun times are resolved daily."""

    start: int
    end: int
    open_end: bool = False
    start_event: str | None = None  # sunrise/sunset/dawn/dusk: start/end hold the stand-in times
    end_event: str | None = None
    start_offset: int = 0  # minutes added to the sun event ("(sunrise+01:00)")
    end_offset: int = 0


@dataclass(frozen=True)
class Rule:
    """One rule: a conjunction of day selectors, optional time spans, a state and an optional comment."""

    tests: tuple[DayTest, ...]
    spans: tuple[Span, ...] | None  # None = the whole day
    state: str  # "open", "closed" or "unknown"
    comment: str | None
    kind: str  # "normal" (after ';' or first), "additional" (after ','), "fallback" (after '||')
    text: str  # normalised rendering
    uses_school_holidays: bool = False
    wrapped: bool = False  # internal: the after-midnight part of the previous rule's spans

    @property
    def has_date(self) -> bool:
        return bool(self.tests)

    def matches(self, day: date, calendar: Calendar) -> bool:
        return all(test(day, calendar) for test in self.tests)


@dataclass
class _RuleParts:
    tests: list[DayTest] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    uses_school_holidays: bool = False


def _nth_weekday_in_month(day: date) -> tuple[int, int]:
    """(n from the start, -n from the end) of ``day``'s weekday within its month: (1, -1) .. (5, -1)."""
    first = (day.day - 1) // 7 + 1
    following = day
    last = -1
    while True:
        following += timedelta(days=7)
        if following.month != day.month:
            return first, last
        last -= 1


def easter(year: int) -> date:
    """Western Easter Sunday (Meeus/Jones/Butcher algorithm, as in opening_hours.js)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    return date(year, month, (h + l - 7 * m + 114) % 31 + 1)


class _Parser:
    """Recursive descent over the characters; every error carries a character offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- primitives ----------------------------------------------------------------------------------

    def fail(self, message: str, position: int | None = None) -> NoReturn:
        raise OpeningHoursError(self.pos if position is None else position, message)

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if 0 <= index < len(self.text) else ""

    def is_digit(self, offset: int = 0) -> bool:
        char = self.peek(offset)
        return bool(char) and char in _DIGITS

    def skip_spaces(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def after_spaces(self, index: int) -> int:
        while index < len(self.text) and self.text[index].isspace():
            index += 1
        return index

    def word(self, at: int | None = None) -> str:
        start = self.pos if at is None else at
        end = start
        while end < len(self.text) and self.text[end].isascii() and self.text[end].isalpha():
            end += 1
        return self.text[start:end]

    def word_after_spaces(self) -> str:
        return self.word(self.after_spaces(self.pos)).lower()

    def number(self) -> tuple[int, str]:
        start = self.pos
        while self.is_digit():
            self.pos += 1
        if start == self.pos:
            self.fail(f"expected a number, found {self.describe_here()}")
        return int(self.text[start : self.pos]), self.text[start : self.pos]

    def describe_here(self) -> str:
        char = self.peek()
        if not char:
            return "the end of the text"
        if char.isdigit():
            return f"{char!r} (write digits 0-9, not superscript or other digits)"
        return repr(char)

    # -- rule sequence -------------------------------------------------------------------------------

    def parse(self) -> tuple[Rule, ...]:
        if not self.text.strip():
            self.fail("opening hours are empty; write e.g. 'Mo-Fr 09:00-17:00' or 'off'", 0)
        rules: list[Rule] = []
        kind = "normal"
        while True:
            self.skip_spaces()
            if not self.peek() or self.peek() in ";," or self.text.startswith("||", self.pos):
                after = f" after {self.text[self.pos - 1]!r}" if rules else ""
                self.fail(f"expected a rule{after}, found {self.describe_here()}")
            rule = self.parse_rule(kind)
            rules.append(rule)
            self.skip_spaces()
            char = self.peek()
            if not char:
                return tuple(rules)
            if self.text.startswith("||", self.pos):
                kind = "fallback"
                self.pos += 1
            elif char == ";":
                kind = "normal"
            elif char == ",":
                if rule.spans is None and rule.comment is None and rule.state == "open" and rule.tests:
                    # "Sa, Su 10:00-12:00" would be Saturday all day plus Sunday morning under OSM rules,
                    # which is never what was meant.
                    self.fail("a space after ',' starts a new rule; write a list of days as 'Sa,Su'")
                kind = "additional"
            else:
                word = self.word()
                self.fail(self.explain_word(word) if word else f"unexpected {char!r}; separate rules with ';'")
            self.pos += 1

    def parse_rule(self, kind: str) -> Rule:
        start = self.pos
        parts = _RuleParts()
        spans: tuple[Span, ...] | None = None
        if self.text.startswith("24/7", self.pos):
            self.pos += 4
            parts.text.append("24/7")
            self.skip_spaces()
            if self.peek() == ":":
                self.pos += 1  # "24/7: closed", as the reference reads it
                self.skip_spaces()
        else:
            self.parse_wide_selectors(parts)
            if self.peek() == ":" and parts.text:
                self.pos += 1  # "Dec 25: 10:00-14:00" - the spec's optional separator after wide selectors
            self.skip_spaces()
            self.parse_weekday_selectors(parts)
            self.skip_spaces()
            if self.is_digit() or self.peek() == "(" or self.word().lower() in _SUN_EVENTS:
                spans, rendered = self.parse_spans()
                parts.text.append(rendered)
                self.skip_spaces()
        state = "open"
        explicit_state = False
        word = self.word()
        if word.lower() in _STATES:
            state = _STATES[word.lower()]
            explicit_state = True
            parts.text.append("off" if state == "closed" else word.lower())
            self.pos += len(word)
            self.skip_spaces()
        elif word:
            self.fail(self.explain_word(word))
        comment = None
        if self.peek() == '"':
            comment = self.comment()
            parts.text.append(f'"{comment}"')
            if not explicit_state:
                # The specification and the reference: a comment without a state means "unknown" - the
                # comment says what to do ("by appointment", "ring first"), not that the door is open.
                state = "unknown"
        if self.pos == start:
            self.fail(f"expected days, times, 'off' or '24/7', found {self.describe_here()}")
        text = " ".join(parts.text)
        if not text or text == "open":
            text = "24/7"
        return Rule(tuple(parts.tests), spans, state, comment, kind, text, parts.uses_school_holidays)

    def comment(self) -> str:
        opening = self.pos
        end = self.text.find('"', self.pos + 1)
        if end < 0:
            self.fail("this comment has no closing '\"'", opening)
        body = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return body

    def explain_word(self, word: str) -> str:
        lowered = word.lower()
        if lowered in _FULL_WEEKDAYS:
            return f"write weekdays as two letters ({', '.join(WEEKDAYS)}), not {word!r}"
        if lowered in _FULL_MONTHS:
            return f"write months as three letters ({', '.join(MONTHS)}), not {word!r}"
        if lowered in _MONTH_BY_NAME or lowered in ("week", "easter"):
            return "dates, months and weeks must come before weekdays and times"
        if lowered in ("am", "pm"):
            return "write times on the 24-hour clock (13:00, not 1pm)"
        return f"unknown word {word!r}; expected weekdays, times, 'off', 'unknown', a comment or ';'"

    # -- wide selectors: years, months and dates, weeks ------------------------------------------------

    def looks_like_year(self, at: int | None = None) -> bool:
        index = self.pos if at is None else at
        digits = self.text[index : index + 4]
        after = self.text[index + 4 : index + 5]
        return len(digits) == 4 and all(c in _DIGITS for c in digits) and (not after or after not in _DIGITS + ":")

    def parse_wide_selectors(self, parts: _RuleParts) -> None:
        if self.looks_like_year() and not self.year_starts_a_date():
            self.parse_years(parts)
            self.skip_spaces()
        if self.looks_like_year() or self.word().lower() in _MONTH_BY_NAME or self.word().lower() == "easter":
            self.parse_monthdays(parts)
            self.skip_spaces()
        if self.word().lower() == "week":
            self.parse_weeks(parts)
            self.skip_spaces()

    def year_starts_a_date(self) -> bool:
        """Whether ``2026 Dec 24...`` is a dated range (a year, a month and a day) rather than a year."""
        after = self.after_spaces(self.pos + 4)
        month = self.word(after).lower()
        if month not in _MONTH_BY_NAME:
            return False
        following = self.after_spaces(after + len(month))
        return self.text[following : following + 1] in tuple(_DIGITS) and following > after + len(month)

    def parse_years(self, parts: _RuleParts) -> None:
        ranges: list[tuple[int, int | None, int]] = []
        rendered: list[str] = []
        while True:
            first, first_text = self.number()
            last: int | None = first
            step = 1
            item = first_text
            if self.peek() == "+":
                self.pos += 1
                last, item = None, f"{first_text}+"
            elif self.peek() == "-" and self.looks_like_year(self.pos + 1):
                self.pos += 1
                last, last_text = self.number()
                if last < first:
                    self.fail("a range of years must not run backwards", self.pos - 4)
                item = f"{first_text}-{last_text}"
                if self.peek() == "/" and self.is_digit(1):
                    self.pos += 1
                    step, step_text = self.number()
                    item += f"/{step_text}"
                    if step == 0:
                        self.fail("a step of 0 years never repeats", self.pos - len(step_text))
            ranges.append((first, last, step))
            rendered.append(item)
            if self.peek() == "," and self.looks_like_year(self.pos + 1):
                self.pos += 1
                continue
            break

        def test(day: date, _: Calendar, ranges: tuple[tuple[int, int | None, int], ...] = tuple(ranges)) -> bool:
            return any(day.year >= a and (b is None or day.year <= b) and (day.year - a) % s == 0 for a, b, s in ranges)

        parts.tests.append(test)
        parts.text.append(",".join(rendered))

    def month(self) -> int:
        word = self.word()
        if word.lower() not in _MONTH_BY_NAME:
            if word.lower() in _FULL_MONTHS:
                self.fail(self.explain_word(word))
            self.fail(f"expected a month ({', '.join(MONTHS)}), found {word or self.describe_here()!r}")
        self.pos += len(word)
        return _MONTH_BY_NAME[word.lower()]

    def day_of_month(self) -> int:
        at = self.pos
        value, digits = self.number()
        if len(digits) > 2 or not 1 <= value <= 31:
            self.fail(f"day {digits} is not a day of the month (1-31)", at)
        return value

    def offset_days(self) -> int:
        """An optional ``+1 day`` / ``-2 days`` after a date or a holiday; 0 when absent."""
        after = self.after_spaces(self.pos)
        sign = self.text[after : after + 1]
        if sign not in ("+", "-") or self.text[after + 1 : after + 2] not in tuple(_DIGITS):
            return 0
        saved = self.pos
        self.pos = after + 1
        count, _ = self.number()
        self.skip_spaces()
        unit = self.word().lower()
        if unit not in ("day", "days"):
            self.pos = saved  # not an offset: a range such as "Dec 25-26" or "Dec 24-2027 Jan 02"
            return 0
        self.pos += len(unit)
        return count if sign == "+" else -count

    def is_clock_time(self, index: int) -> bool:
        """Whether the digits at ``index`` are a time (``10:00``) rather than a day (``Jan 02:`` or ``02``)."""
        end = index
        while end < len(self.text) and self.text[end] in _DIGITS:
            end += 1
        return self.text[end : end + 1] == ":" and self.text[end + 1 : end + 2] in tuple(_DIGITS)

    def date_point(self) -> tuple[int | None, str, int, int]:
        """``[year] Mon DD`` or ``easter``: (year, kind, month, day); kind is "date", "month" or "easter"."""
        year: int | None = None
        if self.looks_like_year():
            year, _ = self.number()
            self.skip_spaces()
        if self.word().lower() == "easter":
            self.pos += len("easter")
            return year, "easter", 0, 0
        month = self.month()
        after = self.after_spaces(self.pos)
        if self.text[after : after + 1] in tuple(_DIGITS) and not self.is_clock_time(after):
            self.pos = after
            return year, "date", month, self.day_of_month()
        if year is not None:
            self.fail("a year before a month needs a day of the month, e.g. '2026 Dec 24'", self.pos)
        return None, "month", month, 0

    def parse_monthdays(self, parts: _RuleParts) -> None:
        tests: list[DayTest] = []
        rendered: list[str] = []
        while True:
            item_start = self.pos
            first = self.date_point()
            first_offset = self.offset_days() if first[1] != "month" else 0
            last = None
            if (self.peek() == "-" and not self.is_digit(1)) or (
                self.peek() == "-" and self.is_digit(1) and first[1] == "date"
                and not self.looks_like_year(self.pos + 1) and not self.is_clock_time(self.pos + 1)
            ):
                self.pos += 1
                if self.is_digit() and not self.looks_like_year():
                    if first[1] != "date":
                        self.fail("a range of days needs a month first, e.g. 'Jan 05-10'")
                    last = (first[0], "date", first[2], self.day_of_month())
                else:
                    last_at = self.pos
                    last = self.date_point()
                    if (last[1] == "month") != (first[1] == "month"):
                        self.fail("write a range as 'Jan-Mar' or 'Dec 24-Jan 02', not a mix", last_at)
            elif self.peek() == "-" and self.looks_like_year(self.pos + 1):
                self.pos += 1
                last = self.date_point()
            last_offset = self.offset_days() if last is not None and last[1] != "month" else 0
            tests.append(_date_range_test(first, first_offset, last, last_offset))
            rendered.append(_render_monthday(self.text[item_start : self.pos]))
            if self.peek() == "," and (
                self.word_after_comma() in _MONTH_BY_NAME or self.word_after_comma() == "easter"
                or self.looks_like_year(self.after_spaces(self.pos + 1))
            ):
                self.pos = self.after_spaces(self.pos + 1)
                continue
            break
        parts.tests.append(_any_of(tests))
        parts.text.append(",".join(rendered))

    def word_after_comma(self) -> str:
        return self.word(self.after_spaces(self.pos + 1)).lower()

    def parse_weeks(self, parts: _RuleParts) -> None:
        self.pos += len("week")
        self.skip_spaces()
        ranges: list[tuple[int, int, int]] = []
        rendered: list[str] = []
        while True:
            at = self.pos
            first, first_text = self.number()
            last, _last_text, step, item = first, first_text, 1, f"{first:02d}"
            if self.peek() == "-":
                self.pos += 1
                last, _last_text = self.number()
                item = f"{first:02d}-{last:02d}"
                if self.peek() == "/":
                    self.pos += 1
                    step, step_text = self.number()
                    item += f"/{step}"
                    if step == 0:
                        self.fail("a step of 0 weeks never repeats", self.pos - len(step_text))
            for value in (first, last):
                if not 1 <= value <= 53:
                    self.fail(f"week {value} is not a week of the year (01-53)", at)
            ranges.append((first, last, step))
            rendered.append(item)
            if self.peek() == "," and self.is_digit(1):
                self.pos += 1
                continue
            break

        def test(day: date, _: Calendar, ranges: tuple[tuple[int, int, int], ...] = tuple(ranges)) -> bool:
            week = day.isocalendar()[1]  # ISO 8601 weeks, as the specification says
            for a, b, s in ranges:
                if a <= b and a <= week <= b and (week - a) % s == 0:
                    return True
                if a > b and (week >= a or week <= b):  # wraps the year: week 52-02
                    return True
            return False

        parts.tests.append(test)
        parts.text.append("week " + ",".join(rendered))

    # -- weekdays and holidays -----------------------------------------------------------------------

    def parse_weekday_selectors(self, parts: _RuleParts) -> None:
        """Holidays and weekdays: items joined by ',' are alternatives; ``SH Mo-Fr`` (a space) is both."""
        groups: list[tuple[list[DayTest], list[str]]] = []
        while self.word().lower() in _WEEKDAY_BY_NAME or self.word() in ("PH", "SH") or self.word().lower() in (
            "ph", "sh"
        ):
            alternatives: list[DayTest] = []
            rendered: list[str] = []
            while True:
                word = self.word()
                if word.lower() in ("ph", "sh"):
                    self.pos += 2
                    offset = self.offset_days()
                    holiday = word.upper()
                    if holiday == "SH":
                        parts.uses_school_holidays = True
                    if self.peek() == "-" and self.word(self.pos + 1).lower() in _WEEKDAY_BY_NAME:
                        self.fail(f"{holiday} cannot start a range of days")
                    alternatives.append(_holiday_test(holiday, offset))
                    suffix = "" if offset == 0 else f" {offset:+d} day" + ("s" if abs(offset) != 1 else "")
                    rendered.append(holiday + suffix)
                else:
                    test, text = self.weekday_item()
                    alternatives.append(test)
                    rendered.append(text)
                following = self.word(self.pos + 1).lower()
                if self.peek() == "," and (following in _WEEKDAY_BY_NAME or following in ("ph", "sh")):
                    self.pos += 1
                    continue
                break
            groups.append((alternatives, rendered))
            after = self.after_spaces(self.pos)
            if after == self.pos:
                break
            nxt = self.word(after).lower()
            if nxt in _WEEKDAY_BY_NAME or nxt in ("ph", "sh"):
                self.pos = after
                continue
            break
        # "SH Mo-Fr" (holidays, a space, weekdays) means both; "Mo Tu Fr" is read as a list, as the
        # reference reads it.
        merged: list[list[DayTest]] = []
        previous_has_holiday = False
        for alternatives, rendered in groups:
            has_holiday = any(item.split(" ")[0] in ("PH", "SH") for item in rendered)
            if merged and not has_holiday and not previous_has_holiday:
                merged[-1].extend(alternatives)
            else:
                merged.append(list(alternatives))
            previous_has_holiday = has_holiday
        for alternatives in merged:
            parts.tests.append(_any_of(alternatives))
        if groups:
            parts.text.append(" ".join(",".join(rendered) for _, rendered in groups))

    def weekday(self) -> int:
        word = self.word()
        if word.lower() not in _WEEKDAY_BY_NAME:
            if not word:
                self.fail(f"expected a weekday ({', '.join(WEEKDAYS)}), found {self.describe_here()}")
            if word.lower() in _FULL_WEEKDAYS:
                self.fail(self.explain_word(word))
            self.fail(f"unknown weekday {word!r}; expected one of {', '.join(WEEKDAYS)} or PH")
        self.pos += len(word)
        return _WEEKDAY_BY_NAME[word.lower()]

    def weekday_item(self) -> tuple[DayTest, str]:
        first = self.weekday()
        if self.peek() == "-":
            self.pos += 1
            if self.word().lower() in ("ph", "sh"):
                self.fail(f"{self.word().upper()} cannot end a range of days")
            last = self.weekday()
            days = frozenset((first + k) % 7 for k in range((last - first) % 7 + 1))
            text = f"{WEEKDAYS[first]}-{WEEKDAYS[last]}"
            if self.peek() == "[":
                self.fail("write the nth weekday of a single day, e.g. 'Sa[-1]'")
            return (lambda day, _, days=days: day.weekday() in days), text
        if self.peek() != "[":
            return (lambda day, _, first=first: day.weekday() == first), WEEKDAYS[first]
        self.pos += 1
        wanted: set[int] = set()
        items: list[str] = []
        while True:
            at = self.pos
            negative = self.peek() == "-"
            if negative:
                self.pos += 1
            value, _ = self.number()
            low = high = -value if negative else value
            if not negative and self.peek() == "-" and self.is_digit(1):
                self.pos += 1
                high, _ = self.number()
            if not (1 <= abs(low) <= 5 and 1 <= abs(high) <= 5 and low <= high):
                self.fail("the nth weekday of a month is 1-5 or -1 to -5, e.g. 'Mo[1]' or 'Sa[-1]'", at)
            wanted.update(range(low, high + 1))
            items.append(self.text[at : self.pos])
            if self.peek() == ",":
                self.pos += 1
                continue
            break
        if self.peek() != "]":
            self.fail(f"expected ']' to close the nth weekday, found {self.describe_here()}")
        self.pos += 1
        offset = self.offset_days()
        nth = frozenset(wanted)

        def test(day: date, _: Calendar, first: int = first, nth: frozenset[int] = nth, offset: int = offset) -> bool:
            shifted = day - timedelta(days=offset)
            return shifted.weekday() == first and bool(nth & set(_nth_weekday_in_month(shifted)))

        suffix = "" if offset == 0 else f" {offset:+d} day" + ("s" if abs(offset) != 1 else "")
        return test, f"{WEEKDAYS[first]}[{','.join(items)}]{suffix}"

    # -- times ---------------------------------------------------------------------------------------

    def parse_spans(self) -> tuple[tuple[Span, ...], str]:
        spans: list[Span] = []
        items: list[str] = []
        while True:
            item_start = self.pos
            opening, opening_event = self.time(closing=False)
            self.skip_spaces()
            if self.peek() == "+":
                self.pos += 1
                stand_in = STAND_IN[opening_event] + opening if opening_event else opening
                spans.append(_open_end(stand_in, opening_event, opening if opening_event else 0))
                items.append(self.text[item_start : self.pos].replace(" ", ""))
            else:
                if self.peek() != "-":
                    self.fail(
                        f"expected '-' and a closing time, found {self.describe_here()}"
                        " (a single time is a point in time, which opening hours do not use)"
                    )
                self.pos += 1
                self.skip_spaces()
                if not (self.is_digit() or self.peek() == "(" or self.word().lower() in _SUN_EVENTS):
                    self.fail(f"expected a closing time (HH:MM) after '-', found {self.describe_here()}")
                closing, closing_event = self.time(closing=True)
                if self.peek() == "/":
                    self.fail("repeating times ('/') describe points in time such as collection times, not opening "
                              "hours")
                start_offset, end_offset = opening, closing
                if opening_event is not None:
                    opening = STAND_IN[opening_event] + start_offset
                if closing_event is not None:
                    closing = STAND_IN[closing_event] + end_offset
                clock_times = opening_event is None and closing_event is None
                if closing < opening or (closing == opening and clock_times):
                    closing += DAY  # past midnight; equal clock times mean a full 24 hours, as in OSM
                spans.append(Span(opening, closing, False, opening_event, closing_event,
                                  start_offset if opening_event else 0, end_offset if closing_event else 0))
                if self.peek() == "+":
                    # "10:00-14:00+": open until 14:00, then open end (the reference's extended open end)
                    # The reference lists the open end before the range it extends; the order matters
                    # to its reading of a following range (see OpeningHours._decide).
                    self.pos += 1
                    spans.insert(len(spans) - 1, _open_end(closing, closing_event, end_offset if closing_event else 0))
                items.append(self.text[item_start : self.pos].replace(" ", ""))
            items[-1] = _render_times(items[-1])
            # A comma followed by a time continues this rule; followed by a day it starts a new rule.
            lookahead = self.after_spaces(self.pos)
            if self.text[lookahead : lookahead + 1] == ",":
                lookahead = self.after_spaces(lookahead + 1)
                following = self.text[lookahead : lookahead + 1]
                sun = self.word(lookahead).lower() in _SUN_EVENTS
                if (following and following in _DIGITS) or following == "(" or sun:
                    self.pos = lookahead
                    continue
            return tuple(spans), ",".join(items)

    def time(self, closing: bool) -> tuple[int, str | None]:
        """A clock time ``HH:MM`` in minutes, or a sun event (``sunset``, ``(sunrise+01:00)``): (offset, event)."""
        start = self.pos
        if self.peek() == "(":
            self.pos += 1
            event = self.word().lower()
            if event not in _SUN_EVENTS:
                self.fail(f"expected sunrise, sunset, dawn or dusk after '(', found {self.describe_here()}")
            self.pos += len(event)
            sign = self.peek()
            if sign not in ("+", "-"):
                self.fail(f"expected '+' or '-' and an offset HH:MM, found {self.describe_here()}")
            self.pos += 1
            offset = self.clock(closing=False)
            if self.peek() != ")":
                self.fail(f"expected ')' after the offset, found {self.describe_here()}")
            self.pos += 1
            return (offset if sign == "+" else -offset), event
        event = self.word().lower()
        if event in _SUN_EVENTS:
            self.pos += len(event)
            return 0, event
        if not self.is_digit():
            self.fail(f"expected a time HH:MM, found {self.describe_here()}", start)
        return self.clock(closing), None

    def clock(self, closing: bool) -> int:
        start = self.pos
        while self.is_digit():
            self.pos += 1
        digits = self.text[start : self.pos]
        if not digits:
            self.fail(f"expected a time HH:MM, found {self.describe_here()}")
        if len(digits) > 2:
            self.fail("expected a time HH:MM", start)
        if self.peek() != ":":
            self.fail(f"expected ':' after the hour (write times as HH:MM), found {self.describe_here()}")
        self.pos += 1
        minute_at = self.pos
        while self.is_digit():
            self.pos += 1
        minute_digits = self.text[minute_at : self.pos]
        if len(minute_digits) != 2:
            if self.peek().isdigit():
                self.fail(f"expected two-digit minutes, found {self.describe_here()}")
            self.fail("expected two-digit minutes (write times as HH:MM)", minute_at)
        hour, minute = int(digits), int(minute_digits)
        if minute > 59:
            self.fail(f"minute {minute_digits} is out of range 00-59", minute_at)
        total = hour * 60 + minute
        if not closing and hour > 23 and total != DAY:
            self.fail(f"hour {digits} is out of range: an opening time must be 00:00-23:59", start)
        if closing and total > 2 * DAY:
            self.fail(f"closing time {digits}:{minute_digits} is after 48:00", start)
        return total


def _open_end(opening: int, event: str | None, offset: int = 0) -> Span:
    # The reference's guesses (opening_hours.js parseTimeRange): from 22:00 eight hours, from 17:00 ten
    # hours, otherwise until midnight.
    if opening >= 22 * 60:
        end = opening + 8 * 60
    elif opening >= 17 * 60:
        end = opening + 10 * 60
    else:
        end = DAY
    if opening >= DAY:  # "18:00-26:00+": the open end starts after midnight
        end = opening + 8 * 60
    return Span(opening, end, True, event, None, offset, 0)


def _any_of(tests: list[DayTest]) -> DayTest:
    alternatives = tuple(tests)
    return lambda day, calendar: any(test(day, calendar) for test in alternatives)


def _holiday_test(holiday: str, offset: int) -> DayTest:
    if holiday == "PH":
        return lambda day, calendar: calendar.is_public_holiday(day - timedelta(days=offset))
    return lambda day, calendar: (
        calendar.school_holidays is not None and (day - timedelta(days=offset)) in calendar.school_holidays
    )


def _point_date(point: tuple[int | None, str, int, int], year: int, offset: int) -> date | None:
    point_year, kind, month, day = point
    year = point_year if point_year is not None else year
    if kind == "easter":
        return easter(year) + timedelta(days=offset)
    try:
        return date(year, month, day) + timedelta(days=offset)
    except ValueError:  # Feb 29 in a common year
        return None


def _date_range_test(
    first: tuple[int | None, str, int, int], first_offset: int,
    last: tuple[int | None, str, int, int] | None, last_offset: int,
) -> DayTest:
    if first[1] == "month":
        low = first[2]
        high = last[2] if last is not None else low
        months = frozenset((low - 1 + k) % 12 + 1 for k in range((high - low) % 12 + 1))
        return lambda day, _: day.month in months
    end = last if last is not None else first
    end_offset = last_offset if last is not None else first_offset

    def test(day: date, _: Calendar) -> bool:
        if first[0] is not None:  # "2026 Dec 24-2027 Jan 02": one stretch of days
            begins = _point_date(first, first[0], first_offset)
            end_year = end[0] if end[0] is not None else first[0]
            ends = _point_date(end, end_year, end_offset)
            if begins is not None and ends is not None and ends < begins and end[0] is None:
                ends = _point_date(end, end_year + 1, end_offset)
            return begins is not None and ends is not None and begins <= day <= ends
        # A range without years recurs every year. Both ends are taken in the day's own year; when the
        # end comes first (Dec 24-Jan 02, or Apr 05-easter in a year with an early Easter) the range wraps
        # the year, as the reference reads it.
        begins = _point_date(first, day.year, first_offset)
        ends = _point_date(end, day.year, end_offset)
        if begins is None or ends is None:
            return False
        if begins <= ends:
            return begins <= day <= ends
        return day >= begins or day <= ends

    return test


def _render_monthday(text: str) -> str:
    words = " ".join(text.split())
    return re.sub(r"[A-Za-z]+", lambda m: m.group(0).lower() if m.group(0).lower() in ("easter", "day", "days")
                  else m.group(0).capitalize(), words)


def _render_times(text: str) -> str:
    # Two-digit hours (9:00 -> 09:00) so equal hours compare equal as text.
    out = []
    for piece in text.split("-"):
        head, sep, tail = piece.partition(":")
        if sep and head.isascii() and head.isdigit() and len(head) == 1:
            head = "0" + head
        out.append(head + sep + tail)
    return "-".join(out)


def parse_rules(text: str) -> tuple[Rule, ...]:
    """Rules of ``text``, in order; raises :class:`OpeningHoursError` with a position."""
    return _Parser(text).parse()
