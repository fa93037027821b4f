"""Analysis endpoints: hot spots (Getis-Ord Gi*, kernel density), emerging hot spots, displacement after an
intervention and where harm went, outcomes and a monthly timeline at a place, and flagging a significant
hot spot cell as a place of concern.

Data flow: parameters are parsed here, PostGIS aggregates (:mod:`app.db.analysis`), :mod:`geo` computes
the statistics, and :class:`Disclosure` decides what the reader may see. For a ``panel`` reader, or any
reader asking for ``shareable=true``, every incident count is disclosure-controlled
(:func:`geo.privacy.disclose_count`), free text is dropped, statistics are rounded, a statistic computed
from a suppressed count is withheld, and no incident location leaves the server (only cells, places and
areas; the density surface is then built from the disclosed cell counts, not from incident points).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import shapely
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from scipy import sparse
from shapely.geometry import shape
from sqlalchemy.orm import Session

from app import policy
from app.db import analysis as db
from app.db import repository
from app.db.resources import DESIGNATIONS, PLACES
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import InvalidInput, NotFound
from app.query import parse_bbox, parse_interval
from app.routers.features import audit_write, validated_geometry
from app.schemas.analysis import (
    CellShapeParam,
    DensitySurface,
    DisclosureInfo,
    DisplacementRequest,
    DisplacementResult,
    EmergingCollection,
    EmergingMetadata,
    HotspotCollection,
    HotspotFlagCreate,
    HotspotFlagResult,
    HotspotMetadata,
    PlaceOutcomes,
    PlaceTimeline,
    WeightsParam,
)
from app.settings import Settings
from geo.density import density_bands, quartic_kde, silverman_bandwidth
from geo.displacement import displacement_report
from geo.emerging import emerging_hot_spots
from geo.grid import distance_band_adjacency, hex_adjacency, hexagon_centres, square_adjacency
from geo.hotspots import benjamini_hochberg_adjust, confidence_bins, getis_ord_gi_star
from geo.privacy import DisclosureRule, disclose_count
from geo.rates import rate_ratio
from geo.vocabulary import HARM_CATEGORIES, INCIDENT_SOURCES

router = APIRouter(prefix="/api", tags=["analysis"])
LONDON = ZoneInfo("Europe/London")
IntArray = npt.NDArray[np.int64]
Moment = datetime  # routes take a query parameter called ``datetime``; this name survives the shadowing

# Zero-count cells are filled in over the whole study area up to this many cells; beyond it (a huge
# service area at a fine size) only non-empty cells and their neighbourhoods are analysed.
MAX_FULL_GRID_CELLS = 20_000
# Answers with more cells than this are refused (422 on ``size``): unreadable on a map and slow to send.
MAX_CELLS = 30_000
MAX_STEPS = 260
MAX_EMERGING_WORK = 50_000_000  # cells x steps²
# Non-zero spatial weights (pairs of neighbouring cells) at most; a wide band on a fine grid is refused.
MAX_NEIGHBOUR_PAIRS = 5_000_000
DEFAULT_WINDOW_MONTHS = 6
DEFAULT_STEPS = {"month": 24, "week": 26}
EMERGING_ALPHA = 0.10
RATE_CONFIDENCE = 0.95
DENSITY_LEVELS = (0.1, 0.3, 0.5, 0.7, 0.9)  # fractions of the peak density
MAX_DENSITY_RASTER = 100_000
MAX_RISING_CELLS = 25

HOTSPOT_CITATION = (
    "Getis-Ord Gi* (Getis & Ord 1992; Ord & Getis 1995, eq. 14, the cell itself included in its "
    "neighbourhood) on incident counts per grid cell, zero-count cells included; two-sided normal p-values; "
    "Benjamini & Hochberg (1995) false discovery rate when fdr=true; ArcGIS Hot Spot Analysis confidence "
    "bins (Gi_Bin ±3/±2/±1 = 99/95/90 %)."
)
EMERGING_CITATION = (
    "Gi* per time step on the same spatial weights (FDR within each step when fdr=true), Mann-Kendall "
    "trend of each cell's Gi* z-scores (Mann 1945; Kendall 1975), ArcGIS Emerging Hot Spot Analysis "
    "categories; a cell is hot or cold in a step at 90 % confidence. Unlike ArcGIS, the neighbourhood "
    "is spatial only (see geo.emerging)."
)
DISPLACEMENT_CITATION = (
    "Weighted displacement quotient and total net effect (Bowers & Johnson 2003); weighted displacement "
    "difference test (Wheeler & Ratcliffe 2018), which needs a buffer around the control area and so is "
    "computed only for a chosen control area or control place; rises nearby by exact conditional "
    "rate ratios (Ederer & Mantel 1974), 95 % interval entirely above 1."
)
OUTCOME_CITATION = (
    "After/before incident rate per day with an exact conditional (Clopper-Pearson) interval for the "
    "rate ratio and an exact binomial test of no change (Ederer & Mantel 1974; Rothman et al. 2008, ch. 14)."
)


# ---- disclosure ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Disclosure:
    """What the reader may see: exact figures, or disclosure-controlled ones (panel, or shareable)."""

    applied: bool
    rule: DisclosureRule

    @classmethod
    def for_reader(cls, principal: Principal, settings: Settings, shareable: bool) -> Disclosure:
        return cls(principal.is_panel or shareable, DisclosureRule(settings.suppress_max, settings.round_to))

    def count(self, n: int | None) -> int | None:
        return disclose_count(int(n), self.rule) if self.applied and n is not None else n

    def hides(self, *counts: int) -> bool:
        """True when a statistic built from these counts would reveal a suppressed count."""
        return self.applied and any(1 <= int(c) <= self.rule.suppress_max for c in counts)

    def stat(self, value: float | None, digits: int) -> float | None:
        if value is None or not self.applied:
            return value
        return round(float(value), digits)

    def text(self, value: str | None) -> str | None:
        return None if self.applied else value

    def cell_stat(self, value: float | None) -> float | None:
        # A cell's exact z and p, with its neighbours', are linear in the counts and could be solved back
        # towards suppressed counts; the confidence bin says what a panel needs (as the maps do).
        return None if self.applied else value

    def info(self) -> DisclosureInfo:
        if self.applied:
            note = (f"Counts of 1 to {self.rule.suppress_max} are suppressed (null), others rounded to the "
                    f"nearest {self.rule.round_to}; cell z and p values are withheld (confidence bins shown); "
                    "other statistics are rounded and withheld where computed from a suppressed count; no free "
                    "text or incident locations.")
        else:
            note = "Exact counts, for staff use only: ask for shareable=true before sharing outside the team."
        return DisclosureInfo(applied=self.applied, suppress_max=self.rule.suppress_max,
                              round_to=self.rule.round_to, note=note)


WITHHELD = "Withheld: computed from a count below the disclosure threshold."


def _audit_export(session: Session, principal: Principal, shareable: bool, what: str, detail: dict[str, Any]) -> None:
    # A shareable answer is an export (DESIGN.md: every export is audited).
    if shareable:
        audit_write(session, principal, "analysis.export", what, detail)


# ---- parameters ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridQuery:
    grid: db.Grid
    filt: db.IncidentFilter
    weights: WeightsParam
    distance: float | None
    fdr: bool

    @property
    def cell(self) -> CellShapeParam:
        return "hex" if self.grid.shape == "hexagon" else "square"

    def parameters(self) -> dict[str, Any]:
        return {
            "cell": self.cell, "size": self.grid.size, "srid": self.grid.srid,
            "bbox": list(self.filt.bbox) if self.filt.bbox else None,
            "period": {"start": self.filt.start, "end": self.filt.end},
            "harm_category": list(self.filt.harm_categories), "source": list(self.filt.sources),
            "weights": self.weights, "distance": self.distance, "fdr": self.fdr,
        }


def _vocabulary(values: Sequence[str] | None, allowed: Sequence[str], field: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(v.strip() for v in (values or []) if v.strip()))
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise InvalidInput(f"{field}: unknown value {unknown[0]!r}; expected one of: {', '.join(allowed)}",
                           field=field)
    return chosen


def _period(value: str | None, field: str) -> tuple[datetime | None, datetime | None]:
    interval = parse_interval(value, field)
    if interval is None:
        return None, None
    start, end = interval
    if start is not None and start == end:
        raise InvalidInput(f"{field}: give an interval start/end; an analysis needs a period, not an instant",
                           field=field)
    return start, end


def _window(value: str, field: str) -> tuple[datetime, datetime]:
    start, end = _period(value, field)
    if start is None or end is None:
        raise InvalidInput(f"{field}: give both ends of the window (start/end)", field=field)
    return start, end


def _neighbour_spacing(grid: db.Grid) -> float:
    """Distance between the centres of adjacent cells (hexagons: sqrt(3) size; squares: size)."""
    return grid.size * math.sqrt(3) if grid.shape == "hexagon" else grid.size


def grid_query(
    settings: Settings, *, cell: CellShapeParam, size: float, bbox: str | None, period: str | None,
    harm_category: Sequence[str] | None, source: Sequence[str] | None, weights: WeightsParam,
    distance: float | None, fdr: bool,
) -> GridQuery:
    start, end = _period(period, "datetime")
    grid = db.Grid("hexagon" if cell == "hex" else "square", float(size), settings.analysis_srid)
    if weights == "distance":
        if distance is None:
            raise InvalidInput("distance: required with weights=distance (metres)", field="distance")
        if distance < _neighbour_spacing(grid):
            raise InvalidInput(f"distance: {distance:g} m is shorter than the {_neighbour_spacing(grid):.0f} m "
                               "between neighbouring cell centres, so no cell would have a neighbour",
                               field="distance")
        if distance > 20 * size:
            raise InvalidInput(f"distance: at most 20 cell sizes ({20 * size:g} m) at this cell size",
                               field="distance")
    filt = db.IncidentFilter(
        bbox=parse_bbox(bbox), start=start, end=end,
        harm_categories=_vocabulary(harm_category, HARM_CATEGORIES, "harm_category"),
        sources=_vocabulary(source, INCIDENT_SOURCES, "source"),
    )
    return GridQuery(grid, filt, weights, distance if weights == "distance" else None, fdr)


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
ShareableQ = Annotated[bool, Query(description="disclosure-controlled output for sharing, for any role")]


# ---- the analysed grid ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CellTable:
    """The analysed cells, sorted by (i, j), with their counts and GeoJSON (EPSG:4326)."""

    grid: db.Grid
    i: IntArray
    j: IntArray
    count: IntArray
    geometry: list[str]
    study: db.StudyArea
    mode: Literal["full", "non_empty_and_neighbours", "empty"]

    @property
    def note(self) -> str:
        if self.mode == "full":
            return "Every cell of the study area is analysed, zero-count cells included."
        if self.mode == "non_empty_and_neighbours":
            return (f"The study area would need more than {MAX_FULL_GRID_CELLS:,} cells at this size, so only "
                    "cells with incidents and their neighbourhoods (the weights' reach) are analysed; the "
                    "global mean is that of those cells. Use a bbox or larger cells for the full grid.")
        return "No cells: no incidents matched and no study area is defined."


def _centres(grid: db.Grid, i: IntArray, j: IntArray) -> tuple[np.ndarray, np.ndarray]:
    if grid.shape == "hexagon":
        return hexagon_centres(i, j, grid.size)
    return (i + 0.5) * grid.size, (j + 0.5) * grid.size


def _pack(i: IntArray, j: IntArray) -> IntArray:
    return (np.asarray(i, dtype=np.int64) << 32) + (np.asarray(j, dtype=np.int64) + (1 << 31))


def _neighbourhood(grid: db.Grid, i: IntArray, j: IntArray, reach: float) -> tuple[IntArray, IntArray]:
    """The cells whose centres lie within ``reach`` of a given cell's centre, the given cells included."""
    spacing_x = 1.5 * grid.size if grid.shape == "hexagon" else grid.size
    spacing_y = math.sqrt(3) * grid.size if grid.shape == "hexagon" else grid.size
    reach_i, reach_j = math.ceil(reach / spacing_x), math.ceil(reach / spacing_y) + 1
    all_i, all_j = [i], [j]
    for parity in (0, 1) if grid.shape == "hexagon" else (None,):
        members = np.ones(i.size, dtype=bool) if parity is None else (i & 1) == parity
        for di in range(-reach_i, reach_i + 1):
            for dj in range(-reach_j, reach_j + 1):
                shift = 0.0 if parity is None else (((parity + di) & 1) - parity) / 2
                if 0 < math.hypot(spacing_x * di, spacing_y * (dj + shift)) <= reach * (1 + 1e-9):
                    all_i.append(i[members] + di)
                    all_j.append(j[members] + dj)
    keys = np.unique(_pack(np.concatenate(all_i), np.concatenate(all_j)))
    return keys >> 32, (keys & 0xFFFFFFFF) - (1 << 31)


