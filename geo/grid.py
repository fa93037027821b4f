"""Spatial weights for the analysis grids PostGIS builds, keyed by the cells' integer ``(i, j)`` indices.

The database layer aggregates incidents with ``ST_HexagonGrid(size, bounds)`` or
``ST_SquareGrid(size, bounds)`` in the metric CRS and returns each cell's ``i``, ``j`` and geometry.
Contiguity follows from the indices alone, so we never need a geometric ``touches`` join.

PostGIS cell geometry (``postgis/lwgeom_generate_grid.c``, PostGIS >= 3.1, origin (0, 0)):

* Square ``(i, j)``: the envelope ``[size*i, size*(i+1)] x [size*j, size*(j+1)]``.
* Hexagon ``(i, j)``: flat-topped with edge length ``size`` and height ``h = size * sqrt(3)``,
  centred at ``(1.5 * size * i, h * (j + 0.5 * (|i| mod 2)))``. Odd columns (including negative
  odd ones, because the C code takes ``abs(i) % 2``) are pushed up by half a hexagon.

The functions below reproduce that arithmetic term for term so shapely and PostGIS agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

IntArray = npt.NDArray[np.int64]

# Ratio of hexagon edge to the centre-to-flat-side distance, cos(pi/6), as the PostGIS source spells it.
_H = 0.8660254037844387
# Unit hexagon ring from PostGIS, starting at the left vertex and running counter-clockwise.
_HEX_X = (-1.0, -0.5, 0.5, 1.0, 0.5, -0.5, -1.0)
_HEX_Y = (0.0, -0.5, -0.5, 0.0, 0.5, 0.5, 0.0)

# Neighbour offsets (di, dj) in PostGIS's offset-column layout: even columns sit half a hexagon lower
# than odd ones, so their side neighbours are in rows j-1 and j; odd columns' are in rows j and j+1.
_HEX_EVEN = ((0, 1), (0, -1), (1, -1), (1, 0), (-1, -1), (-1, 0))
_HEX_ODD = ((0, 1), (0, -1), (1, 0), (1, 1), (-1, 0), (-1, 1))
_ROOK = ((1, 0), (-1, 0), (0, 1), (0, -1))
_QUEEN = (*_ROOK, (1, 1), (1, -1), (-1, 1), (-1, -1))


def hexagon_polygon(i: int, j: int, size: float) -> Polygon:
    """The hexagon PostGIS's ``ST_HexagonGrid(size, …)`` returns for cell ``(i, j)`` (origin 0, 0).

    Examples
    --------
    >>> hexagon_polygon(0, 0, 1.0).bounds  # doctest: +ELLIPSIS
    (-1.0, -0.866..., 1.0, 0.866...)
    >>> round(hexagon_polygon(1, 0, 1.0).centroid.y, 6)  # odd column sits half a hexagon higher
    0.866025
    """
    height = size * 2 * _H
    shift = 0.5 * (abs(int(i)) % 2)
    ring = [(size * (1.5 * i + hx), height * (j + shift + hy)) for hx, hy in zip(_HEX_X, _HEX_Y, strict=True)]
    return Polygon(ring)


def square_polygon(i: int, j: int, size: float) -> Polygon:
    """The square PostGIS's ``ST_SquareGrid(size, …)`` returns for cell ``(i, j)`` (origin 0, 0).

    Examples
    --------
    >>> square_polygon(2, -1, 100.0).bounds
    (200.0, -100.0, 300.0, 0.0)
    """
    x0, y0 = size * i, size * j
    x1, y1 = size * (i + 1), size * (j + 1)
    # Same ring order as liblwgeom's lwpoly_construct_envelope.
    return Polygon([(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)])


def hexagon_centres(i: npt.ArrayLike, j: npt.ArrayLike, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre coordinates of PostGIS hexagon cells, vectorised.

    Examples
    --------
    >>> x, y = hexagon_centres([0, 1], [0, 0], 2.0)
    >>> x.tolist(), y.round(4).tolist()
    ([0.0, 3.0], [0.0, 1.7321])
    """
    ii, jj = _as_index_arrays(i, j)
    return size * 1.5 * ii, size * 2 * _H * (jj + 0.5 * (np.abs(ii) % 2))


