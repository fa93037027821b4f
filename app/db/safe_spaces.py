"""SQL for safe spaces, guardianship, nearby concerns and harm, and coverage; plus the nearest-open search.

The nearest search pulls candidates in distance order from PostGIS (KNN ``<->`` on the indexed metric
column) and judges them in Python, because opening hours are evaluated by :mod:`geo.opening_hours`. It
fetches growing batches until it has ``limit`` open, suitable spaces *and* no unseen candidate could be
nearer on foot: walking distance is never shorter than the straight line, so once the next candidate's
straight-line distance exceeds the ``limit``-th walk found, the answer is final.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.analysis import record_time_sql
from app.db.school_terms import hours_calendar
from app.db.session import CURRENT_ORG_SQL
from app.db.street_network import street_network
from geo.safe_spaces import (
    CoverageCell,
    GuardianRecord,
    SafeSpaceCandidate,
    age_suitable,
    evaluate,
    guardians_at,
    hours_state,
    open_at,
)
from geo.walking import NETWORK, STRAIGHT_LINE, WalksFrom, walking_minutes

_SAFE_AT = ("d.kind = 'safe_space' AND d.valid_from <= :at AND (d.valid_to IS NULL OR d.valid_to > :at)")
_CONCERN_AT = ("d.kind = 'concern' AND d.valid_from <= :at AND (d.valid_to IS NULL OR d.valid_to > :at)")
_FIRST_BATCH = 20
# Along a network the search may stop only once a candidate's straight line exceeds the limit-th walk (not
# that walk / detour factor), so it reaches about twice as many candidates: one batch of 40 is then usually
# enough where 20 needed a second query (bench/bench_routing.py: 40 examined at the median instead of 100).
_FIRST_BATCH_NETWORK = 40
_MAX_CANDIDATES = 4096


def _origin(srid: int) -> str:
    return f"ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), {int(srid)})"


def place_location(session: Session, place_id: int) -> tuple[float, float] | None:
    """A point on the place (inside it, for areas) as lon/lat, or ``None`` if no such place."""
    row = session.execute(
        text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM places "
             f"WHERE organisation_id = {CURRENT_ORG_SQL} AND id = :id"),
        {"id": place_id},
    ).first()
    return None if row is None else (float(row[0]), float(row[1]))


def _guardians_by_place(session: Session, place_ids: Sequence[int]) -> dict[int, list[GuardianRecord]]:
    found: dict[int, list[GuardianRecord]] = {pid: [] for pid in place_ids}
    if not place_ids:
        return found
    rows = session.execute(
        text("SELECT id, place_id, role, description, hours, trainings FROM guardians "
             f"WHERE organisation_id = {CURRENT_ORG_SQL} AND place_id = ANY(:ids) ORDER BY id"),
        {"ids": list(place_ids)},
    ).mappings()
    for row in rows:
        trainings = row["trainings"] if isinstance(row["trainings"], list) else json.loads(row["trainings"] or "[]")
        found[row["place_id"]].append(
            GuardianRecord(row["id"], row["role"], row["description"], row["hours"], tuple(trainings))
        )
    return found


def _candidate(row: Mapping[str, Any], guardians: Sequence[GuardianRecord]) -> SafeSpaceCandidate:
    return SafeSpaceCandidate(
        place_id=row["place_id"], name=row["name"], kind=row["kind"], opening_hours=row["opening_hours"],
        designation_id=row["designation_id"], valid_from=row["valid_from"], valid_to=row["valid_to"],
        scheme=row["scheme"], age_min=row["age_min"], age_max=row["age_max"],
        help_offered=tuple(row["help_offered"] or ()), accessibility=row["accessibility"],
        verified_on=row["verified_on"], guardians=tuple(guardians),
    )


def _candidates(
    session: Session, lon: float, lat: float, at: datetime, srid: int, limit: int, offset: int,
) -> list[dict[str, Any]]:
    """The next safe spaces current at ``at`` by straight-line distance: only what judging them needs."""
    origin = _origin(srid)
    rows = session.execute(
        text(
            f"""
            WITH nearest AS (
                SELECT p.id, p.opening_hours, p.geom_metric
                FROM places p
                WHERE p.organisation_id = {CURRENT_ORG_SQL}
                  AND EXISTS (SELECT 1 FROM designations d WHERE d.organisation_id = p.organisation_id
                                  AND d.place_id = p.id AND {_SAFE_AT})
                ORDER BY p.geom_metric <-> {origin}
                LIMIT :lim OFFSET :off
            )
            SELECT n.id AS place_id, n.opening_hours, d.age_min, d.age_max,
                   ST_X({origin}) AS origin_x, ST_Y({origin}) AS origin_y,
                   ST_Distance(n.geom_metric, {origin}) AS straight_m,
                   ST_X(ST_ClosestPoint(n.geom_metric, {origin})) AS x,
                   ST_Y(ST_ClosestPoint(n.geom_metric, {origin})) AS y
            FROM nearest n JOIN designations d ON d.organisation_id = {CURRENT_ORG_SQL} AND d.place_id = n.id
                AND {_SAFE_AT}
            ORDER BY straight_m, n.id
            """
        ),
        {"lon": lon, "lat": lat, "at": at, "lim": limit, "off": offset},
    ).mappings()
    return [dict(r) for r in rows]


def _details(session: Session, place_ids: Sequence[int], at: datetime) -> dict[int, dict[str, Any]]:
    """Everything shown about the chosen safe spaces, their guardians included, in one query."""
    rows = session.execute(
        text(
            f"""
            SELECT p.id AS place_id, p.name, p.kind, p.address, p.opening_hours,
                   ST_AsGeoJSON(p.geom, 7) AS geometry,
                   d.id AS designation_id, d.valid_from, d.valid_to, d.scheme, d.age_min, d.age_max,
                   d.help_offered, d.accessibility, d.verified_on,
                   COALESCE((SELECT json_agg(json_build_object('id', g.id, 'role', g.role,
                                                               'description', g.description, 'hours', g.hours,
                                                               'trainings', g.trainings) ORDER BY g.id)
                             FROM guardians g WHERE g.organisation_id = p.organisation_id
                                   AND g.place_id = p.id), '[]'::json) AS guardians
            FROM places p JOIN designations d ON d.organisation_id = p.organisation_id
                AND d.place_id = p.id AND {_SAFE_AT}
            WHERE p.organisation_id = {CURRENT_ORG_SQL} AND p.id = ANY(:ids)
            """
        ),
        {"ids": list(place_ids), "at": at},
    ).mappings()
    details = {}
    for mapping in rows:
        row = dict(mapping)
        guardians = [GuardianRecord(g["id"], g["role"], g["description"], g["hours"], tuple(g["trainings"] or ()))
                     for g in row["guardians"]]
        details[row["place_id"]] = {**row, "candidate": _candidate(row, guardians)}
    return details


@dataclass
class NearestAnswer:
    results: list[dict[str, Any]]
    distance_method: str
    network_loaded: bool
    examined: int
    excluded: dict[str, int] = field(default_factory=dict)
    # (place id, reason) of each space passed over, nearest first: the finder page names them.
    passed_over: list[tuple[int, str]] = field(default_factory=list)


def nearest_safe_spaces(
    session: Session, organisation_id: int, *, lon: float, lat: float, at: datetime, age: int | None,
    limit: int, srid: int, detour_factor: float, walking_speed: float, threshold_minutes: float,
    stale_days: int, judge_hours: bool = True,
) -> NearestAnswer:
    """The ``limit`` nearest safe spaces on foot that are current, open at ``at`` and suitable for ``age``.

    With ``judge_hours=False`` the hours at ``at`` are not judged (places with no recorded hours are still
    left out): the safety plan judges them over weekly patterns itself. Each result on the network carries
    ``route``, the walk as metric coordinates (origin, street vertices, destination); else ``None``.
    """
    network = street_network(session, organisation_id)
    calendar = hours_calendar(session, organisation_id)  # school holidays for SH
    walks: WalksFrom | None = None
    bound_factor = detour_factor
    seen: set[int] = set()
    found: list[dict[str, Any]] = []
    best_walks: list[float] = []
    excluded = {"closed": 0, "hours_unknown": 0, "age": 0}
    passed_over: list[tuple[int, str]] = []
    first = _FIRST_BATCH_NETWORK if network is not None else _FIRST_BATCH
    examined, batch, done = 0, max(first, 4 * limit), False
    while not done and examined < _MAX_CANDIDATES:
        fetched = _candidates(session, lon, lat, at, srid, batch, examined)
        examined += len(fetched)
        # The KNN order has no tie-breaker (one would defeat the index), so batches may overlap on ties.
        rows = [r for r in fetched if r["place_id"] not in seen]
        seen.update(r["place_id"] for r in rows)
        if walks is None:
            origin = (rows[0]["origin_x"], rows[0]["origin_y"]) if rows else (0.0, 0.0)
            walks = WalksFrom.compute(network, origin, detour_factor)
            # Unseen candidates are at least as far as their straight line on foot (times the detour
            # factor when every walk is a straight-line estimate): the bound that lets the search stop.
            bound_factor = 1.0 if walks.along is not None else detour_factor
        targets = np.array([[r["x"], r["y"]] for r in rows], dtype=np.float64).reshape(-1, 2)
        walk, on_network = walks.to(targets, np.array([r["straight_m"] for r in rows], dtype=np.float64))
        for k, row in enumerate(rows):
            if len(best_walks) >= limit and best_walks[limit - 1] <= float(row["straight_m"]) * bound_factor:
                done = True
                break
            # Hours that say "unknown" then (a comment, an open end, `unknown "ring first"`) are offered
            # with their note; hours not recorded at all are not (see geo.safe_spaces).
            state = hours_state(row["opening_hours"], at, calendar)
            reason = ("hours_unknown" if state is None else "closed" if judge_hours and state.state == "closed"
                      else None if age_suitable(age, row["age_min"], row["age_max"]) else "age")
            if reason is not None:
                excluded[reason] += 1
                passed_over.append((int(row["place_id"]), reason))
                continue
            bisect.insort(best_walks, float(walk[k]))
            found.append({"place_id": row["place_id"], "straight_m": float(row["straight_m"]),
                          "walking_m": float(walk[k]), "on_network": bool(on_network[k]),
                          "xy": (float(row["x"]), float(row["y"])), "origin": (row["origin_x"], row["origin_y"])})
        if len(fetched) < batch:
            break  # every current safe space has been seen
        batch = min(batch * 4, _MAX_CANDIDATES - examined)
    found.sort(key=lambda f: (f["walking_m"], f["place_id"]))
    # Only the answers are described in full (names, geometry, guardians), in one more query.
    details = _details(session, [f["place_id"] for f in found[:limit]], at)
    results = []
    for chosen in found[:limit]:
        row = details[chosen["place_id"]]
        minutes = walking_minutes(chosen["walking_m"], walking_speed)
        route = (walks.path_to(chosen["origin"], chosen["xy"]) if walks is not None and chosen["on_network"]
                 else None)
        results.append({
            "route": None if route is None else route.tolist(),
            **row, "straight_m": chosen["straight_m"], "walking_m": chosen["walking_m"], "walking_minutes": minutes,
            "within_threshold": minutes <= threshold_minutes,
            "distance_method": NETWORK if chosen["on_network"] else STRAIGHT_LINE,
            "evaluation": evaluate(row["candidate"], at, age, stale_days, calendar),
        })
    on_network_now = walks is not None and walks.along is not None
    any_network = any(r["distance_method"] == NETWORK for r in results) or (not results and on_network_now)
    method = NETWORK if any_network else STRAIGHT_LINE
    return NearestAnswer(results, method, network is not None, examined, excluded, passed_over)


def place_guardianship(session: Session, place_id: int, at: datetime) -> dict[str, Any] | None:
    """The place, whether it is open at ``at``, and each guardian's presence and training then."""
    place = session.execute(
        text("SELECT id, name, kind, opening_hours, organisation_id FROM places "
             f"WHERE organisation_id = {CURRENT_ORG_SQL} AND id = :id"), {"id": place_id}
    ).mappings().first()
    if place is None:
        return None
    calendar = hours_calendar(session, place["organisation_id"])
    is_open = open_at(place["opening_hours"], at, calendar)
    guardians = guardians_at(_guardians_by_place(session, [place_id])[place_id], is_open, at, calendar)
    return {"place": {key: place[key] for key in ("id", "name", "kind", "opening_hours")}, "open": is_open,
            "guardians": guardians}


