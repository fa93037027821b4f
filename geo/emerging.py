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

from geo.hotspots import benjamini_hochberg_adjust, getis_ord_gi_star_rows

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


@dataclass(frozen=True)
class MannKendallColumns:
    """:func:`mann_kendall_columns` results, one entry per column (cell)."""

    s: FloatArray
    variance: FloatArray
    z: FloatArray
    p: FloatArray
    tau: FloatArray


def mann_kendall_columns(series: npt.ArrayLike) -> MannKendallColumns:
    """Mann-Kendall test for a monotonic trend in every column of a (time steps x cells) array at once,
    with Kendall's tie correction.

    ``S = sum_{k<j} sign(x_j - x_k)`` (Mann 1945), summed lag by lag (``x[d:] - x[:-d]`` for
    ``d = 1 .. T-1``, every pair once) so memory stays ``T x cells``;
    ``Var(S) = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18`` over groups of ``t`` tied values
    (Kendall 1975, eq. 4.4) — the tie sum is taken over values instead of groups: a value tied with
    ``t - 1`` others contributes ``(t-1)(2t+5)``, and ``t`` of them make up its group's ``t(t-1)(2t+5)``;
    ``z = (S - sign(S)) / sqrt(Var(S))`` with continuity correction; two-sided normal p;
    ``tau = S / (n(n-1)/2)``. A constant column or a single step gives ``z = 0``, ``p = 1``.
    ``tests/geo/test_emerging.py`` checks every column against ``pymannkendall.original_test``.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("series must be a 2-D (time steps x cells) array")
    n, cells = x.shape
    if n < 2:
        zeros = np.zeros(cells)
        return MannKendallColumns(s=zeros, variance=zeros.copy(), z=zeros.copy(), p=np.ones(cells),
                                  tau=zeros.copy())
    s = np.zeros(cells)
    for lag in range(1, n):
        s += np.sign(x[lag:] - x[:-lag]).sum(axis=0)
    tied = np.zeros(x.shape)  # how many values of its column each value equals (itself included)
    for step in range(n):
        tied += x == x[step]
    ties = (tied - 1) * (2 * tied + 5)
    variance = (n * (n - 1) * (2 * n + 5) - ties.sum(axis=0)) / 18
    usable = (variance > 0) & (s != 0)
    z = np.zeros(cells)
    z[usable] = (s[usable] - np.sign(s[usable])) / np.sqrt(variance[usable])
    p = 2 * stats.norm.sf(np.abs(z))
    return MannKendallColumns(s=s, variance=variance, z=z, p=p, tau=s / (n * (n - 1) / 2))


def mann_kendall(series: npt.ArrayLike) -> MannKendall:
    """Mann-Kendall test of one series (:func:`mann_kendall_columns` for the formulas).

    Examples
    --------
    >>> result = mann_kendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    >>> result.s, result.variance, round(result.z, 4)  # z = (45 - 1) / sqrt(125)
    (45.0, 125.0, 3.9355)
    >>> mann_kendall([2, 2, 2]).p
    1.0
    """
    x = np.asarray(series, dtype=np.float64).ravel()
    if x.size < 2:
        return MannKendall(s=0.0, variance=0.0, z=0.0, p=1.0, tau=0.0)
    one = mann_kendall_columns(x[:, None])
    return MannKendall(s=float(one.s[0]), variance=float(one.variance[0]), z=float(one.z[0]), p=float(one.p[0]),
                       tau=float(one.tau[0]))


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


def classify_emerging_columns(
    hot: npt.ArrayLike,
    cold: npt.ArrayLike,
    trend_z: npt.ArrayLike,
    trend_p: npt.ArrayLike,
    trend_alpha: float = 0.10,
) -> npt.NDArray[np.str_]:
    """:func:`classify_emerging` for every cell at once: ``hot`` and ``cold`` are (time steps x cells)
    flags, ``trend_z`` and ``trend_p`` one value per cell; returns the category values. The same rules
    as the one-cell function (tested equal on every constructed and random history)."""
    hot_steps = np.asarray(hot, dtype=bool)
    cold_steps = np.asarray(cold, dtype=bool)
    if hot_steps.ndim != 2 or hot_steps.shape != cold_steps.shape or hot_steps.shape[0] == 0:
        raise ValueError("hot and cold must be non-empty (time steps x cells) arrays of the same shape")
    if np.any(hot_steps & cold_steps):
        raise ValueError("a step cannot be both hot and cold")
    z = np.asarray(trend_z, dtype=np.float64)
    significant = np.asarray(trend_p, dtype=np.float64) <= trend_alpha
    up, down = significant & (z > 0), significant & (z < 0)
    hot_final = _final_patterns(hot_steps, cold_steps, up, down, _HOT)
    cold_final = _final_patterns(cold_steps, hot_steps, down, up, _COLD)
    return np.select(
        [hot_steps[-1], cold_steps[-1], _mostly_columns(hot_steps), _mostly_columns(cold_steps)],
        [hot_final, cold_final, EmergingCategory.HISTORICAL_HOT.value, EmergingCategory.HISTORICAL_COLD.value],
        EmergingCategory.NO_PATTERN.value,
    ).astype(str)


def _mostly_columns(flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    return np.asarray(flags.sum(axis=0) * 10 >= 9 * flags.shape[0])


def _final_patterns(
    same: npt.NDArray[np.bool_],
    opposite: npt.NDArray[np.bool_],
    strengthening: npt.NDArray[np.bool_],
    weakening: npt.NDArray[np.bool_],
    names: dict[str, EmergingCategory],
) -> npt.NDArray[np.str_]:
    """:func:`_classify_final` per column (meaningful where the final step is of the ``same`` kind)."""
    count = same.sum(axis=0)
    # Length of the final uninterrupted run: the steps before the last step that is not ``same``.
    trailing = np.where(same.all(axis=0), same.shape[0], np.argmax(~same[::-1], axis=0))
    mostly = _mostly_columns(same)
    return np.select(
        [mostly & strengthening, mostly & weakening, mostly, opposite[:-1].any(axis=0), count == 1,
         (trailing >= 2) & (count == trailing)],
        [names["intensifying"].value, names["diminishing"].value, names["persistent"].value,
         names["oscillating"].value, names["new"].value, names["consecutive"].value],
        names["sporadic"].value,
    )


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
    steps = series.shape[0]
    if steps < 2:
        raise ValueError("emerging hot spot analysis needs at least two time steps (ArcGIS recommends 10)")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    trend_level = alpha if trend_alpha is None else trend_alpha

    gi_z, gi_p = getis_ord_gi_star_rows(series, weights)  # each step its own Gi*, on the same weights
    evidence = np.vstack([benjamini_hochberg_adjust(row) for row in gi_p]) if fdr else gi_p
    significant = evidence <= alpha
    hot = significant & (gi_z > 0)
    cold = significant & (gi_z < 0)

    trend = mann_kendall_columns(gi_z)
    category = classify_emerging_columns(hot, cold, trend.z, trend.p, trend_level)
    return EmergingHotSpots(
        category=category,
        trend_z=trend.z,
        trend_p=trend.p,
        hot_steps=hot.sum(axis=0).astype(np.int64),
        cold_steps=cold.sum(axis=0).astype(np.int64),
        gi_z=gi_z,
        gi_p=gi_p,
    )
