"""The data versions of an organisation's analyses (migration 0016): what a cached analysis's key is made of.

:func:`version_key` reads, in the request's own transaction, the organisation's sentinel version (places,
interventions, the organisation itself) and the versions of the UTC months a period covers, each as the
total of its change rows and their highest sequence number. Triggers add change rows in every writer's
transaction, so two requests that read the same key read the same data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.session import CURRENT_ORG_SQL

TABLE = "analysis_data_versions"
ORG = CURRENT_ORG_SQL  # the one spelling app.db.session binds to the organisation (routing on Citus)

_KEPT: dict[str, bool] = {}


def kept(session: Session) -> bool:
    """Whether this database keeps the versions (its triggers on ``incidents`` exist; on Citus they are
    dropped, see ``app.db.citus``). Asked once per database and process."""
    key = session.connection().engine.url.render_as_string(hide_password=True)
    known = _KEPT.get(key)
    if known is None:
        known = _KEPT[key] = bool(session.execute(text(
            "SELECT to_regclass(:t) IS NOT NULL AND EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = :g "
            "AND tgrelid = 'incidents'::regclass)"), {"t": TABLE, "g": f"{TABLE}_insert"}).scalar_one())
    return known


def _utc_month(moment: datetime) -> date:
    moment = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return date(moment.year, moment.month, 1)


def version_key(session: Session, start: datetime | None, end: datetime | None) -> tuple[object, ...] | None:
    """What identifies the data an analysis of incidents with ``start <= occurred_from < end`` (None: open)
    reads: the database, the sentinel's version and each covered month's; None when there is no sentinel
    (nothing can be said about the data, so nothing may be reused)."""
    first = _utc_month(start) if start is not None else None
    last = _utc_month(end - timedelta(microseconds=1)) if end is not None else None
    row = session.execute(
        text(f"""
            SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::bigint,
                   (SELECT sum(changes) || ':' || max(version) FROM {TABLE}
                    WHERE organisation_id = {ORG} AND month = '-infinity'),
                   (SELECT COALESCE(array_agg(m ORDER BY m), '{{}}') FROM (
                        SELECT month::text || '=' || sum(changes) || ':' || max(version) AS m FROM {TABLE}
                        WHERE organisation_id = {ORG} AND month > '-infinity'
                          AND (CAST(:first AS date) IS NULL OR month >= :first)
                          AND (CAST(:last AS date) IS NULL OR month <= :last)
                        GROUP BY month) AS per_month)"""),
        {"first": first, "last": last}).one()
    database, sentinel, months = row
    if sentinel is None:
        return None
    return (int(database), str(sentinel), first, last, tuple(months))