def current_safe_spaces(session: Session, at: datetime, srid: int) -> list[dict[str, Any]]:
    """Every safe space current at ``at``, with a point on it in the analysis CRS (for coverage)."""
    rows = session.execute(
        text(
            f"""
            SELECT p.id AS place_id, p.name, p.opening_hours,
                   ST_X(ST_PointOnSurface(p.geom_metric)) AS x, ST_Y(ST_PointOnSurface(p.geom_metric)) AS y
            FROM places p JOIN designations d ON d.organisation_id = p.organisation_id
                AND d.place_id = p.id AND {_SAFE_AT}
            WHERE p.organisation_id = {CURRENT_ORG_SQL}
            ORDER BY p.id
            """
        ),
        {"at": at},
    ).mappings()
    return [dict(r) for r in rows]


def harm_cells(
    session: Session, start: datetime | None, end: datetime | None, cell_m: float, srid: int,
    harm_categories: Sequence[str] = (),
) -> list[tuple[CoverageCell, dict[str, Any]]]:
    """Square cells of side ``cell_m`` in the analysis CRS holding incidents in ``[start, end)``.

    Cells are indexed by integer arithmetic on the metric coordinates (no grid table needed); each comes
    with its GeoJSON polygon in EPSG:4326.
    """
    # The incident lists' and tiles' time rule (record_time_sql), not a seventh spelling of it.
    clauses, times = record_time_sql("i.occurred_from", "i.occurred_to", start, end)
    where: list[str] = [f"i.organisation_id = {CURRENT_ORG_SQL}", *clauses]
    params: dict[str, Any] = {"s": cell_m, **times}
    if harm_categories:
        where.append("i.harm_category = ANY(:cats)")
        params["cats"] = list(harm_categories)
    rows = session.execute(
        text(
            f"""
            SELECT c.i, c.j, c.n,
                   ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(c.i * :s, c.j * :s, (c.i + 1) * :s, (c.j + 1) * :s,
                                                             {int(srid)}), 4326), 7) AS geometry
            FROM (
                SELECT floor(ST_X(i.geom_metric) / :s)::bigint AS i, floor(ST_Y(i.geom_metric) / :s)::bigint AS j,
                       count(*) AS n
                FROM incidents i WHERE {' AND '.join(where)}
                GROUP BY 1, 2
            ) c
            ORDER BY c.i, c.j
            """
        ),
        params,
    ).mappings()
    return [
        (CoverageCell(int(r["i"]), int(r["j"]), (r["i"] + 0.5) * cell_m, (r["j"] + 0.5) * cell_m, int(r["n"])),
         json.loads(r["geometry"]))
        for r in rows
    ]


