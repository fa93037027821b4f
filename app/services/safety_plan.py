"""Level 1 safety plan (issue 15): a young person's contexts as the worker describes them — where they
spend time and at which times of the week — and, for each, the safe spaces open then, the trusted adults
on duty there, what to do and who to call.

Nothing about the young person is stored. :func:`make_plan` records one audit event,
``safety_plan.create`` on ``safety_plan``, whose detail holds only counts (contexts, times, contacts) and
the output format — never a label, a place, a time or a contact.

Stable interface (the web page ``/safe-spaces/plan`` and issue 21's safety-mapping session both call it)::

    from app.services.safety_plan import Contact, PlanContext, PlanInput, WeeklyTime, make_plan

    plan_input = PlanInput(
        contexts=(
            PlanContext(label="Outside Chicken Palace", lon=-0.4123, lat=51.8802,
                        times=(WeeklyTime.weekdays(time(15, 30), time(18, 0)),
                               WeeklyTime((5,), time(12, 0), time(17, 0)))),   # Saturdays 12:00–17:00
        ),
        age=14,                                     # optional: spaces not for this age are left out
        steps="If you feel unsafe, go to ...",     # optional: what to do, in the worker's words
        contacts=(Contact("Sam, youth worker", "07700 900123"),),
        week_from=date(2026, 6, 15),                # optional: the week checked (default: 7 days from today)
    )
    check_input(plan_input)     # app.exceptions.InvalidInput naming the field (e.g. "contexts.0.label")
    plan = make_plan(session, settings, principal, plan_input, output="page")   # -> SafetyPlan
    # plan.places[i].times[j].spaces[k]: PlanSpace(name, walking_minutes, open_when, trusted_adults, ...);
    # the page and PDF render it with app/web/templates/safety_plan/_plan.html.

* :class:`WeeklyTime` is a weekly pattern: days of the week (0 = Monday … 6 = Sunday), a start and an end
  on the clock (an end at or before the start runs past midnight; ``time(0, 0)`` as the end is midnight).
  ``describe()`` says it in words ("Weekdays 15:30–18:00", "Saturdays 12:00–17:00"); ``as_hours()`` in
  OpenStreetMap opening_hours syntax ("Mo,Tu,We,Th,Fr 15:30-18:00").
* Each context's point must lie in the organisation's service area; ``place_id`` (optional) is the
  organisation's place the worker chose, echoed back only.
* For each context and each of its times, :class:`PlanTime` lists up to :data:`SPACES_PER_TIME` safe
  spaces that are open (or whose hours say "ring first") at some time of the pattern in the week checked,
  nearest on foot first (the last line goes to the nearest space open all of that time, if none above
  is). Open-ness and guardians' presence use the same rules as the finder (:func:`geo.safe_spaces.evaluate`:
  Europe/London, bank and school holidays, a guardian with no hours of their own is there while the place
  is open), judged on every piece of the week between changes, so "Open Mon–Fri 15:30–16:00" is exact.
* The limits (:data:`MAX_CONTEXTS`, :data:`MAX_TIMES`, :data:`MAX_LABEL` …) keep the plan on one A4 sheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from shapely.geometry import Point
from sqlalchemy.orm import Session

from app.db import repository
from app.db import safe_spaces as store
from app.db.school_terms import hours_calendar
from app.exceptions import InvalidInput
from app.security import Principal
from app.services.audit import record_action
from app.settings import Settings
from geo.opening_hours import LONDON
from geo.safe_spaces import SafeSpaceCandidate, evaluate, parse_hours
from geo.walking import NETWORK

__all__ = [
    "MAX_CONTACTS", "MAX_CONTEXTS", "MAX_LABEL", "MAX_STEPS", "MAX_TIMES", "MAX_TIMES_PER_CONTEXT",
    "SPACES_PER_TIME", "Contact", "PlanContext", "PlanInput", "PlanSpace", "PlanTime", "SafetyPlan",
    "TrustedAdult", "WeeklyTime", "check_input", "make_plan", "plan_time",
]

MAX_CONTEXTS = 4
MAX_TIMES_PER_CONTEXT = 2
MAX_TIMES = 6
MAX_LABEL = 80
MAX_STEPS = 400
MAX_CONTACTS = 4
MAX_CONTACT_NAME = 60
MAX_CONTACT_NUMBER = 30
SPACES_PER_TIME = 3
# How many of the nearest current safe spaces (any hours) are judged over each pattern.
CANDIDATES = 12

DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NATIONAL_CONTACTS = (("Emergency (police, ambulance)", "999"), ("Childline, free and confidential", "0800 1111"))


@dataclass(frozen=True)
class WeeklyTime:
    """A time of the week a young person is somewhere: days (0 = Monday … 6 = Sunday), start, end."""

    days: tuple[int, ...]
    start: time
    end: time

    @classmethod
    def weekdays(cls, start: time, end: time) -> WeeklyTime:
        return cls((0, 1, 2, 3, 4), start, end)

    @property
    def overnight(self) -> bool:
        return self.end != time(0) and self.end <= self.start

    def describe(self) -> str:
        """In words, e.g. ``Weekdays 15:30–18:00``, ``Saturdays 12:00–17:00``, ``Mon and Wed 19:00–01:00``."""
        days = tuple(sorted(set(self.days)))
        if days == tuple(range(7)):
            when = "Every day"
        elif days == (0, 1, 2, 3, 4):
            when = "Weekdays"
        elif days == (5, 6):
            when = "Weekends"
        elif len(days) == 1:
            when = DAY_NAMES[days[0]] + "s"
        else:
            names = [DAY_SHORT[d] for d in days]
            when = ", ".join(names[:-1]) + " and " + names[-1]
        return f"{when} {self.start:%H:%M}\u2013{self.end:%H:%M}"

    def as_hours(self) -> str:
        """In OpenStreetMap opening_hours syntax, e.g. ``Mo-Fr 15:30-18:00`` (midnight as ``24:00``)."""
        days = ",".join(DAY_CODES[d] for d in sorted(set(self.days)))
        end = "24:00" if self.end == time(0) else f"{self.end:%H:%M}"
        return f"{days} {self.start:%H:%M}-{end}"


@dataclass(frozen=True)
class PlanContext:
    """Where the young person spends time, as the worker describes it, and when (never stored)."""

    label: str
    lon: float
    lat: float
    times: tuple[WeeklyTime, ...]
    place_id: int | None = None


@dataclass(frozen=True)
class Contact:
    """Someone to call: a name or role and a number, as the worker and young person agree them."""

    name: str
    number: str


@dataclass(frozen=True)
class PlanInput:
    contexts: tuple[PlanContext, ...]
    age: int | None = None
    steps: str = ""
    contacts: tuple[Contact, ...] = ()
    week_from: date | None = None


@dataclass(frozen=True)
class TrustedAdult:
    """A guardian on duty at the safe space at some time of the pattern."""

    role: str
    description: str | None
    when: str  # "all of this time", "while open" (whenever the space is) or "Mon–Fri 16:00–18:00"
    safeguarding_trained: bool


@dataclass(frozen=True)
class PlanSpace:
    place_id: int
    name: str
    address: str | None
    walking_minutes: float
    distance_method: str  # network | straight_line_with_detour_factor
    within_threshold: bool
    open_when: str  # "Open all of this time", "Open Mon–Fri 15:30–17:00", "Hours not known — ring first"
    open_throughout: bool
    trusted_adults: tuple[TrustedAdult, ...]
    help_offered: tuple[str, ...]
    accessibility: str | None


@dataclass(frozen=True)
class PlanTime:
    time: WeeklyTime
    spaces: tuple[PlanSpace, ...]
    within_threshold: bool  # some space listed is within the walking threshold
    advice: str | None  # the fallback advice when none is


@dataclass(frozen=True)
class PlanPlace:
    context: PlanContext
    times: tuple[PlanTime, ...]


@dataclass(frozen=True)
class SafetyPlan:
    made_at: datetime
    week_from: date
    age: int | None
    places: tuple[PlanPlace, ...]
    steps: str
    contacts: tuple[Contact, ...]
    national_contacts: tuple[Contact, ...]
    threshold_minutes: int
    network: bool  # some walk was measured along the street network
    stored: bool = field(default=False)  # always False: nothing about the young person is kept


def check_input(plan: PlanInput) -> None:
    """Refuse input beyond the limits (one A4 sheet), naming the field; times must be real patterns."""
    if not 1 <= len(plan.contexts) <= MAX_CONTEXTS:
        raise InvalidInput(f"contexts: give between 1 and {MAX_CONTEXTS} places", field="contexts")
    if sum(len(c.times) for c in plan.contexts) > MAX_TIMES:
        raise InvalidInput(f"contexts: at most {MAX_TIMES} times across all places", field="contexts")
    if plan.age is not None and not 0 <= plan.age <= 25:
        raise InvalidInput("age: give an age from 0 to 25", field="age")
    if len(plan.steps) > MAX_STEPS:
        raise InvalidInput(f"steps: at most {MAX_STEPS} characters", field="steps")
    if len(plan.contacts) > MAX_CONTACTS:
        raise InvalidInput(f"contacts: at most {MAX_CONTACTS} people to call", field="contacts")
    for i, contact in enumerate(plan.contacts):
        if not contact.name.strip() or len(contact.name) > MAX_CONTACT_NAME:
            raise InvalidInput(f"contacts.{i}.name: give a name of at most {MAX_CONTACT_NAME} characters",
                               field=f"contacts.{i}.name")
        if not contact.number.strip() or len(contact.number) > MAX_CONTACT_NUMBER:
            raise InvalidInput(f"contacts.{i}.number: give a number of at most {MAX_CONTACT_NUMBER} characters",
                               field=f"contacts.{i}.number")
    for i, context in enumerate(plan.contexts):
        if not context.label.strip() or len(context.label) > MAX_LABEL:
            raise InvalidInput(f"contexts.{i}.label: describe the place in at most {MAX_LABEL} characters",
                               field=f"contexts.{i}.label")
        if not 1 <= len(context.times) <= MAX_TIMES_PER_CONTEXT:
            raise InvalidInput(f"contexts.{i}.times: give 1 or {MAX_TIMES_PER_CONTEXT} times for each place",
                               field=f"contexts.{i}.times")
        for j, weekly in enumerate(context.times):
            if not weekly.days or any(not 0 <= d <= 6 for d in weekly.days):
                raise InvalidInput(f"contexts.{i}.times.{j}.days: choose the days",
                                   field=f"contexts.{i}.times.{j}.days")
            if weekly.start == weekly.end:
                raise InvalidInput(f"contexts.{i}.times.{j}.end: the end must differ from the start",
                                   field=f"contexts.{i}.times.{j}.end")
        for name, value, bound in (("lon", context.lon, 180), ("lat", context.lat, 90)):
            if not -bound <= value <= bound:
                raise InvalidInput(f"contexts.{i}.{name}: out of range [-{bound}, {bound}]",
                                   field=f"contexts.{i}.{name}")


def _week_spans(weekly: WeeklyTime, first: date) -> list[tuple[datetime, datetime]]:
    """The pattern's occurrences in the 7 days from ``first`` (Europe/London wall clock), in UTC."""
    pattern = parse_hours(weekly.as_hours())
    assert pattern is not None
    start = datetime.combine(first, time(0), tzinfo=LONDON)
    end = start + timedelta(days=7)
    # An overnight occurrence that starts on the last day runs into the next: look one day further.
    spans = pattern.intervals(start, end + timedelta(days=1))
    return [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in spans if a < end]


