"""geo.opening_hours against the reference implementation, opening_hours.js, run by ``node``.

The reference is installed from npm for this test only (tests/differential/package.json, pinned by its
lock file; ``make test`` installs it). One node process evaluates every value at every instant.

States are read through the reference's iterator, the interface its own test suite checks (see
reference.js for why not getState). Values: every value of the reference's own test suite
(reference_values.json, extracted from its test/test.js) and the shapes UK venues write (UK_VENUES).
Instants: each England and Wales bank holiday of 2026-2027 at several hours, every quarter hour across
both clock-change nights of 2026, and seeded random instants over 2026-2028.

Known reference errors and differences, excluded from the comparison (nothing else is):

* **The day after the clocks go forward**: the reference's iterator steps from Sunday evening by wall-clock
  days of 24 hours, so early on the Monday after (29 March 2027, 00:30 BST) it still reports Saturday
  night's or Sunday's hours (``Mo-Th 10:00-22:00; Fr-Sa 10:00-02:00; Su 12:00-22:00`` "open"). The
  clock-change nights themselves are compared, every quarter hour.
* **Holiday names as comments**: for a ``PH`` rule the reference reports the holiday's name ("Christmas")
  as the comment; we report only comments written in the value (the names come from GOV.UK elsewhere).
  Comments are compared where the value has a comment of its own or an open end.
* **Ranges ending at an Easter date**: the reference leaves out the last day (``Apr 01-easter`` is closed
  on Easter Sunday, ``easter-easter +2 days`` on Easter Tuesday) while ranges ending at a fixed date include
  it (``Mar 01-Apr 05`` is open on 5 April). The specification's ranges include both ends; we include it.
  Instants within three days of Easter in values with such a range are not compared.
* **KNOWN_REFERENCE_ERRORS**: single days, each checked by hand and explained there.
* **SH**: the reference has no school holidays for gb (it raises "no holidays (SH) defined for country
  gb"), so no SH value is compared; ours come from each organisation's own school terms
  (tests/geo/test_opening_hours_spec.py, tests/api/test_safe_space_hours.py).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from geo.bank_holidays import bank_holidays, is_public_holiday
from geo.opening_hours import LONDON, OpeningHours, OpeningHoursError
from geo.opening_hours_syntax import OPEN_END_COMMENT, easter

HERE = Path(__file__).parent
REFERENCE = HERE / "node_modules" / "opening_hours"

# Shapes of opening_hours that UK safe spaces, libraries, youth clubs and shops write.
UK_VENUES = [
    "Mo-Fr 09:00-17:00; PH off",
    "Mo-Fr 09:00-19:00; Sa 10:00-16:00; Su,PH off",
    "Mo-Sa 09:00-17:30; Su 10:00-16:00; PH off",
    "Mo,We,Fr 15:00-19:00; Tu,Th 16:00-21:00",
    "Mo-Fr 15:30-21:00; Sa 12:00-17:00; PH off; Dec 24-Jan 02 off",
    "Mo-Fr 09:00-17:00; Dec 25 off; Dec 26 off; Jan 01 off",
    "Apr-Sep Mo-Su 07:00-21:00; Oct-Mar Mo-Su 07:30-16:30",
    "Mo-Fr 10:00-18:00 \"by appointment\"",
    "Mo-Fr 09:00-17:00 open \"by appointment\"",
    "\"ring the bell\"",
    "unknown \"ring first\"",
    "Mo-Fr 09:00-17:00 || \"ring first\"",
    "Mo-Fr 09:00-17:00 || unknown \"outside these hours ring first\"",
    "Mo-Th 10:00-22:00; Fr-Sa 10:00-02:00; Su 12:00-22:00",
    "Fr-Sa 18:00+",
    "Mo-Fr 08:00-18:00; Sa 09:00-13:00; PH 10:00-14:00",
    "Mo-Fr 09:00-17:00; PH +1 day off",
    "Mo-Fr 09:00-17:00; Sa[1] 10:00-12:00",
    "Sa[-1] 10:00-14:00",
    "Mo[1,3] 18:00-20:00",
    "week 01-53/2 Tu 19:00-21:00",
    "easter -2 days off; easter +1 day off; Mo-Fr 09:00-17:00",
    "24/7",
    "24/7; PH off",
    "Mo-Su 00:00-24:00",
    "Mo-Fr 07:00-22:00; Sa-Su 08:00-20:00; Dec 25 off",
    "Jan 01-Dec 31 Mo-Fr 09:00-16:00",
    "Nov-Feb Mo-Fr 15:00-19:00; Mar-Oct Mo-Fr 15:00-21:00",
    "Mo-Fr 09:00-12:30,13:30-17:00; Sa 09:00-12:00",
    "2026 Mo-Fr 09:00-17:00; 2027+ Mo-Fr 10:00-16:00",
    "Su 00:00-04:00",
    "Sa 22:00-03:00",
    "sunrise-sunset",
    "Mo-Su sunrise-sunset; Dec 25 off",
    "Mo-Fr 09:00-17:00; 12:00-13:00 off \"lunch\"",
    "Mo-Fr 09:00-17:00; PH off \"closed on bank holidays\"",
    "off \"temporarily closed\"",
]


def _instants() -> list[datetime]:
    chosen: set[datetime] = set()
    for holiday in bank_holidays(2026) | bank_holidays(2027):
        for hour in (0, 8, 12, 17, 23):
            chosen.add(datetime(holiday.year, holiday.month, holiday.day, hour, 30, tzinfo=LONDON).astimezone(UTC))
    for night in (datetime(2026, 3, 28, 22, tzinfo=UTC), datetime(2026, 10, 24, 22, tzinfo=UTC)):
        chosen.update(night + timedelta(minutes=15 * k) for k in range(8 * 4))
    generator = random.Random(22)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(200):
        chosen.add(start + timedelta(minutes=generator.randrange(3 * 365 * 24 * 60)))
    return sorted(chosen)


def _after_clocks_forward(at: datetime) -> bool:
    """The local day after the clocks went forward (the reference's known error)."""
    return at.astimezone(LONDON).date() - timedelta(days=1) in _spring_days()


# (value, local date): days on which the reference itself is wrong, each checked by hand.
KNOWN_REFERENCE_ERRORS = {
    # "Sa[1] -5 days" is the Monday five days before a month's first Saturday. The first Saturdays of
    # March 2026 and August 2027 are the 7th, so 2 March 2026 and 2 August 2027 are such Mondays; the
    # reference's getOpenIntervals over 2026-2028 lists every other one and skips these two.
    ("Sa[1] -5 days", date(2026, 3, 2)),
    ("Sa[1] -5 days", date(2027, 8, 2)),
}


def _near_easter(at: datetime) -> bool:
    local = at.astimezone(LONDON).date()
    return abs((local - easter(local.year)).days) <= 3


@cache
def _spring_days() -> frozenset[date]:
    days = set()
    for year in (2026, 2027, 2028):
        day = date(year, 3, 31)
        while day.weekday() != 6:
            day -= timedelta(days=1)
        days.add(day)
    return frozenset(days)


@cache
def _reference(values: tuple[str, ...], instants: tuple[datetime, ...]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not REFERENCE.exists():
        pytest.fail("the reference is not installed: run `make test` (npm ci --prefix tests/differential)")
    request = {"values": list(values), "instants": [at.isoformat() for at in instants], "mode": 0}
    completed = subprocess.run(
        [node, str(HERE / "reference.js")], input=json.dumps(request), capture_output=True, text=True,
        check=True, cwd=HERE,
    )
    return json.loads(completed.stdout)


def _corpus() -> tuple[str, ...]:
    reference = json.loads((HERE / "reference_values.json").read_text(encoding="utf-8"))["values"]
    return tuple(dict.fromkeys([*reference, *UK_VENUES]))


def _ours(hours: OpeningHours, at: datetime) -> tuple[bool, bool, str | None]:
    state = hours.state(at)
    return state.state == "open", state.state == "unknown", state.comment


def test_agrees_with_opening_hours_js_and_accepts_what_it_accepts_cleanly() -> None:
    values = _corpus()
    instants = tuple(_instants())
    answers = _reference(values, instants)
    clean = accepted = compared = 0
    disagreements: list[str] = []
    rejected: list[str] = []
    for value, answer in zip(values, answers, strict=True):
        if answer["error"] is not None:
            continue
        if not answer["warnings"]:
            clean += 1
        try:
            hours = OpeningHours.parse(value)
        except OpeningHoursError as error:
            if not answer["warnings"]:
                rejected.append(f"{value!r}: {error}")
            continue
        if not answer["warnings"]:
            accepted += 1
        ends_at_easter = re.search(r"-\s*easter", value, re.IGNORECASE) is not None
        for at, (open_, unknown, comment) in zip(instants, answer["states"], strict=True):
            local_day = at.astimezone(LONDON).date()
            if (_after_clocks_forward(at) or (ends_at_easter and _near_easter(at))
                    or (value, local_day) in KNOWN_REFERENCE_ERRORS):
                continue
            ours = _ours(hours, at)
            compared += 1
            # Comments are compared where the value writes one, and for open ends (the reference's text).
            comments_matter = '"' in value or OPEN_END_COMMENT in (ours[2], comment)
            holiday_name = ours[2] is None and comment is not None and is_public_holiday(local_day)
            same_comment = not comments_matter or ours[2] == comment or holiday_name
            if (ours[0], ours[1]) != (open_, unknown) or not same_comment:
                disagreements.append(f"{value!r} at {at.isoformat()}: ours {ours}, reference "
                                     f"{(open_, unknown, comment)}")
    share = accepted / clean
    print(f"\nreference parses {clean} values without warnings; we accept {accepted} ({share:.1%}); "
          f"{compared} value-instant pairs compared, {len(disagreements)} disagreements")
    for line in rejected:
        print("  rejected:", line)
    assert not disagreements, "\n".join(disagreements[:40])
    assert share >= 0.9
