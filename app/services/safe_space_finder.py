"""Finding the nearest open, suitable safe spaces on foot: the one use case behind ``/api/safe-spaces/nearest``,
the safety plan (``/api/safety-plan``), the phone finder (``/safe-spaces/find``) and the desktop safe-spaces map.

:func:`check_point` refuses a starting point outside the organisation's service area, :func:`nearest` asks
the store (:func:`app.db.safe_spaces.nearest_safe_spaces`) and shapes each answer for the reader (the panel's
free-text rule, :class:`app.services.disclosure.Disclosure`), and :func:`method_note` says in words how the
walking distances were measured.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry import Point
from sqlalchemy.orm import Session

from app.db import repository
from app.db import safe_spaces as store
from app.exceptions import InvalidInput
from app.security import Principal
from app.services.disclosure import Disclosure
from app.settings import Settings
from geo.walking import NETWORK


def check_point(session: Session, settings: Settings, lon: float, lat: float, prefix: str = "") -> None:
    """Refuse a point outside the organisation's service area, naming both coordinates (``prefix`` goes before
    the field names, e.g. ``contexts.0.``)."""
    for name, value, bound in (("lon", lon, 180), ("lat", lat, 90)):
        if not -bound <= value <= bound or value != value:
            raise InvalidInput(f"{prefix}{name}: out of range [-{bound}, {bound}]", field=f"{prefix}{name}")
    area = repository.service_area(session, settings.default_service_area)
    if not area.covers(Point(lon, lat)):
        message = (f"{prefix}lon/{prefix}lat: ({lon}, {lat}) lies outside your organisation's service area "
                   "(are longitude and latitude swapped?)")
        raise InvalidInput(message, errors=[{"field": f"{prefix}lon", "message": message},
                                            {"field": f"{prefix}lat", "message": message}])


def safe_space_details(row: dict[str, Any], stale: bool) -> dict[str, Any]:
    """A safe space's designation as the API shows it (its ``safe_space`` property)."""
    return {"designation_id": row["designation_id"], "valid_from": row["valid_from"], "valid_to": row["valid_to"],
            "scheme": row["scheme"], "age_min": row["age_min"], "age_max": row["age_max"],
            "help_offered": list(row["help_offered"] or []), "accessibility": row["accessibility"],
            "verified_on": row["verified_on"], "stale": stale}


def _properties(item: dict[str, Any], disclosure: Disclosure) -> dict[str, Any]:
    verdict = item["evaluation"]
    return disclosure.redact({
        "place_id": item["place_id"], "name": item["name"], "kind": item["kind"], "address": item["address"],
        "opening_hours": item["opening_hours"], "open": bool(verdict.open), "open_until": verdict.closes_at,
        "hours_state": verdict.hours_state, "hours_note": verdict.hours_note,
        "straight_line_m": round(float(item["straight_m"]), 1), "walking_m": round(item["walking_m"], 1),
        "walking_minutes": round(item["walking_minutes"], 1), "within_threshold": item["within_threshold"],
        "distance_method": item["distance_method"], "safe_space": safe_space_details(item, verdict.stale),
        "reasons": verdict.reasons, "guardians": verdict.guardians_present,
    })


def method_note(method: str, network_loaded: bool, settings: Settings) -> str:
    """How the walking distances were measured, in words for the reader."""
    if method == NETWORK:
        return ("Walking distance measured along your organisation's street network (each end joined to "
                "its nearest street vertex by a straight connector).")
    prefix = ("The street network does not reach these places: " if network_loaded
              else "No street network is loaded: ")
    return (prefix + f"walking distance is the straight line \u00d7 {settings.detour_factor} (detour factor for "
            "urban streets, Levinson & El-Geneidy 2009).")


def nearest(
    session: Session, settings: Settings, principal: Principal, disclosure: Disclosure, lon: float, lat: float,
    at: datetime, age: int | None, limit: int,
) -> tuple[list[dict[str, Any]], store.NearestAnswer]:
    """The nearest safe spaces from (lon, lat) open at ``at`` and suitable for ``age``: each one's properties
    as the reader may see them, and the store's whole answer (geometries, routes, what was passed over).
    The caller checks the point first (:func:`check_point`)."""
    answer = store.nearest_safe_spaces(
        session, principal.organisation_id, lon=lon, lat=lat, at=at, age=age, limit=limit,
        srid=settings.analysis_srid, detour_factor=settings.detour_factor,
        walking_speed=settings.walking_speed_m_per_min, threshold_minutes=settings.walk_threshold_minutes,
        stale_days=settings.safe_space_stale_days,
    )
    return [_properties(item, disclosure) for item in answer.results], answer
