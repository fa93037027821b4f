"""Emerging hot spot analysis: how each cell's Gi* hot/cold status has evolved over time.

Follows the semantics of ArcGIS Pro's Emerging Hot Spot Analysis ("How Emerging Hot Spot Analysis
works", Esri): Gi* per time step, a Mann-Kendall trend test on each cell's Gi* z-score series, and
one of 17 categories per cell.

Deliberate difference from ArcGIS: the neighbourhood is **spatial only**. ArcGIS computes a
space-time Gi* whose neighbourhood also reaches back ``k`` time steps; here each time step is a
separate Gi* on the same spatial weights (:func:`geo.hotspots.getis_ord_gi_star`). This keeps each
step interpretable on its own map, and the database already aggregates each step's counts. When
``fdr`` is set, the Benjamini-Hochberg correction is applied within each time step, since each step
is its own family of spatial tests.

References
----------
Mann, H. B. (1945) Nonparametric tests against trend. Econometrica 13(3), 245-259.
Kendall, M. G. (1975) Rank Correlation Methods, 4th ed. Griffin. (Tie-corrected variance, ch. 4.)
Esri (2024) How Emerging Hot Spot Analysis works. ArcGIS Pro tool reference, Space Time Pattern Mining.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse, stats

from geo.hotspots import benjamini_hochberg_adjust, getis_ord_gi_star

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class EmergingCategory(StrEnum):
    """ArcGIS's 17 emerging hot spot patterns."""

    NO_PATTERN = "no_pattern"
    NEW_HOT = "new_hot"
    CONSECUTIVE_HOT = "consecutive_hot"
    INTENSIFYING_HOT = "intensifying_hot"
    PERSISTENT_HOT = "persistent_hot"
    DIMINISHING_HOT = "diminishing_hot"
    SPORADIC_HOT = "sporadic_hot"
    OSCILLATING_HOT = "oscillating_hot"
    HISTORICAL_HOT = "historical_hot"
    NEW_COLD = "new_cold"
    CONSECUTIVE_COLD = "consecutive_cold"
    INTENSIFYING_COLD = "intensifying_cold"
    PERSISTENT_COLD = "persistent_cold"
    DIMINISHING_COLD = "diminishing_cold"
    SPORADIC_COLD = "sporadic_cold"
    OSCILLATING_COLD = "oscillating_cold"
    HISTORICAL_COLD = "historical_cold"


@dataclass(frozen=True)
class MannKendall:
    """Mann-Kendall trend test result: ``s`` statistic, its tie-corrected variance, z, two-sided p, tau."""

    s: float
    variance: float
    z: float
    p: float
    tau: float


def mann_kendall(series: npt.ArrayLike) -> MannKendall:
    """Mann-Kendall test for a monotonic trend, with Kendall's tie correction.

    ``S = sum_{k<j} sign(x_j - x_k)`` (Mann 1945);
    ``Var(S) = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18`` over groups of ``t`` tied values
    (Kendall 1975, eq. 4.4); ``z = (S - sign(S)) / sqrt(Var(S))`` with continuity correction; two-sided
    normal p. ``tau = S / (n(n-1)/2)``. A constant or single-value series gives ``z = 0``, ``p = 1``.

    Examples
    --------
    >>> result = mann_kendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    >>> result.s, result.variance, round(result.z, 4)  # z = (45 - 1) / sqrt(125)
    (45.0, 125.0, 3.9355)
    >>> mann_kendall([2, 2, 2]).p
    1.0
    """
    x = np.asarray(series, dtype=np.float64).ravel()
    n = x.size
    if n < 2:
        return MannKendall(s=0.0, variance=0.0, z=0.0, p=1.0, tau=0.0)
    upper = np.triu_indices(n, k=1)
    s = float(np.sign(x[None, :] - x[:, None])[upper].sum())
    _, ties = np.unique(x, return_counts=True)
    variance = float((n * (n - 1) * (2 * n + 5) - np.sum(ties * (ties - 1) * (2 * ties + 5))) / 18)
    z = 0.0 if variance <= 0 or s == 0 else (s - np.sign(s)) / np.sqrt(variance)
    p = float(2 * stats.norm.sf(abs(z)))
    return MannKendall(s=s, variance=variance, z=float(z), p=p, tau=s / (n * (n - 1) / 2))


