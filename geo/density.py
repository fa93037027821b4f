"""Kernel density of incidents with the quartic (biweight) kernel, for heat maps of harm.

Coordinates must be in the metric analysis CRS (default EPSG:27700), so the bandwidth and cell size
are metres and density is incidents per square metre.

References
----------
Silverman, B. W. (1986) Density Estimation for Statistics and Data Analysis. Chapman & Hall,
    p. 76, section 4.2 (bivariate biweight kernel) and p. 48, eq. 3.31 (rule-of-thumb bandwidth).
Esri, "How Kernel Density works", ArcGIS Pro tool reference (spatial variant of Silverman's rule;
    default cell size = shorter side of the extent / 250).
Levine, N. (2015) CrimeStat IV, ch. 10 (quartic kernel for crime hot spot surfaces).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

FloatArray = npt.NDArray[np.float64]

#: Default number of cells along the shorter side of the extent, as ArcGIS Kernel Density does.
DEFAULT_CELLS_ACROSS = 250


@dataclass(frozen=True)
class DensitySurface:
    """A density raster: ``density[row, col]`` with row 0 at the north edge (raster convention).

    Attributes
    ----------
    density : numpy.ndarray
        Incidents per square unit of the CRS at each cell centre.
    x_min, y_max : float
        Top-left corner of the grid.
    cell_size : float
        Width and height of a cell.
    bandwidth : float
        Kernel radius used.
    """

    density: FloatArray
    x_min: float
    y_max: float
    cell_size: float
    bandwidth: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(x_min, y_min, x_max, y_max)`` of the grid."""
        rows, cols = self.density.shape
        return (
            self.x_min,
            self.y_max - rows * self.cell_size,
            self.x_min + cols * self.cell_size,
            self.y_max,
        )

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """Affine coefficients ``(a, b, c, d, e, f)`` as rasterio's ``Affine`` orders them."""
        return (self.cell_size, 0.0, self.x_min, 0.0, -self.cell_size, self.y_max)

    def cell_centres(self) -> tuple[FloatArray, FloatArray]:
        """2-D arrays of cell-centre x and y, shaped like ``density``."""
        rows, cols = self.density.shape
        xs = self.x_min + (np.arange(cols) + 0.5) * self.cell_size
        ys = self.y_max - (np.arange(rows) + 0.5) * self.cell_size
        return np.meshgrid(xs, ys)

    def total(self) -> float:
        """Integral of the surface (≈ number of incidents, or the sum of weights)."""
        return float(self.density.sum() * self.cell_size**2)


def silverman_bandwidth(x: npt.ArrayLike, y: npt.ArrayLike, weights: npt.ArrayLike | None = None) -> float:
    """Default search radius: ArcGIS's spatial variant of Silverman's rule of thumb.

    ``h = 0.9 * min(SD, sqrt(1 / ln 2) * Dm) * n ** -0.2`` (Silverman 1986, eq. 3.31, adapted by Esri),
    where ``SD`` is the standard distance ``sqrt(sum w((x - xbar)^2 + (y - ybar)^2) / sum w)`` about the
    (weighted) mean centre, ``Dm`` the (weighted) median distance to that centre and ``n`` the number
    of points, or the sum of the weights when given.

    Examples
    --------
    >>> round(silverman_bandwidth([0, 2, 0, 2], [0, 0, 2, 2]), 4)  # 0.9 * sqrt(2) * 4 ** -0.2
    0.9646
    """
    px, py, w = _points(x, y, weights)
    total = float(w.sum())
    cx, cy = np.average(px, weights=w), np.average(py, weights=w)
    distance = np.hypot(px - cx, py - cy)
    standard_distance = math.sqrt(float(np.average(distance**2, weights=w)))
    median_distance = _weighted_median(distance, w)
    h = 0.9 * min(standard_distance, math.sqrt(1 / math.log(2)) * median_distance) * total**-0.2
    if not h > 0:
        raise ValueError("points do not spread out (all at one location); pass a bandwidth explicitly")
    return h


