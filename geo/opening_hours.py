"""OpenStreetMap ``opening_hours`` for safe spaces and guardians, evaluated in Europe/London.

The whole specification (https://wiki.openstreetmap.org/wiki/Key:opening_hours/specification) as the
reference implementation, opening_hours.js, reads it for the ``opening_hours`` key (its "time range
mode"): years (``2026``, ``2026-2030/2``), months and dates (``Apr-Sep``, ``Dec 25``, ``Dec 24-Jan 02``,
``easter``, ``easter -2 days``), ISO week numbers (``week 01-53/2``), weekdays with the nth of the month
(``Mo[1]``, ``Sa[-1]``, ``Sa[-1] +1 day``), holidays with offsets (``PH``, ``PH +1 day``, and ``SH`` from
the organisation's school terms), times that run past midnight (``22:00-02:00``), open ends
(``18:00+``), sun times (``sunset-sunrise``, ``(sunrise+01:00)``), the states ``open``, ``off``/``closed``
and ``unknown``, comments (``"by appointment"``), and the three rule separators ``;`` (a later rule
replaces earlier ones on its days), ``,`` (adds) and ``||`` (a fallback where nothing else applies).
The parser is :mod:`geo.opening_hours_syntax`; what it refuses is listed there.

Why our own parser rather than ``opening-hours-py`` (2.1.4, the Python binding of the Rust
``opening-hours`` crate, a wheel that installs here): its errors carry the position only inside a
formatted message; its ``GB`` calendar leaves England's Summer bank holiday (31 Aug 2026) and substitute
days (28 Dec 2026) open under ``PH off``; and it takes neither our bank-holiday calendar nor an
organisation's school terms for ``SH``. Measured in ``tests/differential`` against opening_hours.js.

States and comments
-------------------
:meth:`OpeningHours.state` answers "open", "closed" or "unknown" with the rule's comment, as the
reference does: a comment without a state (``Mo-Fr 09:00-17:00 "by appointment"``) means *unknown*, so
does an open end (the closing time was guessed); write ``open "by appointment"`` to say it is open.
:meth:`OpeningHours.is_open` is ``True`` only for "open": sending a young person to a door that may be
locked is worse than saying "ring first".

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
>>> OpeningHours.parse('Mo-Fr 09:00-17:00 "by appointment"').state(datetime(2026, 9, 1, 10, tzinfo=UTC))
HoursState(state='unknown', comment='by appointment')
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from geo.bank_holidays import is_public_holiday
from geo.opening_hours_syntax import (
    DAY,
    EVERY_DAY,
    OPEN_END_COMMENT,
    Calendar,
    OpeningHoursError,
    Rule,
    Span,
    parse_rules,
)
from geo.sun_times import sun_minutes
from geo.vocabulary import LONDON

__all__ = [
    "LONDON", "Calendar", "HoursState", "OpeningHours", "OpeningHoursError", "describe_hours", "hours_note",
    "sun_minutes",
    "validate_opening_hours",
]

_DAY = DAY
# Two years: the state search looks this far ahead (schedules with years or week numbers may change later).
_HORIZON_DAYS = 2 * 366 + 7
_DEFAULT_CALENDAR = Calendar(is_public_holiday)
SCHOOL_TERMS_MISSING = "school holidays (SH) not known: no school-term dates loaded"


@dataclass(frozen=True, slots=True)
class HoursState:
    """The state at one instant: ``"open"``, ``"closed"`` or ``"unknown"``, with the rule's comment."""

    state: str
    comment: str | None = None


_Segment = tuple[int, int, str, str | None]  # [start, end) minutes of a wall-clock day, state, comment


