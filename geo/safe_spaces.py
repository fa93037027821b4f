"""Safe spaces for a young person: open at a time, suitable for an age, who is there, how far to walk.

Pure logic (no database, no web): the service passes in rows and gets back judgements with reasons a
youth worker can read out. Decisions, each a safeguarding choice rather than a technicality:

* **Open** uses the place's OpenStreetMap opening hours in Europe/London, bank holidays and the
  organisation's school holidays included (:mod:`geo.opening_hours`). A place with *no* recorded hours
  is ``None`` ("unknown"), never "open", and is not offered: sending a young person to a locked door is
  worse than not suggesting it. Hours that *say* they are unknown at that time (``unknown "ring
  first"``, a comment such as ``"by appointment"``, an open end ``18:00+``) are offered with
  ``hours_state="unknown"`` and a note ("hours not known — ring first (by appointment)"): the place has
  told us what to do, and the youth worker reads it.
* **Guardians present**: a guardian with their own hours is present during those hours; a guardian with
  no hours is present whenever the *place* is open (a role such as "reception staff" is there while the
  doors are); if the place's hours are unknown too, presence is unknown.
* **Training is current** for :data:`TRAINING_VALID_YEARS` (3) years after completion: the refresher
  interval of the intercollegiate safeguarding competences (RCPCH et al., *Safeguarding children and
  young people: roles and competencies*, 2019) that most safeguarding partnerships adopt.
* **Stale**: a safe space whose details were last verified more than ``stale_days`` before the time
  asked about — or never — is still shown, but flagged ``stale`` so someone re-checks it.
* **Age**: a designation's ``age_min``..``age_max`` is inclusive; a missing bound means no bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np

from geo.opening_hours import LONDON, Calendar, HoursState, OpeningHours, hours_note

__all__ = [
    "TRAINING_VALID_YEARS",
    "CoverageCell",
    "Evaluation",
    "GuardianRecord",
    "SafeSpaceCandidate",
    "age_suitable",
    "evaluate",
    "guardian_presence",
    "hours_state",
    "is_stale",
    "open_at",
    "open_until",
    "parse_hours",
    "rank_coverage_gaps",
    "stable_open_sets",
    "training_status",
]

TRAINING_VALID_YEARS = 3


@lru_cache(maxsize=8192)
def _parsed(text: str, calendar: Calendar | None) -> OpeningHours:
    return OpeningHours.parse(text, calendar)


def parse_hours(text: str | None, calendar: Calendar | None = None) -> OpeningHours | None:
    """Parsed opening hours (cached by text and calendar), or ``None`` when none are recorded."""
    if text is None or not text.strip():
        return None
    return _parsed(text, calendar)


def hours_state(hours: str | None, at: datetime, calendar: Calendar | None = None) -> HoursState | None:
    """Open, closed or unknown (with the comment) at ``at``; ``None`` when no hours are recorded.

    Examples
    --------
    >>> from datetime import timezone
    >>> hours_state('Mo-Fr 09:00-17:00 "by appointment"', datetime(2026, 6, 17, 10, tzinfo=timezone.utc))
    HoursState(state='unknown', comment='by appointment')
    """
    parsed = parse_hours(hours, calendar)
    return None if parsed is None else parsed.state(at)


def open_at(hours: str | None, at: datetime, calendar: Calendar | None = None) -> bool | None:
    """Whether hours ``hours`` are open at the aware instant ``at``; ``None`` when no hours are recorded.

    Examples
    --------
    >>> from datetime import datetime, timezone, timedelta
    >>> bst = timezone(timedelta(hours=1))
    >>> open_at("Mo-Fr 08:00-16:00; PH off", datetime(2026, 6, 17, 16, 30, tzinfo=bst))
    False
    >>> open_at("Mo-Fr 09:00-19:00; PH off", datetime(2026, 8, 31, 16, 30, tzinfo=bst))  # bank holiday
    False
    >>> open_at(None, datetime(2026, 6, 17, 16, 30, tzinfo=bst)) is None
    True
    """
    parsed = parse_hours(hours, calendar)
    return None if parsed is None else parsed.is_open(at)


def open_until(hours: OpeningHours, at: datetime, horizon: timedelta = timedelta(days=8)) -> datetime | None:
    """When an open place next closes, looking ``horizon`` ahead; ``None`` if it stays open that long.

    Bounded on purpose: ``OpeningHours.next_close`` searches up to two years for a ``24/7`` place,
    which costs milliseconds per candidate in a nearest search.

    Examples
    --------
    >>> from datetime import timezone
    >>> at = datetime(2026, 6, 17, 15, 30, tzinfo=timezone.utc)
    >>> open_until(OpeningHours.parse("Mo-Fr 09:00-19:00"), at).strftime("%H:%M")
    '19:00'
    >>> open_until(OpeningHours.parse("24/7"), at) is None
    True
    """
    intervals = hours.intervals(at, at + horizon)
    if not intervals or intervals[0][0] > at:
        return None
    closes = intervals[0][1]
    return None if closes >= (at + horizon) else closes


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def training_status(
    trainings: Iterable[Mapping[str, Any]], on: date, valid_years: int = TRAINING_VALID_YEARS,
) -> list[dict[str, Any]]:
    """Each training with ``expires_on`` and ``current`` (completed on or before ``on``, not expired).

    Examples
    --------
    >>> [status] = training_status([{"kind": "safeguarding", "completed_on": "2023-06-01"}], date(2026, 6, 17))
    >>> status["expires_on"], status["current"]
    (datetime.date(2026, 6, 1), False)
    """
    status = []
    for training in trainings:
        completed = training["completed_on"]
        if isinstance(completed, str):
            completed = date.fromisoformat(completed)
        expires = _add_years(completed, valid_years)
        status.append({"kind": training["kind"], "completed_on": completed, "expires_on": expires,
                       "current": completed <= on < expires})
    return status


def guardian_presence(
    hours: str | None, place_open: bool | None, at: datetime, calendar: Calendar | None = None,
) -> tuple[bool | None, str]:
    """Whether a guardian is present at ``at``, and on what basis.

    Returns ``(present, basis)`` with basis ``"guardian_hours"`` (their own hours), ``"place_hours"``
    (no own hours: present while the place is open) or ``"unknown"`` (neither is recorded).
    """
    own = open_at(hours, at, calendar)
    if own is not None:
        return own, "guardian_hours"
    if place_open is not None:
        return place_open, "place_hours"
    return None, "unknown"


def age_suitable(age: int | None, age_min: int | None, age_max: int | None) -> bool:
    """Whether ``age`` is within the inclusive range; no age asked, or no bound, never excludes.

    Examples
    --------
    >>> [age_suitable(a, 11, 18) for a in (10, 11, 18, 19, None)]
    [False, True, True, False, True]
    """
    if age is None:
        return True
    return (age_min is None or age >= age_min) and (age_max is None or age <= age_max)


def is_stale(verified_on: date | None, on: date, stale_days: int) -> bool:
    """Whether a safe space's details are overdue for re-verification (never verified counts as stale).

    Examples
    --------
    >>> is_stale(date(2026, 5, 28), date(2026, 6, 17), 365), is_stale(None, date(2026, 6, 17), 365)
    (False, True)
    """
    return verified_on is None or (on - verified_on).days > stale_days


@dataclass(frozen=True)
class GuardianRecord:
    id: int
    role: str
    description: str | None
    hours: str | None
    trainings: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class SafeSpaceCandidate:
    """A place with a current safe-space designation, as pulled from the database."""

    place_id: int
    name: str
    kind: str
    opening_hours: str | None
    designation_id: int
    valid_from: datetime
    valid_to: datetime | None
    scheme: str | None
    age_min: int | None
    age_max: int | None
    help_offered: tuple[str, ...]
    accessibility: str | None
    verified_on: date | None
    guardians: tuple[GuardianRecord, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    """A candidate judged at one time for one age.

    ``open`` is ``True`` or ``False`` when the hours say so and ``None`` when they do not: no hours
    recorded (``hours_state="not_recorded"``) or hours that say "unknown" then (``"unknown"``).
    """

    open: bool | None
    closes_at: datetime | None
    age_suitable: bool
    stale: bool
    guardians_present: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    hours_state: str = "open"  # open | closed | unknown | not_recorded
    hours_note: str = "open"  # "open, by appointment", "hours not known — ring first", ...
    hours_comment: str | None = None

    @property
    def excluded_because(self) -> str | None:
        """Why the candidate is not offered: ``"closed"``, ``"hours_unknown"``, ``"age"`` or ``None``.

        Hours that say "unknown" are offered, with their note; hours not recorded at all are not.
        """
        if self.hours_state == "closed":
            return "closed"
        if self.hours_state == "not_recorded":
            return "hours_unknown"
        if not self.age_suitable:
            return "age"
        return None


def _local(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(LONDON)


def _ages(age_min: int | None, age_max: int | None) -> str:
    if age_min is None and age_max is None:
        return "all ages"
    if age_min is None:
        return f"ages up to {age_max}"
    if age_max is None:
        return f"ages {age_min} and over"
    return f"ages {age_min}\u2013{age_max}"


def guardians_at(
    guardians: Sequence[GuardianRecord], place_open: bool | None, at: datetime, calendar: Calendar | None = None,
) -> list[dict[str, Any]]:
    """Every guardian with ``present``, ``presence_basis`` and training status at ``at``; present first."""
    on = _local(at).date()
    rows = []
    for guardian in guardians:
        present, basis = guardian_presence(guardian.hours, place_open, at, calendar)
        trainings = training_status(guardian.trainings, on)
        rows.append({
            "id": guardian.id, "role": guardian.role, "description": guardian.description,
            "hours": guardian.hours, "present": present, "presence_basis": basis, "trainings": trainings,
            "current_training": sorted({t["kind"] for t in trainings if t["current"]}),
        })
    rank = {True: 0, None: 1, False: 2}
    return sorted(rows, key=lambda g: (rank[g["present"]], g["id"]))


def evaluate(
    candidate: SafeSpaceCandidate, at: datetime, age: int | None, stale_days: int, calendar: Calendar | None = None,
) -> Evaluation:
    """Judge a safe space at ``at`` for a young person of ``age``, with reasons a person can read.

    ``calendar`` carries the organisation's school holidays for ``SH`` (default: none loaded).
    """
    local = _local(at)
    hours = parse_hours(candidate.opening_hours, calendar)
    state = None if hours is None else hours.state(at)
    is_open = None if state is None or state.state == "unknown" else state.state == "open"
    closes_at = open_until(hours, at) if hours is not None and is_open else None
    suitable = age_suitable(age, candidate.age_min, candidate.age_max)
    stale = is_stale(candidate.verified_on, local.date(), stale_days)
    everyone = guardians_at(candidate.guardians, is_open, at, calendar)
    present = [g for g in everyone if g["present"]]

    reasons = []
    scheme = f" ({candidate.scheme})" if candidate.scheme else ""
    reasons.append(f"safe space{scheme} since {_local(candidate.valid_from):%d %b %Y}")
    note = hours_note(state)
    if is_open:
        until = ""
        if closes_at is not None:
            same_day = closes_at.date() == local.date()
            until = f" until {closes_at:%H:%M}" + ("" if same_day else f" on {closes_at:%a %d %b}")
        comment = f" ({state.comment})" if state is not None and state.comment else ""
        reasons.append(f"open at {local:%H:%M} on {local:%a %d %b}{until}{comment}")
    elif state is None:
        reasons.append("opening hours not recorded: ring ahead")
    elif state.state == "unknown":
        reasons.append(f"{note} at {local:%H:%M} on {local:%a %d %b}")
    else:
        reasons.append(f"closed at {local:%H:%M} on {local:%a %d %b}")
    if age is not None:
        verdict = "suitable" if suitable else "not suitable"
        reasons.append(f"{verdict} for age {age} ({_ages(candidate.age_min, candidate.age_max)})")
    else:
        reasons.append(f"welcomes {_ages(candidate.age_min, candidate.age_max)}")
    if candidate.help_offered:
        reasons.append("offers: " + ", ".join(candidate.help_offered))
    if present:
        trained = sum(1 for g in present if "safeguarding" in g["current_training"])
        roles = ", ".join(sorted({g["role"].replace("_", " ") for g in present}))
        reasons.append(f"guardians present: {roles} ({trained} with current safeguarding training)")
    if candidate.accessibility:
        reasons.append(f"accessibility: {candidate.accessibility}")
    if stale:
        when = f"{candidate.verified_on:%d %b %Y}" if candidate.verified_on else "never"
        reasons.append(f"details last verified {when}: due for re-checking")
    return Evaluation(is_open, closes_at, suitable, stale, present, reasons,
                      hours_state="not_recorded" if state is None else state.state, hours_note=note,
                      hours_comment=None if state is None else state.comment)


# ---- coverage --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoverageCell:
    """A grid cell where harm was recorded: its index, metric centre and harm count."""

    i: int
    j: int
    x: float
    y: float
    harm_count: int


def rank_coverage_gaps(
    cells: Sequence[CoverageCell], walk_m: Sequence[float], threshold_m: float,
) -> list[tuple[CoverageCell, float]]:
    """Cells with no open safe space within ``threshold_m`` walking metres, most harm first.

    ``walk_m[k]`` is the walk from cell ``k``'s centre to its nearest open safe space (``inf`` if none).
    Ties are broken by cell index so the ranking is reproducible.

    Examples
    --------
    >>> cells = [CoverageCell(0, 0, 0, 0, 3), CoverageCell(1, 0, 250, 0, 9), CoverageCell(2, 0, 500, 0, 5)]
    >>> [(c.i, d) for c, d in rank_coverage_gaps(cells, [2000.0, 500.0, float("inf")], 1200)]
    [(2, inf), (0, 2000.0)]
    """
    if len(cells) != len(walk_m):
        raise ValueError("one walking distance per cell")
    gaps = [(cell, float(distance)) for cell, distance in zip(cells, walk_m, strict=True)
            if not distance <= threshold_m]
    return sorted(gaps, key=lambda pair: (-pair[0].harm_count, pair[0].i, pair[0].j))


def stable_open_sets(
    window: str | None, hours_texts: Sequence[str | None], start: datetime, end: datetime,
) -> list[tuple[datetime, datetime, np.ndarray]]:
    """Split ``[start, end)`` — restricted to the weekly pattern ``window`` if given — into pieces during
    which the same safe spaces are open; each piece comes with the boolean "open" mask over
    ``hours_texts`` (unknown hours count as closed: not guaranteed open).

    Examples
    --------
    >>> from datetime import timezone
    >>> start = datetime(2026, 6, 15, tzinfo=timezone.utc)
    >>> pieces = stable_open_sets("Mo 15:00-19:00", ["Mo 09:00-17:00", None], start, start + timedelta(days=7))
    >>> [(a.strftime("%H:%M"), b.strftime("%H:%M"), m.tolist()) for a, b, m in pieces]
    [('15:00', '17:00', [True, False]), ('17:00', '19:00', [False, False])]
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    pattern = parse_hours(window)
    spans = ([(a.astimezone(UTC), b.astimezone(UTC)) for a, b in pattern.intervals(start, end)]
             if pattern is not None else [(start, end)])
    parsed = [parse_hours(text) for text in hours_texts]
    pieces: list[tuple[datetime, datetime, np.ndarray]] = []
    for span_start, span_end in spans:
        cuts = {span_start, span_end}
        for hours in parsed:
            if hours is None:
                continue
            for opens, closes in hours.intervals(span_start, span_end):
                cuts.update((opens.astimezone(UTC), closes.astimezone(UTC)))
        ordered = sorted(cuts)
        for a, b in pairwise(ordered):
            if b <= a:
                continue
            middle = a + (b - a) / 2
            mask = np.array([bool(h is not None and h.is_open(middle)) for h in parsed], dtype=bool)
            if pieces and pieces[-1][1] == a and np.array_equal(pieces[-1][2], mask):
                pieces[-1] = (pieces[-1][0], b, mask)
            else:
                pieces.append((a, b, mask))
    return [(a.astimezone(LONDON), b.astimezone(LONDON), m) for a, b, m in pieces]


def hours_between(a: datetime, b: datetime) -> float:
    """Elapsed hours (real time, so a clock-change night counts as lived)."""
    return (b.astimezone(UTC) - a.astimezone(UTC)) / timedelta(hours=1)