def hex_adjacency(i: npt.ArrayLike, j: npt.ArrayLike) -> sparse.csr_matrix:
    """Binary contiguity (shared edge) between PostGIS hexagon cells, without self-loops.

    Parameters
    ----------
    i, j : array_like of int
        Cell indices exactly as ``ST_HexagonGrid`` returns them; row ``k`` of the result is cell
        ``(i[k], j[k])``. Neighbours missing from the list (outside the grid) are simply absent.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric ``n x n`` matrix of 0/1.

    Examples
    --------
    >>> w = hex_adjacency([0, 0, 0, 1, 1, -1, -1], [0, 1, -1, 0, -1, 0, -1])
    >>> int(w[0].sum())  # the centre hexagon has all six neighbours present
    6
    """
    ii, jj = _as_index_arrays(i, j)
    odd = (np.abs(ii) % 2).astype(bool)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    lookup = _CellLookup(ii, jj)
    for offsets, mask in ((_HEX_EVEN, ~odd), (_HEX_ODD, odd)):
        members = np.flatnonzero(mask)
        for di, dj in offsets:
            found = lookup.find(ii[members] + di, jj[members] + dj)
            hit = found >= 0
            rows.append(members[hit])
            cols.append(found[hit])
    return _binary_matrix(rows, cols, ii.size)


def square_adjacency(i: npt.ArrayLike, j: npt.ArrayLike, queen: bool = True) -> sparse.csr_matrix:
    """Binary contiguity between PostGIS square cells: queen (edge or corner) or rook (edge only).

    Examples
    --------
    >>> ii, jj = [0, 0, 1, 1], [0, 1, 0, 1]
    >>> square_adjacency(ii, jj).toarray()[0].tolist()
    [0, 1, 1, 1]
    >>> square_adjacency(ii, jj, queen=False).toarray()[0].tolist()
    [0, 1, 1, 0]
    """
    ii, jj = _as_index_arrays(i, j)
    lookup = _CellLookup(ii, jj)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    members = np.arange(ii.size)
    for di, dj in _QUEEN if queen else _ROOK:
        found = lookup.find(ii + di, jj + dj)
        hit = found >= 0
        rows.append(members[hit])
        cols.append(found[hit])
    return _binary_matrix(rows, cols, ii.size)


def distance_band_adjacency(x: npt.ArrayLike, y: npt.ArrayLike, threshold: float) -> sparse.csr_matrix:
    """Binary weights linking every pair of points no more than ``threshold`` apart (no self-loops).

    Coordinates must be in a metric CRS (the analysis CRS, e.g. EPSG:27700); the band is inclusive.

    Examples
    --------
    >>> distance_band_adjacency([0, 100, 250], [0, 0, 0], 100.0).toarray().tolist()
    [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    """
    if threshold < 0:
        raise ValueError("threshold must be non-negative")
    points = np.column_stack(
        [np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()]
    )
    pairs = cKDTree(points).query_pairs(r=threshold, output_type="ndarray").astype(np.int64)
    return _binary_matrix([pairs[:, 0], pairs[:, 1]], [pairs[:, 1], pairs[:, 0]], len(points))


def cell_polygons(i: npt.ArrayLike, j: npt.ArrayLike, size: float, shape: str) -> np.ndarray:
    """Shapely polygons for many cells at once; ``shape`` is ``"hexagon"`` or ``"square"``.

    Useful for filling in zero-count cells the database did not return, and for tests.

    Examples
    --------
    >>> [round(p.area, 3) for p in cell_polygons([0, 1], [0, 0], 1.0, "hexagon")]
    [2.598, 2.598]
    """
    ii, jj = _as_index_arrays(i, j)
    if shape == "hexagon":
        build = hexagon_polygon
    elif shape == "square":
        build = square_polygon
    else:
        raise ValueError(f"shape must be 'hexagon' or 'square', got {shape!r}")
    return np.array([build(int(a), int(b), size) for a, b in zip(ii, jj, strict=True)], dtype=object)


