"""Places under review: current places of concern, soonest review first (overdue ones flagged)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def places_under_review(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(text(
        """
        SELECT p.id AS place_id, p.name, p.kind, d.level, d.review_by, d.valid_from,
               (d.review_by IS NOT NULL AND d.review_by < current_date) AS overdue
        FROM designations d JOIN places p ON p.organisation_id = d.organisation_id AND p.id = d.place_id
        WHERE d.kind = 'concern' AND d.valid_from <= now() AND (d.valid_to IS NULL OR d.valid_to > now())
        ORDER BY d.review_by NULLS LAST, p.name
        """
    )).mappings()
    return [dict(r) for r in rows]


def organisation_name(session: Session) -> str | None:
    name = session.execute(text("SELECT name FROM organisations")).scalar()
    return None if name is None else str(name)
