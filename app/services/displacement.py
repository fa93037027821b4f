"""Did harm move after an intervention? Weighted displacement quotient and difference over a target, buffer
and control area (:func:`geo.displacement.displacement_report`), and where it went: the nearby places and
cells whose incident rate rose significantly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.db import analysis as db
from app.db import maps as maps_db
from app.exceptions import InvalidInput, NotFound
from app.schemas.analysis import CellShapeParam
from app.security import Principal
from app.services import analysis_cache
from app.services.disclosure import PUBLISHED_LAYER_SIZE, WITHHELD, Disclosure
from app.services.geometry import validated_geometry
from app.services.rates import (
    RATE_CONFIDENCE,
    before_after_windows,
    intervention_summary,
    observed_window,
    rate_comparison,
    window_summary,
)
from app.services.selection import vocabulary_values
from app.settings import Settings
from geo.calendar import add_months, london_midnight, months_between
from geo.displacement import COMPARISON, displacement_report
from geo.rates import rate_ratio
from geo.vocabulary import HARM_CATEGORIES, INCIDENT_SOURCES, LONDON

MAX_RISING_CELLS = 25


__all__ = ["COMPARISON", "comparison_windows", "displacement_analysis", "intervention_comparison"]
DEFAULT_BUFFER_M = COMPARISON.buffer_m  # the API's defaults, fixed for disclosure-controlled readers
DEFAULT_SEARCH_M = COMPARISON.search_m

DISPLACEMENT_CITATION = (
    "Weighted displacement quotient and total net effect (Bowers & Johnson 2003); weighted displacement "
    "difference test (Wheeler & Ratcliffe 2018), which needs a buffer around the control area and so is "
    "computed only for a chosen control area or control place; rises nearby by exact conditional "
    "rate ratios (Ederer & Mantel 1974), 95 % interval entirely above 1."
)


def _measure(measure: Any, counts: Sequence[int], disclosure: Disclosure) -> dict[str, Any]:
    if disclosure.hides(*counts):
        return {"name": measure.name, "value": None, "interpretation": WITHHELD, "undefined_reason": WITHHELD}
    return {"name": measure.name, "value": disclosure.stat(measure.value, 2),
            "interpretation": measure.interpretation, "undefined_reason": measure.undefined_reason}


CONTROL_IN_BUFFER = ("control_place: that place is inside the area around the intervention (the buffer), so it "
                     "cannot be the comparison; choose a place further away")


def displacement_analysis(
    session: Session, settings: Settings, principal: Principal | None, disclosure: Disclosure, *, intervention: int,
    target_radius: float | None, buffer_m: float, before: str | None, after: str | None,
    harm_category: Sequence[str] | None, source: Sequence[str] | None, search_distance: float, cell: CellShapeParam,
    size: float, control_geometry: dict[str, Any] | None, control_place: int | None, page_defaults: bool = False,
) -> dict[str, Any]:
    """The displacement analysis. Disclosure-controlled: whole months (complete months observed), the fixed
    target, buffer and search distances, a drawn control area snapped outwards to whole published cells,
    the published grid for where-it-went cells, and no place or cell listed as a rise when its counts are
    suppressed. ``page_defaults``: the distances are the calling page's own constants, not the reader's
    choice, so they stand."""
    if disclosure.applied and not page_defaults:
        target_radius = None
        buffer_m = float(disclosure.distance(buffer_m, DEFAULT_BUFFER_M) or DEFAULT_BUFFER_M)
        search_distance = float(disclosure.distance(search_distance, DEFAULT_SEARCH_M) or DEFAULT_SEARCH_M)
    shape, size = disclosure.cell("hexagon" if cell == "hex" else "square", size)
    site = db.intervention_site(session, intervention)
    filt = db.IncidentFilter(harm_categories=vocabulary_values(harm_category, HARM_CATEGORIES, "harm_category"),
                             sources=vocabulary_values(source, INCIDENT_SOURCES, "source"))
    before_w, after_w = before_after_windows(site.starts_on, before, after, disclosure)
    now = disclosure.observed_until(datetime.now(UTC))
    b0, b1, before_days = observed_window(before_w, now)
    a0, a1, after_days = observed_window(after_w, now)
    windows = db.Windows((b0, b1), (a0, a1))
    if control_place is not None:
        try:
            db.place_row(session, control_place)
        except NotFound as exc:
            raise NotFound(f"no place with id {control_place} in your organisation", field="control_place") from exc
        # The one check for the API, the findings page and the meeting pack: a control inside the target and its
        # buffer is all taken out of the comparison (0 / 0), so it is refused, naming the field.
        radius = target_radius if target_radius is not None else COMPARISON.target_radius_m
        if db.place_in_buffer(session, settings.analysis_srid, intervention,
                              db.AreaSpec(radius, use_own_polygon=target_radius is None), buffer_m, control_place):
            raise InvalidInput(CONTROL_IN_BUFFER, field="control_place")
    if control_geometry is not None:
        validated_geometry(session, settings, control_geometry, frozenset({"Polygon", "MultiPolygon"}), "control")
        if disclosure.applied:
            control_geometry = db.whole_cells_of_area(session, control_geometry, PUBLISHED_LAYER_SIZE,
                                                      settings.analysis_srid)
    answer = analysis_cache.reuse(
        session, principal, disclosure, "displacement",
        {"intervention": intervention, "target_radius": target_radius, "buffer_m": buffer_m,
         "search_distance": search_distance, "shape": shape, "size": size,
         "filter": [filt.harm_categories, filt.sources],
         "windows": [before_w, after_w, windows.before, windows.after, before_days, after_days],
         "control_geometry": control_geometry, "control_place": control_place, "srid": settings.analysis_srid},
        (min(b0, a0), max(b1, a1)),
        lambda: _displacement(session, settings, disclosure, site, filt, intervention=intervention,
                              target_radius=target_radius, buffer_m=buffer_m, search_distance=search_distance,
                              shape=shape, size=size, control_geometry=control_geometry, control_place=control_place,
                              windows=windows, before_w=before_w, after_w=after_w, before_days=before_days,
                              after_days=after_days),
        lambda a: len(json.dumps(a, default=str)))
    disclosure.audit(session, principal, f"intervention:{intervention}", {
        **answer["parameters"], "analysis": "displacement", "before": before_w, "after": after_w,
        "control_geometry": control_geometry is not None})
    return answer


def _displacement(
    session: Session, settings: Settings, disclosure: Disclosure, site: db.InterventionSite, filt: db.IncidentFilter,
    *, intervention: int, target_radius: float | None, buffer_m: float, search_distance: float, shape: str,
    size: float, control_geometry: dict[str, Any] | None, control_place: int | None, windows: db.Windows,
    before_w: Any, after_w: Any, before_days: float, after_days: float,
) -> dict[str, Any]:
    radius = target_radius if target_radius is not None else COMPARISON.target_radius_m
    spec = db.AreaSpec(radius, use_own_polygon=target_radius is None)
    srid = settings.analysis_srid
    areas = db.displacement_areas(session, srid, intervention, spec, buffer_m, control_geometry, control_place, spec)
    grid = db.Grid("hexagon" if shape == "hexagon" else "square", size, srid)
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
    # Every measure from the counts the reader is shown (Disclosure.basis); withheld below where one rests on
    # a suppressed count. The shown counts stay disclose_count of the exact ones.
    basis: dict[str, tuple[int, int]] = {}
    for name, pair in counts.items():
        shown_before, shown_after = disclosure.basis(*pair)
        basis[name] = (shown_before, shown_after)
    report = displacement_report(basis["target"], basis["buffer"], basis["control"], basis.get("control_buffer"))
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
    parameters = {"intervention": intervention, "target_radius": radius, "target_definition": target_text,
                  "buffer_m": buffer_m, "control": definitions["control"], "control_place": control_place,
                  "harm_category": list(filt.harm_categories), "source": list(filt.sources),
                  "search_distance": search_distance, "shareable": disclosure.shareable}
    return {
        "intervention": intervention_summary(site, disclosure),
        "before": window_summary(before_w, before_days), "after": window_summary(after_w, after_days),
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
        "parameters": parameters,
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
        exact = int(place["before"]), int(place["after"])
        if disclosure.hides(*exact):
            continue  # a rise resting on a suppressed count is not shown at all, not even as a name
        # The verdict from the counts shown (Disclosure.basis), as rate_comparison's figures are.
        before, after = disclosure.basis(*exact)
        if not observed or after * before_days <= before * after_days:
            continue  # the rate did not go up, so it cannot have risen significantly
        lower = rate_ratio(before, before_days, after, after_days, confidence=RATE_CONFIDENCE).lower
        if lower is not None and lower > 1:
            rising.append((lower, {"place_id": place["id"], "name": place["name"], "kind": place["kind"],
                                   "distance_m": round(float(place["distance"]), 1),
                                   "rate": rate_comparison(exact[0], before_days, exact[1], after_days, disclosure)}))
    rising.sort(key=lambda item: (-item[0], item[1]["distance_m"]))
    cell_rises: list[tuple[float, int, int, dict[str, Any]]] = []
    if observed:
        for a, b, nb, na in zip(local.cell_i.tolist(), local.cell_j.tolist(), local.cell_before.tolist(),
                                local.cell_after.tolist(), strict=True):
            if disclosure.hides(nb, na):
                continue
            sb, sa = disclosure.basis(nb, na)  # the verdict from the counts shown
            if sa * before_days <= sb * after_days:
                continue
            result = rate_ratio(sb, before_days, sa, after_days, confidence=RATE_CONFIDENCE)
            if result.lower is not None and result.lower > 1:
                cell_rises.append((result.lower, a, b, rate_comparison(nb, before_days, na, after_days, disclosure)))
    cell_rises.sort(key=lambda item: (-item[0], item[1], item[2]))
    cell_rises = cell_rises[:MAX_RISING_CELLS]
    shapes = {(a, b): g for a, b, g in db.cell_geometries(session, grid, [c[1] for c in cell_rises],
                                                          [c[2] for c in cell_rises])} if cell_rises else {}
    cells = [{"type": "Feature", "id": f"{a},{b}", "geometry": json.loads(shapes[(a, b)]),
              "properties": {"i": a, "j": b, "rate": rate}} for _, a, b, rate in cell_rises]
    if rising:
        named = "; ".join(f"{r['name']} ({_ratio_text(r['rate'])})" for _, r in rising[:5])
        text = (f"Harm rose significantly after the intervention at {places_text(len(rising))} within "
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


def comparison_windows(session: Session, starts_on: date, today: date | None = None,
                       months: int = COMPARISON.months) -> tuple[str | None, str | None]:
    """The before and after windows of :data:`COMPARISON` as ``start/end`` intervals: ``months`` whole
    calendar months either side of the start month, fewer when the data begin later or the after months
    are not complete yet (equal either side). ``(None, None)`` when not one whole month either side is
    available yet: the service's defaults then apply (six months, the after window cut at today)."""
    start_month = starts_on.replace(day=1)
    this_month = (today or datetime.now(LONDON).date()).replace(day=1)
    first = maps_db.first_incident_at(session)
    first_month = first.astimezone(LONDON).date().replace(day=1) if first else start_month
    span = min(months, months_between(first_month, start_month), months_between(start_month, this_month))
    if span < 1:
        return None, None
    edges = [london_midnight(add_months(start_month, k)).isoformat() for k in (-span, 0, span)]
    return f"{edges[0]}/{edges[1]}", f"{edges[1]}/{edges[2]}"


