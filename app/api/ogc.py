"""OGC API – Features, Part 1 (core, GeoJSON, OpenAPI 3.0, HTML) under ``/ogc``, for QGIS and other GIS.

Every route is behind ``READ_CONTEXT`` (QGIS sends the API token as a Bearer header); the role table is
applied per collection inside: incidents are individual records, refused to the panel, and every read of
them is audited; hotspot cells are aggregates, disclosure-controlled for the panel; panel members see
places and guardians without free text.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from app import policy
from app.api.features import audit_write
from app.api.parameters import BboxParam, DatetimeParam
from app.db import ogc
from app.db.ogc import COLLECTIONS, CollectionSource
from app.db.repository import ListQuery
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.errors import Forbidden, InvalidInput, NotFound
from app.openapi30 import to_openapi_30
from app.query import parse_bbox, parse_interval
from app.schemas.ogc import (
    CONFORMANCE_CLASSES,
    OPENAPI_JSON,
    CollectionInfo,
    Collections,
    Conformance,
    Extent,
    FeatureCollectionPage,
    LandingPage,
    OgcLink,
    SpatialExtent,
)
from app.services.grids import layer_cells

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000  # OGC API – Features, /req/core/fc-limit-definition: default 10, maximum 10 000
FormatParam = Annotated[str | None, Query(description="json (default) or html")]
LimitParam = Annotated[int, Query(ge=1, description=f"features per page (default 10, at most {MAX_LIMIT})")]
OffsetParam = Annotated[int, Query(ge=0, le=10_000_000, description="features to skip")]


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _wants_html(request: Request, f: str | None) -> bool:
    if f is not None:
        if f not in ("json", "html"):
            raise InvalidInput("f: expected 'json' or 'html'", field="f")
        return f == "html"
    accept = request.headers.get("accept", "")
    return HTML in accept and (JSON not in accept or accept.index(HTML) < accept.index(JSON))


def _respond(request: Request, f: str | None, body: dict[str, Any], template: str,
             media_type: str = JSON) -> Response:
    if _wants_html(request, f):
        return templates.TemplateResponse(request, template, {"doc": body})
    return Response(json.dumps(body, default=_json_default, separators=(",", ":")), media_type=media_type)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _self_links(request: Request, json_type: str = JSON) -> list[OgcLink]:
    here = request.url.remove_query_params("f")
    return [OgcLink(href=str(here.include_query_params(f="json")), rel="self", type=json_type, title="this document"),
            OgcLink(href=str(here.include_query_params(f="html")), rel="alternate", type=HTML, title="as HTML")]


def _source(collection_id: str, principal: Principal) -> CollectionSource:
    source = COLLECTIONS.get(collection_id)
    if source is None:
        raise NotFound(f"no collection {collection_id!r}; see /ogc/collections", field="collection_id")
    if source.individual_incidents and not policy.READ_INCIDENTS.allows(principal.role):
        raise Forbidden(f"The {principal.role} role sees incidents only as aggregates (collection hotspot-cells).")
    return source


def _visible(principal: Principal) -> list[CollectionSource]:
    return [s for s in COLLECTIONS.values()
            if not (s.individual_incidents and not policy.READ_INCIDENTS.allows(principal.role))]


def _collection_info(request: Request, source: CollectionSource, bounds: list[float]) -> CollectionInfo:
    href = f"{_base(request)}/collections/{source.id}"
    return CollectionInfo(
        id=source.id, title=source.title, description=source.description,
        extent=Extent(spatial=SpatialExtent(bbox=[bounds])),
        links=[OgcLink(href=href, rel="self", type=JSON, title=source.title),
               OgcLink(href=f"{href}/items", rel="items", type=GEOJSON, title=f"{source.title} (GeoJSON)"),
               OgcLink(href=f"{href}/items?f=html", rel="items", type=HTML, title=f"{source.title} (HTML)")],
    )


@router.get("", response_model=LandingPage, summary="Landing page")
def landing_page(request: Request, f: FormatParam = None, principal: Principal = gate(policy.READ_CONTEXT)) -> Response:
    base = _base(request)
    page = LandingPage(
        title="contextmap OGC API – Features",
        description="Places, safe spaces, guardians, incidents and hotspot cells of your organisation.",
        links=[*_self_links(request),
               OgcLink(href=f"{base}/api", rel="service-desc",
                       type=OPENAPI_JSON, title="the API definition (OpenAPI)"),
               OgcLink(href=f"{base}/conformance", rel="conformance", type=JSON, title="conformance classes"),
               OgcLink(href=f"{base}/collections", rel="data", type=JSON, title="collections")],
    )
    return _respond(request, f, page.model_dump(exclude_none=True), "ogc_landing.html")


@router.get("/api", summary="The API definition, OpenAPI 3.0", response_class=JSONResponse,
            responses={200: {"content": {OPENAPI_JSON: {"schema": {"type": "object"}}}}})
def api_definition(request: Request, principal: Principal = gate(policy.READ_CONTEXT)) -> Response:
    """The service's OpenAPI document converted to 3.0.3, the version the ``oas30`` class promises."""
    return JSONResponse(to_openapi_30(request.app.openapi()), media_type=OPENAPI_JSON)


@router.get("/conformance", response_model=Conformance, summary="Conformance classes")
def conformance(request: Request, f: FormatParam = None, principal: Principal = gate(policy.READ_CONTEXT)) -> Response:
    return _respond(request, f, {"conformsTo": list(CONFORMANCE_CLASSES)}, "ogc_conformance.html")