def classify_emerging(
    hot: npt.ArrayLike,
    cold: npt.ArrayLike,
    trend_z: float,
    trend_p: float,
    trend_alpha: float = 0.10,
) -> EmergingCategory:
    """Classify one cell from its per-step significant hot/cold flags and its Gi* trend.

    Parameters
    ----------
    hot, cold : array_like of bool, shape (T,)
        Whether the cell was a significant hot (cold) spot in each time step, oldest first.
    trend_z, trend_p : float
        Mann-Kendall z and p for the cell's Gi* z-score series.
    trend_alpha : float
        A trend is significant when ``trend_p <= trend_alpha``.

    Notes
    -----
    Rules, paraphrasing Esri's definitions ("how it works" page), with "mostly hot" meaning hot in at
    least 90 % of time steps. Hot rules apply when the **final** step is hot:

    * **intensifying**: mostly hot, significant increasing trend (z > 0);
    * **diminishing**: mostly hot, significant decreasing trend;
    * **persistent**: mostly hot, no significant trend;
    * **oscillating**: not mostly hot, and a significant *cold* spot in some earlier step;
    * **new**: hot only in the final step, never significant before;
    * **consecutive**: one uninterrupted run of >= 2 hot steps at the end, never hot (or cold)
      before the run, not mostly hot;
    * **sporadic**: any other on-again off-again history of hot steps, never cold.

    **historical hot**: the final step is *not* significant but the cell was mostly hot.
    Cold patterns mirror these with hot/cold swapped and the trend sign reversed (an *intensifying*
    cold spot gets colder: significant decreasing trend). Anything else is **no_pattern**.

    Where Esri's wording overlaps, the final step decides. A cell hot until a cold final step is
    *oscillating cold*, not historical hot; and a cell cold before becoming hot is *oscillating hot*,
    not new/consecutive (as in sfdep's reading of the same rules).

    Examples
    --------
    >>> classify_emerging([0, 0, 0, 0, 1], [0] * 5, trend_z=1.0, trend_p=0.3).value
    'new_hot'
    >>> classify_emerging([1] * 10, [0] * 10, trend_z=3.0, trend_p=0.001).value
    'intensifying_hot'
    """
    hot_steps = np.asarray(hot, dtype=bool).ravel()
    cold_steps = np.asarray(cold, dtype=bool).ravel()
    if hot_steps.shape != cold_steps.shape or hot_steps.size == 0:
        raise ValueError("hot and cold must be non-empty and the same length")
    if np.any(hot_steps & cold_steps):
        raise ValueError("a step cannot be both hot and cold")
    trend_up = trend_p <= trend_alpha and trend_z > 0
    trend_down = trend_p <= trend_alpha and trend_z < 0
    if hot_steps[-1]:
        return _classify_final(hot_steps, cold_steps, trend_up, trend_down, _HOT)
    if cold_steps[-1]:
        return _classify_final(cold_steps, hot_steps, trend_down, trend_up, _COLD)
    if _mostly(hot_steps):
        return EmergingCategory.HISTORICAL_HOT
    if _mostly(cold_steps):
        return EmergingCategory.HISTORICAL_COLD
    return EmergingCategory.NO_PATTERN


_HOT = {
    "intensifying": EmergingCategory.INTENSIFYING_HOT,
    "diminishing": EmergingCategory.DIMINISHING_HOT,
    "persistent": EmergingCategory.PERSISTENT_HOT,
    "oscillating": EmergingCategory.OSCILLATING_HOT,
    "new": EmergingCategory.NEW_HOT,
    "consecutive": EmergingCategory.CONSECUTIVE_HOT,
    "sporadic": EmergingCategory.SPORADIC_HOT,
}
_COLD = {
    "intensifying": EmergingCategory.INTENSIFYING_COLD,
    "diminishing": EmergingCategory.DIMINISHING_COLD,
    "persistent": EmergingCategory.PERSISTENT_COLD,
    "oscillating": EmergingCategory.OSCILLATING_COLD,
    "new": EmergingCategory.NEW_COLD,
    "consecutive": EmergingCategory.CONSECUTIVE_COLD,
    "sporadic": EmergingCategory.SPORADIC_COLD,
}


def _mostly(flags: npt.NDArray[np.bool_]) -> bool:
    # "At least 90 percent of the time-step intervals" in integers, avoiding 0.9 * T rounding.
    return int(flags.sum()) * 10 >= 9 * flags.size