def _pieces(spans: Sequence[tuple[datetime, datetime]], hours: Sequence[str | None], calendar: Any,
            ) -> list[tuple[datetime, datetime]]:
    """``spans`` cut wherever any of ``hours`` opens or closes: within a piece nothing changes."""
    parsed = [parse_hours(text, calendar) for text in hours]
    pieces: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        cuts = {a, b}
        for h in parsed:
            if h is not None:
                for opens, closes in h.intervals(a, b):
                    cuts.update((opens.astimezone(UTC), closes.astimezone(UTC)))
        pieces.extend((x, y) for x, y in pairwise(sorted(cuts)) if y > x)
    return pieces


def _ranges(pieces: Sequence[tuple[datetime, datetime]]) -> str:
    """Pieces of a week in words, days with the same hours together: ``Mon–Fri 15:30–17:00, Sat 12:00–14:00``."""
    by_day: dict[int, list[tuple[datetime, datetime]]] = {}
    for a, b in sorted(pieces):
        local_a, local_b = a.astimezone(LONDON), b.astimezone(LONDON)
        day = by_day.setdefault(local_a.weekday(), [])
        if day and day[-1][1] == local_a:
            day[-1] = (day[-1][0], local_b)
        else:
            day.append((local_a, local_b))
    texts = {d: ", ".join(f"{a:%H:%M}\u2013{b:%H:%M}" for a, b in spans) for d, spans in by_day.items()}
    groups: list[tuple[list[int], str]] = []
    for d in sorted(texts):
        if groups and groups[-1][1] == texts[d] and groups[-1][0][-1] == d - 1:
            groups[-1][0].append(d)
        else:
            groups.append(([d], texts[d]))
    words = []
    for days, hours in groups:
        name = DAY_SHORT[days[0]] if len(days) == 1 else f"{DAY_SHORT[days[0]]}\u2013{DAY_SHORT[days[-1]]}"
        words.append(f"{name} {hours}")
    return ", ".join(words)


