"""Emerging hot spot categories on constructed histories, and Mann-Kendall against pymannkendall."""

from __future__ import annotations

import doctest

import numpy as np
import pymannkendall
import pytest

import geo.emerging
from geo.emerging import EmergingCategory, classify_emerging, emerging_hot_spots, mann_kendall
from geo.grid import square_adjacency
from geo.hotspots import getis_ord_gi_star

H, C, N = "H", "C", "."
NO_TREND = (0.2, 0.8)
RISING = (2.5, 0.01)
FALLING = (-2.5, 0.01)


def flags(history: str) -> tuple[np.ndarray, np.ndarray]:
    steps = np.array(list(history))
    return steps == H, steps == C


CASES = [
    # (history oldest -> newest, (trend z, trend p), expected category)
    ("..........", NO_TREND, EmergingCategory.NO_PATTERN),
    (".........H", NO_TREND, EmergingCategory.NEW_HOT),
    ("......HHHH", RISING, EmergingCategory.CONSECUTIVE_HOT),
    ("HHHHHHHHHH", RISING, EmergingCategory.INTENSIFYING_HOT),
    ("HHHHHHHHHH", NO_TREND, EmergingCategory.PERSISTENT_HOT),
    (".HHHHHHHHH", NO_TREND, EmergingCategory.PERSISTENT_HOT),  # exactly 90 % hot
    ("HHHHHHHHHH", FALLING, EmergingCategory.DIMINISHING_HOT),
    ("H..H.H...H", NO_TREND, EmergingCategory.SPORADIC_HOT),
    ("..H....HHH", NO_TREND, EmergingCategory.SPORADIC_HOT),  # hot before the final run
    ("CC.....HHH", NO_TREND, EmergingCategory.OSCILLATING_HOT),
    ("C........H", NO_TREND, EmergingCategory.OSCILLATING_HOT),  # cold before: not "new"
    ("HHHHHHHHH.", FALLING, EmergingCategory.HISTORICAL_HOT),
    (".........C", NO_TREND, EmergingCategory.NEW_COLD),
    (".......CCC", NO_TREND, EmergingCategory.CONSECUTIVE_COLD),
    ("CCCCCCCCCC", FALLING, EmergingCategory.INTENSIFYING_COLD),
    ("CCCCCCCCCC", NO_TREND, EmergingCategory.PERSISTENT_COLD),
    ("CCCCCCCCCC", RISING, EmergingCategory.DIMINISHING_COLD),
    ("C.C..C...C", NO_TREND, EmergingCategory.SPORADIC_COLD),
    ("HH......CC", NO_TREND, EmergingCategory.OSCILLATING_COLD),
    ("CCCCCCCCC.", RISING, EmergingCategory.HISTORICAL_COLD),
    ("HHHHHHHHHC", NO_TREND, EmergingCategory.OSCILLATING_COLD),  # final step decides
    ("HHHHHHHH..", NO_TREND, EmergingCategory.NO_PATTERN),  # 80 % hot, not hot now
]


@pytest.mark.parametrize(("history", "trend", "expected"), CASES)
def test_each_category_from_a_constructed_history(
    history: str, trend: tuple[float, float], expected: EmergingCategory
) -> None:
    hot, cold = flags(history)
    assert classify_emerging(hot, cold, trend_z=trend[0], trend_p=trend[1], trend_alpha=0.10) is expected


def test_ninety_percent_rule_counts_steps_not_runs() -> None:
    hot, cold = flags("HHHHHHHHH.H")  # 10 of 11 hot (91 %): mostly hot, so the trend decides
    assert classify_emerging(hot, cold, *RISING) is EmergingCategory.INTENSIFYING_HOT
    hot, cold = flags("HHHHHHHH..H")  # 9 of 11 (82 %), broken history: sporadic
    assert classify_emerging(hot, cold, *RISING) is EmergingCategory.SPORADIC_HOT


