"""Safety mapping with one young person (issue 21): the session, and what is kept of it.

A worker and a young person colour places and routes red (unsafe), amber (not sure) or green (safe), each with
a few words, and name safe places and trusted adults. The session lives in the worker's form (the browser)
until they finish; it becomes the young person's Level 1 safety plan. What is *kept* is decided here, once:

* without the young person's agreement: nothing but an audit record that a session happened (no content);
* with it: one ``safety_maps`` row (the month and an age band — never the day, the worker or the young
  person), the marks snapped to the published 250 m squares (:data:`PUBLISHED_CELL_SIZE`, the disclosure
  service's grid) with a phrase only where the worker marked it shareable, the places of ours named as safe,
  and new places suggested for review (with no link to the map).

Drawn shapes and words that are not shareable are never written: :func:`finish` receives them only to snap
the marks and returns them only to the plan page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from shapely.geometry import shape
from sqlalchemy.orm import Session

from app.db import safety_maps as db
from app.exceptions import InvalidInput
from app.schemas.safety_maps import MapSession, Where
from app.security import Principal
from app.services.audit import record_action
from app.services.disclosure import PUBLISHED_LAYER_SIZE
from app.services.geometry import validated_geometry
from app.services.safety_plan import (
    MAX_CONTEXTS,
    MAX_LABEL,
    MAX_STEPS,
    PlanContext,
    PlanInput,
    SafetyPlan,
    WeeklyTime,
    make_plan,
)
from app.settings import Settings
from geo.os_grid import GridReferenceError, grid_reference_to_bng

#: The side of the published squares marks are snapped to: the disclosure service's finest published size.
PUBLISHED_CELL_SIZE = int(PUBLISHED_LAYER_SIZE)
BNG = 27700  # OS grid references are British National Grid coordinates
LINES_AND_AREAS = frozenset({"Point", "LineString", "Polygon"})


@dataclass(frozen=True)
class Resolved:
    """Where a mark lies: how to say it, the published squares it touches, and the shape to draw (4326)."""

    label: str
    cells: tuple[db.Cell, ...]
    geometry: dict[str, Any] | None


def resolve(session: Session, settings: Settings, where: Where, field: str) -> Resolved:
    """The published squares of one ``where`` (a place, a typed name, a grid reference, a tap or a drawing)."""
    size, srid, limit = PUBLISHED_CELL_SIZE, settings.analysis_srid, settings.safety_map_max_cells_per_mark
    if where.kind == "place":
        found = db.place_geometry(session, int(where.value)) if where.value.isdigit() else None
        if found is None:
            raise InvalidInput(f"{field}: choose a place from the list", field=field)
        label, geometry = found.label, json.loads(found.geometry)
        cells = db.cells_of_geometry(session, found.geometry, srid, size, limit)
    elif where.kind == "words":
        located = db.locate_words(session, where.value)
        if located is None:
            raise InvalidInput(f"{field}: no place or street called \u201c{where.value}\u201d: try part of the "
                               "name, or a grid reference", field=field)
        if not db.in_service_area(session, located.geometry):
            raise InvalidInput(f"{field}: \u201c{located.label}\u201d is outside the organisation's service area: "
                               "choose a place or street inside it", field=field)
        label, geometry = located.label, json.loads(located.geometry)
        cells = db.cells_of_geometry(session, located.geometry, srid, size, limit)
    elif where.kind == "grid_reference":
        try:
            easting, northing = grid_reference_to_bng(where.value)
        except GridReferenceError as exc:
            raise InvalidInput(f"{field}: {exc}", field=field) from exc
        label, geometry = f"Grid reference {where.value.upper()}", None
        point = json.dumps({"type": "Point", "coordinates": [easting, northing]})
        if not db.in_service_area(session, point, source_srid=BNG):
            raise InvalidInput(f"{field}: grid reference {where.value.upper()} is outside the organisation's "
                               "service area: check the letters and digits", field=field)
        cells = db.cells_of_geometry(session, point, srid, size, limit, source_srid=BNG)
    else:  # a tapped point or a drawn route or area, from the map
        try:
            parsed = json.loads(where.value)
        except ValueError as exc:
            raise InvalidInput(f"{field}: the drawing could not be read: draw it again", field=field) from exc
        try:
            shape = validated_geometry(session, settings, parsed, LINES_AND_AREAS, field=field)
        except InvalidInput as exc:
            raise InvalidInput(f"{field}: {str(exc).split(': ', 1)[-1]}", field=field) from exc
        label = {"Point": "A point on the map", "LineString": "A route on the map"}.get(shape.geom_type,
                                                                                       "An area on the map")
        geometry = parsed
        cells = db.cells_of_geometry(session, json.dumps(parsed), srid, size, limit)
    if len(cells) > limit:
        raise InvalidInput(f"{field}: that covers more than {limit} grid squares of {size} m: choose or draw a "
                           "smaller area", field=field)
    if not cells:
        raise InvalidInput(f"{field}: that is not on the grid: choose another place", field=field)
    return Resolved(label, tuple(cells), geometry)


@dataclass(frozen=True)
class Finished:
    """What finishing a session did: the map's reference when it was kept, and what the plan shows."""

    map_id: int | None
    marks: list[Resolved]
    suggestion_cells: list[db.Cell | None]
    kept_cells: int
    already_kept: bool = False