def _judge(candidate: SafeSpaceCandidate, pieces: Sequence[tuple[datetime, datetime]], age: int | None,
           settings: Settings, calendar: Any) -> tuple[str, bool, tuple[TrustedAdult, ...]] | None:
    """When the space is open during the pattern, and who is on duty then; ``None`` if never open."""
    open_pieces, unknown_pieces = [], []
    adults: dict[int, tuple[dict[str, Any], list[tuple[datetime, datetime]]]] = {}
    for a, b in pieces:
        verdict = evaluate(candidate, a + (b - a) / 2, age, settings.safe_space_stale_days, calendar)
        if verdict.hours_state == "open":
            open_pieces.append((a, b))
        elif verdict.hours_state == "unknown":
            unknown_pieces.append((a, b))
        for guardian in verdict.guardians_present:
            adults.setdefault(guardian["id"], (guardian, []))[1].append((a, b))
    if not open_pieces and not unknown_pieces:
        return None
    everything = sum((b - a for a, b in pieces), timedelta())
    throughout = sum((b - a for a, b in open_pieces), timedelta()) == everything
    if throughout:
        when = "Open all of this time"
    elif open_pieces:
        when = "Open " + _ranges(open_pieces)
    else:
        when = "Hours not known then: ring first"
    trusted = []
    for guardian, present in adults.values():
        on_duty = sum((b - a for a, b in present), timedelta())
        when_there = ("all of this time" if on_duty == everything else "while open" if present == open_pieces
                      else _ranges(present))
        trusted.append(TrustedAdult(
            role=str(guardian["role"]).replace("_", " ").capitalize(), description=guardian["description"],
            when=when_there,
            safeguarding_trained="safeguarding" in guardian["current_training"]))
    return when, throughout, tuple(trusted)


