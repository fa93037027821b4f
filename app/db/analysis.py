"""All SQL for the analysis endpoints: grid counts, time-step counts, study areas, displacement areas and
counts, place rates and a place's timeline. Statistics happen in ``geo/``; routers never see SQL.

Two conventions hold throughout:

* An incident belongs to the moment ``occurred_from``; periods are half-open ``[start, end)``, so
  ``2025-01-01/2026-01-01`` is exactly the year 2025 and a police.uk record (whose window is its whole
  month, starting at the first) lands in its own month and never in two periods.
* Grid cells are PostGIS's: ``ST_HexagonGrid`` / ``ST_SquareGrid`` in the analysis CRS with origin (0, 0)
  (see :mod:`geo.grid`). The fast path finds each incident's cell from its metric coordinates by
  arithmetic and groups by ``(i, j)``; no hexagon is built until the few returned cells are drawn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import aggregates
from app.db.session import CURRENT_ORG_SQL
from app.exceptions import NotFound

CellShape = Literal["hexagon", "square"]
IntArray = npt.NDArray[np.int64]

# The request's organisation in exactly the words of the row-level security policy: redundant with RLS,
# but it lets the planner use the (organisation_id, occurred_from) index, and being identical to the policy
# the planner merges the two (a different spelling, e.g. a scalar subquery, stopped parallel scans).
ORG = CURRENT_ORG_SQL  # the one spelling app.db.session binds to the organisation (routing on Citus)
# cos(pi/6) exactly as postgis/lwgeom_generate_grid.c spells it, so our rows match ST_HexagonGrid's.
_H = 0.8660254037844387
LOCAL_TIME_ZONE = "Europe/London"
# Answer from the monthly cell-count aggregate (app.db.aggregates) whenever it gives the same answer;
# the benchmark and the equivalence test turn it off to time and check the incident path.
READ_AGGREGATE = True


@dataclass(frozen=True)
class Grid:
    """A PostGIS analysis grid: hexagons of edge ``size`` metres or squares of side ``size``."""

    shape: CellShape
    size: float
    srid: int

    @property
    def params(self) -> dict[str, float]:
        if self.shape == "square":
            return {"cell_size": self.size, "hex_w": self.size, "hex_h": self.size}
        return {"cell_size": self.size, "hex_w": 1.5 * self.size, "hex_h": 2 * _H * self.size}

    @property
    def cell_area(self) -> float:
        return (1.5 * 2 * _H if self.shape == "hexagon" else 1.0) * self.size**2

    @property
    def generator(self) -> str:
        return "ST_HexagonGrid" if self.shape == "hexagon" else "ST_SquareGrid"

    @property
    def single(self) -> str:
        return "ST_Hexagon" if self.shape == "hexagon" else "ST_Square"


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents an analysis counts (all optional): lon/lat bbox, or a box of whole cells in the
    analysis CRS (``box``, half-open ``[x0, x1) x [y0, y1)`` so a point on an edge belongs to one cell, as in
    :func:`cells_of_points_sql`), period, categories, sources."""

    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    harm_categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    box: tuple[float, float, float, float] | None = None
    box_srid: int = 27700

    def where(self, alias: str = "inc") -> tuple[str, dict[str, Any]]:
        clauses = [f"{alias}.organisation_id = {ORG}"]
        params: dict[str, Any] = {}
        if self.bbox is not None:
            clauses.append(f"{alias}.geom && ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326)")
            params.update(zip(("bx0", "by0", "bx1", "by1"), self.bbox, strict=True))
        if self.box is not None:
            clauses.append(f"{alias}.geom_metric && ST_MakeEnvelope(:mx0, :my0, :mx1, :my1, {int(self.box_srid)}) "
                           f"AND ST_X({alias}.geom_metric) < :mx1 AND ST_Y({alias}.geom_metric) < :my1")
            params.update(zip(("mx0", "my0", "mx1", "my1"), self.box, strict=True))
        if self.start is not None:
            clauses.append(f"{alias}.occurred_from >= :t_start")
            params["t_start"] = self.start
        if self.end is not None:
            clauses.append(f"{alias}.occurred_from < :t_end")
            params["t_end"] = self.end
        if self.harm_categories:
            clauses.append(f"{alias}.harm_category = ANY(:harm_categories)")
            params["harm_categories"] = list(self.harm_categories)
        if self.sources:
            clauses.append(f"{alias}.source = ANY(:sources)")
            params["sources"] = list(self.sources)
        return " AND ".join(clauses), params


