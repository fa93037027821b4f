"""SQL for the web application's import pages: past imports (from the audit log, where every import,
dry run and refusal is recorded by the API, the CLI and the pages alike) and the time span of the incidents
an import has just written (for the link to the hot-spot map)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

IMPORT_ACTIONS = ("import", "import.refused")


def past_imports(session: Session, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """One page of the organisation's imports, newest first, with who ran them (``None``: the CLI)."""
    rows = [dict(r) for r in session.execute(text(
        """
        SELECT a.id, a.at, a.action, a.resource, a.detail, u.email, count(*) OVER () AS total
        FROM audit_events a LEFT JOIN users u ON u.id = a.user_id
        WHERE a.action = ANY(:actions)
        ORDER BY a.at DESC, a.id DESC LIMIT :lim OFFSET :off
        """
    ), {"actions": list(IMPORT_ACTIONS), "lim": limit, "off": offset}).mappings()]
    return rows, int(rows[0]["total"]) if rows else 0


def written_in_this_transaction(session: Session, organisation_id: int) -> tuple[date, date] | None:
    """The first and last day (Europe/London) of the incidents this transaction inserted, if any.

    ``created_at`` defaults to ``now()``, which PostgreSQL fixes at the start of the transaction, so the
    rows an import's transaction wrote are exactly those stamped with its ``now()``. The end of a window
    is exclusive (a police.uk month ends at the next month's first instant), hence the microsecond.
    """
    row = session.execute(text(
        """
        SELECT (min(occurred_from) AT TIME ZONE 'Europe/London')::date AS first,
               (max(COALESCE(occurred_to - interval '1 microsecond', occurred_from))
                    AT TIME ZONE 'Europe/London')::date AS last
        FROM incidents WHERE organisation_id = :org AND created_at = now()
        """
    ), {"org": organisation_id}).one()
    return None if row.first is None else (row.first, row.last)
