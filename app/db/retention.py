"""Retention: incidents are kept no longer than justified (UK GDPR storage limitation, Art. 5(1)(e))."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import data_versions


@dataclass
class RetentionReport:
    cutoff: datetime  # the deployment's cutoff; an organisation with a shorter period has a later one
    mode: str
    per_organisation: dict[str, int] = field(default_factory=dict)
    cutoffs: dict[str, datetime] = field(default_factory=dict)  # organisations with their own, shorter period

    @property
    def total(self) -> int:
        return sum(self.per_organisation.values())

    @property
    def verb(self) -> str:
        return "archived" if self.mode == "archive" else "deleted"


# An incident's organisation's period: its own (0012) where shorter, never longer than the deployment's.
_DAYS = "LEAST(COALESCE(o.retention_days, :days), :days)"
_EXPIRED = (f"COALESCE(i.occurred_to, i.occurred_from) < :now - make_interval(days => {_DAYS}) "
            "AND o.id = i.organisation_id")


def apply_retention(session: Session, retention_days: int, mode: str, *, dry_run: bool = False,
                    now: datetime | None = None) -> RetentionReport:
    """Archive (to the owner-only ``incidents_archive``) or delete incidents that ended before the cutoff:
    ``retention_days`` (the deployment's) before now, or the organisation's own shorter period.

    Runs on the owner connection: the web service's role cannot read the archive.
    """
    now = now or datetime.now(UTC)
    report = RetentionReport(now - timedelta(days=retention_days), mode)
    params = {"now": now, "days": retention_days}
    rows = session.execute(
        text(f"SELECT o.slug, count(*) FROM incidents i, organisations o WHERE {_EXPIRED} GROUP BY o.slug"),
        params,
    ).all()
    report.per_organisation = {slug: int(count) for slug, count in rows}
    own = session.execute(
        text(f"SELECT o.slug, {_DAYS} AS days FROM organisations o "
             "WHERE o.retention_days IS NOT NULL AND o.retention_days < :days"), params).all()
    report.cutoffs = {slug: now - timedelta(days=int(days)) for slug, days in own}
    if not dry_run and data_versions.kept(session):
        # Each month's analysis data-version rows folded into one (same key): they grow by one per write.
        session.execute(text("SELECT analysis_data_versions_compact()"))
    if dry_run or not rows:
        return report
    if mode == "archive":
        session.execute(
            text(f"INSERT INTO incidents_archive SELECT i.*, now() FROM incidents i, organisations o "
                 f"WHERE {_EXPIRED}"),
            params,
        )
    session.execute(text(f"DELETE FROM incidents i USING organisations o WHERE {_EXPIRED}"), params)
    return report
