"""Places, designations, guardians and interventions: the contexts of harm and of safety."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app import policy
from app.db import repository
from app.db.resources import DESIGNATIONS, GUARDIANS, INTERVENTIONS, PLACES
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import Forbidden, InvalidInput
from app.query import BboxParam, DatetimeParam, PagingDep
from app.routers.features import (
    GeoJSONResponse,
    audit_write,
    collection,
    geojson_of,
    redact,
    validated_hours,
)
from app.schemas.domain import (
    DesignationCollection,
    DesignationCreate,
    DesignationFeature,
    DesignationPatch,
    GuardianCollection,
    GuardianCreate,
    GuardianFeature,
    GuardianPatch,
    InterventionCollection,
    InterventionCreate,
    InterventionFeature,
    InterventionPatch,
    PlaceCollection,
    PlaceCreate,
    PlaceFeature,
    PlacePatch,
)
from app.services.geometry import validated_geometry

router = APIRouter(prefix="/api", tags=["context"], default_response_class=GeoJSONResponse)
Kinds = Annotated[list[str] | None, Query(description="filter: one or more values")]


def _require_place(session: SessionDep, place_id: int | None, field: str = "place_id") -> None:
    if place_id is not None and not repository.place_exists(session, place_id):
        raise InvalidInput(f"{field}: no place {place_id} in your organisation", field=field)


# ---- places -------------------------------------------------------------------------------------------
@router.get("/places", response_model=PlaceCollection, response_model_exclude_none=False)
def list_places(
    request: Request,
    session: SessionDep,
    page: PagingDep,
    bbox: BboxParam = None,
    datetime: DatetimeParam = None,
    kind: Kinds = None,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return collection(
        request, session, PLACES, principal, page, bbox=bbox, datetime_param=datetime, equals={"kind": kind or []}
    )


@router.get("/places/{place_id}", response_model=PlaceFeature)
def get_place(place_id: int, session: SessionDep, principal: Principal = gate(policy.READ_CONTEXT)) -> dict[str, Any]:
    return redact(repository.get_feature(session, PLACES, place_id), principal)


@router.get("/places/{place_id}/designations", response_model=DesignationCollection)
def place_designation_history(
    place_id: int,
    request: Request,
    session: SessionDep,
    page: PagingDep,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    """The place's whole designation history, oldest first (current ones have ``current: true``)."""
    repository.get_feature(session, PLACES, place_id)
    return collection(request, session, DESIGNATIONS, principal, page, equals={"place_id": [place_id]})


