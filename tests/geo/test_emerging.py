"""Emerging hot spot categories on constructed histories, and Mann-Kendall against pymannkendall."""

from __future__ import annotations

import doctest

import numpy as np
import pymannkendall
import pytest

import geo.emerging
from geo.emerging import (
    EmergingCategory,
    classify_emerging,
    classify_emerging_columns,
    emerging_hot_spots,
    mann_kendall,
    mann_kendall_columns,
)
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


def test_mann_kendall_columns_match_pymannkendall_column_by_column() -> None:
    # The vectorised test emerging hot spots use (all cells at once) against the independent implementation,
    # on columns with ties, a constant column, a monotonic one and a two-step one.
    rng = np.random.default_rng(42)
    series = np.round(rng.normal(0, 1, (24, 40)) + np.linspace(-1, 1, 40) * np.arange(24)[:, None] / 12, 1)
    series[:, 0] = 2.5
    series[:, 1] = np.arange(24)
    series[5:9, 2] = series[4, 2]
    ours = mann_kendall_columns(series)
    for k in range(series.shape[1]):
        reference = pymannkendall.original_test(series[:, k])
        assert ours.s[k] == pytest.approx(reference.s)
        assert ours.variance[k] == pytest.approx(reference.var_s)
        assert ours.z[k] == pytest.approx(reference.z, abs=1e-12)
        assert ours.p[k] == pytest.approx(reference.p)
        assert ours.tau[k] == pytest.approx(reference.Tau)
    two = mann_kendall_columns(np.array([[1.0, 3.0], [2.0, 3.0]]))
    assert two.s.tolist() == [1.0, 0.0] and two.p[1] == 1.0


def test_classify_columns_equals_the_one_cell_rules() -> None:
    # Every constructed history as one column each, then many random histories (all trends).
    hot, cold = (np.column_stack(f) for f in zip(*(flags(h) for h, _, _ in CASES), strict=True))
    z = np.array([t[0] for _, t, _ in CASES])
    p = np.array([t[1] for _, t, _ in CASES])
    assert classify_emerging_columns(hot, cold, z, p).tolist() == [e.value for _, _, e in CASES]
    rng = np.random.default_rng(3)
    for steps in (2, 3, 10, 24):
        draw = rng.choice(np.array([H, C, N]), size=(steps, 3000), p=[0.45, 0.2, 0.35])
        draw[:, :300] = H  # mostly-hot and mostly-cold columns with a few gaps
        draw[:, 300:600] = C
        gaps = rng.random((steps, 600)) < 0.08
        draw[:, :600][gaps] = N
        hot, cold = draw == H, draw == C
        z = rng.normal(0, 2, 3000)
        p = rng.choice([0.01, 0.08, 0.5], 3000)
        expected = [classify_emerging(hot[:, k], cold[:, k], z[k], p[k]).value for k in range(3000)]
        assert classify_emerging_columns(hot, cold, z, p).tolist() == expected
    with pytest.raises(ValueError, match="both hot and cold"):
        classify_emerging_columns(np.ones((3, 2), bool), np.ones((3, 2), bool), [0, 0], [1, 1])


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
