"""The one way a use case records what someone did or saw (DESIGN.md, Privacy: append-only audit).

Every write of a domain record, every read of individual incident records and every export goes through
:func:`record_action`, so the audit row always carries the actor's organisation and user, and the request
id and client address the middleware put in context (:mod:`app.db.audit`). What has no signed-in actor —
the command line, a sign-in attempt — goes through :func:`record_event`; a refused import, whose own
transaction rolls back, through :func:`record_refused_import`. Nothing else calls :mod:`app.db.audit`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db import audit
from app.db.imports import ImportRejected
from app.db.session import Database
from app.exceptions import ContextmapError
from app.security import Principal


def record_action(
    session: Session, actor: Principal, action: str, resource: str, detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit event ``action`` on ``resource`` (e.g. ``"place.create"``, ``"place:12"``) by ``actor``.

    It is written in the caller's transaction: if the use case fails afterwards, its audit row goes too,
    so the trail never records a change that did not happen.
    """
    audit.record(session, organisation_id=actor.organisation_id, user_id=actor.user_id,
                 action=action, resource=resource, detail=detail)


def record_event(
    session: Session, *, organisation_id: int | None, action: str, resource: str | None = None,
    detail: dict[str, Any] | None = None, user_id: int | None = None,
) -> None:
    """Append an event that has no signed-in principal: a command-line change (``user_id`` None, ``detail``
    says ``"via": "cli"``) or a sign-in attempt (the user it was for, if any). In the caller's transaction."""
    audit.record(session, organisation_id=organisation_id, user_id=user_id, action=action, resource=resource,
                 detail=detail)


def record_refused_import(database: Database, actor: Principal, resource: str, detail: dict[str, Any],
                          refusal: ContextmapError) -> None:
    """A refused import is audited too: the request's (or job's) own transaction rolls back, so this one
    commits alone (the API upload and the web import job)."""
    rejected = refusal.report.rejected if isinstance(refusal, ImportRejected) else None
    session = database.tenant_session(actor.organisation_id)
    try:
        with session.begin():
            record_action(session, actor, "import.refused", resource,
                          {**detail, "status": refusal.status, "field": refusal.field, "rejected": rejected})
    finally:
        session.close()
