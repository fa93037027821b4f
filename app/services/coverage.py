"""Coverage: where harm was recorded but no safe space is open within a walk (the use case behind
``GET /api/analysis/coverage``), disclosure-controlled for the panel (published grid, whole months)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.db import safe_spaces as store
from app.db.street_network import street_network
from app.exceptions import InvalidInput
from app.query import parse_interval
from app.security import Principal
from app.services.disclosure import Disclosure
from app.settings import Settings
from geo.safe_spaces import CoverageCell, hours_between, open_at, rank_coverage_gaps, stable_open_sets
from geo.vocabulary import HARM_CATEGORIES
from geo.walking import NETWORK, STRAIGHT_LINE, walking_minutes, walks_to_nearest


def coverage_analysis(
    session: Session, settings: Settings, principal: Principal, disclosure: Disclosure, *, instant: datetime,
    minutes: float | None, period: str | None, when: str | None, cell_size: float,
    harm_category: Sequence[str] | None, limit: int,
) -> dict[str, Any]:
    threshold_minutes = minutes if minutes is not None else float(settings.walk_threshold_minutes)
    threshold_m = threshold_minutes * settings.walking_speed_m_per_min
    pattern = when  # opening_hours syntax, validated where it was parsed
    for category in harm_category or []:
        if category not in HARM_CATEGORIES:
            raise InvalidInput(f"harm_category: unknown value {category!r}", field="harm_category")
    window = parse_interval(period)
    now = datetime.now(UTC)
    start, end = disclosure.period(*(window if window is not None else (now - timedelta(days=365), now)))
    _, cell_size = disclosure.cell("square", cell_size)

    cells = store.harm_cells(session, start, end, cell_size, settings.analysis_srid, harm_category or [])
    spaces = store.current_safe_spaces(session, instant, settings.analysis_srid)
    network = street_network(session, principal.organisation_id)
    disclosure.audit(session, principal, "analysis:coverage", {
        "at": instant, "minutes": threshold_minutes, "period": {"start": start, "end": end}, "when": pattern,
        "cell_size": cell_size, "harm_category": list(harm_category or [])})
    centres = np.array([[c.x, c.y] for c, _ in cells], dtype=np.float64).reshape(-1, 2)
    xy = np.array([[s["x"], s["y"]] for s in spaces], dtype=np.float64).reshape(-1, 2)
    hours = [s["opening_hours"] for s in spaces]
    if pattern is None:
        # Unknown hours count as closed: coverage must not rely on a door that may be locked.
        pieces = [(instant, instant, np.array([open_at(h, instant) is True for h in hours], dtype=bool))]
    else:
        pieces = stable_open_sets(pattern, hours, instant, instant + timedelta(days=7))
    worst = np.zeros(len(cells))
    uncovered = np.zeros(len(cells))
    pattern_hours = 0.0
    any_network = False
    for piece_start, piece_end, mask in pieces:
        walk, on_network = walks_to_nearest(network, xy[mask], centres, settings.detour_factor)
        any_network = any_network or bool(on_network.any())
        worst = np.maximum(worst, walk)
        length = hours_between(piece_start, piece_end)
        pattern_hours += length
        uncovered += np.where(walk > threshold_m, length, 0.0)
    if pattern is not None and not pieces:
        worst[:] = np.inf  # the pattern never occurs in the week: nothing can be covered
    gaps = rank_coverage_gaps([c for c, _ in cells], list(worst), threshold_m)
    geometry = {(c.i, c.j): g for c, g in cells}
    index_of = {(c.i, c.j): k for k, (c, _) in enumerate(cells)}
    rows: list[tuple[CoverageCell, int | None, dict[str, Any]]] = []
    for cell, walk_m in gaps:
        count = disclosure.count(cell.harm_count)
        k = index_of[(cell.i, cell.j)]
        finite = bool(np.isfinite(walk_m))
        rows.append((cell, count, {
            "i": cell.i, "j": cell.j, "harm_count": count,
            "nearest_open_walk_m": round(walk_m, 1) if finite else None,
            "nearest_open_walk_minutes": round(walking_minutes(walk_m, settings.walking_speed_m_per_min), 1)
            if finite else None,
            "uncovered_hours": round(float(uncovered[k]), 2) if pattern is not None else None,
            "uncovered_share": round(float(uncovered[k]) / pattern_hours, 3)
            if pattern is not None and pattern_hours > 0 else None,
        }))
    if disclosure.applied:
        # Rank by what the panel can see, so the order of suppressed cells reveals nothing more.
        rows.sort(key=lambda r: (-(r[1] if r[1] is not None else 1), r[0].i, r[0].j))
    features = []
    for rank, (cell, _, props) in enumerate(rows[:limit], start=1):
        features.append({"type": "Feature", "id": f"{int(cell_size)}m:{cell.i}:{cell.j}",
                         "geometry": geometry[(cell.i, cell.j)], "properties": {"rank": rank, **props}})
    return {
        "type": "FeatureCollection", "features": features, "at": instant, "when": pattern,
        "minutes": threshold_minutes, "cell_size_m": cell_size,
        "window": {"start": start, "end": end},
        "distance_method": NETWORK if any_network else STRAIGHT_LINE, "detour_factor": settings.detour_factor,
        "walking_speed_m_per_min": settings.walking_speed_m_per_min, "safe_spaces_considered": len(spaces),
        "harm_cells": len(cells), "gap_cells": len(gaps), "disclosure_controlled": disclosure.applied,
        "numberReturned": len(features),
    }
