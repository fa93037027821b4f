"""The incident forms (issue 14): record one incident, change it, delete it.

One form for recording and changing: the point (map picker, coordinates or a grid reference, as the place
form), the harm category, when (a date and time, or a window when it is only known roughly), the location's
precision, how many young people were involved (a number only: contextmap stores no child's identity), a
description, and the place. The place is suggested as the nearest place within the link distance — the
same rule the write use case applies when no place is chosen (``records.INCIDENT``, ``links_to_place``) —
and can be changed. "Suggest the place" re-draws the form with the suggestion and writes nothing, so it
works without JavaScript.

Writes are the JSON API's (:mod:`app.services.records` with ``IncidentCreate``/``IncidentPatch``) in a
savepoint: a refused form comes back with the error summary and nothing is written, audit included.
"""

from __future__ import annotations

import math
from datetime import datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from shapely.geometry import Point

from app import policy
from app.db import place_pages, repository
from app.db.resources import INCIDENTS
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.schemas.domain import IncidentCreate, IncidentPatch
from app.services import records
from app.web.forms import FormErrors, Posted, PostedForm, build, date_items, parse_date, written
from app.web.incidents import PLACE_CHOICES, map_settings
from app.web.place_forms import _point as posted_point
from app.web.shell import page
from geo.vocabulary import HARM_CATEGORIES, LOCATION_PRECISIONS, LONDON

router = APIRouter(tags=["web"], include_in_schema=False)

FIELDS = {"geometry": "lon", "harm_category": "harm_category", "occurred_from": "occurred",
          "occurred_to": "until", "location_precision": "location_precision", "young_people": "young_people",
          "description": "description", "place_id": "place", "source": "form", "source_ref": "form",
          "properties": "form"}
ORDER = ["lon", "lat", "grid_reference", "harm_category", "timing", "occurred", "occurred_time", "until",
         "until_time", "location_precision", "young_people", "description", "place", "form"]
PRECISION_LABELS = {"exact": "Exact: where it happened", "snapped": "Snapped to a nearby map point (as police.uk)",
                    "street": "Somewhere on the street"}
AUTO = "auto"


def _time(posted: Posted, name: str, errors: FormErrors, label: str) -> time | None:
    text = posted.get(name).replace(".", ":")
    if not text:
        return None
    try:
        hours, minutes = (int(p) for p in text.split(":", 1)) if ":" in text else (int(text), 0)
        return time(hours, minutes)
    except ValueError:
        errors.add(name, f"The {label} must be a time of day, like 17:30")
        return None


def _when(posted: Posted, errors: FormErrors, required: bool) -> tuple[datetime | None, datetime | None]:
    """The incident's time, or its window, from the form (typed as Europe/London; stored UTC)."""
    timing = posted.get("timing") or "at"
    day = parse_date(posted, "occurred", errors, "date", required=required)
    at = _time(posted, "occurred_time", errors, "time")
    start = datetime.combine(day, at or time(0, 0), tzinfo=LONDON) if day else None
    if timing != "window":
        if day and at is None:
            errors.add("occurred_time", "Enter the time, or choose “Some time in a window” if it is not known")
        return start, None
    until_day = parse_date(posted, "until", errors, "last date of the window", required=True)
    until_at = _time(posted, "until_time", errors, "time the window ends")
    end = datetime.combine(until_day, until_at or time(23, 59), tzinfo=LONDON) if until_day else None
    if start and end and end <= start:
        errors.add("until", "The window must end after it starts")
    return start, end


def _young_people(posted: Posted, errors: FormErrors) -> int | None:
    text = posted.get("young_people")
    if not text:
        return None
    if not text.isdigit() or int(text) > 1000:
        errors.add("young_people", "Enter how many young people were involved as a whole number, like 3")
        return None
    return int(text)


def _distance_m(lon: float, lat: float, other_lon: float, other_lat: float) -> float:
    # Equirectangular approximation: only orders the place list (the link itself is PostGIS's, in metres).
    x = math.radians(other_lon - lon) * math.cos(math.radians((lat + other_lat) / 2))
    return 6_371_000 * math.hypot(x, math.radians(other_lat - lat))


def _place_choices(session: SessionDep, point: tuple[float, float] | None) -> list[dict[str, Any]]:
    """Places for the place list: nearest first when the point is known, else by name."""
    rows, _ = place_pages.search_places(session, place_pages.PlaceSearch(limit=PLACE_CHOICES))
    choices = [{"id": int(r["id"]), "name": str(r["name"]),
                "distance": _distance_m(point[0], point[1], r["lon"], r["lat"]) if point else None} for r in rows]
    if point:
        choices.sort(key=lambda c: float(c["distance"] or 0.0))
    return choices


