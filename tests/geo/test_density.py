"""Quartic kernel density: mass, shape, bandwidth rule and map helpers."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from scipy import integrate

import geo.density
from geo.density import (
    density_bands,
    density_cells,
    quartic_kde,
    quartic_kernel,
    silverman_bandwidth,
)


def test_kernel_integrates_to_one_independently_of_the_grid() -> None:
    # Integrate K(d) 2 pi d dd over [0, h] by quadrature (Silverman's biweight is a density).
    for h in (1.0, 37.0, 400.0):
        mass, _ = integrate.quad(lambda d, h=h: float(quartic_kernel(d, h)) * 2 * math.pi * d, 0, h)
        assert mass == pytest.approx(1.0, rel=1e-10)


def test_surface_integrates_to_number_of_points_and_weighted_sum() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 2000, 300), rng.uniform(0, 1000, 300)
    surface = quartic_kde(x, y, bandwidth=200.0, cell_size=10.0)
    assert surface.total() == pytest.approx(300, rel=2e-3)
    harm = rng.integers(1, 5, 300).astype(float)
    weighted = quartic_kde(x, y, weights=harm, bandwidth=200.0, cell_size=10.0)
    assert weighted.total() == pytest.approx(harm.sum(), rel=2e-3)


def test_single_point_surface_is_symmetric_and_peaks_at_three_over_pi_h2() -> None:
    h = 100.0
    surface = quartic_kde([0.0], [0.0], bandwidth=h, cell_size=10.0, bounds=(-205, -205, 205, 205))
    d = surface.density
    np.testing.assert_allclose(d, d[::-1, :], atol=1e-15)
    np.testing.assert_allclose(d, d[:, ::-1], atol=1e-15)
    np.testing.assert_allclose(d, d.T, atol=1e-15)
    assert d.max() == pytest.approx(3 / (math.pi * h**2))  # the point sits on a cell centre
    xs, ys = surface.cell_centres()
    assert np.all(d[np.hypot(xs, ys) >= h] == 0)  # compact support


def test_matches_brute_force_sum_over_points() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 500, 40), rng.uniform(0, 500, 40)
    x[5], y[5] = x[4], y[4]  # duplicate location, as police.uk snap points produce
    surface = quartic_kde(x, y, bandwidth=80.0, cell_size=25.0)
    xs, ys = surface.cell_centres()
    expected = sum(quartic_kernel(np.hypot(xs - px, ys - py), 80.0) for px, py in zip(x, y, strict=True))
    np.testing.assert_allclose(surface.density, expected, rtol=1e-12, atol=1e-18)


def test_bandwidth_rule_hand_computed() -> None:
    # Points on a line at x = 0, 1, 2, 3, 10: mean centre 3.2, SD = sqrt(62.8 / 5), distances
    # 3.2, 2.2, 1.2, 0.2, 6.8 so Dm = 2.2; sqrt(1/ln 2) * 2.2 = 2.642 < SD = 3.544.
    h = silverman_bandwidth([0, 1, 2, 3, 10], [0, 0, 0, 0, 0])
    assert h == pytest.approx(0.9 * math.sqrt(1 / math.log(2)) * 2.2 * 5**-0.2)
    assert h == pytest.approx(1.72369, abs=1e-5)
    # Four corners of a 2 x 2 square: SD = Dm = sqrt(2); the SD branch is the smaller one.
    assert silverman_bandwidth([0, 2, 0, 2], [0, 0, 2, 2]) == pytest.approx(0.9 * math.sqrt(2) * 4**-0.2)


def test_weighted_bandwidth_equals_repeated_points() -> None:
    x, y = np.array([0.0, 3.0, 7.0, 20.0]), np.array([0.0, 4.0, 1.0, 5.0])
    counts = np.array([3, 1, 2, 1])
    weighted = silverman_bandwidth(x, y, weights=counts)
    repeated = silverman_bandwidth(np.repeat(x, counts), np.repeat(y, counts))
    assert weighted == pytest.approx(repeated)


def test_bandwidth_and_cell_size_overrides_are_respected() -> None:
    x, y = [0.0, 50.0, 120.0], [0.0, 30.0, 10.0]
    surface = quartic_kde(x, y, bandwidth=75.0, cell_size=5.0)
    assert surface.bandwidth == 75.0 and surface.cell_size == 5.0
    default = quartic_kde(x, y)
    assert default.bandwidth == pytest.approx(silverman_bandwidth(x, y))
    x_min, y_min, x_max, y_max = default.bounds
    assert min(x_max - x_min, y_max - y_min) / default.cell_size == pytest.approx(250, abs=1)
    assert x_min == pytest.approx(0.0 - default.bandwidth)
    assert surface.transform == (5.0, 0.0, surface.x_min, 0.0, -5.0, surface.y_max)


def test_identical_points_need_an_explicit_bandwidth() -> None:
    with pytest.raises(ValueError, match="bandwidth"):
        quartic_kde([5.0, 5.0], [1.0, 1.0])
    assert quartic_kde([5.0, 5.0], [1.0, 1.0], bandwidth=10.0, cell_size=0.5).total() == pytest.approx(
        2, rel=1e-2
    )


def test_density_cells_drop_zeros_and_carry_crs() -> None:
    surface = quartic_kde([0.0, 300.0], [0.0, 0.0], bandwidth=50.0, cell_size=10.0)
    cells = density_cells(surface, crs="EPSG:27700")
    assert (cells["density"] > 0).all()
    assert len(cells) == int((surface.density > 0).sum())
    assert cells.crs.to_epsg() == 27700
    assert (cells.area * cells["density"]).sum() == pytest.approx(surface.total())


def test_density_bands_partition_the_nonzero_cells() -> None:
    surface = quartic_kde([0.0, 60.0], [0.0, 0.0], bandwidth=100.0, cell_size=5.0)
    peak = surface.density.max()
    levels = [peak * 0.1, peak * 0.5, peak * 0.9]
    bands = density_bands(surface, levels, crs="EPSG:27700")
    assert bands["density_min"].tolist() == pytest.approx(levels)
    assert math.isnan(bands["density_max"].iloc[-1])
    above_lowest = (surface.density >= levels[0]).sum() * surface.cell_size**2
    assert bands.area.sum() == pytest.approx(above_lowest)
    with pytest.raises(ValueError, match="increasing"):
        density_bands(surface, [0.5, 0.1])


def test_docstring_examples_run() -> None:
    assert doctest.testmod(geo.density, raise_on_error=False).failed == 0
