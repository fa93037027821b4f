"""The analysed grid: hexagon or square cells over the study area with their incident counts, and the
spatial weights that say which cells are neighbours (:mod:`geo.grid`)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sqlalchemy.orm import Session

from app.db import analysis as db
from app.db import ogc as db_cells
from app.exceptions import InvalidInput
from app.query import parse_bbox
from app.schemas.analysis import CellShapeParam, WeightsParam
from app.services.disclosure import Disclosure
from app.services.selection import analysis_period, vocabulary_values
from app.settings import Settings
from geo.grid import (
    distance_band_adjacency,
    hex_adjacency,
    hexagon_centres,
    snap_box_outwards,
    square_adjacency,
)
from geo.vocabulary import HARM_CATEGORIES, INCIDENT_SOURCES

IntArray = npt.NDArray[np.int64]

# Zero-count cells are filled in over the whole study area up to this many cells; beyond it (a huge
# service area at a fine size) only non-empty cells and their neighbourhoods are analysed.
MAX_FULL_GRID_CELLS = 20_000
# Answers with more cells than this are refused (422 on ``size``): unreadable on a map and slow to send.
MAX_CELLS = 30_000
# Non-zero spatial weights (pairs of neighbouring cells) at most; a wide band on a fine grid is refused.
MAX_NEIGHBOUR_PAIRS = 5_000_000


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
            "box": list(self.filt.box) if self.filt.box else None,
            "period": {"start": self.filt.start, "end": self.filt.end},
            "harm_category": list(self.filt.harm_categories), "source": list(self.filt.sources),
            "weights": self.weights, "distance": self.distance, "fdr": self.fdr,
        }


def _neighbour_spacing(grid: db.Grid) -> float:
    """Distance between the centres of adjacent cells (hexagons: sqrt(3) size; squares: size)."""
    return grid.size * math.sqrt(3) if grid.shape == "hexagon" else grid.size


def grid_query(
    session: Session, settings: Settings, disclosure: Disclosure, *, cell: CellShapeParam, size: float,
    bbox: str | None, period: str | None, harm_category: Sequence[str] | None, source: Sequence[str] | None,
    weights: WeightsParam, distance: float | None, fdr: bool,
) -> GridQuery:
    """The request's grid and incident filter; for a disclosure-controlled reader the published grid,
    whole months and whole cells (:class:`~app.services.disclosure.Disclosure`)."""
    start, end = disclosure.period(*analysis_period(period, "datetime"))
    shape, size = disclosure.cell("hexagon" if cell == "hex" else "square", float(size))
    grid = db.Grid("hexagon" if shape == "hexagon" else "square", size, settings.analysis_srid)
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
    box = parse_bbox(bbox)
    filt = db.IncidentFilter(
        bbox=box, start=start, end=end,
        harm_categories=vocabulary_values(harm_category, HARM_CATEGORIES, "harm_category"),
        sources=vocabulary_values(source, INCIDENT_SOURCES, "source"),
    )
    if disclosure.applied and box is not None:
        filt = published_area(session, filt, grid)
    return GridQuery(grid, filt, weights, distance if weights == "distance" else None, fdr)


def published_area(session: Session, filt: db.IncidentFilter, grid: db.Grid) -> db.IncidentFilter:
    """``filt`` with its lon/lat bbox replaced by the whole cells of ``grid`` it touches (snapped outwards)."""
    if filt.bbox is None:
        return filt
    box = snap_box_outwards(db.metric_envelope(session, filt.bbox, grid.srid), grid.size)
    return replace(filt, bbox=None, box=box, box_srid=grid.srid)


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


def cell_centres(grid: db.Grid, i: IntArray, j: IntArray) -> tuple[np.ndarray, np.ndarray]:
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
        x, y = cell_centres(grid, counts.i, counts.j)
        envelope = (float(x.min() - grid.size), float(y.min() - grid.size),
                    float(x.max() + grid.size), float(y.max() + grid.size))
    study = db.study_area(session, grid.srid, query.filt.bbox, envelope, query.filt.box)
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
        x, y = cell_centres(table.grid, table.i, table.j)
        return distance_band_adjacency(x, y, query.distance)
    if table.grid.shape == "hexagon":
        return hex_adjacency(table.i, table.j)
    return square_adjacency(table.i, table.j, queen=True)


# ---- what the answers share -----------------------------------------------------------------------------
def cell_feature(table: CellTable, k: int, properties: dict[str, Any]) -> str:
    """One cell as GeoJSON text, with PostGIS's geometry text spliced in as it came."""
    i, j = int(table.i[k]), int(table.j[k])
    shown = json.dumps({"i": i, "j": j, **properties}, allow_nan=False)
    return f'{{"type":"Feature","id":"{i},{j}","geometry":{table.geometry[k]},"properties":{shown}}}'


