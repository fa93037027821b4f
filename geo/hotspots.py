"""Local hot spot statistics: Getis-Ord Gi*, false discovery rate control and ArcGIS-style bins.

The database hands us one count per grid cell (zero-count cells included) and a binary contiguity
matrix from :mod:`geo.grid`; everything here is pure numpy/scipy so notebooks and tests can call it
directly.

References
----------
Getis, A. & Ord, J. K. (1992) The analysis of spatial association by use of distance statistics.
    Geographical Analysis 24(3), 189-206.
Ord, J. K. & Getis, A. (1995) Local spatial autocorrelation statistics: distributional issues and an
    application. Geographical Analysis 27(4), 286-306.
Benjamini, Y. & Hochberg, Y. (1995) Controlling the false discovery rate: a practical and powerful
    approach to multiple testing. JRSS B 57(1), 289-300.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats

if TYPE_CHECKING:
    import geopandas as gpd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: ArcGIS "Gi_Bin" confidence levels: bin magnitude -> significance level alpha.
CONFIDENCE_LEVELS: dict[int, float] = {1: 0.10, 2: 0.05, 3: 0.01}


@dataclass(frozen=True)
class GiStarResult:
    """Gi* z-scores and two-sided normal p-values, one per cell (same order as the input).

    Attributes
    ----------
    z : numpy.ndarray
        Standardised Gi* (Ord & Getis 1995, eq. 14 with the self weight included).
        Positive = cluster of high counts (hot), negative = cluster of low counts (cold).
    p : numpy.ndarray
        Two-sided p-value ``2 * (1 - Phi(|z|))``.
    """

    z: FloatArray
    p: FloatArray


def getis_ord_gi_star(values: npt.ArrayLike, weights: sparse.spmatrix | sparse.sparray) -> GiStarResult:
    """Getis-Ord Gi* for counts on a grid, with the self weight ``w_ii = 1`` added.

    Parameters
    ----------
    values : array_like, shape (n,)
        Count (or any finite value) per cell. Cells with no incidents must be present as zeros:
        Gi* compares each neighbourhood with the global mean, so leaving them out inflates it.
    weights : scipy.sparse matrix, shape (n, n)
        Binary contiguity **without** self-loops (as built by :mod:`geo.grid`). Non-binary weights
        are accepted and handled by the general formula, but binary is what ArcGIS and the tests use.

    Returns
    -------
    GiStarResult
        ``z`` and two-sided ``p``. Degenerate inputs never produce NaN: when every value is equal
        (variance 0), or a neighbourhood covers every cell, ``z = 0`` and ``p = 1``.

    Notes
    -----
    Ord & Getis (1995, eq. 14 and p. 291), with ``w_ii = 1`` so the cell counts towards its own
    neighbourhood (the "star" form ArcGIS Hot Spot Analysis uses)::

        z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n S1_i - W_i^2) / (n - 1)))

    where ``W_i = sum_j w_ij``, ``S1_i = sum_j w_ij^2``, ``xbar`` the mean of all n values and
    ``S = sqrt(sum_j x_j^2 / n - xbar^2)`` (population standard deviation). This equals the
    ``Zs`` of ``esda.G_Local(y, w, transform="B", star=True)``.

    Examples
    --------
    >>> from scipy import sparse
    >>> chain = sparse.diags([1.0, 1.0], [-1, 1], shape=(5, 5), format="csr")  # 0-1-2-3-4
    >>> result = getis_ord_gi_star([0, 0, 1, 9, 9], chain)
    >>> bool(result.z[4] > 1.0 and result.z[0] < 0)
    True
    >>> getis_ord_gi_star([3, 3, 3, 3, 3], chain).p.tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    z, p = getis_ord_gi_star_rows(x[None, :], weights)
    return GiStarResult(z=z[0], p=p[0])