def _suggested(session: SessionDep, settings: Any, point: tuple[float, float] | None) -> int | None:
    if point is None:
        return None
    return repository.nearest_place_within(session, Point(point), settings.auto_link_distance_m,
                                           settings.analysis_srid)


def _form(request: Request, principal: Principal, session: SessionDep, settings: Any, *,
          incident: dict[str, Any] | None, values: dict[str, Any], errors: FormErrors,
          posted: Posted | None = None, stored_when: tuple[datetime | None, datetime | None] = (None, None),
          status_code: int | None = None) -> HTMLResponse:
    point = None
    try:
        point = (float(values["lon"]), float(values["lat"])) if values.get("lon") and values.get("lat") else None
    except ValueError:
        point = None
    suggested = _suggested(session, settings, point)
    places = _place_choices(session, point)
    names = {p["id"]: p["name"] for p in places}
    centre = point or place_pages.service_area_centre(session) or (-0.12, 51.5)
    start, end = stored_when
    return page(
        request, "incidents/form.html", principal=principal, session=session,
        title="Change the incident" if incident else "Record an incident",
        breadcrumbs=[("Home", "/"), ("Incidents", "/incidents")]
        + ([(f"Incident {incident['id']}", f"/incidents/{incident['id']}")] if incident else []),
        incident=incident, values=values, errors=errors, error_summary=errors.summary(ORDER) if errors else None,
        status_code=status_code or (422 if errors else 200), harm_categories=HARM_CATEGORIES,
        precisions=[(p, PRECISION_LABELS.get(p, p)) for p in LOCATION_PRECISIONS], places=places,
        suggested=suggested, suggested_name=names.get(suggested) if suggested else None,
        link_distance=int(settings.auto_link_distance_m), map=map_settings(session, settings),
        centre={"lon": centre[0], "lat": centre[1]},
        occurred=date_items(posted, "occurred", start.astimezone(LONDON).date() if start else None),
        until=date_items(posted, "until", end.astimezone(LONDON).date() if end else None),
        action=f"/incidents/{incident['id']}/edit" if incident else "/incidents/new",
    )


def _posted_values(posted: Posted) -> dict[str, Any]:
    return {k: posted.get(k) for k in ("lon", "lat", "grid_reference", "harm_category", "timing", "occurred_time",
                                       "until_time", "location_precision", "young_people", "description", "place")}


def _properties(posted: Posted, errors: FormErrors, *, creating: bool) -> dict[str, Any]:
    harm = posted.get("harm_category")
    if harm not in HARM_CATEGORIES:
        errors.add("harm_category", "Choose the kind of harm")
    precision = posted.get("location_precision") or "exact"
    if precision not in LOCATION_PRECISIONS:
        errors.add("location_precision", "Choose how precise the location is")
    start, end = _when(posted, errors, required=True)
    place = posted.get("place") or AUTO
    if place != AUTO and not place.isdigit():
        errors.add("place", "Choose a place from the list")
    properties: dict[str, Any] = {
        "harm_category": harm, "occurred_from": start, "occurred_to": end, "location_precision": precision,
        "young_people": _young_people(posted, errors), "description": posted.optional("description"),
        "place_id": int(place) if place.isdigit() else None,
    }
    if creating:
        properties["source"] = "manual"
    return properties


@router.get("/incidents/new", response_class=HTMLResponse)
def new_incident(request: Request, session: SessionDep, settings: SettingsDep,
                 principal: Principal = gate(policy.CREATE_INCIDENTS)) -> HTMLResponse:
    return _form(request, principal, session, settings, incident=None,
                 values={"timing": "at", "location_precision": "exact", "place": AUTO}, errors=FormErrors())


@router.post("/incidents/new", response_class=HTMLResponse)
def add_incident(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
                 principal: Principal = gate(policy.CREATE_INCIDENTS)) -> Response:
    errors = FormErrors()
    values = _posted_values(posted)
    geometry = posted_point(posted, errors, required=True)
    if geometry is not None:
        values["lon"], values["lat"] = (f"{c:.6f}" for c in geometry["coordinates"])
        values["grid_reference"] = ""
    if posted.get("action") == "suggest":  # re-draw with the suggested place; nothing is written
        values["place"] = AUTO
        return _form(request, principal, session, settings, incident=None, values=values, errors=FormErrors(),
                     posted=posted)
    properties = _properties(posted, errors, creating=True)
    body = None if errors else build(errors, FIELDS, lambda: IncidentCreate.model_validate(
        {"type": "Feature", "geometry": geometry, "properties": properties}))
    created: dict[str, Any] = {}
    if body is not None:
        with written(session, errors, FIELDS):
            created = records.create(session, settings, principal, records.INCIDENT, body)
    if errors or not created:
        return _form(request, principal, session, settings, incident=None, values=values, errors=errors,
                     posted=posted, status_code=422)
    return RedirectResponse(f"/incidents/{created['id']}?saved=incident-added", status_code=303)


