"""Grid adjacency from PostGIS (i, j) indices, checked against shapely geometry of the same cells."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import shapely
from scipy.spatial.distance import cdist

import geo.grid
from geo.grid import (
    cell_polygons,
    distance_band_adjacency,
    hex_adjacency,
    hexagon_centres,
    hexagon_polygon,
    square_adjacency,
    square_polygon,
    touching_pairs,
)


def block(i0: int, i1: int, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
    ii, jj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1), indexing="ij")
    return ii.ravel(), jj.ravel()


def pairs_of(matrix: object) -> set[tuple[int, int]]:
    coo = matrix.tocoo()  # type: ignore[attr-defined]
    return {(int(a), int(b)) for a, b in zip(coo.row, coo.col, strict=True) if a < b}


def test_hexagon_matches_postgis_st_hexagon_output() -> None:
    # ST_Hexagon(10, 1, 1) worked by hand from postgis/lwgeom_generate_grid.c: centre (15, 1.5 h) with
    # h = 10 sqrt(3); ring starts at the left vertex and runs counter-clockwise.
    h = 10 * math.sqrt(3)
    expected = [(5, 1.5 * h), (10, h), (20, h), (25, 1.5 * h), (20, 2 * h), (10, 2 * h), (5, 1.5 * h)]
    np.testing.assert_allclose(hexagon_polygon(1, 1, 10.0).exterior.coords, expected, atol=1e-9)
    # Negative odd columns are shifted too: PostGIS uses abs(i) % 2.
    assert hexagon_polygon(-1, 0, 10.0).centroid.y == pytest.approx(h / 2)


def test_hexagons_tile_the_plane() -> None:
    ii, jj = block(-4, 5, -4, 5)
    cells = cell_polygons(ii, jj, 37.5, "hexagon")
    union = shapely.union_all(cells)
    assert union.area == pytest.approx(sum(c.area for c in cells), rel=1e-9)  # no overlaps
    assert cells[0].area == pytest.approx(1.5 * math.sqrt(3) * 37.5**2)
    cx, cy = hexagon_centres(ii, jj, 37.5)
    np.testing.assert_allclose(cx, [c.centroid.x for c in cells], atol=1e-6)
    np.testing.assert_allclose(cy, [c.centroid.y for c in cells], atol=1e-6)


@pytest.mark.parametrize("size", [1.0, 250.0, 333.3])
def test_hex_adjacency_agrees_with_shapely_touches(size: float) -> None:
    ii, jj = block(-5, 6, -4, 5)
    # Knock out some cells so the grid has holes and ragged edges, like a clipped study area.
    keep = (ii * 7 + jj * 3) % 5 != 0
    ii, jj = ii[keep], jj[keep]
    weights = hex_adjacency(ii, jj)
    assert pairs_of(weights) == touching_pairs(cell_polygons(ii, jj, size, "hexagon"))
    assert (weights != weights.T).nnz == 0
    assert weights.diagonal().sum() == 0


def test_full_interior_hexagon_has_six_neighbours_and_centres_are_equidistant() -> None:
    ii, jj = block(-3, 4, -3, 4)
    weights = hex_adjacency(ii, jj)
    degree = np.asarray(weights.sum(axis=1)).ravel()
    assert degree.max() == 6
    cx, cy = hexagon_centres(ii, jj, 100.0)
    distances = cdist(np.column_stack([cx, cy]), np.column_stack([cx, cy]))
    coo = weights.tocoo()
    np.testing.assert_allclose(distances[coo.row, coo.col], 100.0 * math.sqrt(3))


@pytest.mark.parametrize("queen", [True, False])
def test_square_adjacency_agrees_with_shapely(queen: bool) -> None:
    ii, jj = block(-3, 5, -2, 4)
    keep = (ii + 2 * jj) % 4 != 1
    ii, jj = ii[keep], jj[keep]
    cells = cell_polygons(ii, jj, 100.0, "square")
    touching = touching_pairs(cells)
    if not queen:
        # Rook contiguity: the shared boundary must be an edge, not a single corner point.
        touching = {(a, b) for a, b in touching if cells[a].intersection(cells[b]).length > 0}
    assert pairs_of(square_adjacency(ii, jj, queen=queen)) == touching


def test_square_polygon_matches_postgis_envelope() -> None:
    assert square_polygon(-2, 3, 50.0).bounds == (-100.0, 150.0, -50.0, 200.0)


def test_distance_band_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1000, 80), rng.uniform(0, 1000, 80)
    weights = distance_band_adjacency(x, y, 150.0).toarray()
    d = cdist(np.column_stack([x, y]), np.column_stack([x, y]))
    expected = ((d <= 150.0) & ~np.eye(80, dtype=bool)).astype(int)
    np.testing.assert_array_equal(weights, expected)


def test_missing_neighbours_duplicates_and_empty_input() -> None:
    assert hex_adjacency([0], [0]).nnz == 0
    assert hex_adjacency([], []).shape == (0, 0)
    with pytest.raises(ValueError, match="duplicate"):
        square_adjacency([0, 0], [1, 1])
    with pytest.raises(ValueError, match="same length"):
        hex_adjacency([0, 1], [0])


def test_docstring_examples_run() -> None:
    assert doctest.testmod(geo.grid, raise_on_error=False).failed == 0
