"""Turn the aggregates the database returns into the map builders' inputs (:mod:`app.web.maps.render`).

Pure functions on numpy arrays and GeoDataFrames: monthly cells for the displacement time slider. (The
hot spot map's density surface is the analysis service's, :mod:`app.services.density` — one surface.)

A function that puts a count on a map takes ``disclose``: the identity for practitioners,
:func:`geo.privacy.disclose_count` (with the deployment's rule) for a panel member.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from geo.grid import cell_polygons

__all__ = ["Disclose", "monthly_cells"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Disclose = Callable[[int], int | None]

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
