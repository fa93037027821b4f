"""The forms of the places pages: add or change a place (with a map point picker, coordinates or a
National Grid reference), designate a place of concern or a safe space, end a designation, add, change or
remove a guardian, record a location assessment with its outcome goals.

Every form posts back to its own address and, on success, redirects to the place page with a banner
(POST → redirect → GET). Each write is the JSON API's write use case (app.services.records) with the API's
request schemas, in a savepoint: when anything is wrong the form comes back with the GOV.UK error summary
and nothing is written, audit record included. The role gates are the API's (app.policy); forms carry the
session's CSRF token in their action (checked by app.dependencies for every cookie-authenticated write).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pyproj import Transformer

from app import policy
from app.db import place_pages, repository
from app.db.resources import DESIGNATIONS, GUARDIANS, PLACES
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import Forbidden, NotFound
from app.schemas.assessments import ASSESSMENT_METHODS, GOAL_MEASURES, RATINGS, AssessmentCreate
from app.schemas.domain import (
    DesignationCreate,
    DesignationPatch,
    GuardianCreate,
    GuardianPatch,
    PlaceCreate,
    PlacePatch,
)
from app.services import records
from app.web.areas import posted_area
from app.web.forms import FormErrors, Posted, PostedForm, build, check, date_items, parse_date, written
from app.web.maps.background import small_map
from app.web.shell import page
from geo.os_grid import GridReferenceError, grid_reference_to_bng
from geo.point_list import polygon_to_point_list
from geo.vocabulary import CONCERN_LEVELS, GUARDIAN_ROLES, PLACE_KINDS, TRAINING_KINDS

router = APIRouter(tags=["web"], include_in_schema=False)
_BNG_TO_LONLAT = Transformer.from_crs(27700, 4326, always_xy=True)


def _done(session: SessionDep, place_id: int, saved: str) -> RedirectResponse:
    # Commit before answering: FastAPI (0.121+) closes a yield dependency - and so commits the request's
    # transaction - only after the response is sent, and the browser follows the redirect at once, so the
    # page it asks for could otherwise be read before the change is committed.
    session.commit()
    return RedirectResponse(f"/places/{place_id}?saved={saved}", status_code=303)


def _place(session: SessionDep, place_id: int) -> dict[str, Any]:
    return repository.get_feature(session, PLACES, place_id)


def _crumbs(place: dict[str, Any] | None) -> list[tuple[str, str]]:
    crumbs = [("Home", "/"), ("Places", "/places")]
    if place is not None:
        crumbs.append((place["properties"]["name"], f"/places/{place['id']}"))
    return crumbs


def _form(request: Request, template: str, principal: Principal, session: SessionDep, *, title: str,
          place: dict[str, Any] | None, errors: FormErrors, order: list[str], **context: Any) -> HTMLResponse:
    return page(request, template, principal=principal, session=session, title=title, breadcrumbs=_crumbs(place),
                place=place, errors=errors, error_summary=errors.summary(order) if errors else None,
                status_code=422 if errors else 200, **context)


# ---- places -------------------------------------------------------------------------------------------
PLACE_FIELDS = {"name": "name", "kind": "kind", "address": "address", "opening_hours": "opening_hours",
                "place_manager": "place_manager", "notes": "notes", "geometry": "lon", "coordinates": "lon"}
PLACE_ORDER = ["name", "kind", "address", "opening_hours", "place_manager", "notes", "shape", "lon", "lat",
               "grid_reference", "outline_points", "outline", "form"]
OUTLINE_REQUIRED = "Draw the outline on the map, type its corners, or paste it as GeoJSON"


def _fields(posted: Posted) -> dict[str, str]:
    """Where the write path's geometry errors go: the outline's box for an area, else the longitude."""
    if posted.get("shape") != "area":
        return PLACE_FIELDS
    box = "outline_points" if posted.get("outline_points") else "outline"
    return {**PLACE_FIELDS, "geometry": box, "coordinates": box}


def _outline(posted: Posted, errors: FormErrors, settings: Any, *, required: bool) -> dict[str, Any] | None:
    area = posted_area(posted, errors, settings.geometry_limits, geojson_field="outline",
                       points_field="outline_points")
    if area is None and required and "outline" not in errors.messages and "outline_points" not in errors.messages:
        errors.add("outline_points", OUTLINE_REQUIRED)
    return area


def _point(posted: Posted, errors: FormErrors, required: bool) -> dict[str, Any] | None:
    """The place's point: a National Grid reference if one is given, else longitude and latitude."""
    reference = posted.get("grid_reference")
    if reference:
        try:
            easting, northing = grid_reference_to_bng(reference)
        except GridReferenceError as exc:
            errors.add("grid_reference", f"{str(exc)[:1].upper()}{str(exc)[1:]}")
            return None
        lon, lat = _BNG_TO_LONLAT.transform(easting, northing)
        return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}
    lon_text, lat_text = posted.get("lon"), posted.get("lat")
    if not lon_text and not lat_text:
        if required:
            errors.add("lon", "Choose the place on the map, or enter its longitude and latitude or a grid reference")
        return None
    try:
        lon, lat = float(lon_text), float(lat_text)
    except ValueError:
        errors.add("lon" if not _is_number(lon_text) else "lat", "Longitude and latitude must be numbers, like -0.4123")
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _place_form(request: Request, principal: Principal, session: SessionDep, settings: Any, *,
                place: dict[str, Any] | None, values: dict[str, Any], errors: FormErrors) -> HTMLResponse:
    centre = place_pages.service_area_centre(session) or (-0.12, 51.5)
    return _form(request, "places/place_form.html", principal, session,
                 title="Change the place's details" if place else "Add a place", place=place, errors=errors,
                 order=PLACE_ORDER, values=values, place_kinds=PLACE_KINDS,
                 map=small_map(session, settings),
                 centre={"lon": centre[0], "lat": centre[1]}, max_points=settings.geometry_limits.max_vertices - 1,
                 action=f"/places/{place['id']}/edit" if place else "/places/new")


