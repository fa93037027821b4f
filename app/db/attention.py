"""What needs attention on a practitioner's home page: reviews due or overdue, places flagged from hot
spots, interventions starting or ending, safe spaces whose verification is out of date."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.session import CURRENT_ORG_SQL

_CURRENT = "d.valid_from <= now() AND (d.valid_to IS NULL OR d.valid_to > now())"


def reviews_due(session: Session, within_days: int) -> list[dict[str, Any]]:
    """Current places of concern whose review is overdue or due within ``within_days``, soonest first."""
    rows = session.execute(text(f"""
        SELECT p.id AS place_id, p.name, p.kind, d.level, d.review_by, (d.review_by < current_date) AS overdue
        FROM designations d JOIN places p ON p.organisation_id = d.organisation_id AND p.id = d.place_id
        WHERE d.organisation_id = {CURRENT_ORG_SQL} AND d.kind = 'concern' AND {_CURRENT}
          AND d.review_by IS NOT NULL
          AND d.review_by <= current_date + :days
        ORDER BY d.review_by, p.name"""), {"days": within_days}).mappings()
    return [dict(r) for r in rows]


def flagged_from_hotspots(session: Session, within_days: int) -> list[dict[str, Any]]:
    """Places created by flagging a hot spot cell (app.services.concerns audits them "from hotspot flag")."""
    rows = session.execute(text(f"""
        SELECT p.id AS place_id, p.name, p.kind, a.at AS flagged_at
        FROM audit_events a JOIN places p ON p.organisation_id = a.organisation_id AND a.resource = 'place:' || p.id
        WHERE a.organisation_id = {CURRENT_ORG_SQL} AND a.action = 'place.create'
          AND a.detail ->> 'from' = 'hotspot flag'
          AND a.at >= now() - make_interval(days => :days)
        ORDER BY a.at DESC LIMIT 50"""), {"days": within_days}).mappings()
    return [dict(r) for r in rows]


def interventions_changing(session: Session, within_days: int) -> list[dict[str, Any]]:
    """Interventions that started or end within ``within_days`` of today (either side)."""
    rows = session.execute(text(f"""
        SELECT v.id, v.kind, v.description, v.owning_partner, v.starts_on, v.ends_on, v.place_id,
               p.name AS place_name, (v.geom IS NOT NULL OR v.place_id IS NOT NULL) AS located,
               CASE WHEN v.starts_on BETWEEN current_date - :days AND current_date + :days THEN 'starting'
                    ELSE 'ending' END AS change
        FROM interventions v LEFT JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id
        WHERE v.organisation_id = {CURRENT_ORG_SQL}
          AND (v.starts_on BETWEEN current_date - :days AND current_date + :days
               OR v.ends_on BETWEEN current_date - :days AND current_date + :days)
        ORDER BY LEAST(abs(v.starts_on - current_date), abs(COALESCE(v.ends_on, v.starts_on) - current_date)),
                 v.id
        LIMIT 50"""), {"days": within_days}).mappings()
    return [dict(r) for r in rows]


def stale_safe_spaces(session: Session, stale_days: int) -> list[dict[str, Any]]:
    """Current safe spaces never verified, or verified longer ago than ``stale_days``."""
    rows = session.execute(text(f"""
        SELECT p.id AS place_id, p.name, p.kind, d.verified_on
        FROM designations d JOIN places p ON p.organisation_id = d.organisation_id AND p.id = d.place_id
        WHERE d.organisation_id = {CURRENT_ORG_SQL} AND d.kind = 'safe_space' AND {_CURRENT}
          AND (d.verified_on IS NULL OR d.verified_on < current_date - :days)
        ORDER BY d.verified_on NULLS FIRST, p.name LIMIT 50"""), {"days": stale_days}).mappings()
    return [dict(r) for r in rows]
