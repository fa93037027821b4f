"""The safe-space finder for a youth worker's phone (issue 15): where am I, how old is the young person,
when — then the nearest open, suitable safe spaces on foot, who is there to help, and what was left out.

A GET form that works without JavaScript; the map, "use my location" and tapping the map are
enhancements (/static/web/finder.js). The answer comes from the service behind /api/safe-spaces/nearest
(app.api.safe_spaces → app.db.safe_spaces) — one implementation — and is not audited as a write: nothing
is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pyproj import Transformer
from sqlalchemy.orm import Session

from app import policy
from app.db import finder_places, repository
from app.db.safe_spaces import NearestAnswer
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.errors import InvalidInput
from app.services.disclosure import Disclosure
from app.services.safe_space_finder import check_point, method_note, nearest
from app.settings import Settings
from app.web.forms import FormErrors
from app.web.maps.background import small_map
from app.web.shell import page
from geo.vocabulary import LONDON

router = APIRouter(tags=["web"], include_in_schema=False)

RESULT_LIMIT = 5
REASONS = {"closed": "closed at that time", "hours_unknown": "opening hours not recorded",
           "age": "not for the young person's age"}
FIELD_ORDER = ["where", "lon", "age", "day", "time"]
GEOLOCATION_HERE = "geolocation=(self), camera=(), microphone=()"


@dataclass
class FinderQuery:
    where: str
    lon: str
    lat: str
    age: str
    when: str
    day: str
    time: str

    @property
    def asked(self) -> bool:
        return bool(self.where or (self.lon and self.lat))


def _instant(query: FinderQuery, errors: FormErrors) -> datetime | None:
    if query.when != "later":
        return datetime.now(UTC)
    try:
        day = date.fromisoformat(query.day)
    except ValueError:
        errors.add("day", "Enter the day as a date, like 2026-09-15")
        day = None
    try:
        clock = time.fromisoformat(query.time)
    except ValueError:
        errors.add("time", "Enter the time like 17:30")
        clock = None
    if day is None or clock is None:
        return None
    if not 1900 <= day.year < 2200:
        errors.add("day", "Enter a day between the years 1900 and 2199")
        return None
    return datetime.combine(day, clock, tzinfo=LONDON).astimezone(UTC)


def _age(query: FinderQuery, errors: FormErrors) -> int | None:
    if not query.age:
        return None
    if not query.age.isdigit() or not 0 <= int(query.age) <= 25:
        errors.add("age", "Enter the young person's age as a whole number from 0 to 25")
        return None
    return int(query.age)


def _origin(session: Session, principal: Principal, query: FinderQuery, errors: FormErrors,
            ) -> tuple[tuple[float, float] | None, str, list[dict[str, Any]]]:
    """The starting point: lon/lat when given (map tap or geolocation), else the best typed match."""
    if query.lon and query.lat:
        try:
            return (float(query.lon), float(query.lat)), "the point you chose", []
        except ValueError:
            errors.add("lon", "Longitude and latitude must be numbers, like -0.4123 and 51.8802")
            return None, "", []
    matches = finder_places.match_locations(session, principal.organisation_id, query.where)
    if not matches:
        errors.add("where", f"No place or street called \u201c{query.where}\u201d: try part of the name, "
                   "or use your location")
        return None, "", []
    best = matches[0]
    return (best["lon"], best["lat"]), best["label"], matches[1:]


@dataclass
class Start:
    """Where a search starts and for whom, checked (the problems are in the form's errors)."""

    age: int | None
    origin: tuple[float, float] | None
    label: str
    alternatives: list[dict[str, Any]]


def start(session: Session, settings: Settings, principal: Principal, query: FinderQuery, errors: FormErrors,
          ) -> Start:
    """The young person's age and the starting point (typed or chosen) of a finder form, the point checked
    against the service area; shared by this page and the desktop safe-spaces map (app.web.maps.finder)."""
    age = _age(query, errors)
    origin, label, alternatives = _origin(session, principal, query, errors)
    if origin is not None and not errors:
        try:
            check_point(session, settings, origin[0], origin[1])
        except InvalidInput as exc:
            errors.add("where" if query.where and not query.lon else "lon", str(exc).split(": ", 1)[-1])
    return Start(age, origin, label, alternatives)


@dataclass
class Found:
    """The finder's answer in the page's words: each result (:func:`page_result`), what was left out and why,
    whether any is within the walk, the fallback advice otherwise, and how distances were measured."""

    results: list[dict[str, Any]]
    left_out: list[dict[str, str]]
    within: bool
    advice: str | None
    method_note: str
    answer: NearestAnswer  # the store's answer: each result's geometry and route, the counts passed over


def find(session: Session, settings: Settings, principal: Principal, disclosure: Disclosure,
         origin: tuple[float, float], at: datetime, age: int | None) -> Found:
    """The nearest safe spaces from a checked :func:`start` (the service, app.services.safe_space_finder)."""
    properties, answer = nearest(session, settings, principal, disclosure, origin[0], origin[1], at, age,
                                 RESULT_LIMIT)
    results = [page_result(p, json.loads(item["geometry"]), at)
               for p, item in zip(properties, answer.results, strict=True)]
    names = finder_places.place_names(session, [pid for pid, _ in answer.passed_over])
    left_out = [{"name": names.get(pid, "A safe space"), "reason": REASONS[reason]}
                for pid, reason in answer.passed_over]
    within = any(r["within_threshold"] for r in results)
    return Found(results, left_out, within, None if within else settings.fallback_advice,
                 method_note(answer.distance_method, answer.network_loaded, settings), answer)


@lru_cache(maxsize=8)
def _to_lonlat(srid: int) -> Transformer:
    return Transformer.from_crs(srid, 4326, always_xy=True)


def _route(item: dict[str, Any], srid: int) -> list[list[float]] | None:
    """The walk along the streets as [lat, lon] pairs for the map (Leaflet's order), or ``None``."""
    if not item.get("route"):
        return None
    xs, ys = zip(*item["route"], strict=True)
    lons, lats = _to_lonlat(srid).transform(xs, ys)
    return [[round(lat, 6), round(lon, 6)] for lon, lat in zip(lons, lats, strict=True)]


def page_result(props: dict[str, Any], geometry: dict[str, Any], at: datetime) -> dict[str, Any]:
    until = props["open_until"]
    if props["hours_state"] == "unknown":
        hours = "Opening hours unknown at that time" + (f": {props['hours_note']}" if props["hours_note"] else "")
    elif until is not None:
        local = until.astimezone(LONDON)
        same_day = local.date() == at.astimezone(LONDON).date()
        hours = f"Open until {local:%H:%M}" if same_day else f"Open until {local:%A %H:%M}"
    else:
        hours = "Open"
    coordinates = geometry.get("coordinates") if geometry.get("type") == "Point" else None
    return {**props, "hours_text": hours, "point": coordinates,
            "present": [g for g in props["guardians"] if g.get("present")]}


@router.get("/safe-spaces/find", response_class=HTMLResponse)
def find_safe_space(
    request: Request, session: SessionDep, settings: SettingsDep, disclosure: ReaderDisclosure,
    where: Annotated[str, Query(max_length=200)] = "", lon: Annotated[str, Query(max_length=40)] = "",
    lat: Annotated[str, Query(max_length=40)] = "", age: Annotated[str, Query(max_length=10)] = "",
    when: Annotated[str, Query(pattern="^(|now|later)$")] = "now",
    day: Annotated[str, Query(max_length=20)] = "", time_text: Annotated[str, Query(alias="time", max_length=20)] = "",
    principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> HTMLResponse:
    query = FinderQuery(where.strip(), lon.strip(), lat.strip(), age.strip(), when or "now", day.strip(),
                        time_text.strip())
    errors = FormErrors()
    context: dict[str, Any] = {"query": query, "results": None}
    if query.asked:
        instant = _instant(query, errors)
        begin = start(session, settings, principal, query, errors)
        if not errors and begin.origin is not None and instant is not None:
            origin = begin.origin
            found = find(session, settings, principal, disclosure, origin, instant, begin.age)
            results = [{**r, "route": _route(item, settings.analysis_srid)}
                       for r, item in zip(found.results, found.answer.results, strict=True)]
            local = instant.astimezone(LONDON)
            plan_link = "/safe-spaces/plan?" + urlencode({
                "where": begin.label, "lon": f"{origin[0]:.6f}", "lat": f"{origin[1]:.6f}", "age": query.age,
                "day": local.date().isoformat(), "time": f"{local:%H:%M}"})
            context.update(
                results=results, left_out=found.left_out, excluded=found.answer.excluded, origin=origin,
                origin_label=begin.label, alternatives=begin.alternatives, at=instant, plan_link=plan_link,
                within=found.within, advice=found.advice,
                network=found.answer.distance_method == "network", method_note=found.method_note,
                threshold=settings.walk_threshold_minutes,
                map_data=json.dumps({
                    "origin": {"lon": origin[0], "lat": origin[1]},
                    "places": [{"name": r["name"], "lon": r["point"][0], "lat": r["point"][1],
                                "minutes": round(r["walking_minutes"]), "route": r["route"]}
                               for r in results if r["point"]],
                }),
                routed=sum(1 for r in results if r["route"]),
            )
    centre = service_centre(session, settings)
    response = page(
        request, "finder/find.html", principal=principal, session=session, title="Find a safe space",
        breadcrumbs=[("Home", "/")], errors=errors,
        error_summary=errors.summary(FIELD_ORDER) if errors else None, centre=centre,
        map=small_map(session, settings), **context,
    )
    # Every other page refuses geolocation (app.middleware); this one asks for it, and only on a tap of
    # "Use my location". A header the page sets is kept by the security-headers middleware.
    response.headers["Permissions-Policy"] = GEOLOCATION_HERE
    return response


def service_centre(session: SessionDep, settings: Any) -> dict[str, float]:
    area = repository.service_area(session, settings.default_service_area)
    point = area.representative_point()
    return {"lon": round(point.x, 6), "lat": round(point.y, 6)}
