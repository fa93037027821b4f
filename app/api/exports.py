"""Exports of any list the user may read, with the list endpoints' filters: GeoJSON, CSV or GeoPackage.

Disclosure control (DESIGN.md, Privacy in outputs) applies to panel members and to every export marked
``shareable``: no free text, and no incident points — incidents leave only as counts per 250 m cell or
per place, through :func:`geo.privacy.disclose_count`. Every export is audited (action ``export``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from shapely.geometry import shape

from app import policy
from app.api.features import audit_write
from app.api.parameters import BboxParam, DatetimeParam
from app.db import ogc, repository
from app.db.repository import ListQuery, ResourceSpec
from app.db.resources import DESIGNATIONS, GUARDIANS, INCIDENTS, INTERVENTIONS, PLACES
from app.dependencies import Principal, SessionDep, SettingsDep, ShareableDisclosure, gate
from app.errors import InvalidInput
from app.query import parse_bbox, parse_interval
from app.services.disclosure import Disclosure
from app.services.grids import layer_cells
from app.settings import Settings
from geo.spreadsheet import neutralise_formula

router = APIRouter(
    prefix="/api/exports", tags=["exports"], default_response_class=Response,
    # Documented as sent: the body's type follows ?format=.
    responses={200: {"description": "The export file", "content": {
        "application/geo+json": {"schema": {"type": "object"}},
        "text/csv": {"schema": {"type": "string"}},
        "application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}},
    }}},
)

#: Largest export in one file; past it, narrow the export with bbox or datetime.
EXPORT_MAX = 200_000
Format = Literal["geojson", "csv", "gpkg"]
FormatParam = Annotated[Format, Query(description="geojson (default), csv or gpkg (GeoPackage)")]
Values = Annotated[list[str] | None, Query(description="filter: one or more values")]
PlaceParam = Annotated[int | None, Query(description="filter: one place")]
MEDIA_TYPES = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8",
               "gpkg": "application/geopackage+sqlite3"}
CONTEXT_RESOURCES: dict[str, tuple[ResourceSpec, tuple[str, ...]]] = {
    "places": (PLACES, ()),
    "places-of-concern": (PLACES, ogc.COLLECTIONS["places-of-concern"].extra_where),
    "safe-spaces": (PLACES, ogc.COLLECTIONS["safe-spaces"].extra_where),
    "designations": (DESIGNATIONS, ()),
    "guardians": (GUARDIANS, ()),
    "interventions": (INTERVENTIONS, ()),
}
ContextResource = Literal["places", "places-of-concern", "safe-spaces", "designations", "guardians", "interventions"]


# ---- formats ------------------------------------------------------------------------------------------
def _scalar(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


def _csv(features: Sequence[dict[str, Any]]) -> bytes:
    columns: dict[str, None] = {"id": None}
    for feature in features:
        columns.update(dict.fromkeys(feature["properties"]))
    columns.update({"longitude": None, "latitude": None, "geometry_wkt": None})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for feature in features:
        row = {k: _scalar(v) for k, v in feature["properties"].items()}
        row["id"] = feature["id"]
        geometry = feature.get("geometry")
        if geometry:
            if geometry["type"] == "Point":
                row["longitude"], row["latitude"] = geometry["coordinates"][:2]
            row["geometry_wkt"] = shape(geometry).wkt
        writer.writerow({k: neutralise_formula(v) for k, v in row.items()})
    # A byte-order mark, so spreadsheet software opens the UTF-8 file with the right characters.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _gpkg(features: Sequence[dict[str, Any]], layer: str) -> bytes:
    import geopandas as gpd

    records = [{"id": f["id"], **{k: _scalar(v) for k, v in f["properties"].items()}} for f in features]
    geometries = [shape(f["geometry"]) if f.get("geometry") else None for f in features]
    frame = gpd.GeoDataFrame(records, geometry=geometries, crs="EPSG:4326")
    handle, path = tempfile.mkstemp(suffix=".gpkg")
    os.close(handle)
    try:
        os.unlink(path)  # GDAL creates the file itself
        frame.to_file(path, driver="GPKG", engine="pyogrio", layer=layer.replace("-", "_"))
        with open(path, "rb") as stream:
            return stream.read()
    finally:
        if os.path.exists(path):
            os.unlink(path)


def _render(features: list[dict[str, Any]], name: str, fmt: Format) -> Response:
    if fmt == "csv":
        body = _csv(features)
    elif fmt == "gpkg":
        body = _gpkg(features, name)
    else:
        body = json.dumps({"type": "FeatureCollection", "name": name, "features": features},
                          default=_scalar, ensure_ascii=False).encode("utf-8")
    extension = {"geojson": "geojson", "csv": "csv", "gpkg": "gpkg"}[fmt]
    stamp = datetime.now().strftime("%Y%m%d")
    return Response(body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.{extension}"'})


# ---- helpers ------------------------------------------------------------------------------------------
def _fetch(session: SessionDep, spec: ResourceSpec, query: ListQuery) -> list[dict[str, Any]]:
    features, has_more = repository.list_features(session, spec, ogc.indexed_bbox(query))
    if has_more:
        raise InvalidInput(f"more than {EXPORT_MAX} records: narrow the export with bbox or datetime", field="bbox")
    return features


def _equals(spec: ResourceSpec, **values: Sequence[Any] | None) -> dict[str, Sequence[Any]]:
    chosen: dict[str, Sequence[Any]] = {}
    for name, value in values.items():
        if not value:
            continue
        if name not in spec.filterable:
            raise InvalidInput(f"{name}: not a filter of this export", field=name)
        chosen[name] = value
    return chosen


def _cell_features(session: SessionDep, settings: Settings, disclosure: Disclosure, bbox: str | None,
                   datetime_param: str | None, harm_category: list[str] | None) -> list[dict[str, Any]]:
    grid, cells = layer_cells(session, settings, disclosure, bbox=parse_bbox(bbox),
                              interval=parse_interval(datetime_param), harm_categories=tuple(harm_category or ()))
    return [ogc.cell_feature(c, grid.size) for c in cells]


def _audit(session: SessionDep, principal: Principal, resource: str, fmt: str, count: int, shareable: bool,
           request: Request) -> None:
    audit_write(session, principal, "export", resource,
                {"format": fmt, "count": count, "shareable": shareable, "query": str(request.url.query)})


# ---- routes -------------------------------------------------------------------------------------------
@router.get("/incidents", summary="Export incidents (individual records; shareable: counts per cell)")
def export_incidents(
    request: Request, session: SessionDep, settings: SettingsDep, format: FormatParam = "geojson",
    bbox: BboxParam = None, datetime: DatetimeParam = None,
    harm_category: Values = None, source: Values = None, place_id: PlaceParam = None,
    *, disclosure: ShareableDisclosure, principal: Principal = gate(policy.READ_INCIDENTS),
) -> Response:
    """Individual incident records, or — when ``shareable`` — disclosure-controlled counts per 250 m cell:
    incidents are never exported individually to be shared."""
    if disclosure.applied:
        features = _cell_features(session, settings, disclosure, bbox, datetime, harm_category)
        _audit(session, principal, "incident-cells", format, len(features), True, request)
        return _render(features, "incident-cells", format)
    query = ListQuery(bbox=parse_bbox(bbox), interval=parse_interval(datetime), limit=EXPORT_MAX,
                      equals=_equals(INCIDENTS, harm_category=harm_category, source=source,
                                     place_id=[place_id] if place_id is not None else None))
    features = _fetch(session, INCIDENTS, query)
    _audit(session, principal, "incidents", format, len(features), False, request)
    return _render(features, "incidents", format)


@router.get("/incident-cells", summary="Export incident counts per 250 m hexagon")
def export_incident_cells(
    request: Request, session: SessionDep, settings: SettingsDep, format: FormatParam = "geojson",
    bbox: BboxParam = None, datetime: DatetimeParam = None,
    harm_category: Values = None, *, disclosure: ShareableDisclosure, principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    features = _cell_features(session, settings, disclosure, bbox, datetime, harm_category)
    _audit(session, principal, "incident-cells", format, len(features), disclosure.applied, request)
    return _render(features, "incident-cells", format)


@router.get("/incident-counts", summary="Export incident counts per place")
def export_incident_counts(
    request: Request, session: SessionDep, format: FormatParam = "geojson",
    bbox: BboxParam = None, datetime: DatetimeParam = None,
    harm_category: Values = None, kind: Values = None,
    *, disclosure: ShareableDisclosure, principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """Each place (with its geometry) and how many incidents are linked to it (whole months when
    disclosure-controlled)."""
    interval = parse_interval(datetime)
    if interval is not None:
        interval = disclosure.period(*interval)
    rows = ogc.incident_counts_by_place(session, bbox=parse_bbox(bbox), interval=interval,
                                        harm_categories=tuple(harm_category or ()), kinds=tuple(kind or ()))
    features = [{"type": "Feature", "id": r["id"], "geometry": r["geometry"],
                 "properties": {"name": r["name"], "kind": r["kind"], "incidents": disclosure.count(r["incidents"])}}
                for r in rows]
    _audit(session, principal, "incident-counts", format, len(features), disclosure.applied, request)
    return _render(features, "incident-counts", format)


@router.get("/{resource}", summary="Export places, safe spaces, places of concern, designations, guardians or "
                                   "interventions")
def export_context(
    resource: ContextResource, request: Request, session: SessionDep, format: FormatParam = "geojson",
    bbox: BboxParam = None, datetime: DatetimeParam = None,
    kind: Values = None, level: Values = None, role: Values = None, place_id: PlaceParam = None,
    *, disclosure: ShareableDisclosure, principal: Principal = gate(policy.READ_CONTEXT),
) -> Response:
    spec, extra_where = CONTEXT_RESOURCES[resource]
    query = ListQuery(bbox=parse_bbox(bbox), interval=parse_interval(datetime), limit=EXPORT_MAX,
                      extra_where=extra_where,
                      equals=_equals(spec, kind=kind, level=level, role=role,
                                     place_id=[place_id] if place_id is not None else None))
    features = _fetch(session, spec, query)
    features = [disclosure.redact_feature(f) for f in features]
    _audit(session, principal, resource, format, len(features), disclosure.applied, request)
    return _render(features, resource, format)
