"""Acting on what young people's safety maps left behind (issue 21): an admin withdraws a map when a young
person withdraws their agreement, and community safety reviews the new places young people suggested as safe
(accept: a place is created through the place use case, to be checked and designated; dismiss). Each is
audited; a suggestion has no link to any map, so reviewing it reveals nothing of one."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.db import safety_maps as db
from app.exceptions import InvalidInput, NotFound
from app.schemas.domain import PlaceCreate
from app.security import Principal
from app.services import records
from app.services.audit import record_action
from app.services.safety_mapping import BNG, PUBLISHED_CELL_SIZE
from app.settings import Settings
from geo.os_grid import GridReferenceError, grid_reference_to_bng
from geo.vocabulary import PLACE_KINDS

SUGGESTION_LIMIT = 200
EVER = (date(1900, 1, 1), date(2200, 1, 1))


def parse_reference(reference: str) -> int | None:
    """``SM-12`` (as the plan page shows it), ``sm 12`` or ``12`` → 12; anything else → ``None``."""
    number = reference.strip().upper().removeprefix("SM").strip().removeprefix("-").strip()
    return int(number) if number.isdigit() and len(number) < 16 else None


def withdraw(session: Session, principal: Principal, map_id: int) -> dict[str, Any]:
    """Remove one agreed map (its marks and named places go with it); audited with its reference only."""
    summary = db.map_summary(session, map_id)
    if summary is None or not db.delete_map(session, principal.organisation_id, map_id):
        raise NotFound(f"reference: no safety map SM-{map_id} in this organisation", field="reference")
    record_action(session, principal, "safety_map.withdraw", f"safety_map:{map_id}", {"via": "web"})
    return summary


def pending_suggestions(session: Session) -> list[dict[str, Any]]:
    return db.suggestions(session, *EVER, SUGGESTION_LIMIT)


def _suggested_point(session: Session, settings: Settings, found: dict[str, Any], grid_reference: str
                     ) -> dict[str, Any]:
    if grid_reference:
        try:
            easting, northing = grid_reference_to_bng(grid_reference)
        except GridReferenceError as exc:
            raise InvalidInput(f"grid_reference: {exc}", field="grid_reference") from exc
        lon, lat = db.lonlat(session, easting, northing, BNG)
    elif found["cell_i"] is not None:  # the centre of the suggested square
        half = PUBLISHED_CELL_SIZE / 2
        lon, lat = db.lonlat(session, found["cell_i"] * PUBLISHED_CELL_SIZE + half,
                             found["cell_j"] * PUBLISHED_CELL_SIZE + half, settings.analysis_srid)
    else:
        raise InvalidInput("grid_reference: the young person did not say where it is: give a grid reference",
                           field="grid_reference")
    return {"type": "Point", "coordinates": [lon, lat]}


def accept_suggestion(session: Session, settings: Settings, principal: Principal, suggestion_id: int, kind: str,
                      grid_reference: str = "") -> int:
    """Create the suggested place (the place use case: its checks, its audit record) and remove the suggestion;
    returns the new place's id. The place is a draft to check: its point is the suggested square's centre (or
    the grid reference given), and its notes say so; designating it a safe space is the next step."""
    found = db.suggestion(session, suggestion_id)
    if found is None:
        raise NotFound("suggestion: no such suggestion (already reviewed?)", field="suggestion")
    if kind not in PLACE_KINDS:
        raise InvalidInput("kind: choose what kind of place it is", field="kind")
    geometry = _suggested_point(session, settings, found, grid_reference.strip())
    notes = (f"Suggested as a safe place by a young person in a safety-mapping session ({found['month']:%B %Y}). "
             + ("Placed at the grid reference the reviewer gave." if grid_reference.strip() else
                f"Placed at the centre of the {PUBLISHED_CELL_SIZE} m square suggested: check and correct it.")
             + " Check it before designating it a safe space.")
    body = PlaceCreate.model_validate({"type": "Feature", "geometry": geometry,
                                       "properties": {"name": found["name"], "kind": kind, "notes": notes}})
    created = records.create(session, settings, principal, records.PLACE, body)
    db.delete_suggestion(session, suggestion_id)
    record_action(session, principal, "place_suggestion.accept", f"place_suggestion:{suggestion_id}",
                  {"place_id": int(created["id"])})
    return int(created["id"])


def dismiss_suggestion(session: Session, principal: Principal, suggestion_id: int) -> None:
    if not db.delete_suggestion(session, suggestion_id):
        raise NotFound("suggestion: no such suggestion (already reviewed?)", field="suggestion")
    record_action(session, principal, "place_suggestion.dismiss", f"place_suggestion:{suggestion_id}", {})