def _stored_values(session: SessionDep, place: dict[str, Any]) -> dict[str, Any]:
    point = place_pages.place_point(session, place["id"])
    props = place["properties"]
    geometry = place["geometry"]
    is_point = geometry["type"] == "Point"
    points = None if is_point else polygon_to_point_list(geometry)
    return {**{k: props.get(k) or "" for k in ("name", "kind", "address", "opening_hours", "place_manager", "notes")},
            "lon": f"{point[0]:.6f}" if point else "", "lat": f"{point[1]:.6f}" if point else "", "grid_reference": "",
            "is_point": is_point, "shape": "point" if is_point else "area", "outline_points": points or "",
            "outline": "" if is_point or points else json.dumps(geometry),
            "current_outline": "" if is_point else json.dumps(geometry)}


def _posted_place(posted: Posted) -> dict[str, Any]:
    return {k: posted.get(k) for k in ("name", "kind", "address", "opening_hours", "place_manager", "notes",
                                       "lon", "lat", "grid_reference", "shape", "outline_points", "outline")}


@router.get("/places/new", response_class=HTMLResponse)
def new_place(request: Request, session: SessionDep, settings: SettingsDep,
              principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    return _place_form(request, principal, session, settings, place=None, values={"is_point": True, "shape": "point"},
                       errors=FormErrors())


@router.post("/places/new", response_class=HTMLResponse)
def add_place(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
              principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> Response:
    errors = FormErrors()
    if posted.get("shape") == "area":
        geometry = _outline(posted, errors, settings, required=True)
    else:
        geometry = _point(posted, errors, required=True)
    properties = {k: posted.optional(k) for k in ("name", "kind", "address", "opening_hours", "place_manager", "notes")}
    if not properties["name"]:
        errors.add("name", "Enter the place's name")
    if not properties["kind"]:
        errors.add("kind", "Choose what kind of place it is")
    fields = _fields(posted)
    check(errors, fields, lambda: records.validated_hours(properties["opening_hours"], "opening_hours"))
    body = None if errors else build(errors, fields, lambda: PlaceCreate.model_validate(
        {"type": "Feature", "geometry": geometry, "properties": properties}))
    created: dict[str, Any] = {}
    if body is not None:
        with written(session, errors, fields):
            created = records.create(session, settings, principal, records.PLACE, body)
    if errors or not created:
        return _place_form(request, principal, session, settings, place=None,
                           values={**_posted_place(posted), "is_point": True}, errors=errors)
    return _done(session, int(created["id"]), "place-added")


@router.get("/places/{place_id}/edit", response_class=HTMLResponse)
def edit_place_form(place_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                    principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    place = _place(session, place_id)
    return _place_form(request, principal, session, settings, place=place, values=_stored_values(session, place),
                       errors=FormErrors())


@router.post("/places/{place_id}/edit", response_class=HTMLResponse)
def edit_place(place_id: int, request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
               principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> Response:
    place = _place(session, place_id)
    stored = _stored_values(session, place)
    errors = FormErrors()
    if posted.get("shape") == "area":
        # An area keeps its outline when every box is emptied; a point becoming an area needs one.
        geometry = _outline(posted, errors, settings, required=stored["is_point"])
    else:
        moved = posted.get("grid_reference") or not stored["is_point"] or (
            (posted.get("lon"), posted.get("lat")) != (stored["lon"], stored["lat"]))
        geometry = _point(posted, errors, required=not stored["is_point"]) if moved else None
    properties: dict[str, Any] = {k: posted.optional(k) for k in ("address", "opening_hours", "place_manager", "notes")}
    for required, message in (("name", "Enter the place's name"), ("kind", "Choose what kind of place it is")):
        properties[required] = posted.optional(required)
        if not properties[required]:
            errors.add(required, message)
    fields = _fields(posted)
    check(errors, fields, lambda: records.validated_hours(properties["opening_hours"], "opening_hours"))
    body = None if errors else build(errors, fields, lambda: PlacePatch.model_validate(
        {"type": "Feature", "geometry": geometry, "properties": properties}))
    done = False
    if body is not None:
        with written(session, errors, fields):
            records.update(session, settings, principal, records.PLACE, place_id, body)
            done = True
    if errors or not done:
        return _place_form(request, principal, session, settings, place=place,
                           values={**_posted_place(posted), "is_point": stored["is_point"],
                                   "current_outline": stored["current_outline"]}, errors=errors)
    return _done(session, place_id, "place-updated")


# ---- designations -------------------------------------------------------------------------------------
DESIGNATION_FIELDS = {"level": "level", "reason": "reason", "review_by": "review_by", "scheme": "scheme",
                      "age_min": "age_min", "age_max": "age_max", "help_offered": "help_offered",
                      "accessibility": "accessibility", "verified_on": "verified_on", "valid_from": "form",
                      "kind": "form"}
DESIGNATION_ORDER = ["level", "reason", "review_by", "scheme", "age_min", "age_max", "help_offered",
                     "accessibility", "verified_on", "form"]


def _designation_kind(kind: str | None, principal: Principal) -> str:
    if kind not in ("concern", "safe_space"):
        raise NotFound("choose a place of concern or a safe space")
    if kind == "concern" and not policy.FLAG_CONCERN.allows(principal.role):
        raise Forbidden(f"The {principal.role.replace('_', ' ')} role may not flag a place of concern.")
    return kind


def _designation_form(request: Request, principal: Principal, session: SessionDep, place: dict[str, Any],
                      kind: str, posted: Posted | None, errors: FormErrors) -> HTMLResponse:
    title = "Flag as a place of concern" if kind == "concern" else "Record as a safe space"
    return _form(request, "places/designation_form.html", principal, session, title=title, place=place,
                 errors=errors, order=DESIGNATION_ORDER, kind=kind, levels=CONCERN_LEVELS,
                 values={k: posted.get(k) for k in ("level", "reason", "scheme", "age_min", "age_max",
                                                     "help_offered", "accessibility")} if posted else {},
                 review_by=date_items(posted, "review_by"), verified_on=date_items(posted, "verified_on"))


@router.get("/places/{place_id}/designate", response_class=HTMLResponse)
def designate_form(place_id: int, request: Request, session: SessionDep, kind: str = "",
                   principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    return _designation_form(request, principal, session, _place(session, place_id),
                             _designation_kind(kind, principal), None, FormErrors())


def _age(posted: Posted, name: str, errors: FormErrors) -> int | None:
    text = posted.get(name)
    if not text:
        return None
    if not text.isdigit() or int(text) > 25:
        errors.add(name, "Enter an age from 0 to 25, in whole years")
        return None
    return int(text)


@router.post("/places/{place_id}/designate", response_class=HTMLResponse)
def designate(place_id: int, request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
              kind: str = "", principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> Response:
    place = _place(session, place_id)
    kind = _designation_kind(kind, principal)
    errors = FormErrors()
    values: dict[str, Any] = {"place_id": place_id, "kind": kind, "valid_from": datetime.now(UTC)}
    if kind == "concern":
        values["level"] = posted.optional("level")
        values["reason"] = posted.optional("reason")
        if values["level"] not in CONCERN_LEVELS:
            errors.add("level", "Choose the level of concern")
        if not values["reason"]:
            errors.add("reason", "Say why this is a place of concern")
        review = parse_date(posted, "review_by", errors, "review date", required=True)
        # A review date in the past would make the concern overdue the moment it is recorded (issue 13).
        if review is not None and review < date.today():
            errors.add("review_by", "The review date must be today or in the future")
        values["review_by"] = review
    else:
        values.update(scheme=posted.optional("scheme"), accessibility=posted.optional("accessibility"),
                      help_offered=posted.lines("help_offered"), age_min=_age(posted, "age_min", errors),
                      age_max=_age(posted, "age_max", errors))
        verified = parse_date(posted, "verified_on", errors, "date it was verified")
        if verified is not None and verified > date.today():
            errors.add("verified_on", "The date it was verified must be today or in the past")
        values["verified_on"] = verified
    body = None if errors else build(errors, DESIGNATION_FIELDS, lambda: DesignationCreate.model_validate(values))
    done = False
    if body is not None:
        with written(session, errors, DESIGNATION_FIELDS):
            records.create(session, settings, principal, records.DESIGNATION, body)
            done = True
    if errors or not done:
        return _designation_form(request, principal, session, place, kind, posted, errors)
    return _done(session, place_id, kind)


def _designation(session: SessionDep, place_id: int, designation_id: int) -> dict[str, Any]:
    designation = repository.get_feature(session, DESIGNATIONS, designation_id)
    if designation["properties"]["place_id"] != place_id:
        raise NotFound(f"no designation {designation_id} at place {place_id}")
    return designation


@router.get("/places/{place_id}/designations/{designation_id}/end", response_class=HTMLResponse)
def end_designation_form(place_id: int, designation_id: int, request: Request, session: SessionDep,
                         principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    designation = _designation(session, place_id, designation_id)
    if designation["properties"]["kind"] == "concern":
        _designation_kind("concern", principal)
    return _form(request, "places/end_designation.html", principal, session, title="End this designation",
                 place=_place(session, place_id), errors=FormErrors(), order=[], designation=designation)


@router.post("/places/{place_id}/designations/{designation_id}/end", response_class=HTMLResponse)
def end_designation(place_id: int, designation_id: int, request: Request, session: SessionDep,
                    settings: SettingsDep, principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> Response:
    designation = _designation(session, place_id, designation_id)
    errors = FormErrors()
    done = False
    with written(session, errors, {"valid_to": "form"}):
        records.update(session, settings, principal, records.DESIGNATION, designation_id,
                       DesignationPatch(valid_to=datetime.now(UTC)))
        done = True
    if errors or not done:
        return _form(request, "places/end_designation.html", principal, session, title="End this designation",
                     place=_place(session, place_id), errors=errors, order=["form"], designation=designation)
    return _done(session, place_id, "designation-ended")


# ---- guardians ----------------------------------------------------------------------------------------
GUARDIAN_FIELDS = {"role": "role", "description": "description", "hours": "hours", "notes": "notes",
                   "trainings": f"training-{TRAINING_KINDS[0]}", "completed_on": f"training-{TRAINING_KINDS[0]}"}
GUARDIAN_ORDER = ["role", "description", "hours", *(f"training-{k}" for k in TRAINING_KINDS), "notes", "form"]


def _guardian(session: SessionDep, place_id: int, guardian_id: int) -> dict[str, Any]:
    guardian = repository.get_feature(session, GUARDIANS, guardian_id)
    if guardian["properties"]["place_id"] != place_id:
        raise NotFound(f"no guardian {guardian_id} at place {place_id}")
    return guardian


def _guardian_form(request: Request, principal: Principal, session: SessionDep, place: dict[str, Any], *,
                   guardian: dict[str, Any] | None, posted: Posted | None, errors: FormErrors) -> HTMLResponse:
    stored = guardian["properties"] if guardian else {}
    done_on = {t["kind"]: date.fromisoformat(str(t["completed_on"])[:10]) for t in stored.get("trainings") or []}
    values = ({k: posted.get(k) for k in ("role", "description", "hours", "notes")} if posted else
              {k: stored.get(k) or "" for k in ("role", "description", "hours", "notes")})
    trainings = [{"kind": k, "items": date_items(posted, f"training-{k}", done_on.get(k))} for k in TRAINING_KINDS]
    action = (f"/places/{place['id']}/guardians/{guardian['id']}/edit" if guardian
              else f"/places/{place['id']}/guardians/new")
    return _form(request, "places/guardian_form.html", principal, session,
                 title="Change a guardian" if guardian else "Add a guardian", place=place, errors=errors,
                 order=GUARDIAN_ORDER, values=values, roles=GUARDIAN_ROLES, trainings=trainings, action=action)


def _guardian_values(posted: Posted, errors: FormErrors) -> dict[str, Any]:
    trainings = []
    for kind in TRAINING_KINDS:
        completed = parse_date(posted, f"training-{kind}", errors, f"date of the {kind.replace('_', ' ')} training")
        if completed is not None:
            if completed > date.today():
                errors.add(f"training-{kind}", "A training date must be today or in the past")
            trainings.append({"kind": kind, "completed_on": completed})
    if posted.get("role") not in GUARDIAN_ROLES:
        errors.add("role", "Choose the guardian's role")
    check(errors, GUARDIAN_FIELDS, lambda: records.validated_hours(posted.optional("hours"), "hours"))
    return {"role": posted.optional("role"), "description": posted.optional("description"),
            "hours": posted.optional("hours"), "notes": posted.optional("notes"), "trainings": trainings}


@router.get("/places/{place_id}/guardians/new", response_class=HTMLResponse)
def new_guardian(place_id: int, request: Request, session: SessionDep,
                 principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    return _guardian_form(request, principal, session, _place(session, place_id), guardian=None, posted=None,
                          errors=FormErrors())


@router.post("/places/{place_id}/guardians/new", response_class=HTMLResponse)
def add_guardian(place_id: int, request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
                 principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> Response:
    place = _place(session, place_id)
    errors = FormErrors()
    values = _guardian_values(posted, errors)
    body = None if errors else build(errors, GUARDIAN_FIELDS,
                                     lambda: GuardianCreate.model_validate({**values, "place_id": place_id}))
    done = False
    if body is not None:
        with written(session, errors, GUARDIAN_FIELDS):
            records.create(session, settings, principal, records.GUARDIAN, body)
            done = True
    if errors or not done:
        return _guardian_form(request, principal, session, place, guardian=None, posted=posted, errors=errors)
    return _done(session, place_id, "guardian-added")


@router.get("/places/{place_id}/guardians/{guardian_id}/edit", response_class=HTMLResponse)
def edit_guardian_form(place_id: int, guardian_id: int, request: Request, session: SessionDep,
                       principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    return _guardian_form(request, principal, session, _place(session, place_id),
                          guardian=_guardian(session, place_id, guardian_id), posted=None, errors=FormErrors())


@router.post("/places/{place_id}/guardians/{guardian_id}/edit", response_class=HTMLResponse)
def edit_guardian(place_id: int, guardian_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                  posted: PostedForm, principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> Response:
    place = _place(session, place_id)
    guardian = _guardian(session, place_id, guardian_id)
    errors = FormErrors()
    values = _guardian_values(posted, errors)
    body = None if errors else build(errors, GUARDIAN_FIELDS, lambda: GuardianPatch.model_validate(values))
    done = False
    if body is not None:
        with written(session, errors, GUARDIAN_FIELDS):
            records.update(session, settings, principal, records.GUARDIAN, guardian_id, body)
            done = True
    if errors or not done:
        return _guardian_form(request, principal, session, place, guardian=guardian, posted=posted, errors=errors)
    return _done(session, place_id, "guardian-updated")


@router.get("/places/{place_id}/guardians/{guardian_id}/remove", response_class=HTMLResponse)
def remove_guardian_form(place_id: int, guardian_id: int, request: Request, session: SessionDep,
                         principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    return _form(request, "places/remove_guardian.html", principal, session, title="Remove a guardian",
                 place=_place(session, place_id), errors=FormErrors(), order=[],
                 guardian=_guardian(session, place_id, guardian_id))


@router.post("/places/{place_id}/guardians/{guardian_id}/remove", response_class=HTMLResponse)
def remove_guardian(place_id: int, guardian_id: int, session: SessionDep,
                    principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> Response:
    _guardian(session, place_id, guardian_id)
    records.delete(session, principal, records.GUARDIAN, guardian_id)
    return _done(session, place_id, "guardian-removed")


# ---- assessments --------------------------------------------------------------------------------------
SIDES = (("young_people", "Young people's strengths and needs"), ("guardianship", "Guardianship"),
         ("environment", "Environment, resources and policy"))
ASSESSMENT_FIELDS = {"assessed_on": "assessed_on", "review_on": "review_on", "methods": "methods",
                     "context_weighting": "context_weighting", "recommended_responses": "recommended_responses",
                     "goals": "goal_statement", "statement": "goal_statement", "measure": "goal_measure",
                     "observations": "goal_followup_on", "baseline": "goal_baseline_on", "notes": "notes",
                     **{side: f"{side}_rating" for side, _ in SIDES}, "rating": "young_people_rating"}
ASSESSMENT_ORDER = ["assessed_on", *(f"{s}_{p}" for s, _ in SIDES for p in ("rating", "notes")), "methods",
                    "context_weighting", "recommended_responses", "review_on", "goal_statement", "goal_measure",
                    "goal_baseline_value", "goal_baseline_on", "goal_followup_value", "goal_followup_on", "form"]


def _assessment_form(request: Request, principal: Principal, session: SessionDep, place: dict[str, Any],
                     posted: Posted | None, errors: FormErrors) -> HTMLResponse:
    text = ("context_weighting", "recommended_responses", "notes", "goal_statement", "goal_measure",
            "goal_baseline_value", "goal_followup_value",
            *(f"{s}_{p}" for s, _ in SIDES for p in ("rating", "notes")))
    return _form(request, "places/assessment_form.html", principal, session, title="Record a location assessment",
                 place=place, errors=errors, order=ASSESSMENT_ORDER,
                 values={k: posted.get(k) for k in text} if posted else {},
                 chosen_methods=posted.all("methods") if posted else [], sides=SIDES, ratings=RATINGS,
                 methods=ASSESSMENT_METHODS, measures=GOAL_MEASURES,
                 dates={name: date_items(posted, name, date.today() if name == "assessed_on" and not posted else None)
                        for name in ("assessed_on", "review_on", "goal_baseline_on", "goal_followup_on")})


def _number(posted: Posted, name: str, errors: FormErrors, message: str) -> float | None:
    text = posted.get(name)
    if not text:
        return None
    if not _is_number(text):
        errors.add(name, message)
        return None
    return float(text)


@router.get("/places/{place_id}/assessments/new", response_class=HTMLResponse)
def new_assessment(place_id: int, request: Request, session: SessionDep,
                   principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    return _assessment_form(request, principal, session, _place(session, place_id), None, FormErrors())


@router.post("/places/{place_id}/assessments/new", response_class=HTMLResponse)
def add_assessment(place_id: int, request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
                   principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> Response:
    place = _place(session, place_id)
    errors = FormErrors()
    values: dict[str, Any] = {"place_id": place_id,
                              "assessed_on": parse_date(posted, "assessed_on", errors, "date of the assessment",
                                                        required=True),
                              "review_on": parse_date(posted, "review_on", errors, "review date"),
                              "methods": posted.all("methods"), "recommended_responses": posted.lines(
                                  "recommended_responses"), "notes": posted.optional("notes")}
    for side, label in SIDES:
        if posted.get(f"{side}_rating") not in RATINGS:
            errors.add(f"{side}_rating", f"Rate {label[:1].lower()}{label[1:]} red, amber or green")
        values[side] = {"rating": posted.get(f"{side}_rating"), "notes": posted.optional(f"{side}_notes")}
    weighting = posted.get("context_weighting")
    if weighting and not weighting.isdigit():
        errors.add("context_weighting", "The context weighting is a whole number; 1 weighs most")
    values["context_weighting"] = int(weighting) if weighting.isdigit() else None
    statement = posted.optional("goal_statement")
    baseline_on = parse_date(posted, "goal_baseline_on", errors, "date of the baseline")
    followup_on = parse_date(posted, "goal_followup_on", errors, "date of the follow-up observation")
    baseline = _number(posted, "goal_baseline_value", errors, "The baseline is a number, like 12")
    followup = _number(posted, "goal_followup_value", errors, "The follow-up value is a number, like 4")
    goals = []
    if statement:
        if posted.get("goal_measure") not in GOAL_MEASURES:
            errors.add("goal_measure", "Say whether the goal measures change in the place or effort made")
        if baseline is not None and baseline_on is None:
            errors.add("goal_baseline_on", "Enter the date of the baseline")
        if followup is not None and followup_on is None:
            errors.add("goal_followup_on", "Enter the date of the follow-up observation")
        goals.append({"statement": statement, "measure": posted.get("goal_measure"),
                      "baseline": {"observed_on": baseline_on, "value": baseline} if baseline_on else None,
                      "observations": [{"observed_on": followup_on, "value": followup}] if followup_on else []})
    elif any(posted.get(n) for n in ("goal_baseline_value", "goal_followup_value", "goal_measure")) or baseline_on \
            or followup_on:
        errors.add("goal_statement", "Describe the outcome goal, or leave the goal's fields empty")
    values["goals"] = goals
    body = None if errors else build(errors, ASSESSMENT_FIELDS, lambda: AssessmentCreate.model_validate(values))
    done = False
    if body is not None:
        with written(session, errors, ASSESSMENT_FIELDS):
            records.create(session, settings, principal, records.ASSESSMENT, body)
            done = True
    if errors or not done:
        return _assessment_form(request, principal, session, place, posted, errors)
    return _done(session, place_id, "assessment")