def half_open(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """The one reading of a ``datetime=`` interval: ``[start, end)``; an instant ``t`` (``start == end``) is
    ``[t, t + 1 µs)`` — the records at ``t``; a bare date arrives as that day (``app.query.parse_interval``)."""
    if start is not None and end is not None and start == end:
        return start, start + timedelta(microseconds=1)
    return start, end


def record_time_sql(start_sql: str, end_sql: str, start: datetime | None, end: datetime | None, *,
                    open_end_is_instant: bool = True) -> tuple[list[str], dict[str, Any]]:
    """The one time rule for lists, tiles and per-place counts: the record's window ``[start_sql, end_sql)``
    overlaps ``[start, end)`` (:func:`half_open`). A record without an end is the instant ``start_sql`` when
    ``open_end_is_instant`` (incidents), else ongoing (designations); a record whose end equals its start
    is that instant. A police.uk record (window: its whole month) is in every interval overlapping its
    month and in none after it. Binds ``:t_start`` and ``:t_end``."""
    start, end = half_open(start, end)
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if end is not None:
        clauses.append(f"{start_sql} < :t_end")
        params["t_end"] = end
    if start is not None:
        open_end = f"{start_sql} >= :t_start" if open_end_is_instant else "true"
        clauses.append(f"(CASE WHEN {end_sql} IS NULL THEN {open_end} WHEN {end_sql} = {start_sql} "
                       f"THEN {start_sql} >= :t_start ELSE {end_sql} > :t_start END)")
        params["t_start"] = start
    return clauses, params


def cells_of_points_sql(shape: CellShape, points_sql: str, carry: Sequence[str] = ()) -> str:
    """``SELECT cell_key, <carry>`` for every row of ``points_sql`` (columns ``x``, ``y`` in the grid's CRS).

    ``cell_key`` packs the containing cell into one bigint (decode with :func:`decode_cell_keys`); the
    analysis groups by it, and one integer key hashes faster than two. Binds ``:hex_w`` (column
    spacing, ``1.5 size`` for hexagons, ``size`` for squares) and ``:hex_h`` (row spacing,
    ``sqrt(3) size`` or ``size``) — see :attr:`Grid.params`.

    Squares: ``(i, j) = (floor(x / size), floor(y / size))``. Hexagons are the Voronoi cells of their
    centres, so the containing hexagon is the one with the nearest centre. In units ``u = x / (1.5 size)``,
    ``v = y / (sqrt(3) size)`` a point can only lie in column ``a = floor(u)`` or ``a + 1`` (a column spans
    its centre ± size). Even columns have centres on whole rows, odd ones on half rows; with
    ``r = floor(v)``, ``fv = v - r`` and ``e = [fv >= 1/2]`` the nearest even-column row is ``r + e``
    (offset ``fv - e``) and the nearest odd-column row is ``r`` (offset ``fv - 1/2``). Cancelling the
    common terms of the two squared distances, the left candidate is nearer iff
    ``0.75 (2 f - 1) <= ±((fv - 1/2)^2 - (fv - e)^2)`` with ``f = u - a``, ``+`` when ``a`` is even and
    0.75 = (1.5 / sqrt 3)^2. The key stores ``a``, ``r``, ``e`` and that choice; all of it is float8
    arithmetic (exact: the key stays below 2^53). ``tests/db/test_grid_sql.py`` checks it against
    ``ST_HexagonGrid`` itself.
    """
    more = "".join(f", {name}" for name in carry)
    # generate_series(1, 1) in the select list keeps the planner from inlining ST_X/ST_Y into every use of
    # u and v below (a subquery with a set-returning function is not flattened) while, unlike OFFSET 0,
    # still letting parallel workers scan and pre-aggregate.
    points = f"SELECT x / :hex_w AS u, y / :hex_h AS v{more}, generate_series(1, 1) FROM ({points_sql}) AS pts_in"
    if shape == "square":
        return (f"SELECT ((floor(u) * {_SHIFT} + floor(v)) * 4 + 1)::bigint AS cell_key{more} "
                f"FROM ({points}) AS p")
    return f"""
        SELECT ((a * {_SHIFT} + r) * 4 + e * 2
                + (0.75 * (2 * f - 1) <= (1 - 2 * (a - 2 * floor(a / 2)))
                                         * ((fv - 0.5) * (fv - 0.5) - (fv - e) * (fv - e)))::int)::bigint
               AS cell_key{more}
        FROM (SELECT a, f, r, fv, (fv >= 0.5)::int AS e{more}
              FROM (SELECT floor(u) AS a, u - floor(u) AS f, floor(v) AS r, v - floor(v) AS fv{more}
                    FROM ({points}) AS p) AS q1) AS q2"""


_SHIFT = 1 << 24


def decode_cell_keys(keys: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """``(i, j)`` of the cells packed by :func:`cells_of_points_sql` (vectorised).

    ``key = (a * 2^24 + r) * 4 + 2 e + first``: ``first`` says the left column ``a`` was nearer, so
    ``i = a + 1 - first``; the row is ``r + e`` in even columns and ``r`` in odd ones. Squares are stored
    with ``e = 0, first = 1``, so the same rule gives ``(a, r)``.

    Examples
    --------
    >>> i, j = decode_cell_keys([(3 * 2**24 - 2) * 4 + 1, (-1 * 2**24 + 5) * 4 + 2])
    >>> i.tolist(), j.tolist()
    ([3, 0], [-2, 6])
    """
    k = np.asarray(keys, dtype=np.int64).ravel()
    first = k & 1
    even_offset = (k >> 1) & 1
    base = k >> 2
    a = (base + (_SHIFT >> 1)) >> 24
    row = base - a * _SHIFT
    i = a + 1 - first
    j = row + np.where(i % 2 == 0, even_offset, 0)
    return i.astype(np.int64), j.astype(np.int64)


def _incident_points(filt: IncidentFilter, carry: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    where, params = filt.where("inc")
    extra = "".join(f", {expr} AS {name}" for name, expr in (carry or {}).items())
    return (f"SELECT ST_X(inc.geom_metric) AS x, ST_Y(inc.geom_metric) AS y{extra} "
            f"FROM incidents inc WHERE {where}"), params


@dataclass(frozen=True)
class CellCounts:
    """Counts per non-empty cell, sorted by ``(i, j)``."""

    i: IntArray
    j: IntArray
    count: IntArray

    @property
    def total(self) -> int:
        return int(self.count.sum())


def _cells_and_sums(keys: npt.ArrayLike, *values: npt.ArrayLike) -> tuple[IntArray, IntArray, list[IntArray]]:
    """Decode cell keys and add up ``values`` per distinct ``(i, j)`` (several keys can name one cell)."""
    i, j = decode_cell_keys(keys)
    if i.size == 0:
        return i, j, [np.empty(0, dtype=np.int64) for _ in values]
    cells, inverse = np.unique(np.column_stack([i, j]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    sums = [np.bincount(inverse, weights=np.asarray(v, dtype=np.float64), minlength=len(cells)).astype(np.int64)
            for v in values]
    return cells[:, 0].astype(np.int64), cells[:, 1].astype(np.int64), sums


def _aggregate_window(session: Session, grid: Grid, filt: IncidentFilter) -> aggregates.Window | None:
    if not READ_AGGREGATE or (filt.box is not None and filt.box_srid != grid.srid):
        return None
    if not aggregates.maintained(session):  # on Citus the aggregate is not kept (app.db.citus): count incidents
        return None
    return aggregates.window(grid.shape, grid.size, filt.bbox, filt.box, filt.start, filt.end,
                             filt.harm_categories, filt.sources)


def grid_counts(session: Session, grid: Grid, filt: IncidentFilter) -> CellCounts:
    """Incidents per non-empty cell: from the monthly cell-count aggregate when the request is on the
    published grid and whole months, else aggregated in PostGIS by cell-index arithmetic (the fast path)."""
    win = _aggregate_window(session, grid, filt)
    if win is not None:
        ci, cj, cn = aggregates.cell_counts(session, win)
        return CellCounts(np.asarray(ci, dtype=np.int64), np.asarray(cj, dtype=np.int64),
                          np.asarray(cn, dtype=np.int64))
    _tune_for_aggregation(session)
    points, params = _incident_points(filt)
    sql = f"SELECT cell_key, count(*) FROM ({cells_of_points_sql(grid.shape, points)}) AS c GROUP BY cell_key"
    rows = session.execute(text(sql), {**params, **grid.params}).all()
    keys = [r[0] for r in rows]
    i, j, (count,) = _cells_and_sums(keys, [r[1] for r in rows])
    return CellCounts(i, j, count)


def _tune_for_aggregation(session: Session) -> None:
    # Scans of a year of incidents are cheap per row: JIT compilation costs more than it saves (~70 ms).
    # psycopg prepares a statement after five runs, and PostgreSQL may then switch to a generic plan that
    # cannot see the period's selectivity; these aggregations always want the plan for their actual
    # parameters. SET LOCAL ends with the transaction. Memory is not raised here: every service-role
    # connection starts with ``work_mem`` = the ``work_mem_mb`` setting (app.db.session), which is enough
    # to keep the hash aggregate in RAM at the default 32 MB and is the ceiling an operator sets — an
    # aggregation that raised it itself would step over a lower ceiling.
    session.execute(text("SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan"))


def grid_counts_spatial_join(session: Session, grid: Grid, filt: IncidentFilter, study_wkb: bytes) -> CellCounts:
    """The textbook way, kept for the benchmark: build the cells over the study area, join by geometry.

    A point on a shared edge is counted in both cells; the fast path gives it to exactly one.
    """
    where, params = filt.where("inc")
    sql = f"""
        SELECT g.i, g.j, count(*) AS n
        FROM {grid.generator}(:cell_size, ST_GeomFromWKB(:study, {grid.srid})) AS g
        JOIN incidents inc ON ST_Intersects(g.geom, inc.geom_metric)
        WHERE {where}
        GROUP BY g.i, g.j"""
    _tune_for_aggregation(session)
    rows = session.execute(text(sql), {**params, **grid.params, "study": study_wkb}).all()
    order = sorted((int(r[0]), int(r[1]), int(r[2])) for r in rows)
    array = np.asarray(order, dtype=np.int64).reshape(-1, 3)
    return CellCounts(array[:, 0], array[:, 1], array[:, 2])


@dataclass(frozen=True)
class StudyArea:
    """Where zero-count cells are filled in: ``source`` says which definition applied."""

    wkb: bytes | None  # in the analysis CRS; None when there is nothing to study
    area_m2: float
    source: Literal["service_area", "service_area_and_bbox", "bbox", "data_extent", "none"]


def study_area(
    session: Session, srid: int, bbox: tuple[float, float, float, float] | None,
    data_envelope: tuple[float, float, float, float] | None,
    metric_box: tuple[float, float, float, float] | None = None,
) -> StudyArea:
    """The organisation's service area (clipped to ``bbox``), else the bbox, else the data's envelope.

    ``metric_box`` (whole cells, analysis CRS) replaces ``bbox``; it is shrunk by a millimetre so the cells
    that only touch its edges are not taken for cells inside it.
    """
    box = (f"ST_Transform(ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326), {srid})" if bbox is not None
           else "CAST(NULL AS geometry)")
    if metric_box is not None:
        box = f"ST_MakeEnvelope(:bx0 + 0.001, :by0 + 0.001, :bx1 - 0.001, :by1 - 0.001, {srid})"
        bbox = metric_box
    envelope = (f"ST_MakeEnvelope(:ex0, :ey0, :ex1, :ey1, {srid})" if data_envelope is not None
                else "CAST(NULL AS geometry)")
    params: dict[str, Any] = {}
    if bbox is not None:
        params.update(zip(("bx0", "by0", "bx1", "by1"), bbox, strict=True))
    if data_envelope is not None:
        params.update(zip(("ex0", "ey0", "ex1", "ey1"), data_envelope, strict=True))
    sql = f"""
        WITH sa AS (SELECT (SELECT ST_Transform(service_area, {srid}) FROM organisations
                            WHERE id = {ORG} AND service_area IS NOT NULL) AS g),
             chosen AS (
                SELECT CASE WHEN sa.g IS NOT NULL AND b.g IS NOT NULL THEN 'service_area_and_bbox'
                            WHEN sa.g IS NOT NULL THEN 'service_area'
                            WHEN b.g IS NOT NULL THEN 'bbox'
                            WHEN e.g IS NOT NULL THEN 'data_extent' ELSE 'none' END AS source,
                       CASE WHEN sa.g IS NOT NULL AND b.g IS NOT NULL THEN ST_Intersection(sa.g, b.g)
                            ELSE COALESCE(sa.g, b.g, e.g) END AS g
                FROM sa, (SELECT {box} AS g) AS b, (SELECT {envelope} AS g) AS e)
        SELECT source, ST_AsBinary(g), COALESCE(ST_Area(g), 0) FROM chosen"""
    row = session.execute(text(sql), params).one()
    if row[1] is None:
        return StudyArea(None, 0.0, "none")
    return StudyArea(bytes(row[1]), float(row[2]), row[0])


def study_cells(session: Session, grid: Grid, study_wkb: bytes) -> list[tuple[int, int, str]]:
    """Every cell of the study area (empty ones too), with its GeoJSON in EPSG:4326."""
    sql = f"""
        SELECT g.i, g.j, ST_AsGeoJSON(ST_Transform(g.geom, 4326), 6)
        FROM (SELECT ST_GeomFromWKB(:study, {grid.srid}) AS s) AS area,
             LATERAL {grid.generator}(:cell_size, area.s) AS g
        WHERE ST_Intersects(g.geom, area.s)"""
    rows = session.execute(text(sql), {"study": study_wkb, **grid.params}).all()
    return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


def cell_geometries(
    session: Session, grid: Grid, i: Sequence[int], j: Sequence[int], within_wkb: bytes | None = None,
) -> list[tuple[int, int, str]]:
    """GeoJSON (EPSG:4326) of the given cells, built by PostGIS; ``within_wkb`` keeps only those
    touching that area."""
    keep = f"WHERE ST_Intersects(c.geom, ST_GeomFromWKB(:within, {grid.srid}))" if within_wkb else ""
    sql = f"""
        SELECT c.i, c.j, ST_AsGeoJSON(ST_Transform(c.geom, 4326), 6)
        FROM (SELECT u.i, u.j, {grid.single}(:cell_size, u.i, u.j, ST_SetSRID(ST_MakePoint(0, 0), {grid.srid}))
                     AS geom
              FROM unnest(CAST(:ci AS int[]), CAST(:cj AS int[])) AS u(i, j)) AS c
        {keep}"""
    params: dict[str, Any] = {"ci": [int(v) for v in i], "cj": [int(v) for v in j], **grid.params}
    if within_wkb:
        params["within"] = within_wkb
    return [(int(r[0]), int(r[1]), str(r[2])) for r in session.execute(text(sql), params).all()]


@dataclass(frozen=True)
class StepCounts:
    """One row per (step, cell key): a cell may appear in several rows of one step; add them up."""

    step: IntArray  # index into the step starts passed to :func:`step_counts`
    i: IntArray
    j: IntArray
    count: IntArray


def step_counts(session: Session, grid: Grid, filt: IncidentFilter, step_starts: Sequence[datetime]) -> StepCounts:
    """Incidents per (time step, cell) in one GROUP BY.

    ``step_starts`` are the instants each step begins (e.g. local month starts), oldest first; the filter's
    end closes the last step. ``width_bucket`` finds each incident's step by binary search in that array,
    several times cheaper per row than ``date_trunc`` on a Europe/London local time. Step and cell share one
    bigint group key (cell key * 512 + step).

    Steps that are consecutive Europe/London months on the published grid are read from the monthly
    cell-count aggregate instead (the same answer; see :mod:`app.db.aggregates`).
    """
    win = _aggregate_window(session, grid, filt)
    first = aggregates.consecutive_months(step_starts) if win is not None else None
    if win is not None and first is not None:
        # As width_bucket does: incidents before the first step are in no step, and everything from the
        # last step start to the filter's end falls into the last step.
        lo = first if win.first is None or win.first < first else win.first
        by_month = aggregates.month_cell_counts(session, replace(win, first=lo))
        steps = np.minimum(by_month[:, 0] - aggregates.month_index(first), len(step_starts) - 1)
        return StepCounts(steps, by_month[:, 1], by_month[:, 2], by_month[:, 3])
    _tune_for_aggregation(session)
    points, params = _incident_points(
        filt, {"step": "width_bucket(inc.occurred_from, CAST(:step_starts AS timestamptz[]))"})
    # Several keys can name one cell (see decode_cell_keys); decoding them in SQL and adding up per
    # (step, i, j) sends a quarter of the rows back (measured: 113,000 -> 30,000 for a year by month).
    sql = f"""
        SELECT step, i, j, sum(n) FROM (
            SELECT step, a + 1 - first AS i, r + CASE WHEN (a + 1 - first) % 2 = 0 THEN e ELSE 0 END AS j, n
            FROM (SELECT step, n, key & 1 AS first, (key >> 1) & 1 AS e,
                         ((key >> 2) + {_SHIFT >> 1}) >> 24 AS a,
                         (key >> 2) - (((key >> 2) + {_SHIFT >> 1}) >> 24) * {_SHIFT} AS r
                  FROM (SELECT cell_key AS key, step, count(*) AS n
                        FROM ({cells_of_points_sql(grid.shape, points, ['step'])}) AS c
                        WHERE step > 0 GROUP BY cell_key, step) AS keyed) AS parts) AS cells
        GROUP BY step, i, j"""
    rows = session.execute(text(sql), {**params, **grid.params, "step_starts": list(step_starts)}).all()
    array = np.asarray([tuple(r) for r in rows], dtype=np.int64).reshape(-1, 4)
    return StepCounts(array[:, 0] - 1, array[:, 1], array[:, 2], array[:, 3])


def snapped_points(session: Session, filt: IncidentFilter, resolution: float) -> npt.NDArray[np.float64]:
    """Incident locations snapped to ``resolution`` metres with their multiplicity: rows ``(x, y, n)``.

    Kernel density needs locations, not records; snapping in PostGIS brings back at most one row per
    raster cell instead of one per incident.
    """
    points, params = _incident_points(filt)
    sql = f"""
        SELECT (floor(x / :res) + 0.5) * :res, (floor(y / :res) + 0.5) * :res, count(*)
        FROM ({points}) AS p GROUP BY floor(x / :res), floor(y / :res)"""
    rows = session.execute(text(sql), {**params, "res": resolution}).all()
    return np.asarray([tuple(r) for r in rows], dtype=np.float64).reshape(-1, 3)


# ---- interventions, places and displacement --------------------------------------------------------------
@dataclass(frozen=True)
class InterventionSite:
    id: int
    kind: str
    description: str | None
    owning_partner: str
    starts_on: Any
    ends_on: Any
    place_id: int | None
    place_name: str | None
    polygonal: bool  # the site is an area (its own polygon or an area place), not a point


def intervention_site(session: Session, intervention_id: int) -> InterventionSite:
    row = session.execute(
        text(f"""
            SELECT v.id, v.kind, v.description, v.owning_partner, v.starts_on, v.ends_on, v.place_id,
                   p.name AS place_name, ST_Dimension(COALESCE(v.geom, p.geom)) = 2 AS polygonal
            FROM interventions v LEFT JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id
            WHERE v.organisation_id = {ORG} AND v.id = :id AND COALESCE(v.geom, p.geom) IS NOT NULL"""),
        {"id": intervention_id},
    ).mappings().first()
    if row is None:
        raise NotFound(f"no intervention with id {intervention_id} in your organisation", field="intervention")
    return InterventionSite(**dict(row))


def interventions_at_place(session: Session, place_id: int) -> list[InterventionSite]:
    rows = session.execute(
        text(f"""
            SELECT v.id, v.kind, v.description, v.owning_partner, v.starts_on, v.ends_on, v.place_id,
                   p.name AS place_name, ST_Dimension(p.geom) = 2 AS polygonal
            FROM interventions v JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id
            WHERE v.organisation_id = {ORG} AND v.place_id = :place ORDER BY v.starts_on, v.id"""),
        {"place": place_id},
    ).mappings().all()
    return [InterventionSite(**dict(r)) for r in rows]


@dataclass(frozen=True)
class PlaceRow:
    id: int
    name: str
    kind: str
    polygonal: bool


def place_row(session: Session, place_id: int) -> PlaceRow:
    row = session.execute(
        text("SELECT id, name, kind, ST_Dimension(geom) = 2 AS polygonal FROM places "
             f"WHERE organisation_id = {ORG} AND id = :id"),
        {"id": place_id},
    ).mappings().first()
    if row is None:
        raise NotFound(f"no place with id {place_id} in your organisation", field="place_id")
    return PlaceRow(**dict(row))


@dataclass(frozen=True)
class AreaSpec:
    """How to draw an area around a site: the site itself when it is an area, else a disc."""

    radius_m: float
    use_own_polygon: bool


@dataclass(frozen=True)
class DisplacementAreas:
    """The four areas in the analysis CRS as WKB (``control_buffer`` may be None) and as GeoJSON."""

    wkb: dict[str, bytes]
    geojson: dict[str, dict[str, Any]]
    area_m2: dict[str, float]
    control_source: str


def _site_area_sql(site_sql: str, spec: AreaSpec, srid: int, prefix: str) -> tuple[str, dict[str, Any]]:
    own = "ST_Dimension(s.g) = 2" if spec.use_own_polygon else "false"
    sql = (f"(SELECT CASE WHEN {own} THEN ST_Transform(s.g, {srid}) "
           f"ELSE ST_Buffer(ST_Transform(s.g, {srid}), :{prefix}_radius, 32) END FROM ({site_sql}) AS s)")
    return sql, {f"{prefix}_radius": spec.radius_m}


# The intervention's site (its own point or outline, else its place's), in the current organisation: the
# target of the displacement areas and of the control-in-buffer check.
INTERVENTION_SITE_SQL = ("SELECT COALESCE(v.geom, p.geom) AS g FROM interventions v "
                         "LEFT JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id "
                         f"WHERE v.organisation_id = {ORG} AND v.id = :intervention")


def place_in_buffer(session: Session, srid: int, intervention_id: int, target: AreaSpec, buffer_m: float,
                    place_id: int) -> bool:
    """Whether a place lies inside the intervention's target area or its buffer (the area
    :func:`displacement_areas` takes out of every control): a point on the place's surface is covered."""
    target_sql, params = _site_area_sql(INTERVENTION_SITE_SQL, target, srid, "target")
    # Both sides name the organisation: on Citus the join then routes to one shard (issue 19).
    return bool(session.execute(text(
        f"""SELECT ST_Covers(ST_Buffer({target_sql}, :buffer_m, 32),
                             ST_Transform(ST_PointOnSurface(p.geom), {srid}))
            FROM places p WHERE p.organisation_id = {ORG} AND p.id = :place"""),
        {**params, "intervention": intervention_id, "buffer_m": buffer_m, "place": place_id}).scalar())


def displacement_areas(
    session: Session, srid: int, intervention_id: int, target: AreaSpec, buffer_m: float,
    control_geojson: Mapping[str, Any] | None, control_place_id: int | None, control: AreaSpec,
) -> DisplacementAreas:
    """Target, buffer ring, control and (when the control is a chosen area) the ring around the control.

    The default control is the service area outside the target and its buffer; there is no ring around
    "the rest of the service area", so the weighted displacement difference needs a chosen control.
    """
    target_sql, params = _site_area_sql(INTERVENTION_SITE_SQL, target, srid, "target")
    params.update(intervention=intervention_id, buffer_m=buffer_m)
    if control_geojson is not None:
        control_sql = f"ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:control_geojson), 4326), {srid})"
        params["control_geojson"] = json.dumps(control_geojson)
        source = "given area"
    elif control_place_id is not None:
        place_site = f"SELECT p.geom AS g FROM places p WHERE p.organisation_id = {ORG} AND p.id = :control_place"
        control_sql, more = _site_area_sql(place_site, control, srid, "control")
        params.update(more, control_place=control_place_id)
        source = "control place"
    else:
        control_sql = f"""COALESCE(
            (SELECT ST_Transform(service_area, {srid}) FROM organisations WHERE id = {ORG}),
            (SELECT ST_SetSRID(ST_Extent(geom_metric)::geometry, {srid}) FROM incidents
             WHERE organisation_id = {ORG}))"""
        source = "service area"
    chosen = control_geojson is not None or control_place_id is not None
    control_buffer = ("ST_Difference(ST_Buffer(c.g, :buffer_m, 32), ST_Union(c.g, o.g))" if chosen
                      else "CAST(NULL AS geometry)")
    sql = f"""
        WITH t AS (SELECT {target_sql} AS g),
             o AS (SELECT ST_Buffer(t.g, :buffer_m, 32) AS g FROM t),
             c0 AS (SELECT {control_sql} AS g),
             c AS (SELECT ST_Difference(c0.g, o.g) AS g FROM c0, o),
             areas AS (
                SELECT t.g AS target, ST_Difference(o.g, t.g) AS buffer, c.g AS control,
                       {control_buffer} AS control_buffer
                FROM t, o, c)
        SELECT name, ST_AsBinary(g), ST_AsGeoJSON(ST_Transform(g, 4326), 6), ST_Area(g)
        FROM areas, LATERAL (VALUES ('target', target), ('buffer', buffer), ('control', control),
                                    ('control_buffer', control_buffer)) AS v(name, g)
        WHERE g IS NOT NULL"""
    rows = session.execute(text(sql), params).all()
    return DisplacementAreas(
        wkb={r[0]: bytes(r[1]) for r in rows},
        geojson={r[0]: json.loads(r[2]) for r in rows},
        area_m2={r[0]: float(r[3]) for r in rows},
        control_source=source,
    )


@dataclass(frozen=True)
class Windows:
    before: tuple[datetime, datetime]
    after: tuple[datetime, datetime]

    def params(self) -> dict[str, datetime]:
        return {"b0": self.before[0], "b1": self.before[1], "a0": self.after[0], "a1": self.after[1]}


_PERIOD = ("CASE WHEN inc.occurred_from >= :b0 AND inc.occurred_from < :b1 THEN 'before' "
           "WHEN inc.occurred_from >= :a0 AND inc.occurred_from < :a1 THEN 'after' END")
_IN_WINDOWS = ("((inc.occurred_from >= :b0 AND inc.occurred_from < :b1) OR "
               "(inc.occurred_from >= :a0 AND inc.occurred_from < :a1))")


@dataclass(frozen=True)
class LocalCounts:
    """Everything displacement needs near the intervention, from one pass over the windows' incidents."""

    areas: dict[str, tuple[int, int]]  # target, buffer: (before, after)
    places: list[dict[str, Any]]  # nearby places: id, name, kind, distance, before, after
    cell_i: IntArray
    cell_j: IntArray
    cell_before: IntArray
    cell_after: IntArray


def displacement_local_counts(
    session: Session, grid: Grid, intervention_id: int, areas: DisplacementAreas, windows: Windows,
    filt: IncidentFilter, search_distance: float, place_radius: float,
) -> LocalCounts:
    """Target and buffer counts, the places within ``search_distance`` of the site (not its own place)
    with incidents within ``place_radius`` of each (or linked to it), and the cells of incidents within
    ``search_distance`` — all before/after, from one scan.

    The incidents near the site are read once (bounding-box filter) into a small materialised set that the
    three aggregations share. Under row-level security PostgreSQL will not use the GiST index for a
    PostGIS predicate (PostGIS operators are not LEAKPROOF), so every spatial query is a scan of the
    period's incidents: doing it once instead of once per place and per aggregation is what keeps this fast.
    """
    _tune_for_aggregation(session)
    srid = grid.srid
    where, params = filt.where("inc")
    cells = cells_of_points_sql(grid.shape, "SELECT ST_X(l.g) AS x, ST_Y(l.g) AS y, l.period FROM local l, site "
                                            "WHERE ST_DWithin(l.g, site.g, :distance)", ["period"])
    sql = f"""
        WITH a AS (SELECT ST_GeomFromWKB(:target, {srid}) AS target, ST_GeomFromWKB(:buffer, {srid}) AS buffer),
        site AS (
            SELECT ST_Transform(COALESCE(v.geom, p.geom), {srid}) AS g, v.place_id
            FROM interventions v LEFT JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id
             WHERE v.organisation_id = {ORG} AND v.id = :intervention),
        near AS (
            SELECT pl.id, pl.name, pl.kind, pl.geom_metric, ST_Distance(pl.geom_metric, site.g) AS distance,
                   ST_Expand(pl.geom_metric, :radius) AS radius_box
            FROM places pl, site
            WHERE pl.organisation_id = {ORG} AND pl.id IS DISTINCT FROM site.place_id
              AND pl.geom_metric && (SELECT ST_Expand(g, :distance) FROM site)
              AND ST_DWithin(pl.geom_metric, site.g, :distance)),
        reach AS MATERIALIZED (
            SELECT ST_Envelope(ST_Collect(ARRAY[a.target, a.buffer, ST_Expand(site.g, :distance)]
                                          || ARRAY(SELECT ST_Expand(near.geom_metric, :radius) FROM near))) AS b
            FROM a, site),
        local AS MATERIALIZED (
            SELECT * FROM (
                SELECT inc.id, inc.place_id, inc.geom_metric AS g, {_PERIOD} AS period
                FROM incidents inc
                WHERE {where} AND inc.occurred_from >= :first AND inc.occurred_from < :last
                  -- a scalar subquery: the box is built once, not once per incident
                  AND inc.geom_metric && (SELECT b FROM reach)) AS near_site
            WHERE period IS NOT NULL),
        area_counts AS (
            SELECT count(*) FILTER (WHERE period = 'before' AND ST_Intersects(a.target, l.g)) AS target_before,
                   count(*) FILTER (WHERE period = 'after' AND ST_Intersects(a.target, l.g)) AS target_after,
                   count(*) FILTER (WHERE period = 'before' AND ST_Intersects(a.buffer, l.g)) AS buffer_before,
                   count(*) FILTER (WHERE period = 'after' AND ST_Intersects(a.buffer, l.g)) AS buffer_after
            FROM local l, a),
        -- "At a place" is within the radius OR linked to it. Joined with an OR, that was a nested loop over
        -- places x incidents (11 s at 308,000 incidents, minutes with a 10 km search). Counted in two
        -- disjoint parts instead: incidents within the radius, found by probing the incidents' GiST index
        -- once per place (``&&`` is the leakproof test that may use it under RLS, see migration 0004; the
        -- box is a column of ``near`` because any function call in the condition would count as leaky),
        -- plus incidents linked to the place but outside its radius (an equality join). No pair list is
        -- built or de-duplicated.
        linked_beyond AS (
            SELECT l.place_id, count(*) FILTER (WHERE l.period = 'before') AS before,
                   count(*) FILTER (WHERE l.period = 'after') AS after
            FROM local l JOIN near ON near.id = l.place_id
            WHERE NOT ST_DWithin(l.g, near.geom_metric, :radius)
            GROUP BY l.place_id),
        place_counts AS (
            SELECT near.id, near.name, near.kind, near.distance,
                   r.before + COALESCE(k.before, 0) AS before, r.after + COALESCE(k.after, 0) AS after
            FROM near
            CROSS JOIN LATERAL (
                SELECT count(*) FILTER (WHERE period = 'before') AS before,
                       count(*) FILTER (WHERE period = 'after') AS after
                FROM (SELECT {_PERIOD} AS period FROM incidents inc
                      WHERE inc.geom_metric && near.radius_box
                        AND ST_DWithin(inc.geom_metric, near.geom_metric, :radius)
                        AND {where} AND inc.occurred_from >= :first AND inc.occurred_from < :last) AS within
            ) AS r
            LEFT JOIN linked_beyond k ON k.place_id = near.id),
        cell_counts AS (
            SELECT cell_key, count(*) FILTER (WHERE period = 'before') AS before,
                   count(*) FILTER (WHERE period = 'after') AS after
            FROM ({cells}) AS c GROUP BY cell_key)
        SELECT (SELECT row_to_json(area_counts) FROM area_counts),
               (SELECT COALESCE(json_agg(place_counts ORDER BY distance, id), '[]') FROM place_counts),
               (SELECT COALESCE(json_agg(json_build_array(cell_key, before, after)), '[]') FROM cell_counts)"""
    # One time range covering both windows (an OR of two ranges cannot use the time index).
    params.update(windows.params(), **grid.params, intervention=intervention_id, distance=search_distance,
                  radius=place_radius, target=areas.wkb["target"], buffer=areas.wkb["buffer"],
                  first=min(windows.before[0], windows.after[0]), last=max(windows.before[1], windows.after[1]))
    area_row, place_rows, cell_rows = session.execute(text(sql), params).one()
    keys = [int(r[0]) for r in cell_rows]
    i, j, (before, after) = _cells_and_sums(keys, [r[1] for r in cell_rows], [r[2] for r in cell_rows])
    return LocalCounts(
        areas={n: (int(area_row[f"{n}_before"]), int(area_row[f"{n}_after"])) for n in ("target", "buffer")},
        places=list(place_rows), cell_i=i, cell_j=j, cell_before=before, cell_after=after,
    )


def window_totals(session: Session, windows: Windows, filt: IncidentFilter) -> tuple[int, int]:
    """All the organisation's matching incidents in each window.

    One range per window (not an OR of two) keeps each an index-only scan of (organisation, time) when no
    category or source filter applies.
    """
    _tune_for_aggregation(session)
    where, params = filt.where("inc")
    row = session.execute(
        text(f"SELECT (SELECT count(*) FROM incidents inc WHERE {where} AND inc.occurred_from >= :b0 "
             f"AND inc.occurred_from < :b1), (SELECT count(*) FROM incidents inc WHERE {where} "
             "AND inc.occurred_from >= :a0 AND inc.occurred_from < :a1)"),
        {**params, **windows.params()},
    ).one()
    return int(row[0]), int(row[1])


def area_counts(
    session: Session, srid: int, areas: DisplacementAreas, names: Sequence[str], windows: Windows,
    filt: IncidentFilter,
) -> dict[str, tuple[int, int]]:
    """(before, after) counts in the named (disjoint) areas, one pass with FILTER clauses."""
    _tune_for_aggregation(session)
    where, params = filt.where("inc")
    geoms = ", ".join(f"ST_GeomFromWKB(:{n}, {srid}) AS {n}" for n in names)
    which = " ".join(f"WHEN ST_Intersects(a.{n}, inc.geom_metric) THEN '{n}'" for n in names)
    envelope = "(SELECT ST_Envelope(ST_Collect(ARRAY[" + ", ".join(f"a.{n}" for n in names) + "])) FROM a)"
    filters = ", ".join(f"count(*) FILTER (WHERE area = '{n}' AND period = '{p}') AS {n}_{p}"
                        for n in names for p in ("before", "after"))
    sql = f"""
        WITH a AS (SELECT {geoms})
        SELECT {filters} FROM (
            SELECT CASE {which} END AS area, {_PERIOD} AS period
            FROM incidents inc, a
            WHERE {where} AND {_IN_WINDOWS} AND inc.geom_metric && {envelope}
        ) AS x"""
    params.update(windows.params())
    params.update({n: areas.wkb[n] for n in names})
    row = session.execute(text(sql), params).mappings().one()
    return {n: (int(row[f"{n}_before"]), int(row[f"{n}_after"])) for n in names}


# Incidents "at a place": within the radius of its geometry, or explicitly linked to it. PostGIS marks
# ``&&`` LEAKPROOF but not ST_DWithin, and under row-level security only leakproof conditions may use an
# index; so the bounding-box test against a once-computed box (an InitPlan parameter) drives the GiST index,
# OR-ed with the place_id index, and ST_DWithin then checks the few candidates exactly.
_AT_PLACE = f"""(
    (inc.geom_metric && (SELECT ST_Expand(geom_metric, :radius) FROM places
                         WHERE organisation_id = {ORG} AND id = :place)
     AND ST_DWithin(inc.geom_metric, (SELECT geom_metric FROM places WHERE organisation_id = {ORG} AND id = :place),
                    :radius))
    OR inc.place_id = :place)"""


def place_counts_by_category(
    session: Session, place_id: int, radius_m: float, windows: Windows, filt: IncidentFilter,
) -> dict[str, tuple[int, int]]:
    """(before, after) counts per harm category at a place (within ``radius_m`` or linked to it)."""
    _tune_for_aggregation(session)
    where, params = filt.where("inc")
    sql = f"""
        SELECT inc.harm_category,
               count(*) FILTER (WHERE {_PERIOD} = 'before') AS before,
               count(*) FILTER (WHERE {_PERIOD} = 'after') AS after
        FROM incidents inc
        WHERE {where} AND {_IN_WINDOWS} AND {_AT_PLACE}
        GROUP BY inc.harm_category ORDER BY inc.harm_category"""
    params.update(windows.params(), place=place_id, radius=radius_m)
    return {r[0]: (int(r[1]), int(r[2])) for r in session.execute(text(sql), params).all()}


@dataclass(frozen=True)
class Timeline:
    months: list[tuple[str, int]]  # ("YYYY-MM", incidents) for every month, zeros included
    designations: list[dict[str, Any]] = field(default_factory=list)
    interventions: list[dict[str, Any]] = field(default_factory=list)
    guardians: list[dict[str, Any]] = field(default_factory=list)


def place_timeline(
    session: Session, place_id: int, radius_m: float, start: datetime | None, end: datetime | None,
) -> Timeline:
    """Monthly incidents at a place (every month from the first record to ``end``), and its history."""
    _tune_for_aggregation(session)
    months = session.execute(
        text(f"""
            WITH hits AS (
                SELECT date_trunc('month', inc.occurred_from AT TIME ZONE '{LOCAL_TIME_ZONE}') AS month
                FROM incidents inc
                WHERE inc.organisation_id = {ORG} AND {_AT_PLACE}
                  AND (CAST(:t0 AS timestamptz) IS NULL OR inc.occurred_from >= :t0)
                  AND (CAST(:t1 AS timestamptz) IS NULL OR inc.occurred_from < :t1)),
            span AS (
                SELECT COALESCE(date_trunc('month', CAST(:t0 AS timestamptz) AT TIME ZONE '{LOCAL_TIME_ZONE}'),
                                min(month)) AS first,
                       COALESCE(date_trunc('month', (CAST(:t1 AS timestamptz) - interval '1 microsecond')
                                                     AT TIME ZONE '{LOCAL_TIME_ZONE}'), max(month)) AS last
                FROM hits)
            SELECT to_char(m, 'YYYY-MM'), (SELECT count(*) FROM hits WHERE hits.month = m)
            FROM span, generate_series(span.first, span.last, interval '1 month') AS m
            ORDER BY m"""),
        {"place": place_id, "radius": radius_m, "t0": start, "t1": end},
    ).all()
    designations = session.execute(
        text("SELECT id, kind, level, valid_from, valid_to, reason, review_by, scheme FROM designations "
             f"WHERE organisation_id = {ORG} AND place_id = :place ORDER BY valid_from, id"), {"place": place_id},
    ).mappings().all()
    interventions = session.execute(
        text("SELECT id, kind, description, owning_partner, starts_on, ends_on FROM interventions "
             f"WHERE organisation_id = {ORG} AND place_id = :place ORDER BY starts_on, id"), {"place": place_id},
    ).mappings().all()
    guardians = session.execute(
        text("SELECT id, role, description, trainings, hours FROM guardians "
             f"WHERE organisation_id = {ORG} AND place_id = :place ORDER BY id"), {"place": place_id},
    ).mappings().all()
    return Timeline(
        months=[(str(r[0]), int(r[1])) for r in months],
        designations=[dict(r) for r in designations],
        interventions=[dict(r) for r in interventions],
        guardians=[dict(r) for r in guardians],
    )


def latest_incident(session: Session, filt: IncidentFilter) -> datetime | None:
    """When the most recent matching incident happened (the default end of a time series)."""
    where, params = filt.where("inc")
    return session.execute(text(f"SELECT max(inc.occurred_from) FROM incidents inc WHERE {where}"), params).scalar()


def metric_envelope(session: Session, bbox: tuple[float, float, float, float], srid: int
                    ) -> tuple[float, float, float, float]:
    """The analysis-CRS envelope of a lon/lat box (its edges densified: a lon/lat box is curved in BNG)."""
    row = session.execute(text(
        f"SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Transform(ST_Segmentize("
        f"ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326), 0.0005), {int(srid)})::box2d AS b) AS s"),
        dict(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))).one()
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


def whole_cells_of_area(session: Session, geojson: dict[str, Any], size: float, srid: int) -> dict[str, Any]:
    """A drawn area snapped outwards to the published grid: the union of the ``size`` squares it touches,
    as GeoJSON (EPSG:4326)."""
    row = session.execute(text(
        f"""WITH a AS (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326), {int(srid)}) AS g)
            SELECT ST_AsGeoJSON(ST_Transform(ST_Union(c.geom), 4326), 7)
            FROM a, LATERAL ST_SquareGrid(:size, a.g) AS c WHERE ST_Intersects(c.geom, a.g)"""),
        {"g": json.dumps(geojson), "size": size}).scalar()
    return dict(json.loads(row)) if row else geojson


def area_month_counts(
    session: Session, srid: int, areas: DisplacementAreas, names: Sequence[str], month_starts: Sequence[datetime],
    end: datetime, filt: IncidentFilter,
) -> dict[str, list[int]]:
    """Incidents per month in each named (disjoint) area: ``{name: [count per month]}``, zeros included.

    ``month_starts`` are the instants months begin (oldest first); ``end`` closes the last one. The month
    is found by ``width_bucket`` (binary search), as in :func:`step_counts`."""
    _tune_for_aggregation(session)
    where, params = filt.where("inc")
    geoms = ", ".join(f"ST_GeomFromWKB(:{n}, {srid}) AS {n}" for n in names)
    which = " ".join(f"WHEN ST_Intersects(a.{n}, inc.geom_metric) THEN '{n}'" for n in names)
    envelope = "(SELECT ST_Envelope(ST_Collect(ARRAY[" + ", ".join(f"a.{n}" for n in names) + "])) FROM a)"
    sql = f"""
        WITH a AS (SELECT {geoms})
        SELECT area, step, count(*) FROM (
            SELECT CASE {which} END AS area,
                   width_bucket(inc.occurred_from, CAST(:month_starts AS timestamptz[])) AS step
            FROM incidents inc, a
            WHERE {where} AND inc.occurred_from >= :m0 AND inc.occurred_from < :m_end
              AND inc.geom_metric && {envelope}
        ) AS x WHERE area IS NOT NULL GROUP BY area, step"""
    params.update({n: areas.wkb[n] for n in names})
    params.update(month_starts=list(month_starts), m0=month_starts[0], m_end=end)
    out = {n: [0] * len(month_starts) for n in names}
    for area, step, n in session.execute(text(sql), params).all():
        out[str(area)][int(step) - 1] = int(n)
    return out


def month_totals(session: Session, month_starts: Sequence[datetime], end: datetime, filt: IncidentFilter) -> list[int]:
    """All the organisation's matching incidents per month (the "rest of the service area" control is
    these minus the target and buffer, as in the displacement service)."""
    _tune_for_aggregation(session)
    where, params = filt.where("inc")
    sql = f"""
        SELECT width_bucket(inc.occurred_from, CAST(:month_starts AS timestamptz[])), count(*)
        FROM incidents inc WHERE {where} AND inc.occurred_from >= :m0 AND inc.occurred_from < :m_end GROUP BY 1"""
    params.update(month_starts=list(month_starts), m0=month_starts[0], m_end=end)
    out = [0] * len(month_starts)
    for step, n in session.execute(text(sql), params).all():
        out[int(step) - 1] = int(n)
    return out