def month_of(day: date) -> date:
    return day.replace(day=1)


def finish(session: Session, principal: Principal, settings: Settings, map_session: MapSession) -> Finished:
    """Snap the marks, keep the anonymous map only with agreement, and audit that a session happened."""
    marks = [resolve(session, settings, m.where, f"marks.{k}") for k, m in enumerate(map_session.marks)]
    suggestion_cells: list[db.Cell | None] = []
    for k, place in enumerate(map_session.safe_places):
        if place.place_id is None and place.where is not None:
            suggestion_cells.append(resolve(session, settings, place.where, f"safe_places.{k}").cells[0])
        else:
            suggestion_cells.append(None)
    if map_session.agreed is not True:
        record_action(session, principal, "safety_map.session", "safety_map", {"agreed": False})
        return Finished(None, marks, suggestion_cells, 0)
    month = month_of(map_session.held_on)
    map_id = db.insert_map(session, principal.organisation_id, month, map_session.age_band,
                           map_session.submission_id)
    if map_id is None:  # this finished session was kept already: the form was posted again
        return Finished(None, marks, suggestion_cells, 0, already_kept=True)
    rows = [(cell, mark.rating, mark.words if mark.shareable and mark.words else None)
            for mark, where in zip(map_session.marks, marks, strict=True) for cell in where.cells]
    db.insert_marks(session, principal.organisation_id, map_id, PUBLISHED_CELL_SIZE, rows)
    db.insert_safe_places(session, principal.organisation_id, map_id,
                          [p.place_id for p in map_session.safe_places if p.place_id is not None])
    db.insert_suggestions(session, principal.organisation_id, month, PUBLISHED_CELL_SIZE,
                          [(p.name, cell) for p, cell in zip(map_session.safe_places, suggestion_cells, strict=True)
                           if p.place_id is None])
    kept = len({(cell, rating) for cell, rating, _ in rows})
    # The map's reference is audited so that a withdrawal of agreement can be acted on; nothing else of it.
    record_action(session, principal, "safety_map.session", f"safety_map:{map_id}",
                  {"agreed": True, "cells": kept, "age_band": map_session.age_band})
    return Finished(map_id, marks, suggestion_cells, kept)


OUT_DAYS = {"weekdays": (0, 1, 2, 3, 4), "weekends": (5, 6), "every_day": (0, 1, 2, 3, 4, 5, 6)}
# The places a plan looks for safe spaces near: where the young person feels unsafe first, then unsure, then safe.
PLAN_ORDER = ("red", "amber", "green")
FEELING = {"red": "unsafe", "amber": "not sure", "green": "safe"}


def _point(session: Session, settings: Settings, where: Resolved) -> tuple[float, float]:
    if where.geometry is not None:
        point = shape(where.geometry).representative_point()
    else:
        square = db.cell_squares(session, [where.cells[0]], settings.analysis_srid, PUBLISHED_CELL_SIZE)
        point = shape(square[where.cells[0]]).centroid
    return round(point.x, 6), round(point.y, 6)


def plan_input(session: Session, settings: Settings, map_session: MapSession, finished: Finished,
               default_steps: str = "") -> PlanInput | None:
    """The session as the Level 1 safety plan's input (:mod:`app.services.safety_plan`): the places the young
    person marked — unsafe first — with the times they are usually out; ``None`` when nothing was marked."""
    weekly = WeeklyTime(OUT_DAYS[map_session.out_days], map_session.out_from, map_session.out_to)
    marked = sorted(zip(map_session.marks, finished.marks, strict=True), key=lambda m: PLAN_ORDER.index(m[0].rating))
    contexts = []
    for mark, where in marked[:MAX_CONTEXTS]:
        lon, lat = _point(session, settings, where)
        label = f"{where.label} ({FEELING[mark.rating]})"
        if len(label) > MAX_LABEL:
            label = label[: MAX_LABEL - 1] + "…"
        place_id = int(mark.where.value) if mark.where.kind == "place" else None
        contexts.append(PlanContext(label=label, lon=lon, lat=lat, times=(weekly,), place_id=place_id))
    if not contexts:
        return None
    # The plan has no field for trusted adults the young person named: they go with what to do.
    steps = map_session.plan_steps or (default_steps if map_session.adults else "")
    if map_session.adults:
        adults = "Trusted adults: " + "; ".join(a.label for a in map_session.adults) + "."
        steps = f"{steps} {adults}".strip() if len(steps) + len(adults) + 1 <= MAX_STEPS else steps
    return PlanInput(contexts=tuple(contexts), steps=steps)


def make_safety_plan(session: Session, settings: Settings, principal: Principal, map_session: MapSession,
                     finished: Finished, default_steps: str = "") -> SafetyPlan | None:
    """Hand the session to the safety-plan service; a marked place outside the service area is left out.
    ``default_steps`` (the plan page's own advice) leads when trusted adults are added to what to do."""
    made = plan_input(session, settings, map_session, finished, default_steps)
    while made is not None:
        try:
            return make_plan(session, settings, principal, made, output="safety_map")
        except InvalidInput as exc:
            bad = (exc.field or "").split(".")
            if len(bad) < 3 or bad[0] != "contexts" or bad[2] not in ("lon", "lat") or len(made.contexts) == 1:
                raise
            index = int(bad[1])
            made = replace(made, contexts=made.contexts[:index] + made.contexts[index + 1:])
    return None