@router.get("/collections", response_model=Collections, summary="Feature collections")
def collections(
    request: Request, session: SessionDep, settings: SettingsDep, f: FormatParam = None,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> Response:
    bounds = ogc.service_area_bounds(session, settings.default_service_area)
    body = Collections(links=_self_links(request),
                       collections=[_collection_info(request, s, bounds) for s in _visible(principal)])
    return _respond(request, f, body.model_dump(exclude_none=True), "ogc_collections.html")


@router.get("/collections/{collection_id}", response_model=CollectionInfo, summary="One feature collection")
def collection(
    collection_id: str, request: Request, session: SessionDep, settings: SettingsDep, f: FormatParam = None,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> Response:
    source = _source(collection_id, principal)
    bounds = ogc.service_area_bounds(session, settings.default_service_area)
    info = _collection_info(request, source, bounds).model_dump(exclude_none=True)
    if _wants_html(request, f):
        return templates.TemplateResponse(request, "ogc_collections.html", {"doc": {"collections": [info]}})
    return _respond(request, f, info, "ogc_collections.html")


@router.get("/collections/{collection_id}/items", response_model=FeatureCollectionPage, summary="Features")
def items(
    collection_id: str, request: Request, session: SessionDep, settings: SettingsDep,
    bbox: BboxParam = None, datetime: DatetimeParam = None, limit: LimitParam = DEFAULT_LIMIT,
    offset: OffsetParam = 0, f: FormatParam = None, *, disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> Response:
    source = _source(collection_id, principal)
    limit = min(limit, MAX_LIMIT)
    box, interval = parse_bbox(bbox), parse_interval(datetime)
    if source.is_cells:
        grid, cells = layer_cells(session, settings, disclosure, bbox=box, interval=interval)
        disclosure.audit(session, principal, "ogc:hotspot-cells", {"bbox": box, "interval": interval})
        features = [ogc.cell_feature(c, grid.size) for c in cells[offset:offset + limit]]
        matched, has_more = len(cells), offset + limit < len(cells)
    else:
        features, has_more, matched = ogc.list_items(
            session, source, ListQuery(bbox=box, interval=interval, limit=limit, offset=offset))
        features = [disclosure.redact_feature(feature) for feature in features]
    if source.individual_incidents:
        audit_write(session, principal, "incident.list", "incidents",
                    {"via": "ogc", "returned": len(features), "query": str(request.url.query)})
    here = request.url.remove_query_params("f")
    links = [OgcLink(href=str(here), rel="self", type=GEOJSON, title="this page"),
             OgcLink(href=str(here.include_query_params(f="html")), rel="alternate", type=HTML, title="as HTML"),
             OgcLink(href=f"{_base(request)}/collections/{source.id}", rel="collection", type=JSON)]
    if has_more:
        links.append(OgcLink(href=str(here.include_query_params(offset=offset + limit, limit=limit)), rel="next",
                             type=GEOJSON, title="next page"))
    if offset > 0:
        links.append(OgcLink(href=str(here.include_query_params(offset=max(0, offset - limit), limit=limit)),
                             rel="prev", type=GEOJSON, title="previous page"))
    body = {"type": "FeatureCollection", "features": features,
            "links": [link.model_dump(exclude_none=True) for link in links],
            "numberMatched": matched, "numberReturned": len(features),
            "timeStamp": _timestamp()}
    if _wants_html(request, f):
        return templates.TemplateResponse(request, "ogc_items.html", {"doc": body, "collection": source})
    return Response(json.dumps(body, default=_json_default, separators=(",", ":")), media_type=GEOJSON)


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _cell_id(item_id: str) -> tuple[int, int]:
    i_text, _, j_text = item_id.partition("_")
    try:
        return int(i_text), int(j_text)
    except ValueError:
        raise NotFound(f"no hotspot cell {item_id!r} (cell ids look like 12_-3)", field="item_id") from None


@router.get("/collections/{collection_id}/items/{item_id}", summary="One feature")
def item(
    collection_id: str, item_id: str, request: Request, session: SessionDep, settings: SettingsDep,
    f: FormatParam = None, *, disclosure: ReaderDisclosure, principal: Principal = gate(policy.READ_CONTEXT),
) -> Response:
    source = _source(collection_id, principal)
    if source.is_cells:
        cell = _cell_id(item_id)
        grid, found = layer_cells(session, settings, disclosure, cell=cell)
        disclosure.audit(session, principal, "ogc:hotspot-cells", {"cell": item_id})
        if not found:
            raise NotFound(f"no incidents in hotspot cell {item_id}", field="item_id")
        feature = ogc.cell_feature(found[0], grid.size)
    else:
        if not item_id.isdigit() or len(item_id) > 18:
            raise NotFound(f"no item {item_id!r} in collection {source.id}", field="item_id")
        feature = ogc.get_item(session, source, int(item_id))
        feature = disclosure.redact_feature(feature)
    if source.individual_incidents:
        audit_write(session, principal, "incident.read", f"incident:{item_id}", {"via": "ogc"})
    here = request.url.remove_query_params("f")
    links = [OgcLink(href=str(here), rel="self", type=GEOJSON),
             OgcLink(href=str(here.include_query_params(f="html")), rel="alternate", type=HTML),
             OgcLink(href=f"{_base(request)}/collections/{source.id}", rel="collection", type=JSON)]
    feature["links"] = [link.model_dump(exclude_none=True) for link in links]
    if _wants_html(request, f):
        return templates.TemplateResponse(request, "ogc_item.html", {"doc": feature, "collection": source})
    return Response(json.dumps(feature, default=_json_default, separators=(",", ":")), media_type=GEOJSON)