def build_cell_table(session: Session, query: GridQuery, counts: db.CellCounts) -> CellTable:
    grid = query.grid
    if counts.i.size > MAX_CELLS:
        raise InvalidInput(f"size: {counts.i.size:,} cells have incidents at {grid.size:g} m; use larger cells "
                           "or a smaller bbox", field="size")
    envelope = None
    if counts.i.size:
        x, y = _centres(grid, counts.i, counts.j)
        envelope = (float(x.min() - grid.size), float(y.min() - grid.size),
                    float(x.max() + grid.size), float(y.max() + grid.size))
    study = db.study_area(session, grid.srid, query.filt.bbox, envelope)
    geometry: dict[tuple[int, int], str] = {}
    mode: Literal["full", "non_empty_and_neighbours", "empty"]
    if study.wkb is not None and study.area_m2 / grid.cell_area <= MAX_FULL_GRID_CELLS:
        mode = "full"
        geometry.update({(a, b): g for a, b, g in db.study_cells(session, grid, study.wkb)})
        outside = [(int(a), int(b)) for a, b in zip(counts.i, counts.j, strict=True) if (a, b) not in geometry]
        if outside:
            geometry.update({(a, b): g for a, b, g in db.cell_geometries(
                session, grid, [c[0] for c in outside], [c[1] for c in outside])})
    elif counts.i.size:
        mode = "non_empty_and_neighbours"
        reach = query.distance if query.weights == "distance" and query.distance else _neighbour_spacing(grid)
        if grid.shape == "square":
            reach *= math.sqrt(2) if query.weights == "contiguity" else 1.0
        near_i, near_j = _neighbourhood(grid, counts.i, counts.j, reach)
        empty = ~np.isin(_pack(near_i, near_j), _pack(counts.i, counts.j))
        if int(empty.sum()) + counts.i.size > MAX_CELLS:
            raise InvalidInput(f"size: more than {MAX_CELLS:,} cells at {grid.size:g} m; use larger cells or a "
                               "smaller bbox", field="size")
        geometry.update({(a, b): g for a, b, g in db.cell_geometries(
            session, grid, near_i[empty].tolist(), near_j[empty].tolist(), within_wkb=study.wkb)})
        geometry.update({(a, b): g for a, b, g in db.cell_geometries(session, grid, counts.i.tolist(),
                                                                       counts.j.tolist())})
    else:
        mode = "empty"
    if len(geometry) > MAX_CELLS:
        raise InvalidInput(f"size: {len(geometry):,} cells at {grid.size:g} m; use larger cells or a smaller bbox",
                           field="size")
    cells = sorted(geometry)
    lookup = {(int(a), int(b)): int(n) for a, b, n in zip(counts.i, counts.j, counts.count, strict=True)}
    return CellTable(
        grid=grid,
        i=np.asarray([c[0] for c in cells], dtype=np.int64),
        j=np.asarray([c[1] for c in cells], dtype=np.int64),
        count=np.asarray([lookup.get(c, 0) for c in cells], dtype=np.int64),
        geometry=[geometry[c] for c in cells],
        study=study,
        mode=mode,
    )


