"""What every feature endpoint shares: collections with links, redacted by the request's
:class:`~app.services.disclosure.Disclosure` (the one free-text rule).

Writes and their audit records are the services' (:mod:`app.services.records`, :mod:`app.services.audit`);
``audit_write``, ``validated_hours`` and ``geojson_of`` are their names here for the routers that use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app.api.parameters import page_links
from app.db import repository
from app.db.repository import ListQuery, ResourceSpec
from app.query import Paging, parse_bbox, parse_interval
from app.services.audit import record_action as audit_write
from app.services.disclosure import Disclosure
from app.services.records import geojson_of, validated_hours

__all__ = ["GeoJSONResponse", "audit_write", "collection", "created", "geojson_of", "validated_hours"]


class GeoJSONResponse(JSONResponse):
    """Features and FeatureCollections are served as RFC 7946 says: ``application/geo+json``."""

    media_type = "application/geo+json"


def collection(
    request: Request, session: Session, spec: ResourceSpec, disclosure: Disclosure, page: Paging, *,
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
        "features": [disclosure.redact_feature(f) for f in features],
        "links": [link.model_dump(exclude_none=True) for link in page_links(request, page, has_more)],
        "numberReturned": len(features),
    }


def created(response: Response, collection_path: str, feature: dict[str, Any]) -> dict[str, Any]:
    """A created feature, its address in ``Location`` (RFC 9110, section 10.2.2)."""
    response.headers["Location"] = f"{collection_path}/{feature['id']}"
    return feature