def quartic_kernel(distance: npt.ArrayLike, bandwidth: float) -> FloatArray:
    """Quartic kernel ``K(d) = 3 / (pi h^2) * (1 - d^2/h^2)^2`` for ``d < h``, else 0.

    The bivariate biweight kernel of Silverman (1986, section 4.2, p. 76) scaled to radius ``h``.

    It integrates to 1 over the plane, so a surface built from it integrates to the number of points.

    Examples
    --------
    >>> float(quartic_kernel(0.0, 1.0)) == 3 / np.pi
    True
    >>> float(quartic_kernel(1.0, 1.0))
    0.0
    """
    d = np.asarray(distance, dtype=np.float64)
    u2 = (d / bandwidth) ** 2
    return np.where(u2 < 1.0, 3.0 / (math.pi * bandwidth**2) * (1.0 - u2) ** 2, 0.0)


def quartic_kde(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    bandwidth: float | None = None,
    cell_size: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> DensitySurface:
    """Quartic kernel density surface of (optionally weighted) points.

    Parameters
    ----------
    x, y : array_like
        Point coordinates in a metric CRS.
    weights : array_like, optional
        Weight per point (e.g. harm score); defaults to 1.
    bandwidth : float, optional
        Kernel radius; defaults to :func:`silverman_bandwidth`.
    cell_size : float, optional
        Output cell size; defaults to the shorter side of ``bounds`` / 250, as ArcGIS does.
    bounds : (x_min, y_min, x_max, y_max), optional
        Output extent; defaults to the points' extent grown by one bandwidth on every side so that no
        kernel mass is cut off at the edge (ArcGIS uses the bare extent, which loses mass).

    Returns
    -------
    DensitySurface

    Examples
    --------
    >>> surface = quartic_kde([0, 10, 20], [0, 5, 0], bandwidth=50.0, cell_size=2.0)
    >>> round(surface.total(), 2)  # integrates to the number of points
    3.0
    """
    px, py, w = _points(x, y, weights)
    h = silverman_bandwidth(px, py, w) if bandwidth is None else float(bandwidth)
    if not h > 0:
        raise ValueError("bandwidth must be positive")
    if bounds is None:
        bounds = (px.min() - h, py.min() - h, px.max() + h, py.max() + h)
    x_min, y_min, x_max, y_max = (float(v) for v in bounds)
    if not (x_max > x_min and y_max > y_min):
        raise ValueError("bounds must have x_max > x_min and y_max > y_min")
    cell = min(x_max - x_min, y_max - y_min) / DEFAULT_CELLS_ACROSS if cell_size is None else float(cell_size)
    if not cell > 0:
        raise ValueError("cell_size must be positive")
    cols = math.ceil((x_max - x_min) / cell - 1e-9)
    rows = math.ceil((y_max - y_min) / cell - 1e-9)
    top = y_min + rows * cell
    density = np.zeros((rows, cols))

    # police.uk snaps incidents to anonymised map points, so many share coordinates: add each
    # location once with its total weight.
    locations, inverse = np.unique(np.column_stack([px, py]), axis=0, return_inverse=True)
    location_weight = np.bincount(inverse.ravel(), weights=w)
    for (lx, ly), weight in zip(locations, location_weight, strict=True):
        c0 = max(math.ceil((lx - h - x_min) / cell - 0.5), 0)
        c1 = min(math.floor((lx + h - x_min) / cell - 0.5), cols - 1)
        r0 = max(math.ceil((top - ly - h) / cell - 0.5), 0)
        r1 = min(math.floor((top - ly + h) / cell - 0.5), rows - 1)
        if c0 > c1 or r0 > r1:
            continue
        dx = x_min + (np.arange(c0, c1 + 1) + 0.5) * cell - lx
        dy = top - (np.arange(r0, r1 + 1) + 0.5) * cell - ly
        distance = np.hypot(dy[:, None], dx[None, :])
        density[r0 : r1 + 1, c0 : c1 + 1] += weight * quartic_kernel(distance, h)
    return DensitySurface(density=density, x_min=x_min, y_max=top, cell_size=cell, bandwidth=h)


def density_cells(surface: DensitySurface, crs: object | None = None) -> gpd.GeoDataFrame:
    """Square cell polygons with a ``density`` column, zero cells dropped (for a choropleth map).

    Examples
    --------
    >>> cells = density_cells(quartic_kde([0.0], [0.0], bandwidth=10.0, cell_size=5.0), crs="EPSG:27700")
    >>> bool((cells["density"] > 0).all()), cells.crs.to_epsg()
    (True, 27700)
    """
    xs, ys = surface.cell_centres()
    keep = surface.density > 0
    half = surface.cell_size / 2
    cx, cy = xs[keep], ys[keep]
    geometry = shapely.box(cx - half, cy - half, cx + half, cy + half)
    return gpd.GeoDataFrame({"density": surface.density[keep]}, geometry=geometry, crs=crs)


def density_bands(
    surface: DensitySurface, levels: npt.ArrayLike, crs: object | None = None
) -> gpd.GeoDataFrame:
    """Dissolve cells into one (multi)polygon per density band ``[levels[k], levels[k+1])``.

    The last band is open-ended (``density_max`` is NaN). Bands with no cells are omitted. Cells are an
    exact coverage, so the bands are clean contour-like polygons without interpolation.

    Examples
    --------
    >>> surface = quartic_kde([0.0], [0.0], bandwidth=10.0, cell_size=1.0)
    >>> bands = density_bands(surface, [0.001, 0.005])
    >>> bands["density_min"].tolist()
    [0.001, 0.005]
    >>> bool(bands.geometry.iloc[1].within(bands.geometry.iloc[0].envelope))
    True
    """
    edges = np.asarray(levels, dtype=np.float64).ravel()
    if edges.size == 0 or np.any(np.diff(edges) <= 0) or edges[0] <= 0:
        raise ValueError("levels must be positive and strictly increasing")
    cells = density_cells(surface)
    upper = np.append(edges[1:], np.inf)
    rows: list[dict[str, object]] = []
    for low, high in zip(edges, upper, strict=True):
        members = cells[(cells["density"] >= low) & (cells["density"] < high)]
        if members.empty:
            continue
        rows.append(
            {
                "density_min": float(low),
                "density_max": float(high) if math.isfinite(high) else math.nan,
                "geometry": shapely.coverage_union_all(members.geometry.to_numpy()),
            }
        )
    return gpd.GeoDataFrame(
        rows, columns=["density_min", "density_max", "geometry"], geometry="geometry", crs=crs
    )


def _points(
    x: npt.ArrayLike, y: npt.ArrayLike, weights: npt.ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    px = np.asarray(x, dtype=np.float64).ravel()
    py = np.asarray(y, dtype=np.float64).ravel()
    if px.shape != py.shape or px.size == 0:
        raise ValueError("x and y must be non-empty and the same length")
    w = np.ones_like(px) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != px.shape:
        raise ValueError("weights must match the points")
    if not (np.all(np.isfinite(px)) and np.all(np.isfinite(py)) and np.all(np.isfinite(w))):
        raise ValueError("coordinates and weights must be finite")
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive total")
    return px, py, w


def _weighted_median(values: FloatArray, weights: FloatArray) -> float:
    """Weighted median; with equal weights it equals ``numpy.median`` (middle pair averaged)."""
    order = np.argsort(values)
    v, cumulative = values[order], np.cumsum(weights[order])
    half = cumulative[-1] / 2
    k = int(np.searchsorted(cumulative, half))
    if math.isclose(cumulative[k], half) and k + 1 < v.size:
        return float((v[k] + v[k + 1]) / 2)
    return float(v[k])