def spatial_weights(query: GridQuery, table: CellTable) -> sparse.csr_matrix:
    if query.weights == "distance" and query.distance is not None:
        per_cell = math.pi * query.distance**2 / table.grid.cell_area
        if per_cell * table.i.size > MAX_NEIGHBOUR_PAIRS:
            raise InvalidInput(f"distance: a {query.distance:g} m band links about {per_cell:.0f} neighbours to each "
                               f"of {table.i.size:,} cells; use a shorter band or larger cells", field="distance")
        x, y = _centres(table.grid, table.i, table.j)
        return distance_band_adjacency(x, y, query.distance)
    if table.grid.shape == "hexagon":
        return hex_adjacency(table.i, table.j)
    return square_adjacency(table.i, table.j, queen=True)


@dataclass(frozen=True)
class HotspotStatistics:
    z: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray
    gi_bin: IntArray


def hotspot_statistics(query: GridQuery, table: CellTable) -> HotspotStatistics:
    result = getis_ord_gi_star(table.count, spatial_weights(query, table))
    return HotspotStatistics(result.z, result.p, benjamini_hochberg_adjust(result.p),
                             confidence_bins(result.z, result.p, fdr=query.fdr))


def _bin_label(gi_bin: int) -> str:
    if gi_bin == 0:
        return "Not significant"
    level = {1: 90, 2: 95, 3: 99}[abs(gi_bin)]
    return f"{'Hot' if gi_bin > 0 else 'Cold'} spot, {level} % confidence"


def _cell_feature(table: CellTable, k: int, properties: dict[str, Any]) -> str:
    """One cell as GeoJSON text, with PostGIS's geometry text spliced in as it came."""
    i, j = int(table.i[k]), int(table.j[k])
    shown = json.dumps({"i": i, "j": j, **properties}, allow_nan=False)
    return f'{{"type":"Feature","id":"{i},{j}","geometry":{table.geometry[k]},"properties":{shown}}}'


def _collection_response(features: list[str], **members: BaseModel | None) -> Response:
    """A FeatureCollection written directly as JSON text.

    Thousands of cells would otherwise be parsed from PostGIS's GeoJSON, validated against the response
    model and serialised again (~0.5 s for 2,500 cells). The extra members are still pydantic models, the
    features are built from typed values, and the tests validate whole answers against the models.
    """
    extra = "".join(f',"{name}":{"null" if m is None else m.model_dump_json()}' for name, m in members.items())
    return Response('{"type":"FeatureCollection","features":[' + ",".join(features) + "]" + extra + "}",
                    media_type="application/json")


def _grid_summary(table: CellTable, disclosure: Disclosure) -> dict[str, Any]:
    return {"n_cells": int(table.i.size), "n_incidents": disclosure.count(int(table.count.sum())),
            "study_area": table.study.source, "grid_mode": table.mode, "grid_note": table.note}


def _weights_text(query: GridQuery) -> str:
    if query.weights == "distance":
        return f"fixed distance band of {query.distance:g} m between cell centres (binary)"
    return "binary contiguity (hexagons sharing an edge)" if query.grid.shape == "hexagon" else \
        "binary queen contiguity (squares sharing an edge or corner)"


# ---- kernel density --------------------------------------------------------------------------------------
def _raster_cell(width: float, height: float, size: float) -> float:
    """Density raster cell: a quarter of a grid cell, or ArcGIS's shorter side / 250, within the cap."""
    raster = max(size / 4, min(width, height) / 250)
    return max(raster, math.sqrt(width * height / MAX_DENSITY_RASTER))


