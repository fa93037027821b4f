"""SQL for OGC API – Features and vector tiles: which rows make each collection, and the hexagon cells.

Feature collections backed by a domain table reuse :mod:`app.db.repository` (one list implementation for
the JSON API, exports and OGC). Hotspot cells are aggregates computed here: every incident is assigned to
the 250 m hexagon of PostGIS's ``ST_HexagonGrid`` layout by the analysis code's index arithmetic
(:func:`app.db.analysis.grid_counts`), so a million incidents are grouped in one pass instead of being
joined against millions of generated cells, and the cells are exactly those of the hotspot maps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import repository
from app.db.analysis import Grid, IncidentFilter, grid_counts, record_time_sql
from app.db.repository import ListQuery, ResourceSpec
from app.db.resources import GUARDIANS, INCIDENTS, PLACES
from app.db.session import CURRENT_ORG_SQL

CELL_SIZE_M = 250.0

_CURRENT = "d.valid_from <= now() AND (d.valid_to IS NULL OR d.valid_to > now())"


def _has_current(kind: str) -> str:
    return f"EXISTS (SELECT 1 FROM designations d WHERE d.place_id = r.id AND d.kind = '{kind}' AND {_CURRENT})"


@dataclass(frozen=True)
class CollectionSource:
    """One OGC collection: a resource spec (with an optional extra filter) or the hexagon aggregate."""

    id: str
    title: str
    description: str
    spec: ResourceSpec | None
    extra_where: tuple[str, ...] = ()
    individual_incidents: bool = False  # never to the panel (role table)

    @property
    def is_cells(self) -> bool:
        return self.spec is None


COLLECTIONS: dict[str, CollectionSource] = {c.id: c for c in (
    CollectionSource("places-of-concern", "Places of concern",
                     "Places with a current concern designation (a safeguarding judgement, not an enforcement list).",
                     PLACES, (_has_current("concern"),)),
    CollectionSource("safe-spaces", "Safe spaces", "Places with a current safe-space designation.",
                     PLACES, (_has_current("safe_space"),)),
    CollectionSource("places", "Places", "Every context recorded: outlets, libraries, parks, stations, estates…",
                     PLACES),
    CollectionSource("guardians", "Guardians", "Guardian roles at places (roles, never named people).", GUARDIANS),
    CollectionSource("incidents", "Incidents", "Individual incident records (not available to panel members).",
                     INCIDENTS, individual_incidents=True),
    CollectionSource("hotspot-cells", "Hotspot cells",
                     f"Incident counts per {CELL_SIZE_M:.0f} m hexagon; for panel members disclosure-controlled "
                     "on the published grid (250 m squares, whole months, whole cells).",
                     None),
)}


def indexed_bbox(query: ListQuery) -> ListQuery:
    """``query`` with an explicit ``&&`` on its bbox: the one spatial condition that can use the GiST index
    under row-level security (``ST_Intersects`` is not LEAKPROOF; see migration 0004)."""
    if query.bbox is None:
        return query
    return ListQuery(bbox=query.bbox, interval=query.interval, equals=query.equals, limit=query.limit,
                     offset=query.offset, params={**query.params, **dict(zip(("ix0", "iy0", "ix1", "iy1"),
                                                                            query.bbox, strict=True))},
                     extra_where=(*query.extra_where, "r._geom && ST_MakeEnvelope(:ix0, :iy0, :ix1, :iy1, 4326)"))


def list_items(session: Session, source: CollectionSource, query: ListQuery) -> tuple[list[dict[str, Any]], bool, int]:
    """Features of a table-backed collection: (page, has_more, numberMatched)."""
    assert source.spec is not None
    scoped = indexed_bbox(ListQuery(bbox=query.bbox, interval=query.interval, equals=query.equals,
                                    limit=query.limit, offset=query.offset,
                                    extra_where=(*query.extra_where, *source.extra_where), params=query.params))
    features, has_more = repository.list_features(session, source.spec, scoped)
    return features, has_more, repository.count_features(session, source.spec, scoped)


def get_item(session: Session, source: CollectionSource, item_id: int) -> dict[str, Any]:
    assert source.spec is not None
    if source.extra_where:
        query = ListQuery(limit=1, extra_where=(*source.extra_where, "r.id = :item_id"), params={"item_id": item_id})
        features, _ = repository.list_features(session, source.spec, query)
        if not features:
            from app.exceptions import NotFound

            raise NotFound(f"no item {item_id} in collection {source.id}")
        return features[0]
    return repository.get_feature(session, source.spec, item_id)


def service_area_bounds(session: Session, default: tuple[float, float, float, float]) -> list[float]:
    """The organisation's service-area bounding box (RLS shows only its own row), else the default."""
    row = session.execute(text(
        "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
        "(SELECT service_area::box2d AS b FROM organisations WHERE service_area IS NOT NULL LIMIT 1) s"
    )).first()
    return [float(v) for v in row] if row is not None else list(default)


