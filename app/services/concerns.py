"""Flagging a significant hot spot cell as a place of concern: an area place plus a concern designation
whose reason quotes the statistic, refused when the cell is not significant under the given parameters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from shapely.geometry import shape
from sqlalchemy.orm import Session

from app.db import analysis as db
from app.db import repository
from app.db.resources import DESIGNATIONS, PLACES
from app.exceptions import InvalidInput
from app.schemas.analysis import HotspotFlagCreate
from app.security import Principal
from app.services import records
from app.services.grids import GridQuery, build_cell_table
from app.services.hotspots import bin_label, hotspot_statistics
from geo.vocabulary import LONDON


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _period_text(start: datetime | None, end: datetime | None) -> str:
    first = f"{start.astimezone(LONDON):%Y-%m}" if start else "the first record"
    last = f"{(end - timedelta(microseconds=1)).astimezone(LONDON):%Y-%m}" if end else "now"
    return f"{first}..{last}"


@dataclass(frozen=True)
class FlaggedHotspot:
    place_id: int
    answer: dict[str, Any]  # the new place, its designation and the statistic quoted


def flag_hotspot_cell(
    session: Session, principal: Principal, query: GridQuery, body: HotspotFlagCreate,
) -> FlaggedHotspot:
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
    statistic = (f"Getis-Ord Gi* z = {z:.1f}, {_p_text(p_fdr if body.fdr else p)} "
              f"({'FDR-adjusted' if body.fdr else 'not adjusted for multiple testing'}) over "
              f"{_period_text(query.filt.start, query.filt.end)}, {query.grid.size:g} m {shape_name}; "
              f"{int(table.count[k])} incidents in the cell (Gi_Bin {gi_bin}, {bin_label(gi_bin).lower()}).")
    # The flagger's judgement first, then the evidence it rests on (issue 14: reason, level and review date).
    given = (body.reason or "").strip()
    reason = f"{given}\n\nEvidence: {statistic}" if given else statistic
    geometry = shape(json.loads(table.geometry[k]))
    name = body.name or f"Hotspot cell {body.i},{body.j}"
    place_id = records.add(session, principal, records.PLACE, {"name": name, "kind": body.kind}, geometry,
                           detail={"from": "hotspot flag"})
    today = datetime.now(UTC)
    designation_id = records.add(session, principal, records.DESIGNATION, {
        "place_id": place_id, "kind": "concern", "valid_from": today, "level": body.level, "reason": reason,
        "review_by": body.review_by or (today + timedelta(days=91)).date(),
    }, detail={"kind": "concern", "place_id": place_id, "cell": [body.i, body.j]})
    return FlaggedHotspot(place_id, {
        "place": repository.get_feature(session, PLACES, place_id),
        "designation": repository.get_feature(session, DESIGNATIONS, designation_id),
        "statistic": {"i": body.i, "j": body.j, "count": int(table.count[k]), "z": z, "p": p, "p_fdr": p_fdr,
                      "gi_bin": gi_bin, "reason": reason},
    })


@dataclass(frozen=True)
class HotspotCell:
    """One cell of an analysed grid, as the flag form shows it before anything is written (staff only)."""

    i: int
    j: int
    count: int
    z: float
    p_fdr: float
    gi_bin: int
    label: str
    geometry: dict[str, Any]


def describe_hotspot_cell(session: Session, query: GridQuery, i: int, j: int) -> HotspotCell | None:
    """The cell's count and Gi* statistic under the query's parameters, or ``None`` if it is not in the grid."""
    table = build_cell_table(session, query, db.grid_counts(session, query.grid, query.filt))
    found = np.flatnonzero((table.i == i) & (table.j == j))
    if found.size == 0:
        return None
    k = int(found[0])
    stats = hotspot_statistics(query, table)
    gi_bin = int(stats.gi_bin[k])
    return HotspotCell(i, j, int(table.count[k]), float(stats.z[k]), float(stats.p_fdr[k]), gi_bin,
                       bin_label(gi_bin), json.loads(table.geometry[k]))
