"""Places, designations, guardians and interventions: the contexts of harm and of safety."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app import policy
from app.api.features import GeoJSONResponse, collection, created
from app.api.parameters import BboxParam, DatetimeParam, PagingDep
from app.db import repository
from app.db.resources import DESIGNATIONS, GUARDIANS, INTERVENTIONS, PLACES
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
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
from app.services import records

router = APIRouter(prefix="/api", tags=["context"], default_response_class=GeoJSONResponse)
Kinds = Annotated[list[str] | None, Query(description="filter: one or more values")]


# ---- places -------------------------------------------------------------------------------------------
@router.get("/places", response_model=PlaceCollection, response_model_exclude_none=False)
def list_places(
    request: Request,
    session: SessionDep,
    disclosure: ReaderDisclosure,
    page: PagingDep,
    bbox: BboxParam = None,
    datetime: DatetimeParam = None,
    kind: Kinds = None,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return collection(
        request, session, PLACES, disclosure, page, bbox=bbox, datetime_param=datetime, equals={"kind": kind or []}
    )


@router.get("/places/{place_id}", response_model=PlaceFeature)
def get_place(
    place_id: int, session: SessionDep, disclosure: ReaderDisclosure, principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return disclosure.redact_feature(repository.get_feature(session, PLACES, place_id))


@router.get("/places/{place_id}/designations", response_model=DesignationCollection)
def place_designation_history(
    place_id: int,
    request: Request,
    session: SessionDep,
    disclosure: ReaderDisclosure,
    page: PagingDep,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    """The place's whole designation history, oldest first (current ones have ``current: true``)."""
    repository.get_feature(session, PLACES, place_id)
    return collection(request, session, DESIGNATIONS, disclosure, page, equals={"place_id": [place_id]})


@router.post("/places", response_model=PlaceFeature, status_code=201)
def create_place(
    body: PlaceCreate, session: SessionDep, settings: SettingsDep, response: Response,
    principal: Principal = gate(records.PLACE.create_gate),
) -> dict[str, Any]:
    return created(response, "/api/places", records.create(session, settings, principal, records.PLACE, body))


@router.patch("/places/{place_id}", response_model=PlaceFeature)
def update_place(
    place_id: int, body: PlacePatch, session: SessionDep, settings: SettingsDep,
    principal: Principal = gate(records.PLACE.update_gate),
) -> dict[str, Any]:
    return records.update(session, settings, principal, records.PLACE, place_id, body)


@router.delete("/places/{place_id}", status_code=204)
def delete_place(place_id: int, session: SessionDep, principal: Principal = gate(records.PLACE.delete_gate)) -> None:
    records.delete(session, principal, records.PLACE, place_id)


# ---- designations -------------------------------------------------------------------------------------
@router.get("/designations", response_model=DesignationCollection)
def list_designations(
    request: Request,
    session: SessionDep,
    disclosure: ReaderDisclosure,
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
        disclosure,
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
    disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return disclosure.redact_feature(repository.get_feature(session, DESIGNATIONS, designation_id))


@router.post("/designations", response_model=DesignationFeature, status_code=201)
def create_designation(
    body: DesignationCreate, session: SessionDep, settings: SettingsDep, response: Response,
    principal: Principal = gate(records.DESIGNATION.create_gate),
) -> dict[str, Any]:
    feature = records.create(session, settings, principal, records.DESIGNATION, body)
    return created(response, "/api/designations", feature)


@router.patch("/designations/{designation_id}", response_model=DesignationFeature)
def update_designation(
    designation_id: int, body: DesignationPatch, session: SessionDep, settings: SettingsDep,
    principal: Principal = gate(records.DESIGNATION.update_gate),
) -> dict[str, Any]:
    return records.update(session, settings, principal, records.DESIGNATION, designation_id, body)


@router.delete("/designations/{designation_id}", status_code=204)
def delete_designation(
    designation_id: int, session: SessionDep, principal: Principal = gate(records.DESIGNATION.delete_gate),
) -> None:
    records.delete(session, principal, records.DESIGNATION, designation_id)


# ---- guardians ----------------------------------------------------------------------------------------
@router.get("/guardians", response_model=GuardianCollection)
def list_guardians(
    request: Request,
    session: SessionDep,
    disclosure: ReaderDisclosure,
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
        disclosure,
        page,
        bbox=bbox,
        equals={"role": role or [], "place_id": [place_id] if place_id is not None else []},
    )


@router.get("/guardians/{guardian_id}", response_model=GuardianFeature)
def get_guardian(
    guardian_id: int, session: SessionDep, disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return disclosure.redact_feature(repository.get_feature(session, GUARDIANS, guardian_id))


@router.post("/guardians", response_model=GuardianFeature, status_code=201)
def create_guardian(
    body: GuardianCreate, session: SessionDep, settings: SettingsDep, response: Response,
    principal: Principal = gate(records.GUARDIAN.create_gate),
) -> dict[str, Any]:
    return created(response, "/api/guardians", records.create(session, settings, principal, records.GUARDIAN, body))


@router.patch("/guardians/{guardian_id}", response_model=GuardianFeature)
def update_guardian(
    guardian_id: int, body: GuardianPatch, session: SessionDep, settings: SettingsDep,
    principal: Principal = gate(records.GUARDIAN.update_gate),
) -> dict[str, Any]:
    return records.update(session, settings, principal, records.GUARDIAN, guardian_id, body)


@router.delete("/guardians/{guardian_id}", status_code=204)
def delete_guardian(
    guardian_id: int, session: SessionDep, principal: Principal = gate(records.GUARDIAN.delete_gate),
) -> None:
    records.delete(session, principal, records.GUARDIAN, guardian_id)


# ---- interventions ------------------------------------------------------------------------------------
@router.get("/interventions", response_model=InterventionCollection)
def list_interventions(
    request: Request,
    session: SessionDep,
    disclosure: ReaderDisclosure,
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
        disclosure,
        page,
        bbox=bbox,
        datetime_param=datetime,
        equals={"kind": kind or [], "place_id": [place_id] if place_id is not None else []},
    )


@router.get("/interventions/{intervention_id}", response_model=InterventionFeature)
def get_intervention(
    intervention_id: int,
    session: SessionDep,
    disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return disclosure.redact_feature(repository.get_feature(session, INTERVENTIONS, intervention_id))


@router.post("/interventions", response_model=InterventionFeature, status_code=201)
def create_intervention(
    body: InterventionCreate, session: SessionDep, settings: SettingsDep, response: Response,
    principal: Principal = gate(records.INTERVENTION.create_gate),
) -> dict[str, Any]:
    feature = records.create(session, settings, principal, records.INTERVENTION, body)
    return created(response, "/api/interventions", feature)


@router.patch("/interventions/{intervention_id}", response_model=InterventionFeature)
def update_intervention(
    intervention_id: int, body: InterventionPatch, session: SessionDep, settings: SettingsDep,
    principal: Principal = gate(records.INTERVENTION.update_gate),
) -> dict[str, Any]:
    return records.update(session, settings, principal, records.INTERVENTION, intervention_id, body)


@router.delete("/interventions/{intervention_id}", status_code=204)
def delete_intervention(
    intervention_id: int, session: SessionDep, principal: Principal = gate(records.INTERVENTION.delete_gate),
) -> None:
    records.delete(session, principal, records.INTERVENTION, intervention_id)
