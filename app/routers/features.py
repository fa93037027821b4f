"""What every feature endpoint shares: collections with links, panel redaction, audited writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app.db import audit, repository
from app.db.repository import ListQuery, ResourceSpec
from app.dependencies import Principal
from app.errors import InvalidInput
from app.query import Paging, page_links, parse_bbox, parse_interval
from geo.privacy import withhold_free_text


class GeoJSONResponse(JSONResponse):
    """Features and FeatureCollections are served as RFC 7946 says: ``application/geo+json``."""

    media_type = "application/geo+json"


def redact(feature: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """Panel members see places, designations, guardians and interventions without free text."""
    if not principal.is_panel:
        return feature
    return {**feature, "properties": withhold_free_text(feature["properties"])}


def collection(
    request: Request, session: Session, spec: ResourceSpec, principal: Principal, page: Paging, *,
    bbox: str | None = None, datetime_param: str | None = None,
    equals: Mapping[str, Sequence[Any]] | None = None,
) -> dict[str, Any]:
    query = ListQuery(
        bbox=parse_bbox(bbox), interval=parse_interval(datetime_param),
        equals={k: v for k, v in (equals or {}).items() if v}, limit=page.limit, offset=page.offset,
    )
    features, has_more = repository.list_features(session, spec, query)
    return {
        "type": "FeatureCollection",
        "features": [redact(f, principal) for f in features],
        "links": [link.model_dump(exclude_none=True) for link in page_links(request, page, has_more)],
        "numberReturned": len(features),
    }


def geojson_of(geometry: Any) -> dict[str, Any] | None:
    """The plain GeoJSON dict of a parsed geojson-pydantic geometry (``None`` stays ``None``)."""
    return None if geometry is None else dict(geometry.model_dump(exclude_none=True))


def audit_write(session: Session, principal: Principal, action: str, resource: str,
                detail: dict[str, Any] | None = None) -> None:
    audit.record(session, organisation_id=principal.organisation_id, user_id=principal.user_id,
                 action=action, resource=resource, detail=detail)


def validated_hours(value: str | None, field: str) -> str | None:
    """Opening hours in OpenStreetMap syntax; refused with the position of the error."""
    if value is None or not value.strip():
        return None
    from geo.opening_hours import OpeningHoursError, validate_opening_hours

    try:
        return validate_opening_hours(value)
    except OpeningHoursError as exc:
        raise InvalidInput(
            f"{field}: malformed opening hours at character {exc.position}: {exc.message}", field=field
        ) from exc
