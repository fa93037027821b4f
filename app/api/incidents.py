"""Incidents: individual records of harm. Never shown to the panel; every read is audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app import policy
from app.api.features import GeoJSONResponse, audit_write, collection, created
from app.api.parameters import BboxParam, DatetimeParam, PagingDep
from app.db import repository
from app.db.resources import INCIDENTS
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.schemas.domain import IncidentCollection, IncidentCreate, IncidentFeature, IncidentPatch
from app.services import records

router = APIRouter(prefix="/api", tags=["incidents"], default_response_class=GeoJSONResponse)
Values = Annotated[list[str] | None, Query(description="filter: one or more values")]


@router.get("/incidents", response_model=IncidentCollection)
def list_incidents(
    request: Request,
    session: SessionDep,
    disclosure: ReaderDisclosure,
    page: PagingDep,
    bbox: BboxParam = None,
    datetime: DatetimeParam = None,
    harm_category: Values = None,
    source: Values = None,
    place_id: Annotated[int | None, Query()] = None,
    principal: Principal = gate(policy.READ_INCIDENTS),
) -> dict[str, Any]:
    result = collection(
        request,
        session,
        INCIDENTS,
        disclosure,
        page,
        bbox=bbox,
        datetime_param=datetime,
        equals={
            "harm_category": harm_category or [],
            "source": source or [],
            "place_id": [place_id] if place_id is not None else [],
        },
    )
    audit_write(
        session,
        principal,
        "incident.list",
        "incidents",
        {"returned": result["numberReturned"], "query": str(request.url.query)},
    )
    return result


@router.get("/incidents/{incident_id}", response_model=IncidentFeature)
def get_incident(
    incident_id: int, session: SessionDep, principal: Principal = gate(policy.READ_INCIDENTS)
) -> dict[str, Any]:
    feature = repository.get_feature(session, INCIDENTS, incident_id)
    audit_write(session, principal, "incident.read", f"incident:{incident_id}")
    return feature


@router.post("/incidents", response_model=IncidentFeature, status_code=201)
def create_incident(
    body: IncidentCreate, session: SessionDep, settings: SettingsDep, response: Response,
    principal: Principal = gate(records.INCIDENT.create_gate),
) -> dict[str, Any]:
    return created(response, "/api/incidents", records.create(session, settings, principal, records.INCIDENT, body))


@router.patch("/incidents/{incident_id}", response_model=IncidentFeature)
def update_incident(
    incident_id: int, body: IncidentPatch, session: SessionDep, settings: SettingsDep,
    principal: Principal = gate(records.INCIDENT.update_gate),
) -> dict[str, Any]:
    return records.update(session, settings, principal, records.INCIDENT, incident_id, body)


@router.delete("/incidents/{incident_id}", status_code=204)
def delete_incident(
    incident_id: int, session: SessionDep, principal: Principal = gate(records.INCIDENT.delete_gate),
) -> None:
    records.delete(session, principal, records.INCIDENT, incident_id)