# ---- cells ----------------------------------------------------------------------------------------------
def hotspot_cells(
    session: Session, *, grid: Grid, filt: IncidentFilter, cell: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Incident counts per cell of ``grid`` (non-empty cells only), as GeoJSON-ready dicts ordered by (i, j).

    Counted by :func:`app.db.analysis.grid_counts`, so the cells are those of the hotspot analysis (an
    incident counts in the period its window *starts* in, ``[start, end)``). Raw counts: callers apply
    disclosure control. ``cell`` counts only that one cell (over the whole cell).
    """
    origin = f"ST_SetSRID(ST_MakePoint(0, 0), {int(grid.srid)})"
    if cell is not None:
        # Only the incidents in (the metric box of) that one cell.
        box = session.execute(
            text(f"SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                 f"(SELECT {grid.single}(:size, :ci, :cj, {origin})::box2d AS b) s"),
            {"size": grid.size, "ci": cell[0], "cj": cell[1]},
        ).one()
        filt = replace(filt, bbox=None, box=(float(box[0]) - 1, float(box[1]) - 1, float(box[2]) + 1,
                                             float(box[3]) + 1), box_srid=grid.srid)
    counts = grid_counts(session, grid, filt)
    wanted = [(int(i), int(j), int(n)) for i, j, n in zip(counts.i, counts.j, counts.count, strict=True)
              if cell is None or (int(i), int(j)) == cell]
    if not wanted:
        return []
    rows = session.execute(
        text(f"SELECT c.i, c.j, ST_AsGeoJSON(ST_Transform({grid.single}(:size, c.i, c.j, {origin}), 4326), 7) "
             "FROM unnest(CAST(:ii AS int[]), CAST(:jj AS int[])) AS c(i, j)"),
        {"size": grid.size, "ii": [w[0] for w in wanted], "jj": [w[1] for w in wanted]},
    ).all()
    geometry = {(r[0], r[1]): json.loads(r[2]) for r in rows}
    return [{"i": i, "j": j, "incidents": n, "geometry": geometry[(i, j)]} for i, j, n in sorted(wanted)]


def cell_feature(cell: Mapping[str, Any], size_m: float = CELL_SIZE_M) -> dict[str, Any]:
    return {"type": "Feature", "id": f"{cell['i']}_{cell['j']}", "geometry": cell["geometry"],
            "properties": {"i": cell["i"], "j": cell["j"], "cell_size_m": size_m, "incidents": cell["incidents"]}}


def incident_counts_by_place(
    session: Session, *, bbox: tuple[float, float, float, float] | None = None,
    interval: tuple[datetime | None, datetime | None] | None = None, harm_categories: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Every place (in ``bbox``, of ``kinds``) with the number of incidents linked to it, raw counts.

    The time filter is the incident lists' (:func:`app.db.analysis.record_time_sql`).
    """
    place_where: list[str] = [f"p.organisation_id = {CURRENT_ORG_SQL}"]  # named: routes on Citus
    params: dict[str, Any] = {}
    incident_where = ["i.organisation_id = p.organisation_id AND i.place_id = p.id"]
    if bbox is not None:
        place_where.append("p.geom && ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326)")
        place_where.append("ST_Intersects(p.geom, ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326))")
        params.update(zip(("bx0", "by0", "bx1", "by1"), bbox, strict=True))
    if kinds:
        place_where.append("p.kind = ANY(:kinds)")
        params["kinds"] = list(kinds)
    if interval is not None:
        clauses, more = record_time_sql("i.occurred_from", "i.occurred_to", *interval)
        incident_where.extend(clauses)
        params.update(more)
    if harm_categories:
        incident_where.append("i.harm_category = ANY(:harm)")
        params["harm"] = list(harm_categories)
    rows = session.execute(text(
        f"""
        SELECT p.id, p.name, p.kind, ST_AsGeoJSON(p.geom, 7) AS geometry,
               (SELECT count(*) FROM incidents i WHERE {' AND '.join(incident_where)}) AS incidents
        FROM places p WHERE {' AND '.join(place_where)} ORDER BY p.id
        """
    ), params).mappings()
    return [{**r, "geometry": json.loads(r["geometry"]), "incidents": int(r["incidents"])} for r in rows]
