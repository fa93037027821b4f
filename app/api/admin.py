"""Administration: users, tokens and the audit log (admins only), and the public health check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app import policy
from app.db import accounts, audit, catalog
from app.dependencies import DatabaseDep, Principal, SessionDep, SettingsDep, gate
from app.errors import Conflict, InvalidInput, problem
from app.query import parse_instant
from app.schemas.common import StrictModel, enum_schema, one_of
from app.settings import Settings
from geo.vocabulary import ROLES

router = APIRouter(prefix="/api", tags=["administration"])
health_router = APIRouter(tags=["health"])


class UserCreate(StrictModel):
    email: Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
    role: Annotated[str, one_of(ROLES), enum_schema(ROLES, "role")]
    password: Annotated[str, Field(min_length=12, max_length=1024)] | None = None


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


def add_user_with_token(session: Session, settings: Settings, principal: Principal, body: UserCreate) -> dict[str, Any]:
    """The one way to add a user (API and admin pages): create, issue the first API token, audit."""
    try:
        user_id = accounts.add_user(session, principal.organisation_id, body.email, body.role, body.password)
    except Conflict:
        # E-mails are unique across organisations (sign-in knows no organisation), but an admin sees only
        # their own users (row-level security): never confirm an address held in another organisation.
        if accounts.user_exists(session, body.email):
            raise Conflict("a user with this e-mail already exists in your organisation", field="email") from None
        raise Conflict("this e-mail address cannot be used for a new account; use another", field="email") from None
    issued = accounts.issue_token(
        session, principal.organisation_id, user_id, "api", timedelta(days=settings.token_ttl_days)
    )
    audit.record(
        session,
        organisation_id=principal.organisation_id,
        user_id=principal.user_id,
        action="user.create",
        resource=f"user:{user_id}",
        detail={"role": body.role},
    )
    return {"user_id": user_id, "token_id": issued.token_id, "token": issued.token, "expires_at": issued.expires_at}


@router.post("/users/{user_id}/revoke", status_code=200)
def revoke_user_tokens(
    user_id: int, session: SessionDep, principal: Principal = gate(policy.ADMINISTER)
) -> dict[str, int]:
    email = accounts.user_email(session, user_id)
    if email is None:
        from app.errors import NotFound

        raise NotFound(f"no user {user_id} in your organisation", field="user_id")
    return {"revoked": revoke_all_tokens(session, principal, user_id, email)}


def revoke_all_tokens(session: Session, principal: Principal, user_id: int, email: str) -> int:
    """Revoke every token and session of a user, audited (API and admin pages)."""
    revoked = accounts.revoke_tokens(session, email=email)
    audit.record(
        session,
        organisation_id=principal.organisation_id,
        user_id=principal.user_id,
        action="user.revoke",
        resource=f"user:{user_id}",
        detail={"revoked": revoked},
    )
    return revoked


class UserStatusOut(BaseModel):
    id: int
    email: str
    disabled_at: datetime | None = None


def set_disabled(session: Session, principal: Principal, user_id: int, disabled: bool) -> dict[str, Any]:
    """Disable or enable a user, audited; never oneself (API and admin pages)."""
    if disabled and user_id == principal.user_id:
        # An organisation whose only admin disables themself has nobody left to enable them.
        raise InvalidInput("you cannot disable your own account", field="user_id")
    changed = accounts.set_disabled(session, disabled, user_id=user_id)
    audit.record(session, organisation_id=principal.organisation_id, user_id=principal.user_id,
                 action="user.disable" if disabled else "user.enable", resource=f"user:{user_id}")
    return changed


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
    return audit.query(
        session,
        user_id=user_id,
        action=action,
        since=parse_instant(since, "since") if since else None,
        until=parse_instant(until, "until") if until else None,
        limit=limit,
        offset=offset,
    )