def getis_ord_gi_star_rows(
    values: npt.ArrayLike, weights: sparse.spmatrix | sparse.sparray
) -> tuple[FloatArray, FloatArray]:
    """:func:`getis_ord_gi_star` for every row of a (time steps x cells) array on the same weights: the
    same formula, with the weights' sums worked out once for all rows. Returns ``(z, p)``, each shaped
    like ``values``."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("values must be a 2-D (rows x cells) array")
    n = x.shape[1]
    w = sparse.csr_array(weights, dtype=np.float64)
    if w.shape != (n, n):
        raise ValueError(f"weights must be {n}x{n} to match values, got {w.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite (no NaN or inf)")
    if np.any(w.diagonal() != 0):
        raise ValueError("weights must not contain self-loops; Gi* adds the self weight itself")
    if n < 2:
        return np.zeros(x.shape), np.ones(x.shape)

    w_star = (w + sparse.eye_array(n, format="csr")).tocsr()
    local_sum = (w_star @ x.T).T
    w_i = np.asarray(w_star.sum(axis=1)).ravel()
    s1_i = np.asarray(w_star.multiply(w_star).sum(axis=1)).ravel()

    mean = x.mean(axis=1, keepdims=True)
    # Population standard deviation, as in Ord & Getis (1995, p. 291). The two-pass np.std keeps a
    # constant series at (almost exactly) zero, where sqrt(mean(x^2) - mean^2) can leave ~1e-9 noise.
    s = np.std(x, axis=1, keepdims=True)
    spread = np.clip((n * s1_i - w_i**2) / (n - 1), 0.0, None)
    numerator = local_sum - mean * w_i
    denominator = s * np.sqrt(spread)

    # A zero denominator means no variation to test against (all values equal, or the neighbourhood
    # is the whole study area): report "no evidence of clustering" rather than NaN.
    tolerance = 1e-12 * np.maximum(1.0, np.abs(x).max(axis=1, keepdims=True))
    defined = denominator > tolerance
    z = np.zeros(x.shape)
    np.divide(numerator, denominator, out=z, where=defined)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return z, p


def benjamini_hochberg_adjust(p: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    ``q_(k) = min_{j >= k} min(1, p_(j) m / j)`` for sorted p-values ``p_(1) <= ... <= p_(m)``
    (Benjamini & Hochberg 1995, step-up procedure, section 3). Matches
    ``scipy.stats.false_discovery_control(p, method="bh")``.

    Examples
    --------
    >>> benjamini_hochberg_adjust([0.01, 0.04, 0.03, 0.5]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    pv = np.asarray(p, dtype=np.float64).ravel()
    if pv.size == 0:
        return pv.copy()
    if np.any((pv < 0) | (pv > 1) | ~np.isfinite(pv)):
        raise ValueError("p-values must lie in [0, 1]")
    m = pv.size
    order = np.argsort(pv, kind="stable")
    scaled = pv[order] * m / np.arange(1, m + 1)
    # Running minimum from the largest p downwards enforces monotonicity of the step-up rule.
    adjusted_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(adjusted_sorted, 1.0)
    return adjusted


def benjamini_hochberg(p: npt.ArrayLike, alpha: float = 0.05) -> BoolArray:
    """Mask of tests rejected by the Benjamini-Hochberg procedure at false discovery rate ``alpha``.

    Rejects every ``p_(i) <= p_(k)`` where ``k`` is the largest rank with ``p_(k) <= k alpha / m``
    (Benjamini & Hochberg 1995, section 3), i.e. adjusted p-value ``<= alpha``.

    Examples
    --------
    >>> benjamini_hochberg([0.001, 0.02, 0.03, 0.5], alpha=0.05).tolist()
    [True, True, True, False]
    """
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    return benjamini_hochberg_adjust(p) <= alpha


def confidence_bins(z: npt.ArrayLike, p: npt.ArrayLike, fdr: bool = True) -> IntArray:
    """ArcGIS ``Gi_Bin`` codes: ±3 / ±2 / ±1 for hot (+) or cold (−) spots at 99 / 95 / 90 % confidence.

    Parameters
    ----------
    z, p : array_like
        Gi* z-scores and two-sided p-values (from :func:`getis_ord_gi_star`).
    fdr : bool, default True
        Apply the Benjamini-Hochberg false discovery rate correction as ArcGIS Hot Spot Analysis
        does when "Apply False Discovery Rate (FDR) Correction" is ticked.

    Returns
    -------
    numpy.ndarray of int
        Values in {-3, ..., 3}; 0 means not significant at 90 %.

    Notes
    -----
    The exact rule. For each confidence level ``alpha`` in (0.10, 0.05, 0.01) a cell is
    significant when

    * ``fdr=False``: ``p <= alpha``;
    * ``fdr=True``: ``p <= p*_alpha``, the Benjamini-Hochberg cut-off computed separately for that
      ``alpha`` over all cells (largest sorted ``p_(k)`` with ``p_(k) <= k alpha / m``; none if no
      such k). Equivalently, BH-adjusted p ``<= alpha``.

    The bin magnitude is the strictest level reached (BH cut-offs are nested, so 99 % implies 95 %
    implies 90 %) and its sign is the sign of z. Cells with ``z == 0`` are never binned.

    Examples
    --------
    >>> confidence_bins([3.0, -2.0, 1.7, 0.5], [0.0027, 0.0455, 0.089, 0.617], fdr=False).tolist()
    [3, -2, 1, 0]
    """
    zv = np.asarray(z, dtype=np.float64).ravel()
    pv = np.asarray(p, dtype=np.float64).ravel()
    if zv.shape != pv.shape:
        raise ValueError("z and p must have the same length")
    evidence = benjamini_hochberg_adjust(pv) if fdr else pv
    magnitude = np.zeros(zv.size, dtype=np.int64)
    for level, alpha in sorted(CONFIDENCE_LEVELS.items()):
        magnitude[evidence <= alpha] = level
    return (np.sign(zv).astype(np.int64) * magnitude).astype(np.int64)


def hotspot_table(
    cells: gpd.GeoDataFrame,
    weights: sparse.spmatrix | sparse.sparray,
    count_col: str = "count",
    fdr: bool = True,
) -> gpd.GeoDataFrame:
    """Add ``gi_z``, ``gi_p`` and ``gi_bin`` columns to a grid of cells (rows aligned with ``weights``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from geo.grid import square_adjacency, square_polygon
    >>> ii, jj = [0, 0, 1, 1], [0, 1, 0, 1]
    >>> cells = gpd.GeoDataFrame(
    ...     {"count": [0, 1, 2, 9]}, geometry=[square_polygon(i, j, 100.0) for i, j in zip(ii, jj)]
    ... )
    >>> list(hotspot_table(cells, square_adjacency(ii, jj)).columns)
    ['count', 'geometry', 'gi_z', 'gi_p', 'gi_bin']
    """
    result = getis_ord_gi_star(cells[count_col].to_numpy(dtype=np.float64), weights)
    table = cells.copy()
    table["gi_z"] = result.z
    table["gi_p"] = result.p
    table["gi_bin"] = confidence_bins(result.z, result.p, fdr=fdr)
    return table
