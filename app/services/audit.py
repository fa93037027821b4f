"""The one way a use case records what a signed-in user did or saw (DESIGN.md, Privacy: append-only audit).

Every write of a domain record, every read of individual incident records and every export goes through
:func:`record_action`, so the audit row always carries the actor's organisation and user, and the request
id and client address the middleware put in context (:mod:`app.db.audit`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db import audit
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