def concerns_near(session: Session, lon: float, lat: float, radius_m: float, at: datetime, srid: int,
                  ) -> list[dict[str, Any]]:
    """Places with a concern designation current at ``at`` within ``radius_m`` metres, nearest first."""
    origin = _origin(srid)
    rows = session.execute(
        text(
            f"""
            SELECT p.id AS place_id, p.name, p.kind, d.level, d.review_by,
                   round(ST_Distance(p.geom_metric, {origin})::numeric, 0)::float AS distance_m
            FROM places p JOIN designations d ON d.organisation_id = p.organisation_id
                AND d.place_id = p.id AND {_CONCERN_AT}
            WHERE ST_DWithin(p.geom_metric, {origin}, :r)
            ORDER BY distance_m, p.id
            """
        ),
        {"lon": lon, "lat": lat, "r": radius_m, "at": at},
    ).mappings()
    return [dict(r) for r in rows]


def harm_near(session: Session, lon: float, lat: float, radius_m: float, start: datetime, end: datetime,
              srid: int) -> dict[str, int]:
    """Incident counts by harm category within ``radius_m`` metres during ``[start, end)``."""
    origin = _origin(srid)
    rows = session.execute(
        text(
            f"""
            SELECT harm_category, count(*) AS n FROM incidents i
            WHERE i.organisation_id = {CURRENT_ORG_SQL} AND ST_DWithin(i.geom_metric, {origin}, :r)
              AND COALESCE(i.occurred_to, i.occurred_from) >= :t0 AND i.occurred_from < :t1
            GROUP BY harm_category ORDER BY harm_category
            """
        ),
        {"lon": lon, "lat": lat, "r": radius_m, "t0": start, "t1": end},
    ).all()
    return {str(r[0]): int(r[1]) for r in rows}


def safe_space_list(session: Session, at: datetime, limit: int, offset: int) -> list[dict[str, Any]]:
    """Safe spaces current at ``at`` (with their designation details and guardians), by place name."""
    rows = [dict(r) for r in session.execute(
        text(
            f"""
            SELECT p.id AS place_id, p.name, p.kind, p.address, p.opening_hours,
                   ST_AsGeoJSON(p.geom, 7) AS geometry,
                   d.id AS designation_id, d.valid_from, d.valid_to, d.scheme, d.age_min, d.age_max,
                   d.help_offered, d.accessibility, d.verified_on
            FROM places p JOIN designations d ON d.organisation_id = p.organisation_id
                AND d.place_id = p.id AND {_SAFE_AT}
            WHERE p.organisation_id = {CURRENT_ORG_SQL}
            ORDER BY p.name, p.id LIMIT :lim OFFSET :off
            """
        ),
        {"at": at, "lim": limit + 1, "off": offset},
    ).mappings()]
    guardians = _guardians_by_place(session, [r["place_id"] for r in rows])
    return [{**r, "candidate": _candidate(r, guardians[r["place_id"]])} for r in rows]
