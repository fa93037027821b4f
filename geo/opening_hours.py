"""OpenStreetMap ``opening_hours`` for safe spaces and guardians, evaluated in Europe/London.

We parse a well-defined subset of the OSM syntax
(https://wiki.openstreetmap.org/wiki/Key:opening_hours/specification) ourselves rather than wrapping
``opening-hours-py``: that package reports error positions only inside a formatted message, knows no
public holidays for ``GB`` (``PH off`` leaves a place open on Christmas Day) and rejects
``datetime.timezone.utc``. Anything outside the subset below is rejected with the character position of
the problem, never silently misread.

Supported syntax
----------------
* rules separated by ``;`` (a later rule replaces earlier ones on the days it matches) or by ``, ``
  followed by a day selector (an *additional* rule: it adds to the days it matches instead of replacing);
* ``24/7``; a rule with days but no times means open all day (``Sa-Su``);
* optional months first: ``Jan``, ``Jan-Mar``, ``Nov-Feb`` (wraps the year), lists ``Jan,Mar``;
* weekdays ``Mo Tu We Th Fr Sa Su``, ranges (``Mo-Fr``, wrapping ``Sa-Mo``), lists (``Mo,We,Fr``) and
  ``PH`` (England and Wales public holidays, :func:`geo.bank_holidays.is_public_holiday`), e.g.
  ``Su,PH 10:00-14:00``; a list matches a day matching any of its items;
* times ``HH:MM-HH:MM``, several per rule (``08:00-12:00,13:00-17:00``); a closing time at or before
  the opening time, or after ``24:00`` (up to ``48:00``), runs past midnight into the next day
  (``Fr-Sa 18:00-02:00``); equal times mean 24 hours from the opening time, as in OSM;
* modifiers ``off`` / ``closed`` (whole matched days, or only the given times: ``12:00-13:00 off``)
  and ``open``.

Not supported (rejected with a position): comments, ``||`` fallback rules, years, dates within a month
(``Dec 25``), week numbers, nth weekdays (``Mo[1]``), school holidays (``SH``), ``easter``,
sunrise/sunset, open-ended (``18:00+``) and repeating (``/``) times, ``unknown``. Weekday and month
names are accepted in any letter case and normalised.

Semantics
---------
Rules are applied in order to a wall-clock timeline. A ``;`` rule matching a day first clears that whole
calendar day, *including* the early hours spilled into it by an earlier overnight rule, then adds its own
times (whose overnight part spills into the next day). This follows opening_hours.js, which documents
that overriding "also applies for time ranges spanning midnight"; write ``Fr-Sa 18:00-02:00, Su
12:00-22:00`` (an additional rule) to keep Saturday night's hours past midnight. ``off`` for a whole day
clears only that day, not the hours spilled from it into the next morning. Because rules apply in
order, a *later* rule's overnight hours survive on a day an earlier rule mentions: ``Mo-Sa 09:00-17:00;
Fr 20:00-03:00`` is open until 03:00 on Saturday (opening-hours-py closes at midnight there; for
same-day hours the two agree on thousands of random expressions).

Time zones and clock changes
----------------------------
Opening hours are wall-clock times in Europe/London. Every method takes a timezone-aware ``datetime``
in any zone and converts it; **naive datetimes are rejected** with ``ValueError`` (our timestamps are
``timestamptz``; guessing a zone would silently shift answers by an hour for half the year). Results are
aware datetimes in Europe/London. On the night the clocks go back, a repeated wall time means its first
occurrence; on the night they go forward, a time that does not exist (01:00-01:59) means the moment the
clocks jump, so ``01:00-03:00`` that night is open for one real hour, 02:00-03:00 BST.

Examples
--------
>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> hours = OpeningHours.parse("mo-fr 9:00-17:30; Sa 10:00-16:00; PH off")
>>> hours.text
'Mo-Fr 09:00-17:30; Sa 10:00-16:00; PH off'
>>> hours.is_open(datetime(2026, 8, 31, 12, tzinfo=ZoneInfo("Europe/London")))  # bank holiday
False
>>> hours.next_open(datetime(2026, 8, 31, 12, tzinfo=ZoneInfo("UTC")))
datetime.datetime(2026, 9, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='Europe/London'))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NoReturn

from geo.bank_holidays import is_public_holiday
from geo.vocabulary import LONDON

__all__ = ["LONDON", "OpeningHours", "OpeningHoursError", "validate_opening_hours"]


_DAY = 24 * 60
_WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAY_BY_NAME = {name.lower(): index for index, name in enumerate(_WEEKDAYS)}
_MONTH_BY_NAME = {name.lower(): index + 1 for index, name in enumerate(_MONTHS)}
# Two years: every supported schedule repeats yearly (PH included), so a schedule that does not change
# within this window never changes.
_HORIZON_DAYS = 2 * 366 + 7

# Words from the full OSM grammar that we recognise only to explain why they are refused.
_UNSUPPORTED_WORDS = {
    "sh": "school holidays (SH) are not supported",
    "sunrise": "sunrise/sunset times are not supported",
    "sunset": "sunrise/sunset times are not supported",
    "dawn": "dawn/dusk times are not supported",
    "dusk": "dawn/dusk times are not supported",
    "week": "week numbers are not supported",
    "easter": "Easter dates are not supported (PH already includes Good Friday and Easter Monday)",
    "unknown": "'unknown' is not supported; leave the hours out instead",
}
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FULL_MONTHS = (
    "january", "february", "march", "april", "june", "july",
    "august", "september", "october", "november", "december",
)  # fmt: skip


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


@dataclass(frozen=True, slots=True)
class _Rule:
    """One parsed rule. Times are minutes after the matched day's midnight; ``end`` may pass 1440."""

    months: frozenset[int] | None  # 1-12; None = every month
    weekdays: frozenset[int]  # 0 = Monday
    holiday: bool  # PH listed among the day selectors
    spans: tuple[tuple[int, int], ...] | None  # None = the whole day
    closed: bool
    additive: bool
    text: str  # normalised rendering

    def matches(self, day: date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        if not self.weekdays and not self.holiday:
            return True
        return day.weekday() in self.weekdays or (self.holiday and is_public_holiday(day))


class _Parser:
    """Recursive-descent parser over the supported subset; every error carries a character offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, position: int | None = None) -> NoReturn:
        raise OpeningHoursError(self.pos if position is None else position, message)

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def word(self) -> str:
        end = self.pos
        while end < len(self.text) and self.text[end].isascii() and self.text[end].isalpha():
            end += 1
        return self.text[self.pos : end]

    def describe_here(self) -> str:
        char = self.peek()
        return "the end of the text" if not char else repr(char)

    # -- rule sequence -------------------------------------------------------------------------------

    def parse(self) -> tuple[_Rule, ...]:
        if not self.text.strip():
            self.fail("opening hours are empty; write e.g. 'Mo-Fr 09:00-17:00' or 'off'", 0)
        rules: list[_Rule] = []
        additive = False
        while True:
            self.skip_spaces()
            if not self.peek() or self.peek() in ";,":
                after = f" after {self.text[self.pos - 1]!r}" if rules else ""
                self.fail(f"expected a rule{after}, found {self.describe_here()}")
            rule = self.parse_rule(additive)
            rules.append(rule)
            self.skip_spaces()
            char = self.peek()
            if not char:
                return tuple(rules)
            if char == ";":
                additive = False
            elif char == ",":
                if rule.spans is None and not rule.closed:
                    # "Sa, Su 10:00-12:00" would be Saturday all day plus Sunday morning under OSM rules,
                    # which is never what was meant.
                    self.fail("a space after ',' starts a new rule; write a list of days as 'Sa,Su'")
                additive = True
            elif char == "|":
                self.fail("fallback rules ('||') are not supported")
            elif char == '"':
                self.fail("comments are not supported")
            else:
                self.fail(f"unexpected {char!r}; separate rules with ';'")
            self.pos += 1

    def parse_rule(self, additive: bool) -> _Rule:
        start = self.pos
        if self.text.startswith("24/7", self.pos):
            self.pos += 4
            return _Rule(None, frozenset(), False, None, False, additive, "24/7")
        parts: list[str] = []
        months: frozenset[int] | None = None
        weekdays: frozenset[int] = frozenset()
        holiday = False
        spans: tuple[tuple[int, int], ...] | None = None
        closed = False

        if self.word().lower() in _MONTH_BY_NAME:
            months, rendered = self.parse_months()
            parts.append(rendered)
            self.skip_spaces()
            if self.peek().isdigit() and ":" not in self.text[self.pos : self.pos + 3]:
                self.fail("dates within a month (e.g. 'Dec 25') are not supported; use a month or PH")
        if self.word().lower() in _WEEKDAY_BY_NAME or self.word().lower() == "ph":
            weekdays, holiday, rendered = self.parse_weekdays()
            parts.append(rendered)
            self.skip_spaces()
        if self.peek().isdigit():
            spans, rendered = self.parse_spans()
            parts.append(rendered)
            self.skip_spaces()
        word = self.word()
        modifier = word.lower()
        if modifier in ("off", "closed"):
            closed = True
            parts.append("off")
            self.pos += len(modifier)
        elif modifier == "open":
            self.pos += len(modifier)
        elif modifier:
            self.fail(self.explain_word(word))
        elif self.pos == start:
            if self.peek() == '"':
                self.fail("comments are not supported")
            self.fail(f"expected days, times, 'off' or '24/7', found {self.describe_here()}")
        # spans stays None for days without times: open (or, with 'off', closed) all day.
        return _Rule(months, weekdays, holiday, spans, closed, additive, " ".join(parts) or "24/7")

    def explain_word(self, word: str) -> str:
        lowered = word.lower()
        if lowered in _UNSUPPORTED_WORDS:
            return _UNSUPPORTED_WORDS[lowered]
        if lowered in _FULL_WEEKDAYS:
            return f"write weekdays as two letters ({', '.join(_WEEKDAYS)}), not {word!r}"
        if lowered in _FULL_MONTHS:
            return f"write months as three letters ({', '.join(_MONTHS)}), not {word!r}"
        if lowered in _MONTH_BY_NAME:
            return "months must come before weekdays and times"
        return f"unknown word {word!r}; expected weekdays, times, 'off' or ';'"

    # -- selectors -----------------------------------------------------------------------------------

    def parse_months(self) -> tuple[frozenset[int], str]:
        chosen: set[int] = set()
        items: list[str] = []
        while True:
            first = self.month()
            if self.peek() == "-":
                self.pos += 1
                last = self.month()
                # Nov-Feb wraps over the new year.
                span = range(first, last + 1) if first <= last else [*range(first, 13), *range(1, last + 1)]
                chosen.update(span)
                items.append(f"{_MONTHS[first - 1]}-{_MONTHS[last - 1]}")
            else:
                chosen.add(first)
                items.append(_MONTHS[first - 1])
            if self.peek() == "," and self.peek(1).isalpha():
                self.pos += 1
                continue
            return frozenset(chosen), ",".join(items)

    def month(self) -> int:
        word = self.word()
        if word.lower() not in _MONTH_BY_NAME:
            found = repr(word) if word else self.describe_here()
            self.fail(f"expected a month ({', '.join(_MONTHS)}), found {found}")
        self.pos += len(word)
        return _MONTH_BY_NAME[word.lower()]

    def parse_weekdays(self) -> tuple[frozenset[int], bool, str]:
        chosen: set[int] = set()
        holiday = False
        items: list[str] = []
        while True:
            if self.word().lower() == "ph":
                self.pos += 2
                holiday = True
                items.append("PH")
                if self.peek() == "-":
                    self.fail("PH cannot start a range of days")
            else:
                first = self.weekday()
                if self.peek() == "-":
                    self.pos += 1
                    last = self.weekday()
                    # Sa-Mo and Su-Mo wrap over the end of the week.
                    chosen.update((first + step) % 7 for step in range((last - first) % 7 + 1))
                    items.append(f"{_WEEKDAYS[first]}-{_WEEKDAYS[last]}")
                else:
                    chosen.add(first)
                    items.append(_WEEKDAYS[first])
            if self.peek() == "[":
                self.fail("nth-weekday selectors such as 'Mo[1]' are not supported")
            if self.peek() == "," and self.peek(1).isalpha():
                self.pos += 1
                continue
            return frozenset(chosen), holiday, ",".join(items)

    def weekday(self) -> int:
        word = self.word()
        if word.lower() not in _WEEKDAY_BY_NAME:
            if not word:
                self.fail(f"expected a weekday ({', '.join(_WEEKDAYS)}), found {self.describe_here()}")
            if word.lower() in _FULL_WEEKDAYS or word.lower() in _UNSUPPORTED_WORDS:
                self.fail(self.explain_word(word))
            self.fail(f"unknown weekday {word!r}; expected one of {', '.join(_WEEKDAYS)} or PH")
        self.pos += len(word)
        return _WEEKDAY_BY_NAME[word.lower()]

    # -- times ---------------------------------------------------------------------------------------

    def parse_spans(self) -> tuple[tuple[tuple[int, int], ...], str]:
        spans: list[tuple[int, int]] = []
        items: list[str] = []
        while True:
            opening, opening_text = self.time(closing=False)
            self.skip_spaces()
            if self.peek() == "+":
                self.fail("open-ended times such as '18:00+' are not supported")
            if self.peek() != "-":
                self.fail(f"expected '-' and a closing time, found {self.describe_here()}")
            self.pos += 1
            self.skip_spaces()
            closing_at = self.pos
            if not self.peek().isdigit():
                self.fail(f"expected a closing time (HH:MM) after '-', found {self.describe_here()}")
            closing, closing_text = self.time(closing=True)
            if self.peek() == "/":
                self.fail("repeating times ('/') are not supported")
            if closing <= opening:
                closing += _DAY  # past midnight; equal times mean a full 24 hours, as in OSM
            if closing - opening > _DAY:
                self.fail("a time range cannot last more than 24 hours", closing_at)
            spans.append((opening, closing))
            items.append(f"{opening_text}-{closing_text}")
            # A comma followed by a time continues this rule; followed by a day it starts a new rule.
            lookahead = self.after_spaces(self.pos)
            if self.text[lookahead : lookahead + 1] == ",":
                lookahead = self.after_spaces(lookahead + 1)
                if self.text[lookahead : lookahead + 1].isdigit():
                    self.pos = lookahead
                    continue
            return tuple(spans), ",".join(items)

    def after_spaces(self, index: int) -> int:
        while index < len(self.text) and self.text[index].isspace():
            index += 1
        return index

    def time(self, closing: bool) -> tuple[int, str]:
        start = self.pos
        while self.peek().isdigit():
            self.pos += 1
        digits = self.text[start : self.pos]
        if len(digits) > 2:
            self.fail("expected a time HH:MM (years and dates are not supported)", start)
        if self.peek() != ":":
            self.fail(f"expected ':' after the hour (write times as HH:MM), found {self.describe_here()}")
        self.pos += 1
        minute_at = self.pos
        while self.peek().isdigit():
            self.pos += 1
        minute_digits = self.text[minute_at : self.pos]
        if len(minute_digits) != 2:
            self.fail("expected two-digit minutes (write times as HH:MM)", minute_at)
        hour, minute = int(digits), int(minute_digits)
        if minute > 59:
            self.fail(f"minute {minute_digits} is out of range 00-59", minute_at)
        total = hour * 60 + minute
        if not closing and hour > 23:
            self.fail(f"hour {digits} is out of range: an opening time must be 00:00-23:59", start)
        if closing and total > 2 * _DAY:
            self.fail(f"closing time {digits}:{minute_digits} is after 48:00", start)
        return total, f"{hour:02d}:{minute_digits}"


class OpeningHours:
    """Parsed opening hours, answering "is it open?" in Europe/London.

    Build with :meth:`parse`. ``text`` is the normalised expression (canonical spacing, letter case,
    two-digit hours, ``closed`` written ``off``); parsing it again gives the same hours.
    """

    __slots__ = ("_days", "_rules", "text")

    def __init__(self, text: str, rules: tuple[_Rule, ...]) -> None:
        self.text = text
        self._rules = rules
        self._days: dict[date, tuple[tuple[int, int], ...]] = {}

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        """Parse an OSM ``opening_hours`` expression.

        Parameters
        ----------
        text : str
            The expression, e.g. ``"Mo-Fr 09:00-17:30; Sa 10:00-16:00; PH off"``.

        Returns
        -------
        OpeningHours

        Raises
        ------
        OpeningHoursError
            With the 0-based ``position`` of the first problem and a readable ``message``.

        Examples
        --------
        >>> OpeningHours.parse("mo-fr 9:00-17:30 ; sa closed").text
        'Mo-Fr 09:00-17:30; Sa off'
        >>> try:
        ...     OpeningHours.parse("Mo-Fx 09:00-17:00")
        ... except OpeningHoursError as error:
        ...     print(error.position, error.message)
        3 unknown weekday 'Fx'; expected one of Mo, Tu, We, Th, Fr, Sa, Su or PH
        """
        rules = _Parser(text).parse()
        normalised = "".join(
            (", " if rule.additive else "; ") * (index > 0) + rule.text for index, rule in enumerate(rules)
        )
        return cls(normalised, rules)

    def __repr__(self) -> str:
        return f"OpeningHours.parse({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpeningHours) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    # -- queries -------------------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Whether the place is open at the instant ``at`` (timezone-aware, any zone).

        Examples
        --------
        >>> from zoneinfo import ZoneInfo
        >>> OpeningHours.parse("Fr-Sa 18:00-02:00").is_open(datetime(2026, 5, 2, 1, 30, tzinfo=LONDON))
        True
        """
        instant = _utc(at)
        day = instant.astimezone(LONDON).date()
        return any(start <= instant < end for start, end in self._merged(day, day))

    def next_change(self, at: datetime) -> datetime | None:
        """The next instant strictly after ``at`` at which the place opens or closes.

        Returns
        -------
        datetime.datetime or None
            Aware, in Europe/London; ``None`` if the state never changes (``24/7``, ``off``), i.e. not
            within the next two years, over which every supported schedule repeats.
        """
        instant = _utc(at)
        first = instant.astimezone(LONDON).date()
        for span in (7, 62, _HORIZON_DAYS):
            last = first + timedelta(days=span)
            # Intervals ending at the window's edge may continue beyond it: widen before trusting them.
            edge = _to_utc(datetime.combine(last + timedelta(days=1), time()))
            for start, end in self._merged(first, last):
                if end <= instant:
                    continue
                if start > instant:
                    return start.astimezone(LONDON)
                if end < edge:
                    return end.astimezone(LONDON)
                break
        return None

    def next_open(self, at: datetime) -> datetime | None:
        """When the place is next open: ``at`` itself (in Europe/London) if it is open at ``at``.

        Returns
        -------
        datetime.datetime or None
            ``None`` if it never opens.
        """
        if self.is_open(at):
            return _utc(at).astimezone(LONDON)
        return self.next_change(at)

    def next_close(self, at: datetime) -> datetime | None:
        """When the place next closes: the end of the current opening, or of the next one if closed now.

        Returns
        -------
        datetime.datetime or None
            ``None`` if it never closes (``24/7``) or never opens.
        """
        if self.is_open(at):
            return self.next_change(at)
        opening = self.next_change(at)
        return None if opening is None else self.next_change(opening)

    def intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Open intervals ``[opens, closes)`` clipped to the window ``[start, end)``.

        Intervals that touch across midnight are merged, so an overnight opening is one interval.

        Returns
        -------
        list[tuple[datetime.datetime, datetime.datetime]]
            In time order, aware, in Europe/London; empty when ``end <= start``. Python subtracts two
            datetimes in the same zone by wall clock, so on a clock-change night convert to UTC first
            to get the real length: ``closes.astimezone(UTC) - opens.astimezone(UTC)``.
        """
        return [
            (opens.astimezone(LONDON), closes.astimezone(LONDON))
            for opens, closes in self._clipped(_utc(start), _utc(end))
        ]

    def open_fraction(self, start: datetime, end: datetime) -> float:
        """Share of the real (elapsed) time in ``[start, end)`` during which the place is open.

        Used for coverage analysis: a clock-change night counts as 23 or 25 hours, as lived.

        Raises
        ------
        ValueError
            If ``end`` is not after ``start``.
        """
        window_start, window_end = _utc(start), _utc(end)
        total = (window_end - window_start).total_seconds()
        if total <= 0:
            raise ValueError("open_fraction needs end after start")
        # Subtract in UTC: London-to-London subtraction would count wall-clock hours.
        opened = sum(
            (closes - opens).total_seconds() for opens, closes in self._clipped(window_start, window_end)
        )
        return opened / total

    # -- evaluation ----------------------------------------------------------------------------------

    def _clipped(self, window_start: datetime, window_end: datetime) -> list[tuple[datetime, datetime]]:
        """Open intervals (UTC) clipped to ``[window_start, window_end)`` (both UTC)."""
        if window_end <= window_start:
            return []
        first = window_start.astimezone(LONDON).date()
        last = window_end.astimezone(LONDON).date()
        clipped = []
        for opens, closes in self._merged(first, last):
            opens, closes = max(opens, window_start), min(closes, window_end)
            if opens < closes:
                clipped.append((opens, closes))
        return clipped

    def _merged(self, first: date, last: date) -> list[tuple[datetime, datetime]]:
        """Open intervals (UTC) covering the local days ``first``..``last``, merged across midnight."""
        merged: list[tuple[datetime, datetime]] = []
        day = first
        while day <= last:
            for start_minute, end_minute in self._wall_clock(day):
                opens, closes = _wall_to_utc(day, start_minute), _wall_to_utc(day, end_minute)
                if closes <= opens:
                    continue  # lies wholly in the hour skipped when the clocks go forward
                if merged and merged[-1][1] >= opens:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
                else:
                    merged.append((opens, closes))
            day += timedelta(days=1)
        return merged

    def _wall_clock(self, day: date) -> tuple[tuple[int, int], ...]:
        """Open minutes ``[start, end)`` within the wall-clock day ``day`` (0-1440), after all rules."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        previous = day - timedelta(days=1)
        segments: list[tuple[int, int]] = []
        for rule in self._rules:
            today, yesterday = rule.matches(day), rule.matches(previous)
            if rule.spans is None:
                if today:
                    segments = [] if rule.closed else [(0, _DAY)]
                continue
            own = [(s, min(e, _DAY)) for s, e in rule.spans] if today else []
            spill = [(0, e - _DAY) for s, e in rule.spans if e > _DAY] if yesterday else []
            if rule.closed:
                segments = _subtract(segments, own + spill)
            else:
                if today and not rule.additive:
                    segments = []
                segments = _union(segments + own + spill)
        if len(self._days) > 4096:
            self._days.clear()  # bound memory for long-lived objects queried over many years
        result = tuple(segments)
        self._days[day] = result
        return result


def validate_opening_hours(text: str) -> str:
    """Check an ``opening_hours`` expression and return its normalised text.

    Raises
    ------
    OpeningHoursError
        With the character position and a readable message.

    Examples
    --------
    >>> validate_opening_hours("Mo-Fr 08:00-12:00 , 13:00-17:00;sa closed")
    'Mo-Fr 08:00-12:00,13:00-17:00; Sa off'
    """
    return OpeningHours.parse(text).text


def _union(segments: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(segments):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif start < end:
            merged.append((start, end))
    return merged


def _subtract(segments: list[tuple[int, int]], removed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    result = segments
    for cut_start, cut_end in removed:
        remaining: list[tuple[int, int]] = []
        for start, end in result:
            if start < cut_start:
                remaining.append((start, min(end, cut_start)))
            if end > cut_end:
                remaining.append((max(start, cut_end), end))
        result = remaining
    return result


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(
            "naive datetime: pass a timezone-aware datetime, e.g. with tzinfo=ZoneInfo('Europe/London')"
        )
    return at.astimezone(UTC)


def _wall_to_utc(day: date, minute: int) -> datetime:
    return _to_utc(datetime.combine(day, time()) + timedelta(minutes=minute))


def _to_utc(local: datetime) -> datetime:
    """The instant of a naive Europe/London wall time.

    Repeated times (clocks back) resolve to their first occurrence (``fold=0``). Skipped times (clocks
    forward) resolve to the moment of the jump, i.e. the first wall time that exists, which keeps the
    mapping monotonic so an opening never ends before it starts.
    """
    for _ in range(3 * 60):
        instant = local.replace(tzinfo=LONDON).astimezone(UTC)
        if instant.astimezone(LONDON).replace(tzinfo=None) == local:
            return instant
        local += timedelta(minutes=1)
    raise AssertionError("no Europe/London clock gap is longer than three hours")
