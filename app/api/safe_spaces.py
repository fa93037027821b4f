"""Safe spaces for youth workers: nearest open now, who is there, a Level 1 safety plan, coverage gaps."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from app import policy
from app.api.features import audit_write, validated_hours
from app.api.parameters import PagingDep, page_links
from app.db import safe_spaces as store
from app.db.school_terms import hours_calendar
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.errors import InvalidInput, NotFound
from app.query import parse_instant
from app.schemas.safe_spaces import (
    MAX_WEEKLY,
    CoverageCollection,
    Guardianship,
    NearestCollection,
    PlanLocation,
    SafeSpaceCollection,
    SafetyPlan,
    SafetyPlanRequest,
    WeeklyPattern,
)
from app.services.coverage import coverage_analysis
from app.services.disclosure import Disclosure, rule_for
from app.services.safe_space_finder import check_point, method_note, nearest, safe_space_details
from app.services.safety_plan import DAY_CODES, WeeklyTime, plan_time
from app.settings import Settings
from geo.privacy import disclose_count
from geo.safe_spaces import (
    TRAINING_VALID_YEARS,
    evaluate,
    guardians_at,
)
from geo.vocabulary import HARM_CATEGORIES, LONDON

router = APIRouter(prefix="/api", tags=["safe spaces"])

AtParam = Annotated[str | None, Query(description="RFC 3339 instant with a time zone; default now")]
Lon = Annotated[float, Query(ge=-180, le=180, description="longitude (WGS 84)")]
Lat = Annotated[float, Query(ge=-90, le=90, description="latitude (WGS 84)")]
HARM_WINDOW_DAYS = 90
PRESENCE_RULES = [
    "A guardian with their own hours is present during those hours (Europe/London, bank holidays as PH).",
    "A guardian with no hours of their own is present whenever the place is open.",
    "If neither the guardian's nor the place's hours are recorded, presence is unknown (null).",
    f"Training is current for {TRAINING_VALID_YEARS} years after completion (safeguarding refresher interval).",
]


# Opening hours are evaluated over the days around an instant; far outside living memory that only
# overflows Python's calendar, so such instants are refused as input errors.
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _in_range(instant: datetime, field: str) -> datetime:
    if not EARLIEST <= instant < LATEST:
        raise InvalidInput(f"{field}: {instant.isoformat()} is outside the years 1900-2199", field=field)
    return instant


def _at(value: str | None, field: str = "at") -> datetime:
    if value is None or not value.strip():
        return datetime.now(UTC)
    return _in_range(parse_instant(value, field), field)


@router.get("/safe-spaces/nearest", response_model=NearestCollection)
def nearest_safe_spaces(
    session: SessionDep, settings: SettingsDep, disclosure: ReaderDisclosure, lon: Lon, lat: Lat,
    at: AtParam = None, age: Annotated[int | None, Query(ge=0, le=25, description="the young person's age")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    """Nearest safe spaces on foot that are current, open at ``at`` and suitable for ``age``.

    A place with no recorded opening hours is *not* offered (``excluded.hours_unknown``): it is not
    guaranteed open. A place whose hours say they are unknown then (``unknown "ring first"``, a comment
    such as ``"by appointment"``, an open end) is offered with ``hours_state: "unknown"`` and
    ``hours_note`` saying what to do. When none is within the walking threshold, ``within_threshold`` is
    false, ``advice`` says what to do instead, and the nearest open ones are still listed. ``excluded``
    counts the spaces passed over (closed, hours unknown, age) among those nearer than the answers.
    """
    instant = _at(at)
    check_point(session, settings, lon, lat)
    properties, answer = nearest(session, settings, principal, disclosure, lon, lat, instant, age, limit)
    within = any(p["within_threshold"] for p in properties)
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "id": p["place_id"], "geometry": json.loads(item["geometry"]),
                      "properties": p} for p, item in zip(properties, answer.results, strict=True)],
        "at": instant, "origin": {"lon": lon, "lat": lat}, "age": age,
        "distance_method": answer.distance_method, "network_loaded": answer.network_loaded,
        "detour_factor": settings.detour_factor, "walking_speed_m_per_min": settings.walking_speed_m_per_min,
        "threshold_minutes": settings.walk_threshold_minutes, "within_threshold": within,
        "advice": None if within else settings.fallback_advice, "excluded": answer.excluded,
        "method_note": method_note(answer.distance_method, answer.network_loaded, settings),
        "numberReturned": len(properties),
    }


@router.get("/safe-spaces", response_model=SafeSpaceCollection)
def list_safe_spaces(
    request: Request, session: SessionDep, settings: SettingsDep, disclosure: ReaderDisclosure, page: PagingDep,
    at: AtParam = None, principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    """Places with a safe-space designation current at ``at``: details, ``stale``, guardians present."""
    instant = _at(at)
    rows = store.safe_space_list(session, instant, page.limit, page.offset)
    calendar = hours_calendar(session, principal.organisation_id)
    features = []
    for row in rows[: page.limit]:
        verdict = evaluate(row["candidate"], instant, None, settings.safe_space_stale_days, calendar)
        everyone = guardians_at(row["candidate"].guardians, verdict.open, instant, calendar)
        features.append({"type": "Feature", "id": row["place_id"], "geometry": json.loads(row["geometry"]),
                         "properties": disclosure.redact({
                             "place_id": row["place_id"], "name": row["name"], "kind": row["kind"],
                             "address": row["address"], "opening_hours": row["opening_hours"],
                             "open": verdict.open, "hours_state": verdict.hours_state,
                             "hours_note": verdict.hours_note, "safe_space": safe_space_details(row, verdict.stale),
                             "guardians": everyone})})
    links = page_links(request, page, len(rows) > page.limit)
    return {"type": "FeatureCollection", "features": features, "at": instant,
            "links": [link.model_dump(exclude_none=True) for link in links], "numberReturned": len(features)}


@router.get("/places/{place_id}/guardianship", response_model=Guardianship)
def place_guardianship(
    place_id: int, session: SessionDep, disclosure: ReaderDisclosure, at: AtParam = None,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    """Guardians at the place at ``at`` (default now): who is present, on what basis, training currency."""
    instant = _at(at)
    found = store.place_guardianship(session, place_id, instant)
    if found is None:
        raise NotFound(f"no place with id {place_id} in your organisation")
    guardians = [disclosure.redact(g) for g in found["guardians"]]
    return {"place_id": place_id, "name": found["place"]["name"], "at": instant,
            "opening_hours": found["place"]["opening_hours"], "open": found["open"],
            "present_count": sum(1 for g in guardians if g["present"]), "guardians": guardians,
            "training_valid_years": TRAINING_VALID_YEARS, "rules": PRESENCE_RULES}


# ---- Level 1 safety plan -------------------------------------------------------------------------------
def _plan_request(body: SafetyPlanRequest | list[PlanLocation]) -> SafetyPlanRequest:
    if isinstance(body, SafetyPlanRequest):
        return body
    if not 1 <= len(body) <= 12:
        raise InvalidInput("locations: give between 1 and 12 locations", field="locations")
    return SafetyPlanRequest(locations=body)


def _plan_point(session: SessionDep, settings: Settings, index: int, location: PlanLocation) -> tuple[float, float]:
    prefix = f"locations.{index}."
    if location.place_id is not None:
        if location.lon is not None or location.lat is not None:
            raise InvalidInput(f"{prefix}place_id: give either place_id or lon and lat, not both",
                               field=f"{prefix}place_id")
        point = store.place_location(session, location.place_id)
        if point is None:
            raise InvalidInput(f"{prefix}place_id: no place {location.place_id} in your organisation",
                               field=f"{prefix}place_id")
        return point
    if location.lon is None or location.lat is None:
        missing = "lon" if location.lon is None else "lat"
        raise InvalidInput(f"{prefix}{missing}: give lon and lat, or a place_id", field=f"{prefix}{missing}")
    check_point(session, settings, location.lon, location.lat, prefix)
    return location.lon, location.lat


def _weekly_answer(session: SessionDep, settings: Settings, principal: Principal, disclosure: Disclosure,
                   lon: float, lat: float, pattern: WeeklyPattern, age: int | None, week_from: date,
                   calendar: Any) -> dict[str, Any]:
    """One weekly pattern judged as the web plan judges it (app.services.safety_plan.plan_time)."""
    weekly = WeeklyTime(tuple(sorted({DAY_CODES.index(d) for d in pattern.days})), pattern.start, pattern.end)
    answer, _ = plan_time(session, settings, principal, lon, lat, weekly, age, week_from, calendar)
    spaces = [disclosure.redact({
        "place_id": s.place_id, "name": s.name, "address": s.address, "walking_minutes": s.walking_minutes,
        "distance_method": s.distance_method, "within_threshold": s.within_threshold, "open_when": s.open_when,
        "open_throughout": s.open_throughout, "help_offered": list(s.help_offered), "accessibility": s.accessibility,
        "trusted_adults": [{"role": a.role, "description": a.description, "when": a.when,
                            "safeguarding_trained": a.safeguarding_trained} for a in s.trusted_adults],
    }) for s in answer.spaces]
    return {"days": [DAY_CODES[d] for d in weekly.days], "start": weekly.start, "end": weekly.end,
            "description": weekly.describe(), "within_threshold": answer.within_threshold, "advice": answer.advice,
            "safe_spaces": spaces}


@router.post("/safety-plan", response_model=SafetyPlan)
def safety_plan(
    body: Annotated[SafetyPlanRequest | list[PlanLocation], Body()], session: SessionDep, settings: SettingsDep,
    disclosure: ReaderDisclosure, principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> dict[str, Any]:
    """Level 1 planning for one young person: concerns, recent harm and open safe spaces near their places.

    Each location takes instants (``times``: the safe spaces open at that moment) and/or times of the week
    (``weekly``: days and a start and end on the Europe/London clock, as the web plan takes them; the safe
    spaces open at some time of the pattern over the week from ``week_from``, with when they are open and
    who is on duty then).

    Nothing about the young person is stored. The audit log records that a plan was made and how many
    locations and times it covered — never where, never the labels. Harm counts are always
    disclosure-controlled, because plans are shared with families and partners.
    """
    plan = _plan_request(body)
    if sum(len(location.times) for location in plan.locations) > 48:
        raise InvalidInput("locations: at most 48 times across all locations", field="locations")
    if sum(len(location.weekly) for location in plan.locations) > MAX_WEEKLY:
        raise InvalidInput(f"locations: at most {MAX_WEEKLY} weekly patterns across all locations",
                           field="locations")
    for i, location in enumerate(plan.locations):
        for j, instant in enumerate(location.times):
            _in_range(instant, f"locations.{i}.times.{j}")
    points = [_plan_point(session, settings, i, location) for i, location in enumerate(plan.locations)]
    rule = rule_for(principal, settings)
    now = datetime.now(UTC)
    week_from = plan.week_from or now.astimezone(LONDON).date()
    calendar = hours_calendar(session, principal.organisation_id) if any(loc.weekly for loc in plan.locations) \
        else None
    answers = []
    for index, (location, (lon, lat)) in enumerate(zip(plan.locations, points, strict=True)):
        harm = store.harm_near(session, lon, lat, plan.radius_m, now - timedelta(days=HARM_WINDOW_DAYS), now,
                               settings.analysis_srid)
        times = []
        for instant in location.times:
            properties, answer = nearest(session, settings, principal, disclosure, lon, lat, instant, plan.age,
                                          plan.limit)
            within = any(p["within_threshold"] for p in properties)
            times.append({"at": instant, "within_threshold": within,
                          "advice": None if within else settings.fallback_advice,
                          "distance_method": answer.distance_method, "safe_spaces": properties})
        answers.append({
            "index": index, "label": location.label, "lon": lon, "lat": lat, "place_id": location.place_id,
            "concerns_nearby": store.concerns_near(session, lon, lat, plan.radius_m, now, settings.analysis_srid),
            "recent_harm": {category: disclose_count(harm.get(category, 0), rule) for category in HARM_CATEGORIES},
            "recent_harm_total": disclose_count(sum(harm.values()), rule),
            "times": times,
            "weekly": [_weekly_answer(session, settings, principal, disclosure, lon, lat, pattern, plan.age,
                                      week_from, calendar) for pattern in location.weekly],
        })
    detail = {"locations": len(plan.locations), "times": sum(len(loc.times) for loc in plan.locations)}
    if any(loc.weekly for loc in plan.locations):
        detail["weekly"] = sum(len(loc.weekly) for loc in plan.locations)
    audit_write(session, principal, "safety_plan.create", "safety_plan", detail)
    return {"made_at": now, "week_from": week_from, "age": plan.age, "radius_m": plan.radius_m,
            "harm_window_days": HARM_WINDOW_DAYS,
            "disclosure_control": {"suppress_max": rule.suppress_max, "round_to": rule.round_to},
            "detour_factor": settings.detour_factor, "walking_speed_m_per_min": settings.walking_speed_m_per_min,
            "threshold_minutes": settings.walk_threshold_minutes, "locations": answers, "stored": False}


# ---- coverage ---------------------------------------------------------------------------------------------
@router.get("/analysis/coverage", response_model=CoverageCollection)
def coverage(
    session: SessionDep, settings: SettingsDep, at: AtParam = None,
    minutes: Annotated[float | None, Query(gt=0, le=120, description="walking threshold")] = None,
    datetime_param: Annotated[str | None, Query(alias="datetime", description=(
        "harm window: RFC 3339 interval start/end; default the 12 months before now"))] = None,
    when: Annotated[str | None, Query(max_length=500, description=(
        "weekly pattern in opening_hours syntax, e.g. 'Mo-Fr 15:00-19:00': a cell is a gap if it is "
        "uncovered at any time of the pattern during the week from `at`"))] = None,
    cell_size: Annotated[float, Query(ge=50, le=5000, description="cell side in metres")] = 250.0,
    harm_category: Annotated[list[str] | None, Query(description="only these harm categories")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    *, disclosure: ReaderDisclosure, principal: Principal = gate(policy.ANALYSIS),
) -> dict[str, Any]:
    """Cells where harm was recorded but no safe space is open within the walking threshold, most harm first.

    The panel receives disclosure-controlled counts (and the ranking follows them), on the published grid
    over whole months.
    """
    instant = _at(at)
    return coverage_analysis(session, settings, principal, disclosure, instant=instant, minutes=minutes,
                             period=datetime_param, when=validated_hours(when, "when"), cell_size=cell_size,
                             harm_category=harm_category, limit=limit)