@router.post("/places", response_model=PlaceFeature, status_code=201)
def create_place(
    body: PlaceCreate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> dict[str, Any]:
    geometry = validated_geometry(session, settings, geojson_of(body.geometry))
    values = body.properties.model_dump()
    values["opening_hours"] = validated_hours(values.get("opening_hours"), "properties.opening_hours")
    place_id = repository.insert(session, PLACES, principal.organisation_id, values, geometry)
    audit_write(session, principal, "place.create", f"place:{place_id}")
    response.headers["Location"] = f"/api/places/{place_id}"
    return repository.get_feature(session, PLACES, place_id)


@router.patch("/places/{place_id}", response_model=PlaceFeature)
def update_place(
    place_id: int,
    body: PlacePatch,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> dict[str, Any]:
    repository.get_feature(session, PLACES, place_id)
    geometry = validated_geometry(session, settings, geojson_of(body.geometry)) if body.geometry is not None else None
    values = body.properties.model_dump(exclude_unset=True) if body.properties else {}
    repository.refuse_nulls(PLACES, values, "properties.")
    if "opening_hours" in values:
        values["opening_hours"] = validated_hours(values["opening_hours"], "properties.opening_hours")
    repository.update(session, PLACES, place_id, values, geometry)
    audit_write(session, principal, "place.update", f"place:{place_id}", {"fields": sorted(values)})
    return repository.get_feature(session, PLACES, place_id)


@router.delete("/places/{place_id}", status_code=204)
def delete_place(place_id: int, session: SessionDep, principal: Principal = gate(policy.DELETE_PLACES)) -> None:
    repository.delete(session, PLACES, place_id)
    audit_write(session, principal, "place.delete", f"place:{place_id}")


# ---- designations -------------------------------------------------------------------------------------
def _may_designate(principal: Principal, kind: str) -> None:
    # Flagging or ending a place of concern is a community-safety judgement (role table).
    if kind == "concern" and not policy.FLAG_CONCERN.allows(principal.role):
        raise Forbidden(f"The {principal.role} role may not flag or end a place of concern.", field="kind")


@router.get("/designations", response_model=DesignationCollection)
def list_designations(
    request: Request,
    session: SessionDep,
    page: PagingDep,
    bbox: BboxParam = None,
    datetime: DatetimeParam = None,
    kind: Kinds = None,
    level: Kinds = None,
    place_id: Annotated[int | None, Query()] = None,
    current: Annotated[bool | None, Query(description="only designations valid now (or not)")] = None,
    review_overdue: Annotated[bool | None, Query(description="concerns past their review-by date")] = None,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    """Designations, with each one's history position (``current``) and ``review_overdue`` status."""
    return collection(
        request,
        session,
        DESIGNATIONS,
        principal,
        page,
        bbox=bbox,
        datetime_param=datetime,
        equals={
            "kind": kind or [],
            "level": level or [],
            "place_id": [place_id] if place_id is not None else [],
            "current": [current] if current is not None else [],
            "review_overdue": [review_overdue] if review_overdue is not None else [],
        },
    )


@router.get("/designations/{designation_id}", response_model=DesignationFeature)
def get_designation(
    designation_id: int,
    session: SessionDep,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return redact(repository.get_feature(session, DESIGNATIONS, designation_id), principal)


@router.post("/designations", response_model=DesignationFeature, status_code=201)
def create_designation(
    body: DesignationCreate,
    session: SessionDep,
    response: Response,
    principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> dict[str, Any]:
    _may_designate(principal, body.kind)
    _require_place(session, body.place_id)
    values = body.model_dump()
    designation_id = repository.insert(session, DESIGNATIONS, principal.organisation_id, values)
    audit_write(
        session,
        principal,
        "designation.create",
        f"designation:{designation_id}",
        {"kind": body.kind, "place_id": body.place_id},
    )
    response.headers["Location"] = f"/api/designations/{designation_id}"
    return repository.get_feature(session, DESIGNATIONS, designation_id)


@router.patch("/designations/{designation_id}", response_model=DesignationFeature)
def update_designation(
    designation_id: int,
    body: DesignationPatch,
    session: SessionDep,
    principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> dict[str, Any]:
    current = repository.get_feature(session, DESIGNATIONS, designation_id)["properties"]
    _may_designate(principal, current["kind"])
    values = body.model_dump(exclude_unset=True)
    repository.refuse_nulls(DESIGNATIONS, values)
    start = values.get("valid_from", current["valid_from"])
    end = values.get("valid_to", current["valid_to"])
    if end is not None and end <= start:
        raise InvalidInput("valid_to: the designation ends at or before it starts", field="valid_to")
    if current["kind"] == "concern":
        # A place of concern is a safeguarding judgement: it keeps its level and its reason.
        for name in ("level", "reason"):
            if name in values and not values[name]:
                raise InvalidInput(f"{name}: a place of concern must keep its {name}", field=name)
    repository.update(session, DESIGNATIONS, designation_id, values)
    audit_write(session, principal, "designation.update", f"designation:{designation_id}", {"fields": sorted(values)})
    return repository.get_feature(session, DESIGNATIONS, designation_id)


@router.delete("/designations/{designation_id}", status_code=204)
def delete_designation(
    designation_id: int,
    session: SessionDep,
    principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> None:
    current = repository.get_feature(session, DESIGNATIONS, designation_id)["properties"]
    _may_designate(principal, current["kind"])
    repository.delete(session, DESIGNATIONS, designation_id)
    audit_write(session, principal, "designation.delete", f"designation:{designation_id}")


# ---- guardians ----------------------------------------------------------------------------------------
@router.get("/guardians", response_model=GuardianCollection)
def list_guardians(
    request: Request,
    session: SessionDep,
    page: PagingDep,
    bbox: BboxParam = None,
    role: Kinds = None,
    place_id: Annotated[int | None, Query()] = None,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return collection(
        request,
        session,
        GUARDIANS,
        principal,
        page,
        bbox=bbox,
        equals={"role": role or [], "place_id": [place_id] if place_id is not None else []},
    )


@router.get("/guardians/{guardian_id}", response_model=GuardianFeature)
def get_guardian(
    guardian_id: int, session: SessionDep, principal: Principal = gate(policy.READ_CONTEXT)
) -> dict[str, Any]:
    return redact(repository.get_feature(session, GUARDIANS, guardian_id), principal)


@router.post("/guardians", response_model=GuardianFeature, status_code=201)
def create_guardian(
    body: GuardianCreate,
    session: SessionDep,
    response: Response,
    principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> dict[str, Any]:
    _require_place(session, body.place_id)
    values = body.model_dump(mode="json")
    values["hours"] = validated_hours(values.get("hours"), "hours")
    guardian_id = repository.insert(session, GUARDIANS, principal.organisation_id, values)
    audit_write(session, principal, "guardian.create", f"guardian:{guardian_id}")
    response.headers["Location"] = f"/api/guardians/{guardian_id}"
    return repository.get_feature(session, GUARDIANS, guardian_id)


@router.patch("/guardians/{guardian_id}", response_model=GuardianFeature)
def update_guardian(
    guardian_id: int,
    body: GuardianPatch,
    session: SessionDep,
    principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> dict[str, Any]:
    repository.get_feature(session, GUARDIANS, guardian_id)
    values = body.model_dump(mode="json", exclude_unset=True)
    repository.refuse_nulls(GUARDIANS, values)
    if "hours" in values:
        values["hours"] = validated_hours(values["hours"], "hours")
    repository.update(session, GUARDIANS, guardian_id, values)
    audit_write(session, principal, "guardian.update", f"guardian:{guardian_id}", {"fields": sorted(values)})
    return repository.get_feature(session, GUARDIANS, guardian_id)


@router.delete("/guardians/{guardian_id}", status_code=204)
def delete_guardian(
    guardian_id: int, session: SessionDep, principal: Principal = gate(policy.WRITE_SAFE_SPACES)
) -> None:
    repository.delete(session, GUARDIANS, guardian_id)
    audit_write(session, principal, "guardian.delete", f"guardian:{guardian_id}")


# ---- interventions ------------------------------------------------------------------------------------
@router.get("/interventions", response_model=InterventionCollection)
def list_interventions(
    request: Request,
    session: SessionDep,
    page: PagingDep,
    bbox: BboxParam = None,
    datetime: DatetimeParam = None,
    kind: Kinds = None,
    place_id: Annotated[int | None, Query()] = None,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return collection(
        request,
        session,
        INTERVENTIONS,
        principal,
        page,
        bbox=bbox,
        datetime_param=datetime,
        equals={"kind": kind or [], "place_id": [place_id] if place_id is not None else []},
    )


@router.get("/interventions/{intervention_id}", response_model=InterventionFeature)
def get_intervention(
    intervention_id: int,
    session: SessionDep,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return redact(repository.get_feature(session, INTERVENTIONS, intervention_id), principal)


_AREA_TYPES = frozenset({"Polygon", "MultiPolygon", "Point"})


@router.post("/interventions", response_model=InterventionFeature, status_code=201)
def create_intervention(
    body: InterventionCreate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    principal: Principal = gate(policy.WRITE_INTERVENTIONS),
) -> dict[str, Any]:
    _require_place(session, body.properties.place_id, "properties.place_id")
    geometry = (
        validated_geometry(session, settings, geojson_of(body.geometry), _AREA_TYPES)
        if body.geometry is not None
        else None
    )
    values = body.properties.model_dump()
    intervention_id = repository.insert(session, INTERVENTIONS, principal.organisation_id, values, geometry)
    audit_write(session, principal, "intervention.create", f"intervention:{intervention_id}")
    response.headers["Location"] = f"/api/interventions/{intervention_id}"
    return repository.get_feature(session, INTERVENTIONS, intervention_id)


@router.patch("/interventions/{intervention_id}", response_model=InterventionFeature)
def update_intervention(
    intervention_id: int,
    body: InterventionPatch,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = gate(policy.WRITE_INTERVENTIONS),
) -> dict[str, Any]:
    current = repository.get_feature(session, INTERVENTIONS, intervention_id)["properties"]
    values = body.properties.model_dump(exclude_unset=True) if body.properties else {}
    repository.refuse_nulls(INTERVENTIONS, values, "properties.")
    _require_place(session, values.get("place_id"), "properties.place_id")
    starts, ends = values.get("starts_on", current["starts_on"]), values.get("ends_on", current["ends_on"])
    if ends is not None and ends < starts:
        raise InvalidInput("properties.ends_on: the intervention ends before it starts", field="properties.ends_on")
    geometry = (
        validated_geometry(session, settings, geojson_of(body.geometry), _AREA_TYPES)
        if body.geometry is not None
        else None
    )
    repository.update(session, INTERVENTIONS, intervention_id, values, geometry)
    audit_write(
        session, principal, "intervention.update", f"intervention:{intervention_id}", {"fields": sorted(values)}
    )
    return repository.get_feature(session, INTERVENTIONS, intervention_id)


@router.delete("/interventions/{intervention_id}", status_code=204)
def delete_intervention(
    intervention_id: int,
    session: SessionDep,
    principal: Principal = gate(policy.WRITE_INTERVENTIONS),
) -> None:
    repository.delete(session, INTERVENTIONS, intervention_id)
    audit_write(session, principal, "intervention.delete", f"intervention:{intervention_id}")