def plan_time(session: Session, settings: Settings, principal: Principal, lon: float, lat: float,
              weekly: WeeklyTime, age: int | None, first: date, calendar: Any) -> tuple[PlanTime, bool]:
    """The safe spaces near (lon, lat) open at some time of ``weekly`` in the 7 days from ``first``, and
    whether a walk was measured along the streets. The point must already be checked against the service
    area; ``calendar`` is the organisation's (``hours_calendar``). Used by :func:`make_plan` and by
    ``/api/safety-plan``'s weekly patterns."""
    spans = _week_spans(weekly, first)
    reference = spans[0][0] if spans else datetime.combine(first, time(12), tzinfo=LONDON).astimezone(UTC)
    answer = store.nearest_safe_spaces(
        session, principal.organisation_id, lon=lon, lat=lat, at=reference, age=age,
        limit=CANDIDATES, srid=settings.analysis_srid, detour_factor=settings.detour_factor,
        walking_speed=settings.walking_speed_m_per_min, threshold_minutes=settings.walk_threshold_minutes,
        stale_days=settings.safe_space_stale_days, judge_hours=False)
    hours = [r["candidate"].opening_hours for r in answer.results]
    hours += [g.hours for r in answer.results for g in r["candidate"].guardians]
    pieces = _pieces(spans, hours, calendar)
    spaces = []
    for row in answer.results:
        judged = _judge(row["candidate"], pieces, age, settings, calendar)
        if judged is None:
            continue
        when, throughout, adults = judged
        candidate: SafeSpaceCandidate = row["candidate"]
        spaces.append(PlanSpace(
            place_id=int(row["place_id"]), name=row["name"], address=row["address"],
            walking_minutes=round(float(row["walking_minutes"]), 1), distance_method=row["distance_method"],
            within_threshold=bool(row["within_threshold"]), open_when=when, open_throughout=throughout,
            trusted_adults=adults, help_offered=candidate.help_offered, accessibility=candidate.accessibility))
    # Nearest on foot first; if none of those is open all of the time, the nearest that is takes the last
    # line (a young person needs one place they can rely on throughout).
    chosen = spaces[:SPACES_PER_TIME]
    steady = next((s for s in spaces if s.open_throughout), None)
    if steady is not None and steady not in chosen:
        chosen[-1] = steady
    spaces = chosen
    within = any(s.within_threshold for s in spaces)
    network = any(s.distance_method == NETWORK for s in spaces)
    return PlanTime(weekly, tuple(spaces), within, None if within else settings.fallback_advice), network


