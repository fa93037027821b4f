"""The organisation's school terms: stored whole (a new file replaces the old), read as an SH calendar."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.bank_holidays import is_public_holiday
from geo.opening_hours import Calendar
from geo.school_terms import SchoolTerm, school_holidays


def replace_school_terms(session: Session, organisation_id: int, terms: Sequence[SchoolTerm]) -> int:
    """Replace the organisation's terms with ``terms`` (in the caller's transaction); returns how many."""
    session.execute(text("DELETE FROM school_terms WHERE organisation_id = :org"), {"org": organisation_id})
    if terms:
        session.execute(
            text("INSERT INTO school_terms (organisation_id, name, starts_on, ends_on) "
                 "VALUES (:org, :name, :starts_on, :ends_on)"),
            [{"org": organisation_id, "name": t.name, "starts_on": t.starts_on, "ends_on": t.ends_on}
             for t in terms],
        )
    return len(terms)


def school_terms(session: Session, organisation_id: int) -> list[SchoolTerm]:
    rows = session.execute(
        text("SELECT name, starts_on, ends_on FROM school_terms WHERE organisation_id = :org ORDER BY starts_on"),
        {"org": organisation_id},
    ).all()
    return [SchoolTerm(row[0], row[1], row[2]) for row in rows]


def hours_calendar(session: Session, organisation_id: int) -> Calendar:
    """England and Wales public holidays plus the organisation's school holidays (none loaded: ``None``)."""
    terms = school_terms(session, organisation_id)
    return Calendar(is_public_holiday, school_holidays(terms) if terms else None)


def request_hours_calendar(session: Session) -> Calendar:
    """:func:`hours_calendar` for the organisation of the request's session (the row-level-security key)."""
    organisation_id = session.execute(
        text("SELECT NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint")
    ).scalar()
    if organisation_id is None:
        return Calendar(is_public_holiday)
    return hours_calendar(session, int(organisation_id))
