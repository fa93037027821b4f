"""The append-only audit trail: who did or saw what, when, from where (DESIGN.md, Privacy)."""

from __future__ import annotations

import json
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_request_id_var: ContextVar[str | None] = ContextVar("client_request_id", default=None)
client_var: ContextVar[str | None] = ContextVar("client", default=None)


def record(
    session: Session, *, organisation_id: int | None, user_id: int | None, action: str,
    resource: str | None = None, detail: dict[str, Any] | None = None,
) -> None:
    if organisation_id is None:
        # No organisation yet (a sign-in refused before anyone is known): its own table (0015), as the
        # organisation is the distribution column of audit_events on Citus and cannot be NULL.
        statement = (
            "INSERT INTO audit_events_unattributed (user_id, action, resource, request_id, client_request_id, "
            "client, detail) VALUES (:user, :action, :resource, :rid, :crid, :client, CAST(:detail AS jsonb))"
        )
    else:
        # ``at`` is not ours to give: the database stamps it (migration 0007) and checks the user.
        statement = (
            "INSERT INTO audit_events (organisation_id, user_id, action, resource, request_id, client_request_id, "
            "client, detail) VALUES (:org, :user, :action, :resource, :rid, :crid, :client, CAST(:detail AS jsonb))"
        )
    session.execute(
        text(statement),
        {
            "org": organisation_id, "user": user_id, "action": action, "resource": resource,
            "rid": request_id_var.get(), "crid": client_request_id_var.get(), "client": client_var.get(),
            "detail": json.dumps(detail or {}, default=str),
        },
    )


def query(
    session: Session, *, user_id: int | None = None, action: str | None = None,
    since: datetime | None = None, until: datetime | None = None, limit: int = 100, offset: int = 0,
) -> list[dict[str, Any]]:
    where: list[str] = ["true"]
    params: dict[str, Any] = {"lim": limit, "off": offset}
    if user_id is not None:
        where.append("user_id = :user_id")
        params["user_id"] = user_id
    if action is not None:
        where.append("action = :action")
        params["action"] = action
    if since is not None:
        where.append("at >= :since")
        params["since"] = since
    if until is not None:
        where.append("at < :until")
        params["until"] = until
    rows = session.execute(
        text(
            "SELECT id, organisation_id, user_id, at, action, resource, request_id, client_request_id, client, detail "
            f"FROM audit_events WHERE {' AND '.join(where)} ORDER BY at DESC, id DESC LIMIT :lim OFFSET :off"
        ),
        params,
    ).mappings()
    return [dict(r) for r in rows]
