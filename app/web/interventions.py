"""Interventions (issue 14): the list with filters, the intervention's page with links to its displacement
analysis, and the forms to record, change and end one.

Writes are the JSON API's write use case (app.services.records.INTERVENTION, the API's request schemas) in
a savepoint, as on the places pages: on any error the form comes back with the GOV.UK error summary and
nothing is written. A panel member reads the list and the page with the same redaction as the API
(the request's Disclosure: no description, notes or partners) and so sees only what was written for
them: the title and the shareable summary.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import policy
from app.db import intervention_pages, place_pages, repository
from app.db.resources import INTERVENTIONS
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.schemas.domain import InterventionCreate, InterventionPatch
from app.services import records
from app.web import paging
from app.web.areas import posted_area
from app.web.forms import FormErrors, Posted, PostedForm, build, date_items, parse_date, written
from app.web.maps.background import small_map
from app.web.paging import list_url
from app.web.shell import page
from geo.geometry import GeometryLimits
from geo.vocabulary import INTERVENTION_KINDS

router = APIRouter(tags=["web"], include_in_schema=False)

PAGE_SIZE = 20
STATUS_FILTERS = {"": "Any", "current": "Current", "ended": "Ended", "planned": "Not started yet"}
FIELDS = {"kind": "kind", "title": "title", "shareable_summary": "shareable_summary", "description": "description",
          "owning_partner": "owning_partner", "partners": "partners", "starts_on": "starts_on",
          "ends_on": "ends_on", "notes": "notes", "place_id": "place_id", "geometry": "area", "form": "form"}
ORDER = ["kind", "title", "shareable_summary", "description", "owning_partner", "partners", "starts_on", "ends_on",
         "location", "place_id", "area_points", "area", "notes", "form"]
TEXT = ("kind", "title", "shareable_summary", "description", "owning_partner", "partners", "notes", "place_id",
        "area", "area_points", "location")
FINDINGS_PATH = "/interventions/{intervention_id}/findings"


def _list_url(params: dict[str, Any], **changes: Any) -> str:
    return list_url("/interventions", params, **changes)


@router.get("/interventions", response_class=HTMLResponse)
def interventions_list(
    request: Request, session: SessionDep, disclosure: ReaderDisclosure,
    kind: Annotated[list[str] | None, Query()] = None,
    status: Annotated[str, Query(pattern="^(|current|ended|planned)$")] = "",
    place: Annotated[str, Query(max_length=20)] = "",
    partner: Annotated[str, Query(max_length=200)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> HTMLResponse:
    kinds = tuple(k for k in (kind or []) if k in INTERVENTION_KINDS)
    place_id = int(place) if place.isdigit() else None
    # Partners are free text withheld from a panel (geo.privacy): a panel cannot filter by them either, or the
    # filter would reveal what the page hides.
    partner_text = disclosure.free_text(partner.strip())
    rows, total = intervention_pages.search_interventions(session, intervention_pages.InterventionSearch(
        kinds=kinds, status=status or None, place_id=place_id, partner=partner_text or None, limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE))
    rows = [disclosure.redact(r) for r in rows]
    params = {"kind": list(kinds), "status": status, "place": place_id or "", "partner": partner_text}
    pages = paging.page_count(total, PAGE_SIZE)
    pagination = paging.pagination(lambda n: _list_url(params, page=n), page_number, pages)
    return page(request, "interventions/list.html", principal=principal, session=session, title="Interventions",
                breadcrumbs=[("Home", "/")], rows=rows, total=total, pages=pages, page_number=page_number,
                pagination=pagination, kinds=kinds, status=status, place_id=place_id, partner=partner_text,
                intervention_kinds=INTERVENTION_KINDS, status_filters=STATUS_FILTERS,
                places=intervention_pages.place_choices(session), shows_free_text=disclosure.shows_free_text,
                may_write=policy.WRITE_INTERVENTIONS.allows(principal.role))


def _findings_route_exists(request: Request) -> bool:
    """Link the panel findings page only where it is served (another part of issue 14 builds it)."""
    from app.main import api_routes  # here, not at the top: app.main imports this module

    return any(route.path == FINDINGS_PATH for route in api_routes(request.app))


@router.get("/interventions/new", response_class=HTMLResponse)
def new_intervention(request: Request, session: SessionDep, settings: SettingsDep, place: int | None = None,
                     principal: Principal = gate(policy.WRITE_INTERVENTIONS)) -> HTMLResponse:
    values: dict[str, Any] = {"location": "place", "place_id": str(place) if place else ""}
    return _form(request, principal, session, settings, intervention=None, values=values,
                 starts_on=date_items(None, "starts_on", date.today()), ends_on=date_items(None, "ends_on"),
                 errors=FormErrors())


@router.get("/interventions/{intervention_id}", response_class=HTMLResponse)
def intervention_page(intervention_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                      disclosure: ReaderDisclosure, principal: Principal = gate(policy.READ_CONTEXT)) -> HTMLResponse:
    feature = disclosure.redact_feature(repository.get_feature(session, INTERVENTIONS, intervention_id))
    props = feature["properties"]
    title = props.get("title") or str(props["kind"]).replace("_", " ").capitalize()
    geometry = feature.get("geometry")
    return page(request, "interventions/intervention.html", principal=principal, session=session, title=title,
                breadcrumbs=[("Home", "/"), ("Interventions", "/interventions")], feature=feature, props=props,
                ended=bool(props.get("ends_on")) and props["ends_on"] < date.today(),
                findings=_findings_route_exists(request),
                area=json.dumps(geometry) if geometry and geometry["type"] != "Point" else "",
                map=small_map(session, settings),
                shows_free_text=disclosure.shows_free_text, may_write=policy.WRITE_INTERVENTIONS.allows(principal.role))


# ---- the form -----------------------------------------------------------------------------------------
def _form(request: Request, principal: Principal, session: SessionDep, settings: Any, *,
          intervention: dict[str, Any] | None, values: dict[str, Any], starts_on: list[dict[str, Any]],
          ends_on: list[dict[str, Any]], errors: FormErrors) -> HTMLResponse:
    crumbs = [("Home", "/"), ("Interventions", "/interventions")]
    if intervention is not None:
        crumbs.append((_title(intervention["properties"]), f"/interventions/{intervention['id']}"))
    centre = place_pages.service_area_centre(session) or (-0.12, 51.5)
    return page(request, "interventions/form.html", principal=principal, session=session,
                centre_lon=centre[0], centre_lat=centre[1],
                title="Change the intervention" if intervention else "Record an intervention", breadcrumbs=crumbs,
                intervention=intervention, values=values, starts_on=starts_on, ends_on=ends_on, errors=errors,
                error_summary=errors.summary(ORDER) if errors else None, status_code=422 if errors else 200,
                intervention_kinds=INTERVENTION_KINDS, places=intervention_pages.place_choices(session),
                max_points=settings.geometry_limits.max_vertices - 1, current_area=_current_area(intervention),
                map=small_map(session, settings),
                action=f"/interventions/{intervention['id']}/edit" if intervention else "/interventions/new")


def _current_area(intervention: dict[str, Any] | None) -> str:
    geometry = intervention.get("geometry") if intervention else None
    return json.dumps(geometry) if geometry and geometry["type"] != "Point" else ""


def _title(props: dict[str, Any]) -> str:
    return str(props.get("title") or str(props["kind"]).replace("_", " ").capitalize())


def _fields(posted: Posted) -> dict[str, str]:
    """The write path's geometry errors go to the box the area came from."""
    return {**FIELDS, "geometry": "area_points"} if posted.get("area_points") else FIELDS


