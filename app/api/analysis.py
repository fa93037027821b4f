"""Analysis endpoints: hot spots (Getis-Ord Gi*, kernel density), emerging hot spots, displacement after an
intervention and where harm went, outcomes and a monthly timeline at a place, and flagging a significant
hot spot cell as a place of concern.

The routes parse parameters, authorise and shape responses; the work is in :mod:`app.services` (PostGIS
aggregates from :mod:`app.db.analysis`, statistics from :mod:`geo`), and
:class:`~app.services.disclosure.Disclosure` decides what the reader may see. For a ``panel`` reader, or any
reader asking for ``shareable=true``, every incident count is disclosure-controlled
(:func:`geo.privacy.disclose_count`), free text is dropped, statistics are rounded, a statistic computed
from a suppressed count is withheld, and no incident location leaves the server (only cells, places and
areas; the density surface is then built from the disclosed cell counts, not from incident points).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from app import policy
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, ShareableDisclosure, gate
from app.schemas.analysis import (
    CellShapeParam,
    DisplacementRequest,
    DisplacementResult,
    EmergingCollection,
    HotspotCollection,
    HotspotFlagCreate,
    HotspotFlagResult,
    PlaceOutcomes,
    PlaceTimeline,
    WeightsParam,
)
from app.services.concerns import flag_hotspot_cell
from app.services.disclosure import Disclosure
from app.services.displacement import DEFAULT_BUFFER_M, displacement_analysis
from app.services.emerging import emerging_hotspot_analysis
from app.services.grids import grid_query
from app.services.hotspots import hotspot_analysis
from app.services.place_analysis import place_outcomes as place_outcomes_analysis
from app.services.place_analysis import place_timeline as place_timeline_analysis

router = APIRouter(prefix="/api", tags=["analysis"])

CellQ = Annotated[CellShapeParam, Query(description="hex (PostGIS ST_HexagonGrid) or square (ST_SquareGrid)")]
SizeQ = Annotated[float, Query(ge=50, le=5000, description="hexagon edge or square side in metres")]
BboxQ = Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (EPSG:4326)")]
PeriodQ = Annotated[str | None, Query(description="RFC 3339 interval start/end ('..' for an open end); "
                                                  "start inclusive, end exclusive")]
HarmQ = Annotated[list[str] | None, Query(description="harm categories (repeat for several)")]
SourceQ = Annotated[list[str] | None, Query(description="incident sources (repeat for several)")]
WeightsQ = Annotated[WeightsParam, Query(description="contiguity (shared edge; queen for squares) or "
                                                     "distance (fixed band between cell centres)")]
DistanceQ = Annotated[float | None, Query(gt=0, le=20_000, description="distance band in metres")]
FdrQ = Annotated[bool, Query(description="Benjamini-Hochberg false discovery rate correction")]
RadiusQ = Annotated[float, Query(ge=10, le=2000, description="incidents within this many metres (or linked)")]


def _collection_response(features: list[str], **members: BaseModel | None) -> Response:
    """A FeatureCollection written directly as JSON text.

    Thousands of cells would otherwise be parsed from PostGIS's GeoJSON, validated against the response
    model and serialised again (~0.5 s for 2,500 cells). The extra members are still pydantic models, the
    features are built from typed values, and the tests validate whole answers against the models.
    """
    extra = "".join(f',"{name}":{"null" if m is None else m.model_dump_json()}' for name, m in members.items())
    return Response('{"type":"FeatureCollection","features":[' + ",".join(features) + "]" + extra + "}",
                    media_type="application/json")


# ---- hot spots -------------------------------------------------------------------------------------------
@router.get("/analysis/hotspots", response_model=HotspotCollection)
def hotspots(
    session: SessionDep, settings: SettingsDep,
    cell: CellQ = "hex", size: SizeQ = 250.0, bbox: BboxQ = None, datetime: PeriodQ = None,
    harm_category: HarmQ = None, source: SourceQ = None, weights: WeightsQ = "contiguity",
    distance: DistanceQ = None, fdr: FdrQ = True,
    density: Annotated[bool, Query(description="add a kernel density surface (bands)")] = False,
    bandwidth: Annotated[float | None, Query(ge=10, le=20_000, description="kernel radius, metres")] = None,
    *, disclosure: ShareableDisclosure, principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """Getis-Ord Gi* hot and cold spots on a hexagon or square grid, optionally with kernel density.

    Disclosure-controlled (panel, or ``shareable``): the published square grid, whole months, whole cells."""
    query = grid_query(session, settings, disclosure, cell=cell, size=size, bbox=bbox, period=datetime,
                       harm_category=harm_category, source=source, weights=weights, distance=distance, fdr=fdr)
    result = hotspot_analysis(session, principal, query, disclosure, density=density, bandwidth=bandwidth)
    return _collection_response(result.features, metadata=result.metadata, density=result.density)


# ---- emerging hot spots ----------------------------------------------------------------------------------
@router.get("/analysis/emerging-hotspots", response_model=EmergingCollection)
def emerging_hotspots(
    session: SessionDep, settings: SettingsDep,
    step: Annotated[Literal["week", "month"], Query(description="time step (Europe/London weeks or months)")]
    = "month",
    cell: CellQ = "hex", size: SizeQ = 250.0, bbox: BboxQ = None, datetime: PeriodQ = None,
    harm_category: HarmQ = None, source: SourceQ = None, weights: WeightsQ = "contiguity",
    distance: DistanceQ = None, fdr: FdrQ = True, *, disclosure: ShareableDisclosure,
    principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """How each cell's hot or cold spot status evolved over weeks or months (ArcGIS's 17 patterns).

    Without ``datetime``: the last 24 months (or 26 weeks) up to the latest matching incident.
    Disclosure-controlled: months only, on the published grid.
    """
    query = grid_query(session, settings, disclosure, cell=cell, size=size, bbox=bbox, period=datetime,
                       harm_category=harm_category, source=source, weights=weights, distance=distance, fdr=fdr)
    result = emerging_hotspot_analysis(session, principal, query, disclosure, step=step)
    return _collection_response(result.features, metadata=result.metadata)


# ---- displacement ----------------------------------------------------------------------------------------
@router.get("/analysis/displacement", response_model=DisplacementResult)
def displacement(
    session: SessionDep, settings: SettingsDep,
    intervention: Annotated[int, Query(description="the intervention's id")],
    target_radius: Annotated[float | None, Query(ge=10, le=2000, description=(
        "target = this many metres around the site; default: the site's own area, or 100 m around a point"))]
    = None,
    buffer_m: Annotated[float, Query(ge=50, le=5000, description="width of the buffer ring, metres")] = (
        DEFAULT_BUFFER_M),
    before: Annotated[str | None, Query(description="RFC 3339 interval; default the 6 months before the start")]
    = None,
    after: Annotated[str | None, Query(description="RFC 3339 interval; default the 6 months from the start")]
    = None,
    harm_category: HarmQ = None, source: SourceQ = None,
    control_place: Annotated[int | None, Query(description="a place whose area is the control (enables WDD)")]
    = None,
    search_distance: Annotated[float, Query(ge=100, le=10_000, description="where-did-it-go radius, metres")]
    = 1000.0,
    cell: CellQ = "hex", size: SizeQ = 250.0, *, disclosure: ShareableDisclosure,
    principal: Principal = gate(policy.ANALYSIS),
) -> dict[str, Any]:
    """Did harm move after an intervention (WDQ, WDD), and where did it go (places and cells that rose)?"""
    return displacement_analysis(
        session, settings, principal, disclosure, intervention=intervention, target_radius=target_radius,
        buffer_m=buffer_m, before=before, after=after, harm_category=harm_category, source=source,
        search_distance=search_distance, cell=cell, size=size, control_geometry=None, control_place=control_place)


@router.post("/analysis/displacement", response_model=DisplacementResult)
def displacement_with_control(
    body: DisplacementRequest, session: SessionDep, settings: SettingsDep, disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.ANALYSIS),
) -> dict[str, Any]:
    """As the GET, with a control area drawn as GeoJSON (its ring gives the WDD its control buffer).

    Disclosure-controlled: the drawn area is snapped outwards to whole published cells."""
    control = body.control.model_dump(exclude_none=True) if body.control is not None else None
    return displacement_analysis(
        session, settings, principal, disclosure.sharing(body.shareable), intervention=body.intervention,
        target_radius=body.target_radius, buffer_m=body.buffer_m, before=body.before, after=body.after,
        harm_category=body.harm_category, source=body.source, search_distance=body.search_distance,
        cell=body.cell, size=body.size, control_geometry=control, control_place=body.control_place)


# ---- a place: outcomes and timeline ----------------------------------------------------------------------
@router.get("/places/{place_id}/outcomes", response_model=PlaceOutcomes)
def place_outcomes(
    place_id: int, session: SessionDep, settings: SettingsDep,
    intervention: Annotated[int | None, Query(description="one intervention at this place; default all")] = None,
    radius: RadiusQ = 100.0,
    before: Annotated[str | None, Query(description="RFC 3339 interval; default the 6 months before")] = None,
    after: Annotated[str | None, Query(description="RFC 3339 interval; default the 6 months from the start")]
    = None,
    harm_category: HarmQ = None, source: SourceQ = None, *, disclosure: ShareableDisclosure,
    principal: Principal = gate(policy.ANALYSIS),
) -> dict[str, Any]:
    """Before/after incident rates by harm category around each intervention at the place."""
    return place_outcomes_analysis(
        session, principal, disclosure, place_id, intervention=intervention, radius=radius, before=before,
        after=after, harm_category=harm_category, source=source)


@router.get("/places/{place_id}/timeline", response_model=PlaceTimeline)
def place_timeline(
    place_id: int, session: SessionDep, disclosure: ShareableDisclosure, datetime: PeriodQ = None,
    radius: RadiusQ = 100.0, principal: Principal = gate(policy.ANALYSIS),
) -> dict[str, Any]:
    """Incidents per month at the place, with its designations, interventions and guardians."""
    return place_timeline_analysis(session, principal, disclosure, place_id, period=datetime, radius=radius)


# ---- flag a hot spot cell --------------------------------------------------------------------------------
@router.post("/analysis/hotspots/flag", response_model=HotspotFlagResult, status_code=201)
def flag_hotspot(
    body: HotspotFlagCreate, session: SessionDep, settings: SettingsDep, response: Response,
    principal: Principal = gate(policy.FLAG_CONCERN),
) -> dict[str, Any]:
    """Flag a significant hot spot cell as a place of concern: an area place plus a concern designation
    whose reason quotes the statistic. Refused (422) when the cell is not a significant hot spot under
    these parameters."""
    query = grid_query(session, settings, Disclosure.staff(settings), cell=body.cell, size=body.size,
                       bbox=",".join(str(v) for v in body.bbox) if body.bbox else None, period=body.datetime,
                       harm_category=body.harm_category, source=body.source, weights=body.weights,
                       distance=body.distance, fdr=body.fdr)
    flagged = flag_hotspot_cell(session, principal, query, body)
    response.headers["Location"] = f"/api/places/{flagged.place_id}"
    return flagged.answer
