"""Geometry given by a client, checked before it is stored or analysed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app.db import repository
from app.exceptions import InvalidInput
from app.settings import Settings
from geo.geometry import GeometryError, parse_geometry


def validated_geometry(
    session: Session, settings: Settings, geojson: Mapping[str, Any] | None,
    allowed: frozenset[str] | None = None, field: str = "geometry",
) -> BaseGeometry:
    """The one check for every geometry a client sends (type, range, validity, service area, complexity)."""
    area = repository.service_area(session, settings.default_service_area)
    limits = settings.geometry_limits
    try:
        if allowed is None:
            return parse_geometry(geojson, service_area=area, field=field, limits=limits)
        return parse_geometry(geojson, service_area=area, allowed_types=allowed, field=field, limits=limits)
    except GeometryError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