def test_all_seventeen_categories_are_reachable() -> None:
    reached = {expected for _, _, expected in CASES}
    assert reached == set(EmergingCategory)


def test_trend_significance_threshold_is_configurable() -> None:
    hot, cold = flags("HHHHHHHHHH")
    assert classify_emerging(hot, cold, 2.0, 0.07, trend_alpha=0.10) is EmergingCategory.INTENSIFYING_HOT
    assert classify_emerging(hot, cold, 2.0, 0.07, trend_alpha=0.05) is EmergingCategory.PERSISTENT_HOT


@pytest.mark.parametrize("seed", range(6))
def test_mann_kendall_matches_pymannkendall(seed: int) -> None:
    rng = np.random.default_rng(seed)
    series = np.round(rng.normal(0, 1, 15) + 0.1 * seed * np.arange(15), 1)  # rounding creates ties
    series[3] = series[7]
    ours = mann_kendall(series)
    reference = pymannkendall.original_test(series)
    assert ours.s == pytest.approx(reference.s)
    assert ours.variance == pytest.approx(reference.var_s)
    assert ours.z == pytest.approx(reference.z)
    assert ours.p == pytest.approx(reference.p)
    assert ours.tau == pytest.approx(reference.Tau)


def test_mann_kendall_tie_correction_by_hand() -> None:
    # [1, 2, 2, 3]: S = 5 (one tied pair contributes 0); Var = (4*3*13 - 2*1*9) / 18 = 138 / 18.
    result = mann_kendall([1, 2, 2, 3])
    assert result.s == 5
    assert result.variance == pytest.approx(138 / 18)
    assert result.z == pytest.approx(4 / np.sqrt(138 / 18))


def lattice(size: int) -> tuple[np.ndarray, np.ndarray]:
    ii, jj = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return ii.ravel(), jj.ravel()


def test_end_to_end_growing_cluster_and_a_new_one() -> None:
    ii, jj = lattice(8)
    weights = square_adjacency(ii, jj)
    steps = 12
    rng = np.random.default_rng(0)
    counts = rng.poisson(2, (steps, 64)).astype(float)
    growing = (ii < 2) & (jj < 2)
    newcomer = (ii >= 6) & (jj >= 6)
    counts[:, growing] += np.linspace(10, 40, steps)[:, None]  # hot throughout and getting hotter
    counts[-1, newcomer] += 30  # appears in the final step only
    result = emerging_hot_spots(counts, weights, alpha=0.10)

    corner = int(np.flatnonzero(growing)[0])
    assert result.category[corner] == "intensifying_hot"
    assert result.hot_steps[corner] == steps and result.trend_z[corner] > 0
    assert result.category[int(np.flatnonzero(newcomer)[-1])] == "new_hot"
    # Gi* per step is exactly the spatial statistic on that step's counts.
    np.testing.assert_allclose(result.gi_z[5], getis_ord_gi_star(counts[5], weights).z)
    frame = result.to_frame()
    assert list(frame.columns) == ["category", "trend_z", "trend_p", "hot_steps", "cold_steps"]
    assert set(frame["category"]) <= {c.value for c in EmergingCategory}


def test_constant_counts_have_no_pattern_and_no_nan() -> None:
    ii, jj = lattice(4)
    result = emerging_hot_spots(np.full((10, 16), 3.0), square_adjacency(ii, jj))
    assert set(result.category) == {"no_pattern"}
    assert np.all(result.trend_p == 1.0)


def test_bad_shapes_raise() -> None:
    ii, jj = lattice(3)
    with pytest.raises(ValueError, match="two time steps"):
        emerging_hot_spots(np.ones((1, 9)), square_adjacency(ii, jj))
    with pytest.raises(ValueError, match="2-D"):
        emerging_hot_spots(np.ones(9), square_adjacency(ii, jj))
    with pytest.raises(ValueError, match="both hot and cold"):
        classify_emerging([True], [True], 0.0, 1.0)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(geo.emerging, raise_on_error=False).failed == 0
