"""Administration: users, tokens and the audit log (admins only), and the public health check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from app import policy
from app.db import accounts, audit, catalog
from app.dependencies import DatabaseDep, Principal, SessionDep, SettingsDep, gate
from app.errors import problem
from app.query import parse_instant
from app.schemas.admin import UserCreate
from app.services.users import add_user_with_token, revoke_all_tokens, set_disabled

router = APIRouter(prefix="/api", tags=["administration"])
health_router = APIRouter(tags=["health"])


class UserOut(BaseModel):
    id: int
    email: str
    role: str
    created_at: datetime
    disabled_at: datetime | None = None
    active_tokens: int = 0


class IssuedTokenOut(BaseModel):
    user_id: int
    token_id: int
    token: str
    expires_at: datetime


class AuditEventOut(BaseModel):
    id: int
    organisation_id: int | None = None
    user_id: int | None = None
    at: datetime
    action: str
    resource: str | None = None
    request_id: str | None = None
    client_request_id: str | None = None
    client: str | None = None
    detail: dict[str, Any] = {}


class Health(BaseModel):
    status: str
    database: str
    postgis: str | None = None


@health_router.get("/healthz", response_model=Health,
                   responses={503: {"description": "The database cannot be reached"}})
def healthz(request: Request, database: DatabaseDep, _: None = gate(policy.PUBLIC)) -> Any:
    # 503 when the database cannot answer, so a load balancer stops routing here (a 200 "degraded" did not).
    try:
        with database.tenant_session(None, lane="cheap") as session:
            version = catalog.postgis_version(session)
    except Exception:  # health reports, it does not raise
        return problem(503, "Database unavailable", "The database cannot be reached.", instance="/healthz",
                       headers={"Retry-After": str(request.app.state.settings.retry_after_seconds)})
    return {"status": "ok", "database": "ok", "postgis": version}


@router.get("/users", response_model=list[UserOut])
def list_users(session: SessionDep, _: Principal = gate(policy.ADMINISTER)) -> list[dict[str, Any]]:
    return accounts.list_users(session)


@router.post("/users", response_model=IssuedTokenOut, status_code=201)
def create_user(
    body: UserCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = gate(policy.ADMINISTER),
) -> dict[str, Any]:
    """Create a user in the admin's own organisation and issue their first API token (shown once)."""
    return add_user_with_token(session, settings, principal, body)


@router.post("/users/{user_id}/revoke", status_code=200)
def revoke_user_tokens(
    user_id: int, session: SessionDep, principal: Principal = gate(policy.ADMINISTER)
) -> dict[str, int]:
    email = accounts.user_email(session, user_id)
    if email is None:
        from app.errors import NotFound

        raise NotFound(f"no user {user_id} in your organisation", field="user_id")
    return {"revoked": revoke_all_tokens(session, principal, user_id, email)}


class UserStatusOut(BaseModel):
    id: int
    email: str
    disabled_at: datetime | None = None


@router.post("/users/{user_id}/disable", response_model=UserStatusOut)
def disable_user(user_id: int, session: SessionDep, principal: Principal = gate(policy.ADMINISTER)) -> dict[str, Any]:
    """Disable a user at once: no sign-in, no token, and their browser sessions end. Reversible."""
    return set_disabled(session, principal, user_id, True)


@router.post("/users/{user_id}/enable", response_model=UserStatusOut)
def enable_user(user_id: int, session: SessionDep, principal: Principal = gate(policy.ADMINISTER)) -> dict[str, Any]:
    """Enable a disabled user again (their unrevoked API tokens work again; they sign in afresh)."""
    return set_disabled(session, principal, user_id, False)


@router.get("/audit", response_model=list[AuditEventOut])
def list_audit_events(
    session: SessionDep,
    user_id: Annotated[int | None, Query()] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(description="RFC 3339 date-time")] = None,
    until: Annotated[str | None, Query(description="RFC 3339 date-time")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    _: Principal = gate(policy.ADMINISTER),
) -> list[dict[str, Any]]:
    return audit.query(session, audit.AuditSearch(
        user_id=user_id, action=action, since=parse_instant(since, "since") if since else None,
        until=parse_instant(until, "until") if until else None, limit=limit, offset=offset))
