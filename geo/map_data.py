"""Turn the aggregates the database returns into the map builders' inputs (:mod:`app.web.maps.render`).

Pure functions on numpy arrays and GeoDataFrames: kernel density bands from cell counts, and monthly
cells for the displacement time slider.

A function that puts a count on a map takes ``disclose``: the identity for practitioners,
:func:`geo.privacy.disclose_count` (with the deployment's rule) for a panel member.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from geo.density import density_bands, quartic_kde, silverman_bandwidth
from geo.grid import cell_polygons

__all__ = ["DENSITY_BAND_FRACTIONS", "Disclose", "density_layer", "monthly_cells"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Disclose = Callable[[int], int | None]

#: Kernel density is drawn as a few dissolved bands (fractions of the peak), not as a raster of
#: thousands of cells: a handful of polygons keeps a page small at any number of incidents.
DENSITY_BAND_FRACTIONS = (0.05, 0.15, 0.3, 0.5, 0.75)


def density_layer(
    x: FloatArray, y: FloatArray, weights: FloatArray, cell_size: float, crs: Any
) -> gpd.GeoDataFrame | None:
    """Binned quartic kernel density of counts at cell centres, as bands (EPSG:4326).

    Each cell's (visible) count sits at its centre, so a panel member's surface is built from
    disclosure-controlled counts only. The bandwidth is Silverman's rule, never under two cells
    (binned data are no finer than the bins). Bands are labelled in incidents per km².
    """
    keep = weights > 0
    if not keep.any():
        return None
    px, py, pw = x[keep], y[keep], weights[keep]
    rule = silverman_bandwidth(px, py, pw) if keep.sum() > 1 else 0.0
    bandwidth = max(rule if math.isfinite(rule) else 0.0, 2.0 * cell_size)
    # The counts are binned at ``cell_size`` and smoothed over at least two cells: a finer raster than
    # a cell (or a quarter of the kernel) adds vertices and time, not information.
    raster = max(cell_size, bandwidth / 4)
    surface = quartic_kde(
        px, py, pw, bandwidth=bandwidth, cell_size=raster,
        bounds=(px.min() - bandwidth, py.min() - bandwidth, px.max() + bandwidth, py.max() + bandwidth),
    )  # fmt: skip
    peak = float(surface.density.max())
    if not peak > 0:
        return None
    bands = density_bands(surface, [peak * f for f in DENSITY_BAND_FRACTIONS], crs=crs)
    bands["geometry"] = shapely.simplify(bands.geometry.to_numpy(), raster / 2)
    per_km2 = bands["density_min"] * 1e6
    bands["density"] = per_km2
    bands["label"] = [f"Kernel density: {v:,.0f} or more incidents per km²" for v in per_km2]
    return bands.to_crs("EPSG:4326")


def monthly_cells(
    steps: Sequence[str],
    i: IntArray,
    j: IntArray,
    count: IntArray,
    months: Sequence[str],
    cell_size: float,
    crs: Any,
    *,
    disclose: Disclose,
    within: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """One row per cell and month (``cell_id``, ``month``, ``count``), zeros filled in, EPSG:4326.

    ``steps`` are "YYYY-MM" per input row (rows for one cell and month are added up); only
    ``months`` are kept, and only cells whose centre lies in ``within`` (metric CRS) when given.
    """
    series: dict[tuple[int, int], dict[str, int]] = {}
    wanted = set(months)
    for step, a, b, c in zip(steps, i, j, count, strict=True):
        if step in wanted:
            cell = series.setdefault((int(a), int(b)), {})
            cell[step] = cell.get(step, 0) + int(c)
    if within is not None:
        series = {
            (a, b): s
            for (a, b), s in series.items()
            if within.contains(shapely.Point((a + 0.5) * cell_size, (b + 0.5) * cell_size))
        }
    records, ii, jj = [], [], []
    for (a, b), by_month in sorted(series.items()):
        for month in months:
            records.append({"cell_id": f"{a}:{b}", "month": month, "count": disclose(by_month.get(month, 0))})
            ii.append(a)
            jj.append(b)
    frame = gpd.GeoDataFrame(
        records or {"cell_id": [], "month": [], "count": []},
        geometry=cell_polygons(ii, jj, cell_size, "square") if records else [],
        crs=crs,
    )
    return frame.to_crs("EPSG:4326")
