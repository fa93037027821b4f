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
    area = repository.service_area(session, settings.default_service_area)
    try:
        if allowed is None:
            return parse_geometry(geojson, service_area=area, field=field)
        return parse_geometry(geojson, service_area=area, allowed_types=allowed, field=field)
    except GeometryError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
