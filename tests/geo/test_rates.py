"""Exact Poisson intervals and rate ratios against published tables, R's poisson.test and scipy."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pytest
from scipy import stats

import geo.rates
from geo.rates import exact_poisson_interval, rate_ratio

# Exact 95 % limits for a Poisson mean (Garwood 1936), as tabulated e.g. in Ulm (1990),
# Am J Epidemiol 131(2):373-375, and in most epidemiology texts.
GARWOOD_95 = {
    0: (0.0, 3.689),
    1: (0.0253, 5.572),
    2: (0.242, 7.225),
    3: (0.619, 8.767),
    4: (1.090, 10.242),
    5: (1.623, 11.668),
    10: (4.795, 18.390),
}


@pytest.mark.parametrize(("count", "limits"), sorted(GARWOOD_95.items()))
def test_garwood_interval_matches_published_table(count: int, limits: tuple[float, float]) -> None:
    interval = exact_poisson_interval(count, 0.95)
    assert interval.lower == pytest.approx(limits[0], abs=6e-4)
    assert interval.upper == pytest.approx(limits[1], abs=6e-4)


def test_garwood_interval_has_exact_tail_probabilities() -> None:
    # By construction P(X >= k | lower) = P(X <= k | upper) = alpha / 2 (Garwood 1936).
    for k in (1, 7, 30):
        interval = exact_poisson_interval(k, 0.90)
        assert stats.poisson.sf(k - 1, interval.lower) == pytest.approx(0.05)
        assert stats.poisson.cdf(k, interval.upper) == pytest.approx(0.05)


def test_rate_ratio_matches_r_poisson_test_example() -> None:
    # R's ?poisson.test example: poisson.test(c(11, 6 + 8 + 7), c(800, 1083 + 1050 + 878)) prints
    # rate ratio 1.971488, 95 % CI 0.8584264 to 4.2772659, p-value 0.07967.
    result = rate_ratio(before_count=21, before_exposure=3011, after_count=11, after_exposure=800)
    assert result.ratio == pytest.approx(1.971488, abs=1e-6)
    assert result.lower == pytest.approx(0.8584264, abs=1e-7)
    assert result.upper == pytest.approx(4.2772659, abs=1e-7)
    assert result.p_value == pytest.approx(0.07967, abs=1e-5)
    assert "could be chance" in result.interpretation


@pytest.mark.parametrize(
    ("before", "after", "e_before", "e_after"), [(40, 20, 365, 365), (7, 19, 90, 120), (3, 0, 30, 30)]
)
def test_rate_ratio_interval_matches_scipy_clopper_pearson(
    before: int, after: int, e_before: float, e_after: float
) -> None:
    result = rate_ratio(before, e_before, after, e_after, confidence=0.9)
    test = stats.binomtest(after, before + after, e_after / (e_after + e_before))
    ci = test.proportion_ci(confidence_level=0.9, method="exact")
    to_ratio = lambda pi: pi / (1 - pi) * e_before / e_after  # noqa: E731
    assert result.lower == pytest.approx(to_ratio(ci.low), rel=1e-9, abs=1e-12)
    assert result.upper == pytest.approx(to_ratio(ci.high), rel=1e-9)
    assert result.p_value == pytest.approx(test.pvalue)


def test_interval_coverage_is_at_least_nominal() -> None:
    # Exact methods are conservative: simulated coverage must not fall below the confidence level.
    rng = np.random.default_rng(42)
    true_ratio, e_before, e_after = 0.6, 100.0, 80.0
    covered = 0
    trials = 2000
    for _ in range(trials):
        b = rng.poisson(0.2 * e_before)
        a = rng.poisson(0.2 * true_ratio * e_after)
        r = rate_ratio(b, e_before, a, e_after)
        upper = np.inf if r.upper is None else r.upper
        lower = 0.0 if r.lower is None else r.lower
        covered += lower <= true_ratio <= upper
    assert covered / trials >= 0.94


def test_zero_counts_are_explicitly_undefined() -> None:
    nothing_before = rate_ratio(0, 10, 5, 10)
    assert nothing_before.ratio is None and nothing_before.upper is None
    assert set(nothing_before.undefined) == {"ratio", "upper"}
    assert nothing_before.lower is not None and nothing_before.lower > 0

    nothing_after = rate_ratio(5, 10, 0, 10)
    assert nothing_after.ratio == 0 and nothing_after.lower == 0
    assert nothing_after.upper is not None and nothing_after.upper > 1

    nothing_at_all = rate_ratio(0, 10, 0, 10)
    assert nothing_at_all.ratio is None and nothing_at_all.p_value is None
    json.dumps(nothing_at_all.to_dict())


def test_clear_fall_is_reported_in_plain_english() -> None:
    result = rate_ratio(before_count=80, before_exposure=180, after_count=30, after_exposure=180)
    assert result.upper is not None and result.upper < 1
    assert "lower than before" in result.interpretation
    assert "statistically clear" in result.interpretation


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="positive"):
        rate_ratio(1, 0, 1, 1)
    with pytest.raises(ValueError, match="integer"):
        rate_ratio(1.5, 1, 1, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="confidence"):
        exact_poisson_interval(3, 1.5)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(geo.rates, raise_on_error=False).failed == 0
