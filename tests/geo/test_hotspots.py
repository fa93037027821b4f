"""Gi*, Benjamini-Hochberg and Gi_Bin checked against PySAL esda, scipy and hand calculations."""

from __future__ import annotations

import doctest
import math
import warnings

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pytest
from scipy import sparse, stats

import geo.hotspots
from geo.grid import hex_adjacency, square_adjacency, square_polygon
from geo.hotspots import (
    benjamini_hochberg,
    benjamini_hochberg_adjust,
    confidence_bins,
    getis_ord_gi_star,
    getis_ord_gi_star_rows,
    hotspot_table,
)


def lattice(columns: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    ii, jj = np.meshgrid(np.arange(columns), np.arange(rows), indexing="ij")
    return ii.ravel(), jj.ravel()


def random_graph(n: int, density: float, seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    upper = sparse.triu(sparse.random(n, n, density=density, random_state=rng) > 0, k=1)
    return sparse.csr_matrix((upper + upper.T) > 0, dtype=np.float64)


def esda_gi_star_z(values: np.ndarray, weights: sparse.csr_matrix) -> np.ndarray:
    w = libpysal.weights.WSP(sparse.csr_matrix(weights, dtype=np.float64)).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(values.astype(np.float64), w, transform="B", star=True, permutations=0)
    return np.asarray(g.Zs)


def weight_cases() -> list[tuple[str, sparse.csr_matrix]]:
    ii, jj = lattice(9, 7)
    hi, hj = lattice(8, 8)
    return [
        ("rook", square_adjacency(ii, jj, queen=False)),
        ("queen", square_adjacency(ii, jj, queen=True)),
        ("hexagon", hex_adjacency(hi, hj)),
        ("random sparse", random_graph(60, 0.05, seed=1)),
        ("random dense", random_graph(40, 0.3, seed=2)),
    ]


def value_cases(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    clustered = np.zeros(n)
    clustered[: n // 6] = rng.poisson(12, n // 6)
    return [
        rng.poisson(3.0, n).astype(float),
        rng.negative_binomial(1, 0.2, n).astype(float),  # over-dispersed, many zeros
        clustered,
        rng.normal(50, 10, n),
    ]


@pytest.mark.parametrize(("name", "weights"), weight_cases())
def test_gi_star_z_matches_esda_star_binary(name: str, weights: sparse.csr_matrix) -> None:
    for values in value_cases(weights.shape[0], seed=len(name)):
        result = getis_ord_gi_star(values, weights)
        np.testing.assert_allclose(result.z, esda_gi_star_z(values, weights), rtol=0, atol=1e-9)
        # esda reports one-sided p_norm; ours is the two-sided normal p of the same z.
        np.testing.assert_allclose(result.p, 2 * stats.norm.sf(np.abs(result.z)), rtol=1e-12)


@pytest.mark.parametrize(("name", "weights"), weight_cases())
def test_gi_star_rows_match_esda_row_by_row(name: str, weights: sparse.csr_matrix) -> None:
    # The batched form emerging hot spots use: every row its own Gi* on the same weights, constant rows too.
    rows = np.vstack([*value_cases(weights.shape[0], seed=len(name) + 1), np.full(weights.shape[0], 4.0)])
    z, p = getis_ord_gi_star_rows(rows, weights)
    for row, row_z, row_p in zip(rows[:-1], z[:-1], p[:-1], strict=True):  # esda gives NaN for the constant row
        np.testing.assert_allclose(row_z, esda_gi_star_z(row, weights), rtol=0, atol=1e-9)
        np.testing.assert_allclose(row_p, 2 * stats.norm.sf(np.abs(row_z)), rtol=1e-12)
    assert np.all(z[-1] == 0) and np.all(p[-1] == 1)


def test_gi_star_with_isolated_cells_matches_esda() -> None:
    weights = random_graph(30, 0.04, seed=7)
    assert (np.asarray(weights.sum(axis=1)).ravel() == 0).any(), "fixture should contain islands"
    values = np.random.default_rng(3).poisson(4, 30).astype(float)
    z = getis_ord_gi_star(values, weights).z
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(z, esda_gi_star_z(values, weights), atol=1e-9)


def test_gi_star_hand_calculation_on_a_chain() -> None:
    # Cells 0-1-2-3-4 in a line with counts 0, 0, 1, 9, 9. For cell 4 the star neighbourhood is {3, 4}:
    # W = 2, S1 = 2, local sum 18, mean 3.8, S^2 = 163/5 - 3.8^2 = 18.16 (Ord & Getis 1995, eq. 14).
    chain = sparse.diags([1.0, 1.0], [-1, 1], shape=(5, 5), format="csr")
    result = getis_ord_gi_star([0, 0, 1, 9, 9], chain)
    expected = (18 - 3.8 * 2) / (math.sqrt(18.16) * math.sqrt((5 * 2 - 2**2) / 4))
    assert result.z[4] == pytest.approx(expected, abs=1e-12)
    assert result.z[4] == pytest.approx(1.99264, abs=1e-5)
    assert result.p[4] == pytest.approx(2 * stats.norm.sf(expected))
    assert result.z[0] < 0


@pytest.mark.parametrize("constant", [0.0, 4.0, 0.1, 1e6 / 3])
def test_equal_values_give_no_pattern_without_warnings(constant: float) -> None:
    ii, jj = lattice(5, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = getis_ord_gi_star(np.full(25, constant), square_adjacency(ii, jj))
    assert np.all(result.z == 0)
    assert np.all(result.p == 1)


def test_neighbourhood_covering_every_cell_is_not_nan() -> None:
    complete = sparse.csr_matrix(np.ones((4, 4)) - np.eye(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = getis_ord_gi_star([1, 2, 3, 10], complete)
    np.testing.assert_allclose(result.z, 0, atol=1e-9)
    assert np.all(np.isfinite(result.p))


def test_single_cell_and_bad_inputs() -> None:
    single = getis_ord_gi_star([5], sparse.csr_matrix((1, 1)))
    assert single.z.tolist() == [0.0] and single.p.tolist() == [1.0]
    with pytest.raises(ValueError, match="self-loops"):
        getis_ord_gi_star([1, 2], sparse.identity(2, format="csr"))
    with pytest.raises(ValueError, match="2x2"):
        getis_ord_gi_star([1, 2], sparse.csr_matrix((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        getis_ord_gi_star([1, np.nan], sparse.csr_matrix((2, 2)))


def test_benjamini_hochberg_matches_scipy() -> None:
    rng = np.random.default_rng(11)
    p = np.concatenate([rng.uniform(0, 0.01, 20), rng.uniform(0, 1, 200), [1.0, 0.0, 0.5, 0.5]])
    np.testing.assert_allclose(benjamini_hochberg_adjust(p), stats.false_discovery_control(p, method="bh"))
    for alpha in (0.01, 0.05, 0.1):
        mask = benjamini_hochberg(p, alpha)
        np.testing.assert_array_equal(mask, stats.false_discovery_control(p, method="bh") <= alpha)


def test_benjamini_hochberg_published_style_example() -> None:
    # Benjamini & Hochberg (1995, section 4.1) worked example: 15 p-values, q* = 0.05 rejects the
    # four smallest.
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
         0.5719, 0.6528, 0.7590, 1.0000]  # fmt: skip
    assert benjamini_hochberg(p, 0.05).sum() == 4
    assert benjamini_hochberg(p, 0.05)[:4].all()


def test_fdr_bins_agree_with_esda_fdr_cutoff() -> None:
    ii, jj = lattice(12, 12)
    weights = square_adjacency(ii, jj)
    values = np.random.default_rng(5).poisson(2, 144).astype(float)
    values[:20] += 8  # a block of high counts in the first columns
    result = getis_ord_gi_star(values, weights)
    bins = confidence_bins(result.z, result.p, fdr=True)
    for level, alpha in ((1, 0.10), (2, 0.05), (3, 0.01)):
        cutoff = esda.fdr(result.p, alpha)
        np.testing.assert_array_equal(np.abs(bins) >= level, result.p <= cutoff)
    assert np.all(np.sign(bins[bins != 0]) == np.sign(result.z[bins != 0]))
    assert bins.max() == 3


def test_bins_without_fdr_use_plain_thresholds() -> None:
    z = np.array([2.6, 2.0, 1.7, 1.6, -1.7, -2.0, -2.6, 0.0])
    p = 2 * stats.norm.sf(np.abs(z))
    assert confidence_bins(z, p, fdr=False).tolist() == [3, 2, 1, 0, -1, -2, -3, 0]
    # FDR can only demote cells, never promote them.
    assert np.all(np.abs(confidence_bins(z, p, fdr=True)) <= np.abs(confidence_bins(z, p, fdr=False)))


def test_hotspot_table_adds_columns_for_a_map() -> None:
    ii, jj = lattice(6, 6)
    counts = np.zeros(36)
    counts[(ii < 2) & (jj < 2)] = 20
    cells = gpd.GeoDataFrame(
        {"count": counts}, geometry=[square_polygon(i, j, 250.0) for i, j in zip(ii, jj, strict=True)]
    )
    table = hotspot_table(cells, square_adjacency(ii, jj))
    assert table.loc[0, "gi_bin"] == 3  # corner of the high-count block
    assert table["gi_bin"].min() <= 0
    assert "gi_bin" not in cells.columns


def test_docstring_examples_run() -> None:
    assert doctest.testmod(geo.hotspots, raise_on_error=False).failed == 0
