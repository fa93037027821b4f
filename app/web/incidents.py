"""Incidents: the list practitioners filter (period, harm, source, place, map area) and one incident's page
(issue 14). Never the panel's: the gate is the API's ``READ_INCIDENTS`` (DESIGN.md: aggregates only).

Reads are the JSON API's (:func:`app.db.repository.list_features` with the ``INCIDENTS`` spec, the one
incident filter) and are audited as the API's are: ``incident.list`` with the query and the number shown,
``incident.read`` for one incident. Forms live in :mod:`app.web.incidents_forms`.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app import policy
from app.db import place_pages, repository
from app.db.repository import ListQuery
from app.db.resources import INCIDENTS, PLACES
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import InvalidInput
from app.query import parse_bbox
from app.services.audit import record_action
from app.web import paging
from app.web.forms import FormErrors
from app.web.maps.background import small_map
from app.web.paging import list_url
from app.web.shell import page
from geo.calendar import london_midnight
from geo.vocabulary import HARM_CATEGORIES, INCIDENT_SOURCES

router = APIRouter(tags=["web"], include_in_schema=False)

PAGE_SIZE = 25
PLACE_CHOICES = 500  # places offered in the place filter and the form's place list
# The list shows the latest first; the API's collection keeps its stable oldest-first order for paging.
LATEST_FIRST = dataclasses.replace(INCIDENTS, order_by="r.occurred_from DESC, r.id DESC")
SOURCE_LABELS = {"police_uk": "police.uk", "council_asb": "Council ASB log", "partner": "Partner file",
                 "manual": "Recorded here"}
FILTER_ORDER = ["from", "to", "bbox", "form"]


def map_settings(session: Any, settings: Any) -> dict[str, Any]:
    return small_map(session, settings)


def place_names(session: SessionDep) -> dict[int, str]:
    rows, _ = place_pages.search_places(session, place_pages.PlaceSearch(limit=PLACE_CHOICES))
    return {int(r["id"]): str(r["name"]) for r in rows}


def _day(text: str | None, field: str, label: str, errors: FormErrors) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.add(field, f"The {label} must be a real date, like 2026-03-27")
        return None


def _present(filters: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {name: values for name, values in filters.items() if values}


def _list_url(params: dict[str, Any], **changes: Any) -> str:
    return list_url("/incidents", params, **changes)


@router.get("/incidents", response_class=HTMLResponse)
def incidents_list(
    request: Request, session: SessionDep, settings: SettingsDep,
    start_text: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    end_text: Annotated[str | None, Query(alias="to", max_length=20)] = None,
    harm: Annotated[list[str] | None, Query()] = None,
    source: Annotated[str | None, Query(max_length=40)] = None,
    place: Annotated[str | None, Query(max_length=20)] = None,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    principal: Principal = gate(policy.READ_INCIDENTS),
) -> HTMLResponse:
    errors = FormErrors()
    harms = [h for h in (harm or []) if h in HARM_CATEGORIES]
    source_value = source if source in INCIDENT_SOURCES else ""
    place_id = int(place) if place and place.isdigit() else None
    start, end = _day(start_text, "from", "first day", errors), _day(end_text, "to", "last day", errors)
    if start and end and end < start:
        errors.add("to", "The last day must be the same as or after the first day")
    area = None
    try:
        area = parse_bbox(bbox)
    except InvalidInput:
        errors.add("bbox", "The map area must be four numbers: west, south, east, north (like -0.43,51.87,-0.40,51.89)")
    query = ListQuery(
        bbox=area, interval=(london_midnight(start) if start else None,
                             london_midnight(end + timedelta(days=1)) if end else None) if start or end else None,
        equals=_present({"harm_category": harms, "source": [source_value] if source_value else [],
                         "place_id": [place_id] if place_id else []}),
        limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    features: list[dict[str, Any]] = []
    total = 0
    if not errors:
        features, _ = repository.list_features(session, LATEST_FIRST, query)
        total = repository.count_features(session, LATEST_FIRST, query)
        # Each view of individual records is audited, as GET /api/incidents is.
        record_action(session, principal, "incident.list", "incidents",
                      {"returned": len(features), "query": str(request.url.query), "via": "web"})
    params = {"from": start_text or "", "to": end_text or "", "harm": harms, "source": source_value,
              "place": place_id or "", "bbox": bbox or ""}
    pages = paging.page_count(total, PAGE_SIZE)
    pagination = paging.pagination(lambda n: _list_url(params, page=n), page_number, pages)
    names = place_names(session)
    markers = [{"name": f"{f['properties']['harm_category'].replace('_', ' ').capitalize()}",
                "lat": f["geometry"]["coordinates"][1], "lon": f["geometry"]["coordinates"][0],
                "href": f"/incidents/{f['id']}", "designation": ""} for f in features]
    return page(
        request, "incidents/list.html", principal=principal, session=session, title="Incidents",
        breadcrumbs=[("Home", "/")], features=features, total=total, pages=pages, page_number=page_number,
        pagination=pagination, params=params, harms=harms, harm_categories=HARM_CATEGORIES,
        source_labels=SOURCE_LABELS, places=names, markers=json.dumps(markers), map=map_settings(session, settings),
        errors=errors, error_summary=errors.summary(FILTER_ORDER) if errors else None,
        status_code=422 if errors else 200,
        may_create=policy.CREATE_INCIDENTS.allows(principal.role),
        may_import=policy.IMPORT_INCIDENTS.allows(principal.role),
    )


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(incident_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                  principal: Principal = gate(policy.READ_INCIDENTS)) -> HTMLResponse:
    incident = repository.get_feature(session, INCIDENTS, incident_id)
    record_action(session, principal, "incident.read", f"incident:{incident_id}", {"via": "web"})
    props = incident["properties"]
    place = repository.get_feature(session, PLACES, props["place_id"]) if props.get("place_id") else None
    lon, lat = incident["geometry"]["coordinates"][:2]
    title = f"{props['harm_category'].replace('_', ' ').capitalize()} incident"
    return page(
        request, "incidents/incident.html", principal=principal, session=session, title=title,
        breadcrumbs=[("Home", "/"), ("Incidents", "/incidents")], incident=incident, props=props, place=place,
        source_labels=SOURCE_LABELS, lon=lon, lat=lat, map=map_settings(session, settings),
        markers=json.dumps([{"name": title, "lat": lat, "lon": lon, "href": f"/incidents/{incident_id}",
                             "designation": "concern"}]),
        may_edit=policy.EDIT_INCIDENTS.allows(principal.role),
    )
