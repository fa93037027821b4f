"""The Level 1 safety plan service (app.services.safety_plan) over the demo town: weekly patterns judged
with the finder's rules, the limits, and an audit row that holds only counts."""

from __future__ import annotations

import json
from datetime import date, time

import pytest
from sqlalchemy import text

from app.db.demo_loader import DemoLogin
from app.db.session import Database
from app.errors import InvalidInput
from app.security import Principal
from app.services.safety_plan import (
    MAX_CONTEXTS,
    Contact,
    PlanContext,
    PlanInput,
    WeeklyTime,
    check_input,
    make_plan,
)
from app.settings import Settings
from geo.demo import _lonlat

WEEK = date(2026, 9, 14)  # Monday 14 September 2026: term time, no bank holiday
AT_OUTLET = _lonlat(-120, 60)


def _principal(database: Database, demo: list[DemoLogin]) -> Principal:
    with database.owner_session() as session:
        row = session.execute(text("SELECT id, organisation_id FROM users WHERE email = :e"),
                              {"e": next(d.email for d in demo if d.role == "youth_worker")}).one()
    return Principal(row[0], row[1], "youth_worker", "yw@demo", "token")


def test_weekly_patterns_list_open_spaces_and_the_adults_on_duty(
    database: Database, settings: Settings, demo: list[DemoLogin]
) -> None:
    principal = _principal(database, demo)
    times = (WeeklyTime.weekdays(time(15, 30), time(18, 0)), WeeklyTime((6,), time(12), time(17)))
    plan_input = PlanInput(
        contexts=(PlanContext("Outside the chicken shop", *AT_OUTLET, times),), age=14,
        steps="Go inside and ask for the youth worker.", contacts=(Contact("Sam, youth worker", "07700 900123"),),
        week_from=WEEK)
    with database.tenant_session(principal.organisation_id) as session, session.begin():
        plan = make_plan(session, settings, principal, plan_input)
        detail = session.execute(text(
            "SELECT detail FROM audit_events WHERE action = 'safety_plan.create' ORDER BY id DESC LIMIT 1")).scalar()
    weekdays, sunday = plan.places[0].times
    assert weekdays.time.describe() == "Weekdays 15:30\u201318:00"
    names = [s.name for s in weekdays.spaces]
    assert names[0] == "Wellgate Central Library"
    school = next(s for s in weekdays.spaces if s.name == "Riverside Academy")
    assert school.open_when == "Open Mon\u2013Fri 15:30\u201316:00"  # the school shuts at 16:00
    assert any(s.open_throughout for s in weekdays.spaces)
    library = next(s for s in weekdays.spaces if s.name == "Wellgate Central Library")
    assert library.open_when == "Open all of this time" and library.open_throughout
    adults = {a.description: a.when for a in library.trusted_adults}
    assert adults["Youth worker running the pop-up youth club"] == "all of this time"
    assert "Wellgate Central Library" not in [s.name for s in sunday.spaces]  # Su off
    assert plan.stored is False and plan.national_contacts[0].number == "999"
    stored = detail if isinstance(detail, dict) else json.loads(detail)
    assert stored == {"contexts": 1, "times": 2, "contacts": 1, "output": "page"}  # counts only


def test_part_of_the_time_is_said_with_the_hours(database: Database, settings: Settings, demo: list[DemoLogin]) -> None:
    principal = _principal(database, demo)
    late = PlanInput(contexts=(PlanContext("Library", *_lonlat(250, -290),
                                           (WeeklyTime((0, 1, 2, 3, 4), time(18), time(20)),)),), week_from=WEEK)
    with database.tenant_session(principal.organisation_id) as session, session.begin():
        plan = make_plan(session, settings, principal, late)
    library = next(s for s in plan.places[0].times[0].spaces if s.name == "Wellgate Central Library")
    assert library.open_when == "Open Mon\u2013Fri 18:00\u201319:00" and not library.open_throughout


def test_limits_name_the_field() -> None:
    one = PlanContext("x", *AT_OUTLET, (WeeklyTime((0,), time(9), time(10)),))
    cases = [
        (PlanInput(contexts=(one,) * (MAX_CONTEXTS + 1)), "contexts"),
        (PlanInput(contexts=(PlanContext("x" * 81, *AT_OUTLET, one.times),)), "contexts.0.label"),
        (PlanInput(contexts=(PlanContext("x", *AT_OUTLET, (WeeklyTime((0,), time(9), time(9)),)),)),
         "contexts.0.times.0.end"),
        (PlanInput(contexts=(one,), steps="x" * 601), "steps"),
        (PlanInput(contexts=(one,), contacts=(Contact("", "1"),)), "contacts.0.name"),
    ]
    for plan_input, field in cases:
        with pytest.raises(InvalidInput) as raised:
            check_input(plan_input)
        assert str(raised.value).startswith(field + ":")


def test_weekly_times_in_words_and_in_opening_hours_syntax() -> None:
    cases = [
        (WeeklyTime.weekdays(time(15, 30), time(18)), "Weekdays 15:30\u201318:00", "Mo,Tu,We,Th,Fr 15:30-18:00"),
        (WeeklyTime((5,), time(12), time(17)), "Saturdays 12:00\u201317:00", "Sa 12:00-17:00"),
        (WeeklyTime((5, 6), time(20), time(0)), "Weekends 20:00\u201300:00", "Sa,Su 20:00-24:00"),
        (WeeklyTime((4, 0, 2), time(22), time(2)), "Mon, Wed and Fri 22:00\u201302:00", "Mo,We,Fr 22:00-02:00"),
    ]
    for weekly, words, hours in cases:
        assert (weekly.describe(), weekly.as_hours()) == (words, hours)
    assert WeeklyTime((4,), time(22), time(2)).overnight and not WeeklyTime((5, 6), time(20), time(0)).overnight