def _classify_final(
    same: npt.NDArray[np.bool_],
    opposite: npt.NDArray[np.bool_],
    strengthening: bool,
    weakening: bool,
    names: dict[str, EmergingCategory],
) -> EmergingCategory:
    """Patterns for a cell whose final step is significant; ``same`` flags that kind of spot."""
    if _mostly(same):
        if strengthening:
            return names["intensifying"]
        if weakening:
            return names["diminishing"]
        return names["persistent"]
    if opposite[:-1].any():
        return names["oscillating"]
    if same.sum() == 1:
        return names["new"]
    # Length of the final uninterrupted run of significant steps.
    run = same.size - int(np.flatnonzero(~same)[-1]) - 1
    if run >= 2 and not same[: same.size - run].any():
        return names["consecutive"]
    return names["sporadic"]


@dataclass(frozen=True)
class EmergingHotSpots:
    """Per-cell result of :func:`emerging_hot_spots` (arrays aligned with the cells)."""

    category: npt.NDArray[np.str_]
    trend_z: FloatArray
    trend_p: FloatArray
    hot_steps: IntArray
    cold_steps: IntArray
    gi_z: FloatArray
    gi_p: FloatArray

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: category, trend and counts of hot/cold steps."""
        return pd.DataFrame(
            {
                "category": self.category,
                "trend_z": self.trend_z,
                "trend_p": self.trend_p,
                "hot_steps": self.hot_steps,
                "cold_steps": self.cold_steps,
            }
        )


def emerging_hot_spots(
    counts: npt.ArrayLike,
    weights: sparse.spmatrix | sparse.sparray,
    alpha: float = 0.10,
    trend_alpha: float | None = None,
    fdr: bool = True,
) -> EmergingHotSpots:
    """Emerging hot spot analysis on a (time steps x cells) array of counts.

    Parameters
    ----------
    counts : array_like, shape (T, n)
        Incidents per cell per time step, oldest step first; zero-count cells included.
    weights : scipy.sparse matrix, shape (n, n)
        Binary spatial contiguity without self-loops (see :mod:`geo.grid`).
    alpha : float, default 0.10
        Significance level for a hot/cold spot in one step (ArcGIS uses 90 % confidence).
    trend_alpha : float, optional
        Significance level for the Mann-Kendall trend; defaults to ``alpha``.
    fdr : bool, default True
        Benjamini-Hochberg correction within each time step, as ArcGIS applies FDR to its bins.

    Examples
    --------
    >>> import numpy as np
    >>> from geo.grid import square_adjacency
    >>> ii, jj = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    >>> counts = np.ones((10, 36))
    >>> counts[-1, (ii.ravel() < 2) & (jj.ravel() < 2)] = 30  # a cluster appears in the last step
    >>> result = emerging_hot_spots(counts, square_adjacency(ii.ravel(), jj.ravel()))
    >>> str(result.category[0])
    'new_hot'
    """
    series = np.asarray(counts, dtype=np.float64)
    if series.ndim != 2:
        raise ValueError("counts must be a 2-D (time steps x cells) array")
    steps, cells = series.shape
    if steps < 2:
        raise ValueError("emerging hot spot analysis needs at least two time steps (ArcGIS recommends 10)")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    trend_level = alpha if trend_alpha is None else trend_alpha

    gi_z = np.empty((steps, cells))
    gi_p = np.empty((steps, cells))
    for t in range(steps):
        result = getis_ord_gi_star(series[t], weights)
        gi_z[t], gi_p[t] = result.z, result.p
    evidence = np.vstack([benjamini_hochberg_adjust(row) for row in gi_p]) if fdr else gi_p
    significant = evidence <= alpha
    hot = significant & (gi_z > 0)
    cold = significant & (gi_z < 0)

    trend_z = np.empty(cells)
    trend_p = np.empty(cells)
    category = np.empty(cells, dtype=object)
    for k in range(cells):
        trend = mann_kendall(gi_z[:, k])
        trend_z[k], trend_p[k] = trend.z, trend.p
        category[k] = classify_emerging(hot[:, k], cold[:, k], trend.z, trend.p, trend_level).value
    return EmergingHotSpots(
        category=category.astype(str),
        trend_z=trend_z,
        trend_p=trend_p,
        hot_steps=hot.sum(axis=0).astype(np.int64),
        cold_steps=cold.sum(axis=0).astype(np.int64),
        gi_z=gi_z,
        gi_p=gi_p,
    )
