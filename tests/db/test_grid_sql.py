"""The fast path's cell-index arithmetic agrees with PostGIS's own grids and with geo.grid's polygons.

Random points (a fixed seed) are assigned to cells three ways: the arithmetic SQL the analysis runs
(:func:`app.db.analysis.cells_of_points_sql`), a spatial join with ``ST_HexagonGrid``/``ST_SquareGrid``,
and shapely containment in :func:`geo.grid.hexagon_polygon`/:func:`geo.grid.square_polygon`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from shapely.geometry import Point
from sqlalchemy import text

from app.db.analysis import Grid, cells_of_points_sql, decode_cell_keys
from geo.grid import hexagon_polygon, square_polygon

SRID = 27700
POINTS = "SELECT x, y, k FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS t(x, y, k)"


def _random_points(seed: int, n: int, spread: float, centre: tuple[float, float]) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    xs = centre[0] + rng.uniform(-spread, spread, n)
    ys = centre[1] + rng.uniform(-spread, spread, n)
    return xs.tolist(), ys.tolist()


def _arithmetic(session: Any, grid: Grid, xs: list[float], ys: list[float]) -> dict[int, tuple[int, int]]:
    sql = f"SELECT k, cell_key FROM ({cells_of_points_sql(grid.shape, POINTS, ['k'])}) AS c"
    rows = session.execute(text(sql), {"xs": xs, "ys": ys, **grid.params}).all()
    i, j = decode_cell_keys([r[1] for r in rows])
    return {int(r[0]): (int(a), int(b)) for r, a, b in zip(rows, i, j, strict=True)}


def _spatial_join(session: Any, grid: Grid, xs: list[float], ys: list[float]) -> dict[int, list[tuple[int, int]]]:
    sql = f"""
        WITH p AS ({POINTS}),
             extent AS (SELECT ST_Expand(ST_SetSRID(ST_Extent(ST_MakePoint(x, y))::geometry, {SRID}),
                                         :cell_size * 2) AS g FROM p)
        SELECT p.k, g.i, g.j
        FROM p, extent, {grid.generator}(:cell_size, extent.g) AS g
        WHERE ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), {SRID}))"""
    found: dict[int, list[tuple[int, int]]] = {}
    for k, i, j in session.execute(text(sql), {"xs": xs, "ys": ys, **grid.params}).all():
        found.setdefault(int(k), []).append((int(i), int(j)))
    return found


# Sizes and places chosen to cover negative indices (odd negative columns shift like positive ones),
# British National Grid magnitudes and small and large cells.
CASES = [
    ("hexagon", 250.0, (510_000.0, 221_000.0), 3_000.0),
    ("hexagon", 50.0, (0.0, 0.0), 400.0),
    ("hexagon", 1_234.5, (-5_000.0, 7_000.0), 20_000.0),
    ("square", 250.0, (510_000.0, 221_000.0), 3_000.0),
    ("square", 75.0, (-100.0, -100.0), 500.0),
]


@pytest.mark.parametrize(("shape", "size", "centre", "spread"), CASES)
def test_arithmetic_cell_index_matches_postgis_grid(database: Any, shape: str, size: float,
                                                     centre: tuple[float, float], spread: float) -> None:
    grid = Grid(shape, size, SRID)  # type: ignore[arg-type]
    xs, ys = _random_points(int(size * 10), 2_000, spread, centre)
    with database.owner_session() as session:
        fast = _arithmetic(session, grid, xs, ys)
        joined = _spatial_join(session, grid, xs, ys)
    assert len(fast) == len(xs)
    # Random points never fall on an edge (probability zero), so each lies in exactly one PostGIS cell.
    assert all(len(cells) == 1 for cells in joined.values())
    mismatches = {k: (fast[k], joined[k][0]) for k in fast if joined[k][0] != fast[k]}
    assert not mismatches, list(mismatches.items())[:5]


@pytest.mark.parametrize(("shape", "size", "centre", "spread"), CASES)
def test_arithmetic_cell_index_matches_geo_grid_polygons(database: Any, shape: str, size: float,
                                                         centre: tuple[float, float], spread: float) -> None:
    grid = Grid(shape, size, SRID)  # type: ignore[arg-type]
    xs, ys = _random_points(int(size * 10) + 1, 500, spread, centre)
    with database.owner_session() as session:
        fast = _arithmetic(session, grid, xs, ys)
    polygon = hexagon_polygon if shape == "hexagon" else square_polygon
    for k, (i, j) in fast.items():
        assert polygon(i, j, size).covers(Point(xs[k - 1], ys[k - 1])), (k, i, j)


def test_cell_keys_round_trip_negative_and_large_indices() -> None:
    rng = np.random.default_rng(7)
    i = rng.integers(-(2**20), 2**20, 1_000)
    j = rng.integers(-(2**22), 2**22, 1_000)
    # Encode as the SQL does for the chosen column: a = i - 1 + first, row r = j - e in even columns.
    first = rng.integers(0, 2, 1_000)
    a = i - 1 + first
    e = np.where(i % 2 == 0, rng.integers(0, 2, 1_000), 0)
    keys = ((a * 2**24) + (j - e)) * 4 + 2 * e + first
    decoded_i, decoded_j = decode_cell_keys(keys)
    assert decoded_i.tolist() == i.tolist()
    assert decoded_j.tolist() == j.tolist()


def test_points_near_hexagon_vertices_and_column_boundaries(database: Any) -> None:
    # Points a hair inside each hexagon around its six corners and edge midpoints: the hard cases for the
    # two-candidate rule (three cells meet at a corner, two columns overlap in x).
    size = 100.0
    grid = Grid("hexagon", size, SRID)
    xs: list[float] = []
    ys: list[float] = []
    expected: list[tuple[int, int]] = []
    for i in range(-3, 4):
        for j in range(-3, 4):
            hexagon = hexagon_polygon(i, j, size)
            cx, cy = hexagon.centroid.x, hexagon.centroid.y
            ring = list(hexagon.exterior.coords)[:-1]
            for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=True):
                for px, py in ((ax, ay), ((ax + bx) / 2, (ay + by) / 2)):
                    xs.append(px + (cx - px) * 1e-6)
                    ys.append(py + (cy - py) * 1e-6)
                    expected.append((i, j))
    with database.owner_session() as session:
        fast = _arithmetic(session, grid, xs, ys)
    assert [fast[k + 1] for k in range(len(xs))] == expected
