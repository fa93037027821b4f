"""SQL for the web application's interventions list (issue 14): filters the JSON API's list does not have
(current or ended, a partner). The intervention page itself reads through app.db.repository like the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# ends_on is the intervention's last day (app.db.resources.INTERVENTIONS): it has ended once that day is past.
STATUS_SQL = {
    "current": "v.starts_on <= current_date AND (v.ends_on IS NULL OR v.ends_on >= current_date)",
    "ended": "v.ends_on < current_date",
    "planned": "v.starts_on > current_date",
}


@dataclass(frozen=True)
class InterventionSearch:
    kinds: tuple[str, ...] = ()
    status: str | None = None  # a key of STATUS_SQL
    place_id: int | None = None
    partner: str | None = None  # matches the owning partner or another partner (case-insensitive, part)
    limit: int = 20
    offset: int = 0


def search_interventions(session: Session, search: InterventionSearch) -> tuple[list[dict[str, Any]], int]:
    """One page of interventions (newest start first) and how many match in all."""
    where: list[str] = []
    params: dict[str, Any] = {"lim": search.limit, "off": search.offset}
    if search.kinds:
        where.append("v.kind = ANY(:kinds)")
        params["kinds"] = list(search.kinds)
    if search.status in STATUS_SQL:
        where.append(STATUS_SQL[search.status])
    if search.place_id is not None:
        where.append("v.place_id = :place")
        params["place"] = search.place_id
    if search.partner:
        escaped = search.partner.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("(v.owning_partner ILIKE :partner OR EXISTS "
                     "(SELECT 1 FROM unnest(v.partners) AS other WHERE other ILIKE :partner))")
        params["partner"] = f"%{escaped}%"
    sql = f"""
        SELECT v.id, v.kind, v.title, v.shareable_summary, v.description, v.owning_partner, v.partners,
               v.starts_on, v.ends_on, v.place_id, p.name AS place_name, v.geom IS NOT NULL AS has_area,
               ({STATUS_SQL['ended']}) AS ended, count(*) OVER () AS total
        FROM interventions v LEFT JOIN places p ON p.organisation_id = v.organisation_id AND p.id = v.place_id
        {'WHERE ' + ' AND '.join(where) if where else ''}
        ORDER BY v.starts_on DESC, v.id DESC LIMIT :lim OFFSET :off"""
    rows = [dict(r) for r in session.execute(text(sql), params).mappings()]
    total = int(rows[0]["total"]) if rows else 0
    if not rows and search.offset:
        total = int(session.execute(text(
            f"SELECT count(*) FROM interventions v {'WHERE ' + ' AND '.join(where) if where else ''}"),
            params).scalar_one())
    return rows, total


def place_choices(session: Session) -> list[dict[str, Any]]:
    """Places to choose from in the intervention form and filter (name order)."""
    return [dict(r) for r in session.execute(text(
        "SELECT id, name, kind FROM places ORDER BY lower(name), id LIMIT 5000")).mappings()]
