"""Incidents: individual records of harm. Never shown to the panel; every read is audited."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app import policy
from app.db import repository
from app.db.resources import INCIDENTS
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import InvalidInput
from app.query import BboxParam, DatetimeParam, PagingDep
from app.routers.features import GeoJSONResponse, audit_write, collection, geojson_of
from app.schemas.domain import IncidentCollection, IncidentCreate, IncidentFeature, IncidentPatch
from app.services.geometry import validated_geometry
from app.settings import Settings
from geo.vocabulary import IMPORTED_SOURCES

router = APIRouter(prefix="/api", tags=["incidents"], default_response_class=GeoJSONResponse)
_POINT = frozenset({"Point"})
Values = Annotated[list[str] | None, Query(description="filter: one or more values")]


def link_to_place(
    session: Session,
    settings: Settings,
    values: dict[str, Any],
    geometry: BaseGeometry,
) -> dict[str, Any]:
    """Link explicitly when ``place_id`` is given, else to the nearest place within the set distance."""
    if values.get("place_id") is not None:
        if not repository.place_exists(session, values["place_id"]):
            raise InvalidInput(
                f"properties.place_id: no place {values['place_id']} in your organisation", field="properties.place_id"
            )
        return {**values, "place_link": "explicit"}
    nearest = repository.nearest_place_within(session, geometry, settings.auto_link_distance_m, settings.analysis_srid)
    return {**values, "place_id": nearest, "place_link": "auto" if nearest is not None else None}


@router.get("/incidents", response_model=IncidentCollection)
def list_incidents(
    request: Request,
    session: SessionDep,
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
        principal,
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


# A police.uk Crime ID is 64 hexadecimal digits; partner imports derive "partner:<SHA-256>" references.
_IMPORTED_REFERENCE = re.compile(r"^(?:[0-9a-fA-F]{64}|partner:.*)$")


def refuse_imported_provenance(source: str, source_ref: str | None) -> None:
    """Only imports set an imported source or a reference of an imported kind (issue 10)."""
    if source in IMPORTED_SOURCES:
        raise InvalidInput(f"properties.source: {source!r} is set only by imports; record this incident as "
                           "'manual' or 'council_asb'", field="properties.source")
    if source_ref is not None and _IMPORTED_REFERENCE.match(source_ref):
        raise InvalidInput("properties.source_ref: this looks like an imported record's reference (a police.uk "
                           "Crime ID or a partner content reference), which only imports set",
                           field="properties.source_ref")


@router.post("/incidents", response_model=IncidentFeature, status_code=201)
def create_incident(
    body: IncidentCreate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    principal: Principal = gate(policy.CREATE_INCIDENTS),
) -> dict[str, Any]:
    refuse_imported_provenance(body.properties.source, body.properties.source_ref)
    geometry = validated_geometry(session, settings, geojson_of(body.geometry), _POINT)
    values = link_to_place(session, settings, body.properties.model_dump(), geometry)
    incident_id = repository.insert(session, INCIDENTS, principal.organisation_id, values, geometry)
    audit_write(session, principal, "incident.create", f"incident:{incident_id}")
    response.headers["Location"] = f"/api/incidents/{incident_id}"
    return repository.get_feature(session, INCIDENTS, incident_id)


@router.patch("/incidents/{incident_id}", response_model=IncidentFeature)
def update_incident(
    incident_id: int,
    body: IncidentPatch,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = gate(policy.EDIT_INCIDENTS),
) -> dict[str, Any]:
    current = repository.get_feature(session, INCIDENTS, incident_id)
    values = body.properties.model_dump(exclude_unset=True) if body.properties else {}
    repository.refuse_nulls(INCIDENTS, values, "properties.")
    start = values.get("occurred_from", current["properties"]["occurred_from"])
    end = values.get("occurred_to", current["properties"]["occurred_to"])
    if end is not None and end < start:
        raise InvalidInput("properties.occurred_to: ends before occurred_from", field="properties.occurred_to")
    geometry = (
        validated_geometry(session, settings, geojson_of(body.geometry), _POINT) if body.geometry is not None else None
    )
    keeps_explicit_link = "place_id" not in values and current["properties"]["place_link"] == "explicit"
    if "place_id" in values or (geometry is not None and not keeps_explicit_link):
        from shapely.geometry import shape

        located = geometry if geometry is not None else shape(current["geometry"])
        values = link_to_place(session, settings, {**values, "place_id": values.get("place_id")}, located)
    repository.update(session, INCIDENTS, incident_id, values, geometry)
    audit_write(session, principal, "incident.update", f"incident:{incident_id}", {"fields": sorted(values)})
    return repository.get_feature(session, INCIDENTS, incident_id)


@router.delete("/incidents/{incident_id}", status_code=204)
def delete_incident(incident_id: int, session: SessionDep, principal: Principal = gate(policy.EDIT_INCIDENTS)) -> None:
    repository.delete(session, INCIDENTS, incident_id)
    audit_write(session, principal, "incident.delete", f"incident:{incident_id}")
