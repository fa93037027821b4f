"""Vector tiles for the large layers: ``/api/tiles/{layer}/{z}/{x}/{y}.mvt``.

``incidents`` are individual records: refused to the panel, and every tile served is audited.
``hotspot-cells`` are counts per 250 m hexagon; for the panel disclosure-controlled on the published grid
(250 m squares, whole months; suppressed cells are left out of the tile altogether).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app import policy
from app.api.features import audit_write
from app.api.parameters import DatetimeParam
from app.db import tiles
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.errors import Forbidden, InvalidInput
from app.query import parse_interval
from app.services.grids import layer_filter, layer_grid

router = APIRouter(prefix="/api/tiles", tags=["tiles"])
MVT = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22
Layer = Literal["incidents", "hotspot-cells"]


@router.get("/{layer}/{z}/{x}/{y}.mvt", response_class=Response,
            responses={200: {"content": {MVT: {}}, "description": "a Mapbox vector tile (empty: nothing there)"}})
def tile(
    layer: Layer, session: SessionDep, settings: SettingsDep,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM, description="zoom level")],
    x: Annotated[int, Path(ge=0, description="column, 0 .. 2^z - 1")],
    y: Annotated[int, Path(ge=0, description="row, 0 .. 2^z - 1 (XYZ, north at 0)")],
    datetime: DatetimeParam = None,
    harm_category: Annotated[list[str] | None, Query(description="filter: one or more harm categories")] = None,
    *, disclosure: ReaderDisclosure, principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """One Web Mercator (EPSG:3857, XYZ scheme) tile of a layer, encoded by PostGIS ``ST_AsMVT``."""
    for name, value in (("x", x), ("y", y)):
        if value >= 2**z:
            raise InvalidInput(f"{name}: {value} is outside zoom level {z} (0 .. {2**z - 1})", field=name)
    interval = parse_interval(datetime)
    categories = tuple(harm_category or ())
    if layer == "incidents":
        if not policy.READ_INCIDENTS.allows(principal.role):
            raise Forbidden(f"The {principal.role} role sees incidents only as aggregates (layer hotspot-cells).")
        body, count = tiles.incident_tile(session, z, x, y, interval=interval, harm_categories=categories)
        audit_write(session, principal, "incident.tile", f"tile:{z}/{x}/{y}", {"returned": count})
    else:
        grid = layer_grid(settings, disclosure)
        filt = layer_filter(None, grid, disclosure, bbox=None, interval=interval, harm_categories=categories)
        cells = tiles.tile_cell_counts(session, z, x, y, grid=grid, filt=filt)
        # Suppressed cells are left out of the tile altogether.
        shown = [(i, j, disclosure.count(n)) for i, j, n in cells]
        body = tiles.cell_tile(session, z, x, y, [(i, j, n) for i, j, n in shown if n is not None], grid=grid)
        disclosure.audit(session, principal, "tiles:hotspot-cells", {"tile": f"{z}/{x}/{y}", "interval": interval,
                                                                     "harm_category": list(categories)})
    return Response(body, media_type=MVT, headers={"Cache-Control": "private, max-age=60"})