def _values(posted: Posted, errors: FormErrors, limits: GeometryLimits, *, editing: bool
            ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    properties: dict[str, Any] = {k: posted.optional(k) for k in ("kind", "title", "shareable_summary",
                                                                 "description", "owning_partner", "notes")}
    for name, message in (("kind", "Choose the kind of intervention"), ("title", "Give the intervention a title"),
                          ("shareable_summary", "Write a short summary a panel may read"),
                          ("description", "Describe what is being done"),
                          ("owning_partner", "Say which partner owns the intervention")):
        if not properties[name]:
            errors.add(name, message)
    if properties["kind"] and properties["kind"] not in INTERVENTION_KINDS:
        errors.add("kind", "Choose the kind of intervention")
    properties["partners"] = posted.lines("partners")
    properties["starts_on"] = parse_date(posted, "starts_on", errors, "start date", required=True)
    properties["ends_on"] = parse_date(posted, "ends_on", errors, "end date")
    if properties["starts_on"] and properties["ends_on"] and properties["ends_on"] < properties["starts_on"]:
        errors.add("ends_on", "The end date must be the same as or after the start date")
    location = posted.get("location")
    geometry = None
    place_text = posted.get("place_id")
    if location == "area":
        geometry = posted_area(posted, errors, limits, geojson_field="area", points_field="area_points")
        if geometry is None and not editing and not {"area", "area_points"} & set(errors.messages):
            errors.add("area_points", "Draw the area on the map, type its corners, or paste it as GeoJSON")
        properties["place_id"] = int(place_text) if place_text.isdigit() else None
    elif location == "place":
        if not place_text.isdigit():
            errors.add("place_id", "Choose the place of the intervention")
        properties["place_id"] = int(place_text) if place_text.isdigit() else None
    else:
        errors.add("location", "Say whether the intervention is at a place or over an area")
    return properties, geometry


def _posted_values(posted: Posted) -> dict[str, Any]:
    return {k: posted.get(k) for k in TEXT}


@router.post("/interventions/new", response_class=HTMLResponse)
def add_intervention(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
                     principal: Principal = gate(policy.WRITE_INTERVENTIONS)) -> Response:
    errors = FormErrors()
    properties, geometry = _values(posted, errors, settings.geometry_limits, editing=False)
    fields = _fields(posted)
    body = None if errors else build(errors, fields, lambda: InterventionCreate.model_validate(
        {"type": "Feature", "geometry": geometry, "properties": properties}))
    created: dict[str, Any] = {}
    if body is not None:
        with written(session, errors, fields):
            created = records.create(session, settings, principal, records.INTERVENTION, body)
    if errors or not created:
        return _form(request, principal, session, settings, intervention=None, values=_posted_values(posted),
                     starts_on=date_items(posted, "starts_on"), ends_on=date_items(posted, "ends_on"), errors=errors)
    return RedirectResponse(f"/interventions/{created['id']}?saved=intervention-added", status_code=303)


def _stored(feature: dict[str, Any]) -> dict[str, Any]:
    props = feature["properties"]
    return {**{k: props.get(k) or "" for k in ("kind", "title", "shareable_summary", "description",
                                                "owning_partner", "notes")},
            "partners": "\n".join(props.get("partners") or []),
            "place_id": str(props["place_id"]) if props.get("place_id") else "",
            "location": "place" if props.get("place_id") else "area", "area": "", "area_points": ""}


@router.get("/interventions/{intervention_id}/edit", response_class=HTMLResponse)
def edit_intervention_form(intervention_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                           principal: Principal = gate(policy.WRITE_INTERVENTIONS)) -> HTMLResponse:
    feature = repository.get_feature(session, INTERVENTIONS, intervention_id)
    props = feature["properties"]
    return _form(request, principal, session, settings, intervention=feature, values=_stored(feature),
                 starts_on=date_items(None, "starts_on", props["starts_on"]),
                 ends_on=date_items(None, "ends_on", props.get("ends_on")), errors=FormErrors())


@router.post("/interventions/{intervention_id}/edit", response_class=HTMLResponse)
def edit_intervention(intervention_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                      posted: PostedForm, principal: Principal = gate(policy.WRITE_INTERVENTIONS)) -> Response:
    feature = repository.get_feature(session, INTERVENTIONS, intervention_id)
    errors = FormErrors()
    properties, geometry = _values(posted, errors, settings.geometry_limits, editing=True)
    if properties.get("place_id") is None:
        properties.pop("place_id", None)  # a change cannot unlink the place; an area is drawn instead
    fields = _fields(posted)
    body = None if errors else build(errors, fields, lambda: InterventionPatch.model_validate(
        {"type": "Feature", "geometry": geometry, "properties": properties}))
    done = False
    if body is not None:
        with written(session, errors, fields):
            records.update(session, settings, principal, records.INTERVENTION, intervention_id, body)
            done = True
    if errors or not done:
        return _form(request, principal, session, settings, intervention=feature, values=_posted_values(posted),
                     starts_on=date_items(posted, "starts_on"), ends_on=date_items(posted, "ends_on"), errors=errors)
    return RedirectResponse(f"/interventions/{intervention_id}?saved=intervention-updated", status_code=303)


@router.get("/interventions/{intervention_id}/end", response_class=HTMLResponse)
def end_intervention_form(intervention_id: int, request: Request, session: SessionDep,
                          principal: Principal = gate(policy.WRITE_INTERVENTIONS)) -> HTMLResponse:
    return _end_form(request, principal, session, repository.get_feature(session, INTERVENTIONS, intervention_id),
                     None, FormErrors())


def _end_form(request: Request, principal: Principal, session: SessionDep, feature: dict[str, Any],
              posted: Posted | None, errors: FormErrors) -> HTMLResponse:
    return page(request, "interventions/end.html", principal=principal, session=session,
                title="End the intervention", status_code=422 if errors else 200,
                breadcrumbs=[("Home", "/"), ("Interventions", "/interventions"),
                             (_title(feature["properties"]), f"/interventions/{feature['id']}")],
                feature=feature, errors=errors, error_summary=errors.summary(["ends_on", "form"]) if errors else None,
                ends_on=date_items(posted, "ends_on", None if posted else date.today()))


@router.post("/interventions/{intervention_id}/end", response_class=HTMLResponse)
def end_intervention(intervention_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                     posted: PostedForm, principal: Principal = gate(policy.WRITE_INTERVENTIONS)) -> Response:
    feature = repository.get_feature(session, INTERVENTIONS, intervention_id)
    errors = FormErrors()
    ends_on = parse_date(posted, "ends_on", errors, "last day", required=True)
    body = None if errors else build(errors, FIELDS, lambda: InterventionPatch.model_validate(
        {"type": "Feature", "geometry": None, "properties": {"ends_on": ends_on}}))
    done = False
    if body is not None:
        with written(session, errors, FIELDS):
            records.update(session, settings, principal, records.INTERVENTION, intervention_id, body)
            done = True
    if errors or not done:
        return _end_form(request, principal, session, feature, posted, errors)
    return RedirectResponse(f"/interventions/{intervention_id}?saved=intervention-ended", status_code=303)
