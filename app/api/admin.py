"""Administration: users, tokens and the audit log (admins only), and the public health check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import text

from app import policy
from app.db import accounts, audit
from app.dependencies import DatabaseDep, Principal, SessionDep, SettingsDep, gate
from app.query import parse_instant
from app.schemas.common import StrictModel, enum_schema, one_of
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
    client: str | None = None
    detail: dict[str, Any] = {}


class Health(BaseModel):
    status: str
    database: str
    postgis: str | None = None


@health_router.get("/healthz", response_model=Health)
def healthz(database: DatabaseDep, _: None = gate(policy.PUBLIC)) -> dict[str, Any]:
    try:
        with database.tenant_session(None) as session:
            version = session.execute(text("SELECT postgis_lib_version()")).scalar()
        return {"status": "ok", "database": "ok", "postgis": version}
    except Exception:  # health reports, it does not raise
        return {"status": "degraded", "database": "unavailable", "postgis": None}


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
    user_id = accounts.add_user(session, principal.organisation_id, body.email, body.role, body.password)
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
    email = session.execute(text("SELECT email FROM users WHERE id = :id"), {"id": user_id}).scalar()
    if email is None:
        from app.errors import NotFound

        raise NotFound(f"no user {user_id} in your organisation", field="user_id")
    revoked = accounts.revoke_tokens(session, email=email)
    audit.record(
        session,
        organisation_id=principal.organisation_id,
        user_id=principal.user_id,
        action="user.revoke",
        resource=f"user:{user_id}",
        detail={"revoked": revoked},
    )
    return {"revoked": revoked}


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