def touching_pairs(polygons: np.ndarray) -> set[tuple[int, int]]:
    """Index pairs of polygons that share a boundary point, via shapely (slow reference for tests).

    Examples
    --------
    >>> sorted(touching_pairs(cell_polygons([0, 1, 3], [0, 0, 0], 1.0, "square")))
    [(0, 1)]
    """
    tree = shapely.STRtree(polygons)
    left, right = tree.query(polygons, predicate="touches")
    return {(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b}


class _CellLookup:
    """Vectorised (i, j) -> row position lookup using one sorted 64-bit key per cell."""

    def __init__(self, i: IntArray, j: IntArray) -> None:
        keys = self._keys(i, j)
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]
        if self._sorted.size > 1 and np.any(self._sorted[1:] == self._sorted[:-1]):
            raise ValueError("duplicate (i, j) cell indices")

    @staticmethod
    def _keys(i: IntArray, j: IntArray) -> IntArray:
        # PostGIS indices are int32, so (i, j) packs losslessly into one int64 (j offset to be >= 0).
        return (i.astype(np.int64) << 33) + (j.astype(np.int64) + (1 << 32))

    def find(self, i: IntArray, j: IntArray) -> IntArray:
        keys = self._keys(i, j)
        if self._sorted.size == 0:
            return np.full(keys.shape, -1, dtype=np.int64)
        pos_clipped = np.minimum(np.searchsorted(self._sorted, keys), self._sorted.size - 1)
        found = self._sorted[pos_clipped] == keys
        return np.where(found, self._order[pos_clipped], -1).astype(np.int64)


def _as_index_arrays(i: npt.ArrayLike, j: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    ii = np.asarray(i).ravel()
    jj = np.asarray(j).ravel()
    if ii.shape != jj.shape:
        raise ValueError("i and j must have the same length")
    if ii.size and (not np.all(np.equal(np.mod(ii, 1), 0)) or not np.all(np.equal(np.mod(jj, 1), 0))):
        raise ValueError("cell indices must be integers")
    return ii.astype(np.int64), jj.astype(np.int64)


def _binary_matrix(rows: list[IntArray], cols: list[IntArray], n: int) -> sparse.csr_matrix:
    r = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.empty(0, dtype=np.int64)
    matrix = sparse.csr_matrix((np.ones(r.size, dtype=np.int8), (r, c)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


# ---- the published grid ------------------------------------------------------------------------------------
#: Square cell sides (metres) of the grid disclosure-controlled answers are published on. Each size is a
#: whole multiple of the smaller ones and all share the analysis CRS's origin (for EPSG:27700 the British
#: National Grid's false origin, so the cells are the OS national grid's own 250 m, 500 m and 1 km squares):
#: a larger cell is exactly the union of smaller ones, so comparing answers at two sizes reveals nothing
#: finer than the smaller cell. Hexagons of different sizes do not nest, and their overlaps would.
PUBLISHED_CELL_SIZES = (250.0, 500.0, 1000.0)


def published_cell_size(requested: float) -> float:
    """The smallest published size at least ``requested`` (the largest when none is).

    Examples
    --------
    >>> [published_cell_size(s) for s in (50, 250, 251, 800, 5000)]
    [250.0, 250.0, 500.0, 1000.0, 1000.0]
    """
    return next((s for s in PUBLISHED_CELL_SIZES if s >= requested), PUBLISHED_CELL_SIZES[-1])


def snap_box_outwards(box: tuple[float, float, float, float], size: float) -> tuple[float, float, float, float]:
    """The smallest box of whole ``size`` squares (origin 0, 0) containing ``box`` (metric coordinates).

    A box edge exactly on a cell edge stays there; any other edge moves out to the next cell edge, so a
    reader who slides an edge across a cell sees the same answer until the edge crosses a whole cell.

    Examples
    --------
    >>> snap_box_outwards((120.0, -10.0, 500.0, 260.0), 250.0)
    (0.0, -250.0, 500.0, 500.0)
    """
    x0, y0, x1, y1 = box
    return (math.floor(x0 / size) * size, math.floor(y0 / size) * size,
            max(math.ceil(x1 / size), math.floor(x0 / size) + 1) * size,
            max(math.ceil(y1 / size), math.floor(y0 / size) + 1) * size)