def _check_area(session: Session, settings: Settings, plan: PlanInput) -> None:
    area = repository.service_area(session, settings.default_service_area)
    for i, context in enumerate(plan.contexts):
        if not area.covers(Point(context.lon, context.lat)):
            raise InvalidInput(f"contexts.{i}.lon: ({context.lon}, {context.lat}) lies outside your "
                               "organisation's service area", field=f"contexts.{i}.lon")


def make_plan(session: Session, settings: Settings, principal: Principal, plan: PlanInput, *,
              output: str = "page", now: datetime | None = None) -> SafetyPlan:
    """The Level 1 safety plan for ``plan`` (see the module docstring); audits only that it was made.

    ``output`` ("page", "pdf", or a caller's own word such as "safety_map") goes into the audit detail.
    Raises :class:`app.exceptions.InvalidInput` naming the field for input beyond the limits or outside the
    organisation's service area.
    """
    check_input(plan)
    _check_area(session, settings, plan)
    made_at = now or datetime.now(UTC)
    first = plan.week_from or made_at.astimezone(LONDON).date()
    calendar = hours_calendar(session, principal.organisation_id)
    places, network = [], False
    for context in plan.contexts:
        times = []
        for weekly in context.times:
            answer, on_network = plan_time(session, settings, principal, context.lon, context.lat, weekly, plan.age,
                                           first, calendar)
            times.append(answer)
            network = network or on_network
        places.append(PlanPlace(context, tuple(times)))
    record_action(session, principal, "safety_plan.create", "safety_plan", {
        "contexts": len(plan.contexts), "times": sum(len(c.times) for c in plan.contexts),
        "contacts": len(plan.contacts), "output": output})
    return SafetyPlan(
        made_at=made_at, week_from=first, age=plan.age, places=tuple(places), steps=plan.steps.strip(),
        contacts=plan.contacts, national_contacts=tuple(Contact(n, k) for n, k in NATIONAL_CONTACTS),
        threshold_minutes=settings.walk_threshold_minutes, network=network)