def intervention_comparison(
    session: Session, settings: Settings, principal: Principal | None, disclosure: Disclosure, intervention: int,
    control_place: int | None = None, control_area: dict[str, Any] | None = None, today: date | None = None,
) -> dict[str, Any]:
    """The displacement analysis with :data:`COMPARISON`'s parameters: what the map, the findings page and
    the pack all show. ``control_place`` or ``control_area`` (a drawn polygon, snapped outwards to whole
    published cells for a panel): compare against it (and a buffer round it, which the weighted
    displacement difference needs) instead of the rest of the service area."""
    site = db.intervention_site(session, intervention)
    if control_place is not None and site.place_id == control_place:
        raise InvalidInput("control_place: choose a place other than the intervention's own", field="control_place")
    before, after = comparison_windows(session, site.starts_on, today)
    return displacement_analysis(
        session, settings, principal, disclosure, intervention=intervention, target_radius=None,
        buffer_m=COMPARISON.buffer_m, before=before, after=after, harm_category=None, source=None,
        search_distance=COMPARISON.search_m, cell="square", size=COMPARISON.cell_m, control_geometry=control_area,
        control_place=control_place, page_defaults=True)


def places_text(count: int) -> str:
    """``1 place``, ``2 places``, ``1,234 places``: counts shown to people, singular or plural."""
    return f"{count:,} place" + ("" if count == 1 else "s")
