"""The append-only audit trail: who did or saw what, when, from where (DESIGN.md, Privacy)."""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.session import CURRENT_ORG_SQL

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


@dataclass(frozen=True)
class AuditSearch:
    """Which audit events to read (the API's ``/api/audit`` and the admin pages' audit log): the one filter."""

    user_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    limit: int = 50
    offset: int = 0

    def where(self, alias: str = "a") -> tuple[str, dict[str, Any]]:
        # The organisation is named, not left to row-level security alone: on Citus the bound id routes the
        # page to the one shard holding it (app.db.session replaces the expression by the constant).
        clauses: list[str] = [f"{alias}.organisation_id = {CURRENT_ORG_SQL}"]
        params: dict[str, Any] = {}
        if self.user_id is not None:
            clauses.append(f"{alias}.user_id = :user_id")
            params["user_id"] = self.user_id
        if self.action is not None:
            clauses.append(f"{alias}.action = :action")
            params["action"] = self.action
        if self.since is not None:
            clauses.append(f"{alias}.at >= :since")
            params["since"] = self.since
        if self.until is not None:
            clauses.append(f"{alias}.at < :until")
            params["until"] = self.until
        return "WHERE " + " AND ".join(clauses), params


def query(session: Session, search: AuditSearch) -> list[dict[str, Any]]:
    """Events of the organisation (row-level security), newest first."""
    where, params = search.where("a")
    rows = session.execute(
        text(
            "SELECT id, organisation_id, user_id, at, action, resource, request_id, client_request_id, client, detail "
            f"FROM audit_events a {where} ORDER BY at DESC, id DESC LIMIT :lim OFFSET :off"
        ),
        {**params, "lim": search.limit, "off": search.offset},
    ).mappings()
    return [dict(r) for r in rows]