def _stored(incident: dict[str, Any]) -> dict[str, Any]:
    props = incident["properties"]
    start = props["occurred_from"]
    end = props.get("occurred_to")
    lon, lat = incident["geometry"]["coordinates"][:2]
    return {"lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "grid_reference": "", "harm_category": props["harm_category"],
            "timing": "window" if end else "at", "occurred_time": start.astimezone(LONDON).strftime("%H:%M"),
            "until_time": end.astimezone(LONDON).strftime("%H:%M") if end else "",
            "location_precision": props["location_precision"],
            "young_people": "" if props.get("young_people") is None else str(props["young_people"]),
            "description": props.get("description") or "",
            "place": str(props["place_id"]) if props.get("place_link") == "explicit" and props.get("place_id")
            else AUTO}


@router.get("/incidents/{incident_id}/edit", response_class=HTMLResponse)
def edit_incident_form(incident_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                       principal: Principal = gate(policy.EDIT_INCIDENTS)) -> HTMLResponse:
    incident = repository.get_feature(session, INCIDENTS, incident_id)
    props = incident["properties"]
    return _form(request, principal, session, settings, incident=incident, values=_stored(incident),
                 errors=FormErrors(), stored_when=(props["occurred_from"], props.get("occurred_to")))


@router.post("/incidents/{incident_id}/edit", response_class=HTMLResponse)
def edit_incident(incident_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                  posted: PostedForm, principal: Principal = gate(policy.EDIT_INCIDENTS)) -> Response:
    incident = repository.get_feature(session, INCIDENTS, incident_id)
    stored = _stored(incident)
    errors = FormErrors()
    values = _posted_values(posted)
    moved = posted.get("grid_reference") or (posted.get("lon"), posted.get("lat")) != (stored["lon"], stored["lat"])
    geometry = posted_point(posted, errors, required=True) if moved else None
    if posted.get("action") == "suggest":
        if geometry is not None:
            values["lon"], values["lat"] = (f"{c:.6f}" for c in geometry["coordinates"])
        values["place"] = AUTO
        return _form(request, principal, session, settings, incident=incident, values=values, errors=FormErrors(),
                     posted=posted)
    properties = _properties(posted, errors, creating=False)
    chosen = posted.get("place") or AUTO
    if chosen == stored["place"] and not moved:
        properties.pop("place_id")  # unchanged: the stored link (explicit or automatic) stays as it is
    if not properties.get("occurred_to") and incident["properties"].get("occurred_to"):
        properties["occurred_to"] = None  # a window became a single time
    body = None if errors else build(errors, FIELDS, lambda: IncidentPatch.model_validate(
        {"type": "Feature", "geometry": geometry, "properties": properties}))
    done = False
    if body is not None:
        with written(session, errors, FIELDS):
            records.update(session, settings, principal, records.INCIDENT, incident_id, body)
            done = True
    if errors or not done:
        return _form(request, principal, session, settings, incident=incident, values=values, errors=errors,
                     posted=posted, status_code=422)
    return RedirectResponse(f"/incidents/{incident_id}?saved=incident-updated", status_code=303)


@router.get("/incidents/{incident_id}/delete", response_class=HTMLResponse)
def delete_incident_form(incident_id: int, request: Request, session: SessionDep,
                         principal: Principal = gate(policy.EDIT_INCIDENTS)) -> HTMLResponse:
    incident = repository.get_feature(session, INCIDENTS, incident_id)
    return page(request, "incidents/delete.html", principal=principal, session=session, title="Delete this incident?",
                breadcrumbs=[("Home", "/"), ("Incidents", "/incidents"),
                             (f"Incident {incident_id}", f"/incidents/{incident_id}")],
                incident=incident, props=incident["properties"], errors=FormErrors(), error_summary=None)


@router.post("/incidents/{incident_id}/delete", response_class=HTMLResponse)
def delete_incident(incident_id: int, session: SessionDep,
                    principal: Principal = gate(policy.EDIT_INCIDENTS)) -> Response:
    records.delete(session, principal, records.INCIDENT, incident_id)
    return RedirectResponse("/incidents?saved=incident-deleted", status_code=303)