def _density_surface(
    session: Session, query: GridQuery, table: CellTable, disclosure: Disclosure, bandwidth: float | None,
) -> dict[str, Any]:
    grid = query.grid
    present = table.count > 0
    method = ("quartic (biweight) kernel density (Silverman 1986, s. 4.2), bandwidth by Esri's spatial Silverman "
              "rule unless given; bands at 10/30/50/70/90 % of the peak, in incidents per km²")
    empty = {"type": "FeatureCollection", "features": [], "bandwidth_m": bandwidth or 0.0, "raster_cell_m": 0.0,
             "basis": "no incidents", "method": method}
    if not present.any():
        return empty
    cx, cy = _centres(grid, table.i[present], table.j[present])
    width = float(cx.max() - cx.min()) + 2 * grid.size
    height = float(cy.max() - cy.min()) + 2 * grid.size
    if disclosure.applied:
        # Only what the cells already show: disclosed counts at cell centres, suppressed cells left out.
        shown = np.asarray([disclosure.count(int(n)) or 0 for n in table.count[present]], dtype=np.float64)
        keep = shown > 0
        x, y, w = cx[keep], cy[keep], shown[keep]
        basis = "disclosed cell counts at cell centres (suppressed cells contribute nothing)"
    else:
        snap = _raster_cell(width, height, grid.size)
        points = db.snapped_points(session, query.filt, snap)
        x, y, w = points[:, 0], points[:, 1], points[:, 2]
        basis = f"incident locations snapped to {snap:.0f} m"
    if w.size == 0 or w.sum() <= 0:
        return {**empty, "basis": basis}
    if bandwidth is None:
        try:
            bandwidth = silverman_bandwidth(x, y, w)
        except ValueError:
            bandwidth = 2 * grid.size  # all at one location: no spread to estimate from
    if disclosure.applied:
        bandwidth = max(bandwidth, 2 * grid.size)
    # The surface spans the points plus one bandwidth each side (no kernel mass cut off), in at most
    # MAX_DENSITY_RASTER cells. The kernel loop runs once per distinct location: snapping to a quarter
    # bandwidth (invisible at that smoothing) keeps a town-wide surface to a few thousand locations.
    bounds = (float(x.min()) - bandwidth, float(y.min()) - bandwidth,
              float(x.max()) + bandwidth, float(y.max()) + bandwidth)
    raster = _raster_cell(bounds[2] - bounds[0], bounds[3] - bounds[1], grid.size)
    step = max(raster, bandwidth / 4)
    keys, inverse = np.unique(np.column_stack([np.floor(x / step), np.floor(y / step)]), axis=0,
                              return_inverse=True)
    weights = np.bincount(inverse.ravel(), weights=w)
    surface = quartic_kde((keys[:, 0] + 0.5) * step, (keys[:, 1] + 0.5) * step, weights, bandwidth=bandwidth,
                          cell_size=raster, bounds=bounds)
    peak = float(surface.density.max())
    features: list[dict[str, Any]] = []
    if peak > 0:
        bands = density_bands(surface, [peak * f for f in DENSITY_LEVELS], crs=f"EPSG:{grid.srid}").to_crs(4326)
        for band, row in enumerate(bands.itertuples()):
            top = row.density_max
            features.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(row.geometry)),
                             "properties": {"band": band + 1, "density_min": float(row.density_min) * 1e6,
                                            "density_max": None if math.isnan(top) else float(top) * 1e6}})
    return {"type": "FeatureCollection", "features": features, "bandwidth_m": float(bandwidth),
            "raster_cell_m": float(raster), "basis": basis, "method": method}