def grid_summary(table: CellTable, disclosure: Disclosure) -> dict[str, Any]:
    # The total of whole published cells over whole months: one disclosed figure, like each cell's.
    return {"n_cells": int(table.i.size), "n_incidents": disclosure.count(int(table.count.sum())),
            "study_area": table.study.source, "grid_mode": table.mode, "grid_note": table.note}


def weights_text(query: GridQuery) -> str:
    if query.weights == "distance":
        return f"fixed distance band of {query.distance:g} m between cell centres (binary)"
    return "binary contiguity (hexagons sharing an edge)" if query.grid.shape == "hexagon" else \
        "binary queen contiguity (squares sharing an edge or corner)"


# ---- fixed-size cell layers (OGC hotspot-cells, vector tiles, cell exports) -------------------------------
#: The layers' cells for staff: 250 m hexagons (as the hotspot maps); for a disclosure-controlled reader the
#: published 250 m squares.
LAYER_CELL_M = 250.0


def layer_grid(settings: Settings, disclosure: Disclosure) -> db.Grid:
    shape, size = disclosure.cell("hexagon", LAYER_CELL_M)
    return db.Grid("hexagon" if shape == "hexagon" else "square", size, settings.analysis_srid)


def layer_filter(
    session: Session | None, grid: db.Grid, disclosure: Disclosure, *, bbox: tuple[float, float, float, float] | None,
    interval: tuple[datetime | None, datetime | None] | None, harm_categories: Sequence[str] = (),
) -> db.IncidentFilter:
    """The incidents a layer counts: ``[start, end)`` (an instant ``t`` selects those starting at ``t``); for a
    controlled reader whole months, and a bbox snapped outwards to whole cells (needs ``session``)."""
    start, end = interval if interval is not None else (None, None)
    start, end = db.half_open(*disclosure.period(start, end))
    filt = db.IncidentFilter(bbox=bbox, start=start, end=end,
                             harm_categories=vocabulary_values(harm_categories, HARM_CATEGORIES, "harm_category"))
    if disclosure.applied and session is not None:
        filt = published_area(session, filt, grid)
    return filt


def layer_cells(
    session: Session, settings: Settings, disclosure: Disclosure, *,
    bbox: tuple[float, float, float, float] | None = None,
    interval: tuple[datetime | None, datetime | None] | None = None, harm_categories: Sequence[str] = (),
    cell: tuple[int, int] | None = None,
) -> tuple[db.Grid, list[dict[str, Any]]]:
    """Counts per layer cell as the reader may see them; a controlled reader's suppressed cells are left out
    altogether (a cell marked "1 to 7" still points at a child's street), so absent means 0 or suppressed."""
    grid = layer_grid(settings, disclosure)
    filt = layer_filter(session, grid, disclosure, bbox=bbox, interval=interval, harm_categories=harm_categories)
    cells = db_cells.hotspot_cells(session, grid=grid, filt=filt, cell=cell)
    if disclosure.applied:
        cells = [{**c, "incidents": disclosure.count(c["incidents"])} for c in cells]
        cells = [c for c in cells if c["incidents"] is not None]
    return grid, cells
