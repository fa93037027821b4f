"""Retention: incidents are kept no longer than justified (UK GDPR storage limitation, Art. 5(1)(e))."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass
class RetentionReport:
    cutoff: datetime
    mode: str
    per_organisation: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.per_organisation.values())

    @property
    def verb(self) -> str:
        return "archived" if self.mode == "archive" else "deleted"


def apply_retention(session: Session, retention_days: int, mode: str, *, dry_run: bool = False,
                    now: datetime | None = None) -> RetentionReport:
    """Archive (to the owner-only ``incidents_archive``) or delete incidents that ended before the cutoff.

    Runs on the owner connection: the web service's role cannot read the archive.
    """
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    report = RetentionReport(cutoff, mode)
    expired = "COALESCE(i.occurred_to, i.occurred_from) < :cutoff"
    rows = session.execute(
        text(f"SELECT o.slug, count(*) FROM incidents i JOIN organisations o ON o.id = i.organisation_id "
             f"WHERE {expired} GROUP BY o.slug"),
        {"cutoff": cutoff},
    ).all()
    report.per_organisation = {slug: int(count) for slug, count in rows}
    if dry_run or not rows:
        return report
    if mode == "archive":
        session.execute(
            text(f"INSERT INTO incidents_archive SELECT i.*, now() FROM incidents i WHERE {expired}"),
            {"cutoff": cutoff},
        )
    session.execute(text(f"DELETE FROM incidents i WHERE {expired}"), {"cutoff": cutoff})
    return report
