"""A kernel density surface over the analysed grid's area, as bands of equal density (:mod:`geo.density`).

Staff see a surface built from incident locations (snapped); a disclosure-controlled reader sees one built
only from what the cells already show, so no incident location leaves the server.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from app.db import analysis as db
from app.services.disclosure import Disclosure
from app.services.grids import CellTable, GridQuery, cell_centres
from geo.density import density_bands, quartic_kde, silverman_bandwidth

DENSITY_LEVELS = (0.1, 0.3, 0.5, 0.7, 0.9)  # fractions of the peak density
MAX_DENSITY_RASTER = 100_000


def _raster_cell(width: float, height: float, size: float) -> float:
    """Density raster cell: a quarter of a grid cell, or ArcGIS's shorter side / 250, within the cap."""
    raster = max(size / 4, min(width, height) / 250)
    return max(raster, math.sqrt(width * height / MAX_DENSITY_RASTER))


def density_surface(
    session: Session, query: GridQuery, table: CellTable, disclosure: Disclosure, bandwidth: float | None,
) -> dict[str, Any]:
    grid = query.grid
    present = table.count > 0
    method = ("quartic (biweight) kernel density (Silverman 1986, s. 4.2), bandwidth by Esri's spatial Silverman "
              "rule unless given; bands at 10/30/50/70/90 % of the peak, in incidents per km²")
    empty = {"type": "FeatureCollection", "features": [], "bandwidth_m": bandwidth or 0.0, "raster_cell_m": 0.0,
             "basis": "no incidents", "method": method}
    if not present.any():
        return empty
    cx, cy = cell_centres(grid, table.i[present], table.j[present])
    width = float(cx.max() - cx.min()) + 2 * grid.size
    height = float(cy.max() - cy.min()) + 2 * grid.size
    if disclosure.applied:
        # Only what the cells already show: disclosed counts at cell centres, suppressed cells left out.
        shown = np.asarray([disclosure.count(int(n)) or 0 for n in table.count[present]], dtype=np.float64)
        keep = shown > 0
        x, y, w = cx[keep], cy[keep], shown[keep]
        basis = "disclosed cell counts at cell centres (suppressed cells contribute nothing)"
    else:
        snap = _raster_cell(width, height, grid.size)
        points = db.snapped_points(session, query.filt, snap)
        x, y, w = points[:, 0], points[:, 1], points[:, 2]
        basis = f"incident locations snapped to {snap:.0f} m"
    if w.size == 0 or w.sum() <= 0:
        return {**empty, "basis": basis}
    if bandwidth is None:
        try:
            bandwidth = silverman_bandwidth(x, y, w)
        except ValueError:
            bandwidth = 2 * grid.size  # all at one location: no spread to estimate from
    if disclosure.applied:
        bandwidth = max(bandwidth, 2 * grid.size)
    # The surface spans the points plus one bandwidth each side (no kernel mass cut off), in at most
    # MAX_DENSITY_RASTER cells. The kernel loop runs once per distinct location: snapping to a quarter
    # bandwidth (invisible at that smoothing) keeps a town-wide surface to a few thousand locations.
    bounds = (float(x.min()) - bandwidth, float(y.min()) - bandwidth,
              float(x.max()) + bandwidth, float(y.max()) + bandwidth)
    raster = _raster_cell(bounds[2] - bounds[0], bounds[3] - bounds[1], grid.size)
    step = max(raster, bandwidth / 4)
    keys, inverse = np.unique(np.column_stack([np.floor(x / step), np.floor(y / step)]), axis=0,
                              return_inverse=True)
    weights = np.bincount(inverse.ravel(), weights=w)
    surface = quartic_kde((keys[:, 0] + 0.5) * step, (keys[:, 1] + 0.5) * step, weights, bandwidth=bandwidth,
                          cell_size=raster, bounds=bounds)
    peak = float(surface.density.max())
    features: list[dict[str, Any]] = []
    if peak > 0:
        bands = density_bands(surface, [peak * f for f in DENSITY_LEVELS], crs=f"EPSG:{grid.srid}").to_crs(4326)
        for band, row in enumerate(bands.itertuples()):
            top = row.density_max
            features.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(row.geometry)),
                             "properties": {"band": band + 1, "density_min": float(row.density_min) * 1e6,
                                            "density_max": None if math.isnan(top) else float(top) * 1e6}})
    return {"type": "FeatureCollection", "features": features, "bandwidth_m": float(bandwidth),
            "raster_cell_m": float(raster), "basis": basis, "method": method}
