"""Where a youth worker is, typed as words: the organisation's places (by name or address) and its street
network (by street name), for the safe-space finder page (app.web.finder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.session import CURRENT_ORG_SQL

MATCH_LIMIT = 8


def match_rank(name: str) -> str:
    """SQL ranking a row by how its ``name`` column matches the typed ``:words`` (LIKE ``:pattern``), best
    first: 0 the whole name, 1 part of the name, 2 neither (a place found only by its address). ``name`` is
    a column of ours, never user text. Shared by :func:`app.db.safety_maps.locate_words`."""
    return f"CASE WHEN lower({name}) = lower(:words) THEN 0 WHEN {name} ILIKE :pattern THEN 1 ELSE 2 END"


def _like(words: str) -> str:
    # The user's text is a LIKE pattern's literal part: escape its wildcards.
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def match_locations(session: Session, organisation_id: int, words: str, limit: int = MATCH_LIMIT,
                    ) -> list[dict[str, Any]]:
    """Places and streets whose name contains ``words``, and places whose address does, best first.

    The order (:func:`match_rank`): a whole name typed exactly (a place's or a street's), then names that
    contain the words (a place before a street of the same rank), and last places found only by their
    address. So a typed "Wellgate Street" is the street, not the shop at "14 Wellgate Street".

    Each match is ``{"label", "source" ("place" | "street"), "lon", "lat"}``: a point on the place, or the
    middle of the street's segments (``ST_LineInterpolatePoint`` on the merged line's first part).
    """
    pattern = _like(words.strip())
    rows = session.execute(
        text(
            f"""
            SELECT label, source, lon, lat FROM (
                SELECT p.name || COALESCE(', ' || p.address, '') AS label, 'place' AS source,
                       ST_X(ST_PointOnSurface(p.geom)) AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat,
                       {match_rank("p.name")} AS rank, p.name AS sort_name
                FROM places p
                WHERE p.organisation_id = :org AND (p.name ILIKE :pattern OR p.address ILIKE :pattern)
                UNION ALL
                SELECT s.name AS label, 'street' AS source,
                       ST_X(ST_LineInterpolatePoint(ST_GeometryN(ST_LineMerge(ST_Collect(s.geom)), 1), 0.5)),
                       ST_Y(ST_LineInterpolatePoint(ST_GeometryN(ST_LineMerge(ST_Collect(s.geom)), 1), 0.5)),
                       {match_rank("s.name")}, s.name
                FROM street_edges s
                WHERE s.organisation_id = :org AND s.name ILIKE :pattern
                GROUP BY s.name
            ) m
            ORDER BY rank, source, sort_name
            LIMIT :lim
            """
        ),
        {"org": organisation_id, "words": words.strip(), "pattern": pattern, "lim": limit},
    ).mappings()
    return [{"label": r["label"], "source": r["source"], "lon": float(r["lon"]), "lat": float(r["lat"])}
            for r in rows]


def place_names(session: Session, place_ids: Sequence[int]) -> dict[int, str]:
    """Names of places by id (the spaces the finder passed over)."""
    if not place_ids:
        return {}
    rows = session.execute(
        text(f"SELECT id, name FROM places WHERE organisation_id = {CURRENT_ORG_SQL} AND id = ANY(:ids)"),
        {"ids": list(place_ids)})
    return {int(r[0]): str(r[1]) for r in rows}