def _internal_rules(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """Rules with each overnight part split off into a following "wrapped" rule for the next day.

    The reference does the same (opening_hours.js stores "time wrapping over midnight in the next internal
    rule"): the wrapped part never replaces other rules, but a later ``;`` rule naming the next day does
    replace it, which is the documented behaviour for time ranges spanning midnight.
    """
    internal: list[Rule] = []
    for rule in rules:
        internal.append(rule)
        if rule.spans is None:
            continue
        spill = tuple(s for s in rule.spans if s.end > _DAY)
        if spill:
            def previous_day(day: date, calendar: Calendar, rule: Rule = rule) -> bool:
                return rule.matches(day - timedelta(days=1), calendar)

            internal.append(Rule((previous_day,), spill, rule.state, rule.comment, rule.kind, "",
                                 rule.uses_school_holidays, wrapped=True))
    return tuple(internal)


class OpeningHours:
    """Parsed opening hours, answering "is it open?" in Europe/London.

    Build with :meth:`parse`. ``text`` is the normalised expression (canonical spacing, letter case,
    two-digit hours, ``closed`` written ``off``); parsing it again gives the same hours.
    """

    __slots__ = ("_calendar", "_days", "_internal", "_rules", "_variants", "text")

    def __init__(self, text: str, rules: tuple[Rule, ...], calendar: Calendar = _DEFAULT_CALENDAR) -> None:
        self.text = text
        self._rules = rules
        self._internal = _internal_rules(rules)
        self._calendar = calendar
        self._days: dict[date, tuple[_Segment, ...]] = {}
        # SH without school terms: the hours are known only where "no day is a school holiday" and
        # "every day is one" agree (``Mo-Fr 15:00-19:00; SH off`` is closed at 03:00 either way).
        self._variants: tuple[OpeningHours, OpeningHours] | None = None
        if any(rule.uses_school_holidays for rule in rules) and calendar.school_holidays is None:
            self._variants = (OpeningHours(text, rules, replace(calendar, school_holidays=frozenset())),
                              OpeningHours(text, rules, replace(calendar, school_holidays=EVERY_DAY)))

    @classmethod
    def parse(cls, text: str, calendar: Calendar | None = None) -> OpeningHours:
        """Parse an OSM ``opening_hours`` expression.

        Parameters
        ----------
        text : str
            The expression, e.g. ``"Mo-Fr 09:00-17:30; Sa 10:00-16:00; PH off"``.
        calendar : Calendar, optional
            Public holidays, school holidays and the location for sun times. By default England and
            Wales public holidays, no school holidays and central London.

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
        rules = parse_rules(text)
        separators = {"normal": "; ", "additional": ", ", "fallback": " || "}
        normalised = "".join(
            separators[rule.kind] * (index > 0) + rule.text for index, rule in enumerate(rules)
        )
        return cls(normalised, rules, calendar or _DEFAULT_CALENDAR)

    def __repr__(self) -> str:
        return f"OpeningHours.parse({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpeningHours) and other.text == self.text and other._calendar == self._calendar

    def __hash__(self) -> int:
        return hash(self.text)

    @property
    def uses_school_holidays(self) -> bool:
        """Whether any rule names ``SH`` (school holidays)."""
        return any(rule.uses_school_holidays for rule in self._rules)

    # -- queries -------------------------------------------------------------------------------------

    def state(self, at: datetime) -> HoursState:
        """Open, closed or unknown at the instant ``at``, with the comment of the rule that decided it.

        Hours naming ``SH`` without school-term dates are "unknown" where school holidays would matter.

        Examples
        --------
        >>> at = datetime(2026, 5, 4, 18, 30, tzinfo=LONDON)
        >>> OpeningHours.parse('Mo-Fr 09:00-17:00 || unknown "ring first"').state(at)
        HoursState(state='unknown', comment='ring first')
        >>> OpeningHours.parse("Mo-Fr 09:00-18:00+").state(at).state
        'unknown'
        """
        local = _utc(at).astimezone(LONDON)
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        for start, end, state, comment in self._day(local.date()):
            if start <= minute < end:
                return HoursState(state, comment)
        return HoursState("closed")

    def is_open(self, at: datetime) -> bool:
        """Whether the place is open at the instant ``at`` (timezone-aware, any zone); "unknown" is not open.

        Examples
        --------
        >>> OpeningHours.parse("Fr-Sa 18:00-02:00").is_open(datetime(2026, 5, 2, 1, 30, tzinfo=LONDON))
        True
        """
        return self.state(at).state == "open"

    def next_change(self, at: datetime) -> datetime | None:
        """The next instant strictly after ``at`` at which the place opens or stops being open.

        Returns
        -------
        datetime.datetime or None
            Aware, in Europe/London; ``None`` if that does not happen within the next two years.
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
        """When the place is next open: ``at`` itself (in Europe/London) if it is open at ``at``."""
        if self.is_open(at):
            return _utc(at).astimezone(LONDON)
        return self.next_change(at)

    def next_close(self, at: datetime) -> datetime | None:
        """When the place next closes: the end of the current opening, or of the next one if closed now."""
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

    def day_segments(self, day: date) -> tuple[_Segment, ...]:
        """The wall-clock day ``day`` as ``(start, end, state, comment)`` pieces, minutes 0-1440."""
        return self._day(day)

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
            for start_minute, end_minute, state, _ in self._day(day):
                if state != "open":
                    continue
                opens, closes = _wall_to_utc(day, start_minute), _wall_to_utc(day, end_minute)
                if closes <= opens:
                    continue  # lies wholly in the hour skipped when the clocks go forward
                if merged and merged[-1][1] >= opens:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
                else:
                    merged.append((opens, closes))
            day += timedelta(days=1)
        return merged

    def _day(self, day: date) -> tuple[_Segment, ...]:
        cached = self._days.get(day)
        if cached is not None:
            return cached
        if self._variants is not None:
            return self._remember(day, _agreeing(self._variants[0]._day(day), self._variants[1]._day(day)))
        matching = self._matching_rules(day)
        spans = {index: self._resolved_spans(self._internal[index], day) for index in matching}
        cuts = {0, _DAY}
        for resolved in spans.values():
            for start, end, _ in resolved or ():
                cuts.update((max(0, min(start, _DAY)), max(0, min(end, _DAY))))
        ordered = sorted(cuts)
        segments: list[_Segment] = []
        for start, end in itertools.pairwise(ordered):
            if end <= start:
                continue
            state, comment = self._decide(matching, spans, start)
            if segments and segments[-1][2:] == (state, comment) and segments[-1][1] == start:
                segments[-1] = (segments[-1][0], end, state, comment)
            else:
                segments.append((start, end, state, comment))
        return self._remember(day, tuple(segments))

    def _remember(self, day: date, segments: tuple[_Segment, ...]) -> tuple[_Segment, ...]:
        if len(self._days) > 4096:
            self._days.clear()  # bound memory for long-lived objects queried over many years
        self._days[day] = segments
        return segments

    def _matching_rules(self, day: date) -> list[int]:
        """Indexes of the internal rules in force on ``day`` after ``;`` rules replace earlier ones.

        As the reference (opening_hours.js ``getStateForDate``): a normal rule that matches the day and is
        open or unknown replaces what came before; ``off`` rules, additional (``,``), fallback (``||``)
        and wrapped rules add. A rule without any date selector replaces only when the rule before it
        had none either (``10:00-12:00; 14:00-16:00`` is open 14:00-16:00).
        """
        matching: list[int] = []
        for index, rule in enumerate(self._internal):
            if not rule.matches(day, self._calendar):
                continue
            replaces = rule.has_date or (
                index > 0 and rule.state == "open" and not self._internal[index - 1].has_date
            )
            if replaces and rule.state != "closed" and not rule.wrapped and rule.kind == "normal":
                matching = []
            matching.append(index)
        return matching

    def _resolved_spans(self, rule: Rule, day: date) -> list[tuple[int, int, bool]] | None:
        if rule.spans is None:
            return None
        resolved = []
        for span in rule.spans:
            start, end = _span_minutes(span, day, self._calendar, rule.wrapped)
            if rule.wrapped:
                resolved.append((0, end - _DAY, span.open_end))
            else:
                resolved.append((start, min(end, _DAY), span.open_end))
        return resolved

    def _decide(self, matching: list[int], spans: dict[int, list[tuple[int, int, bool]] | None],
                minute: int) -> tuple[str, str | None]:
        state, decided_by, open_end_by = "closed", None, None
        for index in matching:
            rule = self._internal[index]
            applies = rule.kind != "fallback" or state == "closed"
            resolved = spans[index]
            if resolved is None:
                if applies:
                    state, decided_by = rule.state, index
                continue
            for position, (start, end, open_end) in enumerate(resolved):
                if start <= minute < end and applies:
                    state, decided_by, open_end_by = rule.state, index, None
                    if open_end and state != "closed":
                        state, open_end_by = "unknown", index
                        # The reference's reading of "07:00+,12:00-16:00" (its test suite: unknown 07:00-12:00,
                        # open 12:00-16:00, then closed): an open end lasts until the next change of the day;
                        # from then on a following time range of the same rule that does not apply closes
                        # it (opening_hours.js getStateForDate, "Hack to make second rule ... obsolete").
                        # ``minute`` is the start of a piece of the day, so this is evaluated at changes.
                        if position + 1 < len(resolved) and minute > start and not rule.wrapped:
                            following = resolved[position + 1]
                            if not following[0] <= minute < following[1]:
                                state = "closed"
        if decided_by is None:
            return state, None
        comment = self._internal[decided_by].comment
        if comment is None and open_end_by == decided_by:
            comment = OPEN_END_COMMENT
        return state, comment


def _agreeing(first: tuple[_Segment, ...], second: tuple[_Segment, ...]) -> tuple[_Segment, ...]:
    """One day's pieces where two readings agree, "unknown" (school terms missing) where they differ."""
    cuts = sorted({a for a, *_ in first} | {a for a, *_ in second} | {_DAY})
    combined: list[_Segment] = []
    for start, end in itertools.pairwise(cuts):
        one = next(s for s in first if s[0] <= start < s[1])
        two = next(s for s in second if s[0] <= start < s[1])
        piece = (start, end, *one[2:]) if one[2:] == two[2:] else (start, end, "unknown", SCHOOL_TERMS_MISSING)
        if combined and combined[-1][1] == start and combined[-1][2:] == piece[2:]:
            combined[-1] = (combined[-1][0], end, piece[2], piece[3])
        else:
            combined.append(piece)
    return tuple(combined)


def _span_minutes(span: Span, day: date, calendar: Calendar, wrapped: bool) -> tuple[int, int]:
    """Start and end minutes of ``span`` on ``day``, with sun events resolved for that day.

    Whether a span runs past midnight was decided when parsing, from the reference's stand-in times
    (sunrise 06:00, sunset 18:00), as opening_hours.js does; the wrapped part uses the next day's sun.
    """
    start, end = span.start, span.end
    if span.start_event is not None and not wrapped:
        start = sun_minutes(day, span.start_event, calendar.latitude, calendar.longitude) + span.start_offset
    if span.end_event is not None and not span.open_end:
        past_midnight = _DAY if span.end >= _DAY else 0
        end = sun_minutes(day, span.end_event, calendar.latitude, calendar.longitude) + span.end_offset + past_midnight
    return start, end


def hours_note(state: HoursState | None) -> str:
    """A few words for a youth worker about a state: "open", "open, by appointment", "closed", or
    "hours not known — ring first" (with the comment when there is one); ``None`` means none recorded.

    Examples
    --------
    >>> hours_note(HoursState("open", "by appointment")), hours_note(HoursState("unknown"))
    ('open, by appointment', 'hours not known — ring first')
    >>> hours_note(None)
    'opening hours not recorded — ring first'
    """
    if state is None:
        return "opening hours not recorded — ring first"
    comment = f", {state.comment}" if state.comment and state.comment != OPEN_END_COMMENT else ""
    if state.state == "open":
        return "open" + comment
    if state.state == "closed":
        return "closed" + comment
    if state.comment == OPEN_END_COMMENT:
        return "open until late, closing time not known — ring first"
    return "hours not known — ring first" + (f" ({state.comment})" if comment else "")


def describe_hours(hours: OpeningHours, at: datetime) -> str:
    """The hours of the day of ``at`` in plain words, for pages: "Open today 09:00–19:00; closed bank holidays".

    Examples
    --------
    >>> monday = datetime(2026, 5, 4, 8, tzinfo=LONDON)  # a bank holiday (Early May)
    >>> describe_hours(OpeningHours.parse("Mo-Fr 09:00-19:00; PH off"), datetime(2026, 5, 5, 8, tzinfo=LONDON))
    'Open today 09:00–19:00; closed bank holidays'
    >>> describe_hours(OpeningHours.parse("Mo-Fr 09:00-19:00; PH off"), monday)
    'Closed today; closed bank holidays'
    >>> describe_hours(OpeningHours.parse('Fr 18:00-02:00; Mo-Th 16:00-20:00 "by appointment"'), monday)
    'Hours not known today 16:00–20:00 — ring first (by appointment)'
    """
    day = _utc(at).astimezone(LONDON).date()
    today = list(hours.day_segments(day))
    tomorrow = hours.day_segments(day + timedelta(days=1))
    if today and tomorrow and today[-1][1] == _DAY and tomorrow[0][0] == 0 and today[-1][2:] == tomorrow[0][2:]:
        # Overnight: "18:00–02:00" rather than "18:00–24:00".
        today[-1] = (today[-1][0], _DAY + tomorrow[0][1], today[-1][2], today[-1][3])
    if today and today[0][0] == 0 and len(today) > 1 and today[0][2] != "closed":
        yesterday = hours.day_segments(day - timedelta(days=1))
        if yesterday and yesterday[-1][1] == _DAY and yesterday[-1][2:] == today[0][2:]:
            today = today[1:]  # the tail of last night, described with yesterday
    opened = [segment for segment in today if segment[2] == "open"]
    unknown = [segment for segment in today if segment[2] == "unknown"]
    parts = []
    if opened:
        comments = sorted({c for *_, c in opened if c})
        times = ("all day" if opened[0][0] == 0 and opened[0][1] >= _DAY
                 else ", ".join(_clock_range(a, b) for a, b, *_ in opened))
        parts.append(f"Open today {times}" + (f" ({'; '.join(comments)})" if comments else ""))
    if unknown:
        comments = sorted({c for *_, c in unknown if c and c != OPEN_END_COMMENT})
        times = "" if unknown[0][:2] == (0, _DAY) else " " + ", ".join(_clock_range(a, b) for a, b, *_ in unknown)
        lead = "hours not known" if opened else "Hours not known today"
        parts.append(f"{lead}{times} — ring first" + (f" ({'; '.join(comments)})" if comments else ""))
    if not parts:
        closing = sorted({c for *_, c in today if c})
        parts.append("Closed today" + (f" ({'; '.join(closing)})" if closing else ""))
    if "PH" in hours.text.replace(",", " ").split() or any(
        token.startswith("PH") for token in hours.text.replace(",", " ").split()
    ):
        parts.append(_bank_holiday_words(hours, day))
    return "; ".join(parts)


def _clock_range(start: int, end: int) -> str:
    return f"{_clock(start)}–{_clock(end)}"


def _clock(minute: int) -> str:
    if minute > _DAY:
        minute -= _DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _bank_holiday_words(hours: OpeningHours, day: date) -> str:
    """What the hours say on the next England and Wales public holiday."""
    holiday = day
    for _ in range(400):
        if hours._calendar.is_public_holiday(holiday):
            break
        holiday += timedelta(days=1)
    opened = [segment for segment in hours.day_segments(holiday) if segment[2] == "open"]
    if not opened:
        return "closed bank holidays"
    return "bank holidays " + ", ".join(_clock_range(a, b) for a, b, *_ in opened)


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

