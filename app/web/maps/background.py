"""Where a map's street context comes from (issue 16), for the folium map pages and the small Leaflet maps of
the forms and pages alike: the local basemap an admin loaded (``contextmap basemap load``), else the
organisation's own street network (``/maps/streets.geojson``), else the internet tile server. The setting
``map_internet_tiles`` says ``always`` (internet tiles only) or ``never`` (never ask the internet)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.db import maps as maps_db
from app.services.basemap import BasemapInfo, current_basemap
from app.settings import Settings


def local_basemap(settings: Settings) -> BasemapInfo | None:
    """The admin's loaded basemap (first choice), unless the internet tiles are asked for always."""
    if settings.map_internet_tiles == "always":
        return None
    archive = current_basemap(settings)
    return archive.info if archive is not None else None


@dataclass(frozen=True)
class Background:
    """One request's answer, resolved once: the local basemap, else the internet tile URL, else the
    organisation's streets (``streets`` is True when they are the background)."""

    basemap: BasemapInfo | None
    tile_url: str | None

    @property
    def streets(self) -> bool:
        return self.basemap is None and self.tile_url is None


def map_background(session: Session, settings: Settings) -> Background:
    """Where this organisation's maps get their street context (the order in the module docstring)."""
    basemap = local_basemap(settings)
    if settings.map_internet_tiles == "always":
        return Background(None, settings.tile_url)
    if settings.map_internet_tiles == "never" or basemap is not None:
        return Background(basemap, None)
    return Background(None, None if maps_db.has_streets(session) else settings.tile_url)


def small_map(session: Session, settings: Settings) -> dict[str, Any]:
    """The data attributes of a small Leaflet map (``/static/web/background.js``): an empty tile URL means
    "draw the organisation's street network" — never a grey box on a council intranet."""
    return {"tile_url": map_background(session, settings).tile_url or "",
            "tile_attribution": settings.tile_attribution}
