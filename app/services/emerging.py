"""Emerging hot spots: Gi* per week or month on the analysed grid and the trend of each cell's z-scores
(:mod:`geo.emerging`), over Europe/London calendar steps."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
from sqlalchemy.orm import Session

from app.db import analysis as db
from app.exceptions import InvalidInput
from app.schemas.analysis import EmergingMetadata
from app.security import Principal
from app.services import analysis_cache
from app.services.disclosure import Disclosure
from app.services.grids import (
    GridQuery,
    IntArray,
    build_cell_table,
    cell_feature,
    grid_summary,
    spatial_weights,
    weights_text,
)
from geo.calendar import add_steps, london_midnight, step_floor
from geo.emerging import emerging_hot_spots

MAX_STEPS = 260
MAX_EMERGING_WORK = 50_000_000  # cells x steps²
DEFAULT_STEPS = {"month": 24, "week": 26}
EMERGING_ALPHA = 0.10

EMERGING_CITATION = (
    "Gi* per time step on the same spatial weights (FDR within each step when fdr=true), Mann-Kendall "
    "trend of each cell's Gi* z-scores (Mann 1945; Kendall 1975), ArcGIS Emerging Hot Spot Analysis "
    "categories; a cell is hot or cold in a step at 90 % confidence. Unlike ArcGIS, the neighbourhood "
    "is spatial only (see geo.emerging)."
)


def _key(i: IntArray, j: IntArray) -> IntArray:
    """One int64 per cell, ordered as (i, j) pairs are: i in the high 32 bits, j offset to be non-negative."""
    return (np.asarray(i, dtype=np.int64) << 32) + (np.asarray(j, dtype=np.int64) + (1 << 31))


def _totals(i: IntArray, j: IntArray, count: IntArray) -> db.CellCounts:
    if i.size == 0:
        return db.CellCounts(i, j, count)
    keys, first, inverse = np.unique(_key(i, j), return_index=True, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=count, minlength=keys.size).astype(np.int64)
    return db.CellCounts(np.asarray(i, dtype=np.int64)[first], np.asarray(j, dtype=np.int64)[first], sums)


def _step_matrix(by_step: db.StepCounts, table_i: IntArray, table_j: IntArray, steps: int) -> np.ndarray:
    """(steps x cells) counts in the table's cell order; rows outside the steps or the table are dropped."""
    matrix = np.zeros((steps, table_i.size))
    if table_i.size == 0 or by_step.i.size == 0:
        return matrix
    table_keys = _key(table_i, table_j)
    order = np.argsort(table_keys, kind="stable")
    keys = _key(by_step.i, by_step.j)
    at = np.searchsorted(table_keys[order], keys)
    found = at < table_keys.size
    found[found] = table_keys[order][at[found]] == keys[found]
    step = np.asarray(by_step.step, dtype=np.int64)
    keep = found & (step >= 0) & (step < steps)
    np.add.at(matrix, (step[keep], order[at[keep]]), np.asarray(by_step.count, dtype=np.float64)[keep])
    return matrix


# ---- the analysis ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmergingAnalysis:
    """The analysed cells as GeoJSON Feature text (one per cell), with what describes them."""

    features: list[str]
    metadata: EmergingMetadata