# ---- hot spots -------------------------------------------------------------------------------------------
@router.get("/analysis/hotspots", response_model=HotspotCollection)
def hotspots(
    session: SessionDep, settings: SettingsDep,
    cell: CellQ = "hex", size: SizeQ = 250.0, bbox: BboxQ = None, datetime: PeriodQ = None,
    harm_category: HarmQ = None, source: SourceQ = None, weights: WeightsQ = "contiguity",
    distance: DistanceQ = None, fdr: FdrQ = True,
    density: Annotated[bool, Query(description="add a kernel density surface (bands)")] = False,
    bandwidth: Annotated[float | None, Query(ge=10, le=20_000, description="kernel radius, metres")] = None,
    shareable: ShareableQ = False,
    principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """Getis-Ord Gi* hot and cold spots on a hexagon or square grid, optionally with kernel density."""
    query = grid_query(settings, cell=cell, size=size, bbox=bbox, period=datetime, harm_category=harm_category,
                       source=source, weights=weights, distance=distance, fdr=fdr)
    disclosure = Disclosure.for_reader(principal, settings, shareable)
    table = build_cell_table(session, query, db.grid_counts(session, query.grid, query.filt))
    stats = hotspot_statistics(query, table)
    features = [
        _cell_feature(table, k, {
            "count": disclosure.count(int(table.count[k])),
            "z": disclosure.cell_stat(float(stats.z[k])), "p": disclosure.cell_stat(float(stats.p[k])),
            "p_fdr": disclosure.cell_stat(float(stats.p_fdr[k])), "gi_bin": int(stats.gi_bin[k]),
            "label": _bin_label(int(stats.gi_bin[k])),
        })
        for k in range(table.i.size)
    ]
    _audit_export(session, principal, shareable, "analysis:hotspots", query.parameters() | {"period": None})
    metadata = HotspotMetadata.model_validate({
        **_grid_summary(table, disclosure),
        "n_hot": int((stats.gi_bin > 0).sum()), "n_cold": int((stats.gi_bin < 0).sum()),
        "parameters": {**query.parameters(), "density": density, "bandwidth": bandwidth, "shareable": shareable},
        "method": f"{HOTSPOT_CITATION} Weights: {_weights_text(query)}.",
        "disclosure": disclosure.info(),
    })
    surface = (DensitySurface.model_validate(_density_surface(session, query, table, disclosure, bandwidth))
               if density else None)
    return _collection_response(features, metadata=metadata, density=surface)


# ---- emerging hot spots ----------------------------------------------------------------------------------
def _step_start(moment: datetime, step: str) -> datetime:
    """The local (Europe/London) start of the week (Monday) or month containing ``moment``, naive."""
    local = moment.astimezone(LONDON).replace(tzinfo=None)
    if step == "month":
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    day = local.date() - timedelta(days=local.weekday())
    return datetime(day.year, day.month, day.day)


def _next_step(local: datetime, step: str, n: int = 1) -> datetime:
    if step == "week":
        return local + timedelta(weeks=n)
    months = local.year * 12 + local.month - 1 + n
    return local.replace(year=months // 12, month=months % 12 + 1)


def _utc(local: datetime) -> datetime:
    return local.replace(tzinfo=LONDON).astimezone(UTC)


@router.get("/analysis/emerging-hotspots", response_model=EmergingCollection)
def emerging_hotspots(
    session: SessionDep, settings: SettingsDep,
    step: Annotated[Literal["week", "month"], Query(description="time step (Europe/London weeks or months)")]
    = "month",
    cell: CellQ = "hex", size: SizeQ = 250.0, bbox: BboxQ = None, datetime: PeriodQ = None,
    harm_category: HarmQ = None, source: SourceQ = None, weights: WeightsQ = "contiguity",
    distance: DistanceQ = None, fdr: FdrQ = True, shareable: ShareableQ = False,
    principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """How each cell's hot or cold spot status evolved over weeks or months (ArcGIS's 17 patterns).

    Without ``datetime``: the last 24 months (or 26 weeks) up to the latest matching incident.
    """
    query = grid_query(settings, cell=cell, size=size, bbox=bbox, period=datetime, harm_category=harm_category,
                       source=source, weights=weights, distance=distance, fdr=fdr)
    disclosure = Disclosure.for_reader(principal, settings, shareable)
    start, end = query.filt.start, query.filt.end
    if end is None:
        latest = db.latest_incident(session, query.filt)
        end = _utc(_next_step(_step_start(latest, step), step)) if latest is not None else None
    if start is None and end is not None:
        start = _utc(_next_step(_step_start(end - timedelta(microseconds=1), step), step, -DEFAULT_STEPS[step] + 1))
    steps: list[Moment] = []
    if start is not None and end is not None:
        local = _step_start(start, step)
        while _utc(local) < end and len(steps) <= MAX_STEPS:
            steps.append(local)
            local = _next_step(local, step)
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"datetime: more than {MAX_STEPS} {step}s; shorten the period or use step=month",
                           field="datetime")
    if start is not None and len(steps) < 2:
        raise InvalidInput(f"datetime: the period covers {len(steps)} {step}; emerging hot spots need at least two "
                           "time steps (ten or more recommended)", field="datetime")
    query = replace(query, filt=replace(query.filt, start=start, end=end))
    parameters = {**query.parameters(), "step": step, "shareable": shareable}
    metadata: dict[str, Any] = {"steps": [s.date() for s in steps], "alpha": EMERGING_ALPHA,
                                "parameters": parameters, "method": f"{EMERGING_CITATION} Weights: "
                                f"{_weights_text(query)}.", "disclosure": disclosure.info()}
    if not steps:
        table = build_cell_table(session, query, db.CellCounts(*(np.empty(0, dtype=np.int64),) * 3))
        return _collection_response([], metadata=EmergingMetadata.model_validate(
            {**_grid_summary(table, disclosure), **metadata}))
    by_step = db.step_counts(session, query.grid, query.filt, [_utc(s) for s in steps])
    totals = _totals(by_step.i, by_step.j, by_step.count)
    table = build_cell_table(session, query, totals)
    if table.i.size * len(steps) ** 2 > MAX_EMERGING_WORK:
        # Mann-Kendall compares every pair of steps in every cell: the work grows with cells x steps².
        field = "datetime" if len(steps) > DEFAULT_STEPS["week"] * 2 else "size"
        raise InvalidInput(f"{field}: {table.i.size:,} cells x {len(steps)} {step}s is too much to analyse at once; "
                           "use larger cells, a bbox, a shorter period or step=month", field=field)
    column = {c: k for k, c in enumerate(zip(table.i.tolist(), table.j.tolist(), strict=True))}
    matrix = np.zeros((len(steps), table.i.size))
    for t, a, b, n in zip(by_step.step.tolist(), by_step.i.tolist(), by_step.j.tolist(), by_step.count.tolist(),
                          strict=True):
        if 0 <= t < len(steps) and (a, b) in column:
            matrix[t, column[(a, b)]] += n
    result = emerging_hot_spots(matrix, spatial_weights(query, table), alpha=EMERGING_ALPHA, fdr=query.fdr)
    features = []
    for k in range(table.i.size):
        trend_z, trend_p = float(result.trend_z[k]), float(result.trend_p[k])
        trend = ("increasing" if trend_z > 0 else "decreasing") if trend_p <= EMERGING_ALPHA and trend_z else "none"
        features.append(_cell_feature(table, k, {
            "count": disclosure.count(int(table.count[k])), "category": str(result.category[k]), "trend": trend,
            "trend_z": disclosure.stat(trend_z, 1), "trend_p": disclosure.stat(trend_p, 3),
            "hot_steps": int(result.hot_steps[k]), "cold_steps": int(result.cold_steps[k]),
        }))
    _audit_export(session, principal, shareable, "analysis:emerging-hotspots", {"step": step})
    return _collection_response(features, metadata=EmergingMetadata.model_validate(
        {**_grid_summary(table, disclosure), **metadata}))


def _totals(i: IntArray, j: IntArray, count: IntArray) -> db.CellCounts:
    if i.size == 0:
        return db.CellCounts(i, j, count)
    cells, inverse = np.unique(np.column_stack([i, j]), axis=0, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=count, minlength=len(cells)).astype(np.int64)
    return db.CellCounts(cells[:, 0].astype(np.int64), cells[:, 1].astype(np.int64), sums)


# ---- rates -----------------------------------------------------------------------------------------------
def _observed(window: tuple[datetime, datetime], now: datetime) -> tuple[datetime, datetime, float]:
    """The window cut at ``now`` (the future has no exposure yet) and its length in days."""
    start, end = window
    cut = max(start, min(end, now))
    return start, cut, (cut - start).total_seconds() / 86_400


def _window_out(window: tuple[datetime, datetime], days: float) -> dict[str, Any]:
    return {"start": window[0], "end": window[1], "observed_days": round(days, 3)}


def _rate(before: int, before_days: float, after: int, after_days: float, disclosure: Disclosure) -> dict[str, Any]:
    shown = {"before_count": disclosure.count(before), "after_count": disclosure.count(after),
             "before_days": round(before_days, 3), "after_days": round(after_days, 3),
             "confidence": RATE_CONFIDENCE}
    if before_days <= 0 or after_days <= 0:
        which = "after" if after_days <= 0 else "before"
        reason = f"The {which} window has no observed days yet, so there is no rate to compare."
        return {**shown, "ratio": None, "lower": None, "upper": None, "p_value": None, "significant_rise": False,
                "significant_fall": False, "interpretation": "Undefined: " + reason,
                "undefined": dict.fromkeys(("ratio", "lower", "upper", "p_value"), reason)}
    result = rate_ratio(before, before_days, after, after_days, confidence=RATE_CONFIDENCE)
    rise = result.lower is not None and result.lower > 1
    fall = result.upper is not None and result.upper < 1
    if disclosure.hides(before, after):
        verdict = ("a statistically clear rise" if rise else "a statistically clear fall" if fall
                   else "no statistically clear change")
        return {**shown, "ratio": None, "lower": None, "upper": None, "p_value": None, "significant_rise": rise,
                "significant_fall": fall, "interpretation": f"{WITHHELD} The test found {verdict}.",
                "undefined": dict.fromkeys(("ratio", "lower", "upper", "p_value"), WITHHELD)}
    return {**shown, "ratio": disclosure.stat(result.ratio, 2), "lower": disclosure.stat(result.lower, 2),
            "upper": disclosure.stat(result.upper, 2), "p_value": disclosure.stat(result.p_value, 3),
            "significant_rise": rise, "significant_fall": fall, "interpretation": result.interpretation,
            "undefined": dict(result.undefined)}


def _months_before(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _windows(starts_on: date, before: str | None, after: str | None) -> tuple[tuple[datetime, datetime], ...]:
    """Before and after windows: given ones, else the six months either side of the start date."""
    def midnight(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=LONDON).astimezone(UTC)

    start = midnight(starts_on)
    before_w = _window(before, "before") if before else (midnight(_months_before(starts_on, DEFAULT_WINDOW_MONTHS)),
                                                         start)
    after_w = _window(after, "after") if after else (start, midnight(_months_before(starts_on,
                                                                                    -DEFAULT_WINDOW_MONTHS)))
    if after_w[0] < before_w[1]:
        raise InvalidInput("after: the after window starts before the before window ends", field="after")
    return before_w, after_w


def _intervention_summary(site: db.InterventionSite, disclosure: Disclosure) -> dict[str, Any]:
    return {"id": site.id, "kind": site.kind, "place_id": site.place_id, "place_name": site.place_name,
            "owning_partner": site.owning_partner, "starts_on": site.starts_on, "ends_on": site.ends_on,
            "description": disclosure.text(site.description)}


# ---- displacement ----------------------------------------------------------------------------------------
def _measure(measure: Any, counts: Sequence[int], disclosure: Disclosure) -> dict[str, Any]:
    if disclosure.hides(*counts):
        return {"name": measure.name, "value": None, "interpretation": WITHHELD, "undefined_reason": WITHHELD}
    return {"name": measure.name, "value": disclosure.stat(measure.value, 2),
            "interpretation": measure.interpretation, "undefined_reason": measure.undefined_reason}


def displacement_analysis(
    session: Session, settings: Settings, principal: Principal, *, intervention: int, target_radius: float | None,
    buffer_m: float, before: str | None, after: str | None, harm_category: Sequence[str] | None,
    source: Sequence[str] | None, search_distance: float, cell: CellShapeParam, size: float,
    control_geometry: dict[str, Any] | None, control_place: int | None, shareable: bool,
) -> dict[str, Any]:
    disclosure = Disclosure.for_reader(principal, settings, shareable)
    site = db.intervention_site(session, intervention)
    filt = db.IncidentFilter(harm_categories=_vocabulary(harm_category, HARM_CATEGORIES, "harm_category"),
                             sources=_vocabulary(source, INCIDENT_SOURCES, "source"))
    before_w, after_w = _windows(site.starts_on, before, after)
    now = datetime.now(UTC)
    b0, b1, before_days = _observed(before_w, now)
    a0, a1, after_days = _observed(after_w, now)
    windows = db.Windows((b0, b1), (a0, a1))
    if control_place is not None:
        try:
            db.place_row(session, control_place)
        except NotFound as exc:
            raise NotFound(f"no place with id {control_place} in your organisation", field="control_place") from exc
    if control_geometry is not None:
        validated_geometry(session, settings, control_geometry, frozenset({"Polygon", "MultiPolygon"}), "control")
    radius = target_radius if target_radius is not None else 100.0
    spec = db.AreaSpec(radius, use_own_polygon=target_radius is None)
    srid = settings.analysis_srid
    areas = db.displacement_areas(session, srid, intervention, spec, buffer_m, control_geometry, control_place, spec)
    grid = db.Grid("hexagon" if cell == "hex" else "square", size, srid)
    local = db.displacement_local_counts(session, grid, intervention, areas, windows, filt, search_distance, radius)
    counts = dict(local.areas)
    if areas.control_source == "service area":
        # Incidents are only accepted inside the service area (API and imports refuse the rest), so "the
        # rest of the service area" holds every incident outside the target and buffer: totals minus those,
        # not a point-in-polygon test per incident (measured 4 s for a year of a million).
        totals = db.window_totals(session, windows, filt)
        counts["control"] = (totals[0] - counts["target"][0] - counts["buffer"][0],
                             totals[1] - counts["target"][1] - counts["buffer"][1])
    else:
        counts.update(db.area_counts(session, srid, areas, ["control", "control_buffer"], windows, filt))
    report = displacement_report(counts["target"], counts["buffer"], counts["control"], counts.get("control_buffer"))
    target_text = (f"the intervention's own area (or {radius:g} m around it when it is a point)"
                   if spec.use_own_polygon else f"{radius:g} m around the intervention site")
    definitions = {
        "target": target_text,
        "buffer": f"a ring {buffer_m:g} m wide around the target",
        "control": {"service area": "the service area outside the target and buffer",
                    "given area": "the given control area outside the target and buffer",
                    "control place": f"the control place ({target_text.replace('intervention', 'place')}), "
                                     "outside the target and buffer"}[areas.control_source],
        "control_buffer": f"a ring {buffer_m:g} m wide around the control area",
    }

    def area(name: str) -> dict[str, Any] | None:
        if name not in counts:
            return None
        b, a = counts[name]
        return {"definition": definitions[name], "area_m2": round(areas.area_m2[name], 1),
                "counts": {"before": disclosure.count(b), "after": disclosure.count(a)},
                "geometry": areas.geojson[name]}

    t, d, c = counts["target"], counts["buffer"], counts["control"]
    quotient = report.quotient
    difference = None
    if report.difference is not None:
        wdd = report.difference
        if disclosure.hides(*t, *d, *c, *counts["control_buffer"]):
            difference = {"wdd": None, "local_difference": None, "displacement_difference": None, "variance": None,
                          "standard_error": None, "z": None, "p_value": None, "lower": None, "upper": None,
                          "confidence": wdd.confidence, "interpretation": WITHHELD, "undefined_reason": WITHHELD}
        else:
            hidden = disclosure.applied  # the variance is the total count: not shown when controlled
            difference = {
                "wdd": disclosure.stat(wdd.wdd, 0), "local_difference": disclosure.stat(wdd.local_difference, 0),
                "displacement_difference": disclosure.stat(wdd.displacement_difference, 0),
                "variance": None if hidden else wdd.variance, "standard_error": None if hidden else wdd.standard_error,
                "z": disclosure.stat(wdd.z, 1), "p_value": disclosure.stat(wdd.p_value, 3),
                "lower": disclosure.stat(wdd.lower, 0), "upper": disclosure.stat(wdd.upper, 0),
                "confidence": wdd.confidence, "interpretation": wdd.interpretation,
                "undefined_reason": wdd.undefined_reason,
            }
    difference_reason = report.difference_undefined_reason
    if report.difference is None:
        difference_reason = ("The weighted displacement difference needs a buffer around the control area; the "
                             "default control (the rest of the service area) has none. Give a control area "
                             "(POST) or a control_place to get it.")
    _audit_export(session, principal, shareable, f"intervention:{intervention}", {"analysis": "displacement"})
    return {
        "intervention": _intervention_summary(site, disclosure),
        "before": _window_out(before_w, before_days), "after": _window_out(after_w, after_days),
        "target": area("target"), "buffer": area("buffer"), "control": area("control"),
        "control_buffer": area("control_buffer"),
        "quotient": {
            "success_measure": _measure(quotient.success_measure, (*t, *c), disclosure),
            "buffer_displacement_measure": _measure(quotient.buffer_displacement_measure, (*d, *c), disclosure),
            "wdq": _measure(quotient.wdq, (*t, *d, *c), disclosure),
            "total_net_effect": _measure(quotient.total_net_effect, (*t, *d, *c), disclosure),
        },
        "difference": difference, "difference_undefined_reason": difference_reason,
        "where_it_went": _where_it_went(session, grid, local, before_days, after_days, search_distance, radius,
                                        disclosure),
        "parameters": {"intervention": intervention, "target_radius": radius, "target_definition": target_text,
                       "buffer_m": buffer_m, "control": definitions["control"], "control_place": control_place,
                       "harm_category": list(filt.harm_categories), "source": list(filt.sources),
                       "search_distance": search_distance, "shareable": shareable},
        "method": DISPLACEMENT_CITATION,
        "disclosure": disclosure.info(),
    }


def _where_it_went(
    session: Session, grid: db.Grid, local: db.LocalCounts, before_days: float, after_days: float,
    search_distance: float, radius: float, disclosure: Disclosure,
) -> dict[str, Any]:
    """Places and cells near the intervention whose rate rose significantly (interval above 1), ranked by
    the lower limit of the interval: the most certain rises first."""
    observed = before_days > 0 and after_days > 0
    rising: list[tuple[float, dict[str, Any]]] = []
    for place in local.places:
        before, after = int(place["before"]), int(place["after"])
        if not observed or after * before_days <= before * after_days:
            continue  # the rate did not go up, so it cannot have risen significantly
        lower = rate_ratio(before, before_days, after, after_days, confidence=RATE_CONFIDENCE).lower
        if lower is not None and lower > 1:
            rising.append((lower, {"place_id": place["id"], "name": place["name"], "kind": place["kind"],
                                   "distance_m": round(float(place["distance"]), 1),
                                   "rate": _rate(before, before_days, after, after_days, disclosure)}))
    rising.sort(key=lambda item: (-item[0], item[1]["distance_m"]))
    cell_rises: list[tuple[float, int, int, dict[str, Any]]] = []
    if observed:
        for a, b, nb, na in zip(local.cell_i.tolist(), local.cell_j.tolist(), local.cell_before.tolist(),
                                local.cell_after.tolist(), strict=True):
            if na * before_days <= nb * after_days:
                continue
            result = rate_ratio(nb, before_days, na, after_days, confidence=RATE_CONFIDENCE)
            if result.lower is not None and result.lower > 1:
                cell_rises.append((result.lower, a, b, _rate(nb, before_days, na, after_days, disclosure)))
    cell_rises.sort(key=lambda item: (-item[0], item[1], item[2]))
    cell_rises = cell_rises[:MAX_RISING_CELLS]
    shapes = {(a, b): g for a, b, g in db.cell_geometries(session, grid, [c[1] for c in cell_rises],
                                                          [c[2] for c in cell_rises])} if cell_rises else {}
    cells = [{"type": "Feature", "id": f"{a},{b}", "geometry": json.loads(shapes[(a, b)]),
              "properties": {"i": a, "j": b, "rate": rate}} for _, a, b, rate in cell_rises]
    if rising:
        named = "; ".join(f"{r['name']} ({_ratio_text(r['rate'])})" for _, r in rising[:5])
        text = (f"Harm rose significantly after the intervention at {len(rising)} place(s) within "
                f"{search_distance:g} m, most certain first: {named}.")
    else:
        text = f"No place within {search_distance:g} m had a statistically clear rise after the intervention."
    cell: CellShapeParam = "hex" if grid.shape == "hexagon" else "square"
    return {"search_distance_m": search_distance, "place_radius_m": radius, "places_examined": len(local.places),
            "places": [r for _, r in rising],
            "cells": {"type": "FeatureCollection", "features": cells, "cell": cell, "size": grid.size},
            "interpretation": text}


def _ratio_text(rate: dict[str, Any]) -> str:
    if rate["ratio"] is None:
        return "rate rose from none before" if rate["lower"] is not None else "figures withheld"
    return f"rate x{rate['ratio']:.1f}, 95 % interval {rate['lower']:.1f}-{rate['upper']:.1f}"


@router.get("/analysis/displacement", response_model=DisplacementResult)
def displacement(
    session: SessionDep, settings: SettingsDep,
    intervention: Annotated[int, Query(description="the intervention's id")],
    target_radius: Annotated[float | None, Query(ge=10, le=2000, description=(
        "target = this many metres around the site; default: the site's own area, or 100 m around a point"))]
    = None,
    buffer_m: Annotated[float, Query(ge=50, le=5000, description="width of the buffer ring, metres")] = 400.0,
    before: Annotated[str | None, Query(description="RFC 3339 interval; default the 6 months before the start")]
    = None,
    after: Annotated[str | None, Query(description="RFC 3339 interval; default the 6 months from the start")]
    = None,
    harm_category: HarmQ = None, source: SourceQ = None,
    control_place: Annotated[int | None, Query(description="a place whose area is the control (enables WDD)")]
    = None,
    search_distance: Annotated[float, Query(ge=100, le=10_000, description="where-did-it-go radius, metres")]
    = 1000.0,
    cell: CellQ = "hex", size: SizeQ = 250.0, shareable: ShareableQ = False,
    principal: Principal = gate(policy.ANALYSIS),
) -> dict[str, Any]:
    """Did harm move after an intervention (WDQ, WDD), and where did it go (places and cells that rose)?"""
    return displacement_analysis(
        session, settings, principal, intervention=intervention, target_radius=target_radius, buffer_m=buffer_m,
        before=before, after=after, harm_category=harm_category, source=source, search_distance=search_distance,
        cell=cell, size=size, control_geometry=None, control_place=control_place, shareable=shareable)


@router.post("/analysis/displacement", response_model=DisplacementResult)
def displacement_with_control(
    body: DisplacementRequest, session: SessionDep, settings: SettingsDep,
    principal: Principal = gate(policy.ANALYSIS),
) -> dict[str, Any]:
    """As the GET, with a control area drawn as GeoJSON (its ring gives the WDD its control buffer)."""
    control = body.control.model_dump(exclude_none=True) if body.control is not None else None
    return displacement_analysis(
        session, settings, principal, intervention=body.intervention, target_radius=body.target_radius,
        buffer_m=body.buffer_m, before=body.before, after=body.after, harm_category=body.harm_category,
        source=body.source, search_distance=body.search_distance, cell=body.cell, size=body.size,
        control_geometry=control, control_place=body.control_place, shareable=body.shareable)


# ---- a place: outcomes and timeline ----------------------------------------------------------------------
RadiusQ = Annotated[float, Query(ge=10, le=2000, description="incidents within this many metres (or linked)")]


@router.get("/places/{place_id}/outcomes", response_model=PlaceOutcomes)
def place_outcomes(
    place_id: int, session: SessionDep, settings: SettingsDep,
    intervention: Annotated[int | None, Query(description="one intervention at this place; default all")] = None,
    radius: RadiusQ = 100.0,
    before: Annotated[str | None, Query(description="RFC 3339 interval; default the 6 months before")] = None,
    after: Annotated[str | None, Query(description="RFC 3339 interval; default the 6 months from the start")]
    = None,
    harm_category: HarmQ = None, source: SourceQ = None, shareable: ShareableQ = False,
    principal: Principal = gate(policy.ANALYSIS),
) -> dict[str, Any]:
    """Before/after incident rates by harm category around each intervention at the place."""
    disclosure = Disclosure.for_reader(principal, settings, shareable)
    place = db.place_row(session, place_id)
    filt = db.IncidentFilter(harm_categories=_vocabulary(harm_category, HARM_CATEGORIES, "harm_category"),
                             sources=_vocabulary(source, INCIDENT_SOURCES, "source"))
    sites = db.interventions_at_place(session, place_id)
    if intervention is not None:
        db.intervention_site(session, intervention)  # 404 when not in this organisation
        sites = [s for s in sites if s.id == intervention]
        if not sites:
            raise InvalidInput(f"intervention: intervention {intervention} is not at place {place_id}",
                               field="intervention")
    now = datetime.now(UTC)
    outcomes = []
    for site in sites:
        before_w, after_w = _windows(site.starts_on, before, after)
        b0, b1, before_days = _observed(before_w, now)
        a0, a1, after_days = _observed(after_w, now)
        counts = db.place_counts_by_category(session, place_id, radius, db.Windows((b0, b1), (a0, a1)), filt)
        total_before = sum(c[0] for c in counts.values())
        total_after = sum(c[1] for c in counts.values())
        outcomes.append({
            "intervention": _intervention_summary(site, disclosure),
            "before": _window_out(before_w, before_days), "after": _window_out(after_w, after_days),
            "overall": _rate(total_before, before_days, total_after, after_days, disclosure),
            "by_harm_category": [{"harm_category": name, "rate": _rate(b, before_days, a, after_days, disclosure)}
                                 for name, (b, a) in counts.items()],
        })
    _audit_export(session, principal, shareable, f"place:{place_id}", {"analysis": "outcomes"})
    return {"place": {"id": place.id, "name": place.name, "kind": place.kind}, "radius_m": radius,
            "outcomes": outcomes, "method": OUTCOME_CITATION, "disclosure": disclosure.info()}


@router.get("/places/{place_id}/timeline", response_model=PlaceTimeline)
def place_timeline(
    place_id: int, session: SessionDep, settings: SettingsDep, datetime: PeriodQ = None, radius: RadiusQ = 100.0,
    shareable: ShareableQ = False, principal: Principal = gate(policy.ANALYSIS),
) -> dict[str, Any]:
    """Incidents per month at the place, with its designations, interventions and guardians."""
    disclosure = Disclosure.for_reader(principal, settings, shareable)
    place = db.place_row(session, place_id)
    start, end = _period(datetime, "datetime")
    if start is not None and end is not None and (end - start).days > 31 * 240:
        raise InvalidInput("datetime: at most 20 years of months", field="datetime")
    history = db.place_timeline(session, place_id, radius, start, end)
    if len(history.months) > 240:
        raise InvalidInput("datetime: more than 240 months of records; give a shorter period", field="datetime")
    _audit_export(session, principal, shareable, f"place:{place_id}", {"analysis": "timeline"})
    return {
        "place": {"id": place.id, "name": place.name, "kind": place.kind}, "radius_m": radius,
        "months": [{"month": month, "count": disclosure.count(n)} for month, n in history.months],
        "total": disclosure.count(sum(n for _, n in history.months)),
        "designations": [{**{k: v for k, v in d.items() if k != "reason"}, "reason": disclosure.text(d["reason"])}
                         for d in history.designations],
        "interventions": [{**{k: v for k, v in v.items() if k != "description"},
                           "description": disclosure.text(v["description"])} for v in history.interventions],
        "guardians": [{"id": g["id"], "role": g["role"], "trainings": g["trainings"] or [], "hours": g["hours"],
                       "description": disclosure.text(g["description"])} for g in history.guardians],
        "disclosure": disclosure.info(),
    }


# ---- flag a hot spot cell --------------------------------------------------------------------------------
def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _period_text(start: datetime | None, end: datetime | None) -> str:
    first = f"{start.astimezone(LONDON):%Y-%m}" if start else "the first record"
    last = f"{(end - timedelta(microseconds=1)).astimezone(LONDON):%Y-%m}" if end else "now"
    return f"{first}..{last}"


@router.post("/analysis/hotspots/flag", response_model=HotspotFlagResult, status_code=201)
def flag_hotspot(
    body: HotspotFlagCreate, session: SessionDep, settings: SettingsDep, response: Response,
    principal: Principal = gate(policy.FLAG_CONCERN),
) -> dict[str, Any]:
    """Flag a significant hot spot cell as a place of concern: an area place plus a concern designation
    whose reason quotes the statistic. Refused (422) when the cell is not a significant hot spot under
    these parameters."""
    query = grid_query(settings, cell=body.cell, size=body.size,
                       bbox=",".join(str(v) for v in body.bbox) if body.bbox else None, period=body.datetime,
                       harm_category=body.harm_category, source=body.source, weights=body.weights,
                       distance=body.distance, fdr=body.fdr)
    table = build_cell_table(session, query, db.grid_counts(session, query.grid, query.filt))
    found = np.flatnonzero((table.i == body.i) & (table.j == body.j))
    errors = [{"field": "i", "message": ""}, {"field": "j", "message": ""}]
    if found.size == 0:
        detail = f"cell ({body.i}, {body.j}) is not in the analysed grid for these parameters"
        raise InvalidInput(detail, field="i", errors=[{**e, "message": detail} for e in errors])
    k = int(found[0])
    stats = hotspot_statistics(query, table)
    needed = {90: 1, 95: 2, 99: 3}[body.confidence]
    z, p, p_fdr, gi_bin = float(stats.z[k]), float(stats.p[k]), float(stats.p_fdr[k]), int(stats.gi_bin[k])
    if gi_bin < needed:
        detail = (f"cell ({body.i}, {body.j}) is not a significant hot spot at {body.confidence} % confidence under "
                  f"these parameters (Gi* z = {z:.2f}, {_p_text(p_fdr if body.fdr else p)}"
                  f"{' FDR-adjusted' if body.fdr else ''}); only significant hot spots can be flagged")
        raise InvalidInput(detail, field="i", errors=[{**e, "message": detail} for e in errors])
    shape_name = "hexagons" if query.grid.shape == "hexagon" else "squares"
    reason = (f"Getis-Ord Gi* z = {z:.1f}, {_p_text(p_fdr if body.fdr else p)} "
              f"({'FDR-adjusted' if body.fdr else 'not adjusted for multiple testing'}) over "
              f"{_period_text(query.filt.start, query.filt.end)}, {query.grid.size:g} m {shape_name}; "
              f"{int(table.count[k])} incidents in the cell (Gi_Bin {gi_bin}, {_bin_label(gi_bin).lower()}).")
    geometry = shape(json.loads(table.geometry[k]))
    name = body.name or f"Hotspot cell {body.i},{body.j}"
    place_id = repository.insert(session, PLACES, principal.organisation_id, {"name": name, "kind": body.kind},
                                 geometry)
    today = datetime.now(UTC)
    designation_id = repository.insert(session, DESIGNATIONS, principal.organisation_id, {
        "place_id": place_id, "kind": "concern", "valid_from": today, "level": body.level, "reason": reason,
        "review_by": body.review_by or (today + timedelta(days=91)).date(),
    })
    audit_write(session, principal, "place.create", f"place:{place_id}", {"from": "hotspot flag"})
    audit_write(session, principal, "designation.create", f"designation:{designation_id}",
                {"kind": "concern", "place_id": place_id, "cell": [body.i, body.j]})
    response.headers["Location"] = f"/api/places/{place_id}"
    return {
        "place": repository.get_feature(session, PLACES, place_id),
        "designation": repository.get_feature(session, DESIGNATIONS, designation_id),
        "statistic": {"i": body.i, "j": body.j, "count": int(table.count[k]), "z": z, "p": p, "p_fdr": p_fdr,
                      "gi_bin": gi_bin, "reason": reason},
    }