def emerging_hotspot_analysis(
    session: Session, principal: Principal, query: GridQuery, disclosure: Disclosure, *,
    step: Literal["week", "month"],
) -> EmergingAnalysis:
    """Without a period: the last 24 months (or 26 weeks) up to the latest matching incident.

    A disclosure-controlled reader gets months (the published calendar; weeks snap to months), and the
    trends are computed from each month's disclosed counts; a cell whose total is suppressed is withheld.
    """
    if disclosure.applied:
        step = "month"
    start, end = query.filt.start, query.filt.end
    if end is None:
        latest = db.latest_incident(session, query.filt)
        end = london_midnight(add_steps(step_floor(latest, step), step)) if latest is not None else None
    if start is None and end is not None:
        start = london_midnight(add_steps(step_floor(end - timedelta(microseconds=1), step), step,
                                          -DEFAULT_STEPS[step] + 1))
    steps: list[date] = []  # each step's first local day (geo.calendar: the one home of month arithmetic)
    if start is not None and end is not None:
        day = step_floor(start, step)
        while london_midnight(day) < end and len(steps) <= MAX_STEPS:
            steps.append(day)
            day = add_steps(day, step)
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"datetime: more than {MAX_STEPS} {step}s; shorten the period or use step=month",
                           field="datetime")
    if start is not None and len(steps) < 2:
        raise InvalidInput(f"datetime: the period covers {len(steps)} {step}; emerging hot spots need at least two "
                           "time steps (ten or more recommended)", field="datetime")
    query = replace(query, filt=replace(query.filt, start=start, end=end))
    parameters = {**query.parameters(), "step": step, "shareable": disclosure.shareable}
    metadata: dict[str, Any] = {"steps": steps, "alpha": EMERGING_ALPHA,
                                "parameters": parameters, "method": f"{EMERGING_CITATION} Weights: "
                                f"{weights_text(query)}.", "disclosure": disclosure.info()}
    disclosure.audit(session, principal, "analysis:emerging-hotspots", parameters)
    return analysis_cache.reuse(
        session, principal, disclosure, "emerging-hotspots", parameters, (start, end),
        lambda: _emerging(session, query, disclosure, steps, metadata),
        lambda a: sum(len(f) for f in a.features) + 4096)


def _emerging(session: Session, query: GridQuery, disclosure: Disclosure, steps: list[date],
              metadata: dict[str, Any]) -> EmergingAnalysis:
    step = metadata["parameters"]["step"]
    if not steps:
        table = build_cell_table(session, query, db.CellCounts(*(np.empty(0, dtype=np.int64),) * 3))
        return EmergingAnalysis([], EmergingMetadata.model_validate({**grid_summary(table, disclosure), **metadata}))
    by_step = db.step_counts(session, query.grid, query.filt, [london_midnight(s) for s in steps])
    totals = _totals(by_step.i, by_step.j, by_step.count)
    table = build_cell_table(session, query, totals)
    if table.i.size * len(steps) ** 2 > MAX_EMERGING_WORK:
        # Mann-Kendall compares every pair of steps in every cell: the work grows with cells x steps².
        field = "datetime" if len(steps) > DEFAULT_STEPS["week"] * 2 else "size"
        raise InvalidInput(f"{field}: {table.i.size:,} cells x {len(steps)} {step}s is too much to analyse at once; "
                           "use larger cells, a bbox, a shorter period or step=month", field=field)
    matrix = _step_matrix(by_step, table.i, table.j, len(steps))
    result = emerging_hot_spots(disclosure.statistic_counts(matrix), spatial_weights(query, table),
                                alpha=EMERGING_ALPHA, fdr=query.fdr)
    features = []
    for k in range(table.i.size):
        if disclosure.suppressed(int(table.count[k])):
            features.append(cell_feature(table, k, {
                "count": None, "category": "withheld", "trend": None, "trend_z": None, "trend_p": None,
                "hot_steps": None, "cold_steps": None}))
            continue
        trend_z, trend_p = float(result.trend_z[k]), float(result.trend_p[k])
        trend = ("increasing" if trend_z > 0 else "decreasing") if trend_p <= EMERGING_ALPHA and trend_z else "none"
        features.append(cell_feature(table, k, {
            "count": disclosure.count(int(table.count[k])), "category": str(result.category[k]), "trend": trend,
            "trend_z": disclosure.stat(trend_z, 1), "trend_p": disclosure.stat(trend_p, 3),
            "hot_steps": int(result.hot_steps[k]), "cold_steps": int(result.cold_steps[k]),
        }))
    return EmergingAnalysis(features, EmergingMetadata.model_validate({**grid_summary(table, disclosure), **metadata}))
