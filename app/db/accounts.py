"""Organisations, users and tokens. Used by the CLI (owner connection) and the admin API (tenant)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.exceptions import Conflict, InvalidInput, NotFound
from app.security import hash_password, hash_token, new_token
from geo.vocabulary import ROLES


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: int
    expires_at: datetime


def add_organisation(session: Session, slug: str, name: str, service_area_wkt: str | None = None) -> int:
    try:
        with session.begin_nested():
            return int(session.execute(
                text("INSERT INTO organisations (slug, name, service_area) VALUES (:slug, :name, "
                     "CASE WHEN CAST(:area AS text) IS NULL THEN NULL "
                     "ELSE ST_Multi(ST_GeomFromText(CAST(:area AS text), 4326)) END) RETURNING id"),
                {"slug": slug, "name": name, "area": service_area_wkt},
            ).scalar_one())
    except IntegrityError as exc:
        raise Conflict(f"an organisation with slug {slug!r} already exists, or the slug is invalid "
                       "(lower-case letters, digits and hyphens)", field="slug") from exc


def organisation_id(session: Session, slug: str) -> int:
    found = session.execute(text("SELECT id FROM organisations WHERE slug = :s"), {"s": slug}).scalar()
    if found is None:
        raise NotFound(f"no organisation {slug!r}", field="org")
    return int(found)


def add_user(session: Session, organisation: int, email: str, role: str, password: str | None = None) -> int:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}", field="role")
    if "@" not in email or len(email) > 320:
        raise InvalidInput("not an e-mail address", field="email")
    try:
        with session.begin_nested():
            return int(session.execute(
                text("INSERT INTO users (organisation_id, email, role, password_hash) "
                     "VALUES (:org, :email, :role, :pw) RETURNING id"),
                {"org": organisation, "email": email, "role": role,
                 "pw": hash_password(password) if password else None},
            ).scalar_one())
    except IntegrityError as exc:
        raise Conflict(f"a user with e-mail {email!r} already exists", field="email") from exc


def issue_token(session: Session, organisation: int, user_id: int, kind: str, ttl: timedelta) -> IssuedToken:
    token = new_token()
    expires_at = datetime.now(UTC) + ttl
    token_id = session.execute(
        text("INSERT INTO api_tokens (organisation_id, user_id, kind, token_hash, prefix, expires_at) "
             "VALUES (:org, :user, :kind, :hash, :prefix, :exp) RETURNING id"),
        {"org": organisation, "user": user_id, "kind": kind, "hash": hash_token(token),
         "prefix": token[:10], "exp": expires_at},
    ).scalar_one()
    return IssuedToken(token, int(token_id), expires_at)


def revoke_tokens(session: Session, *, email: str | None = None, token_id: int | None = None,
                  token: str | None = None) -> int:
    """Revoke by user e-mail (all their tokens and sessions), by token id, or by the token itself."""
    params: dict[str, Any]
    if email is not None:
        sql, params = ("UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND user_id IN "
                       "(SELECT id FROM users WHERE lower(email) = lower(:email))"), {"email": email}
    elif token_id is not None:
        sql, params = "UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND id = :id", {"id": token_id}
    elif token is not None:
        sql, params = ("UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND token_hash = :h",
                       {"h": hash_token(token)})
    else:
        raise InvalidInput("say which tokens to revoke", field="email")
    return int(session.execute(text(sql), params).rowcount)  # type: ignore[attr-defined]


def set_disabled(session: Session, disabled: bool, *, user_id: int | None = None,
                 email: str | None = None) -> dict[str, Any]:
    """Disable (or enable again) one user, by id or e-mail; raises :class:`NotFound`.

    A disabled user can neither sign in nor use a token: both lookups (``contextmap_login_user``,
    ``contextmap_token_user``) skip disabled users on every request, so this takes effect at once. Their
    browser sessions are revoked as well, so enabling them again means signing in afresh; their API tokens
    are suspended, not revoked, and work again once enabled (revoke them separately to end them).
    """
    if (user_id is None) == (email is None):
        raise InvalidInput("say which user: an id or an e-mail", field="email")
    where, params = ("id = :id", {"id": user_id}) if user_id is not None else \
        ("lower(email) = lower(:email)", {"email": email})
    # now() only as a whole assignment: Citus refuses a non-immutable function inside CASE or COALESCE when
    # it changes a reference table (users is one on a cluster).
    if disabled:
        session.execute(text(f"UPDATE users SET disabled_at = now() WHERE {where} AND disabled_at IS NULL"), params)
        statement = f"SELECT id, organisation_id, email, disabled_at FROM users WHERE {where}"
    else:
        statement = (f"UPDATE users SET disabled_at = NULL WHERE {where} "
                     "RETURNING id, organisation_id, email, disabled_at")
    row = session.execute(text(statement), params).mappings().first()
    if row is None:
        raise NotFound(f"no user {user_id if user_id is not None else email!r} in your organisation",
                       field="user_id" if user_id is not None else "email")
    if disabled:
        session.execute(text("UPDATE api_tokens SET revoked_at = now() "
                             "WHERE user_id = :id AND kind = 'session' AND revoked_at IS NULL"), {"id": row["id"]})
    return dict(row)


def user_exists(session: Session, email: str) -> bool:
    found = session.execute(text("SELECT 1 FROM users WHERE lower(email) = lower(:e)"), {"e": email}).first()
    return found is not None


def list_users(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(text(
        "SELECT u.id, u.email, u.role, u.created_at, u.disabled_at, "
        "(SELECT count(*) FROM api_tokens t WHERE t.user_id = u.id AND t.kind = 'api' AND t.revoked_at IS NULL "
        " AND t.expires_at > now()) AS active_tokens FROM users u ORDER BY u.id"
    )).mappings()
    return [dict(r) for r in rows]


def login_candidate(session: Session, email: str) -> dict[str, Any] | None:
    row = session.execute(
        text("SELECT user_id, organisation_id, role, email, password_hash FROM contextmap_login_user(:e)"),
        {"e": email},
    ).mappings().first()
    return dict(row) if row else None


def token_user(session: Session, token_hash: str) -> Any:
    """The user behind a token or session digest (``contextmap_token_user``: skips expired, revoked and
    disabled), as a row with ``user_id, organisation_id, role, email, kind`` and the organisation's own
    ``suppress_max, round_to`` (None: the deployment's); None when there is none."""
    return session.execute(
        text("SELECT user_id, organisation_id, role, email, kind, suppress_max, round_to "
             "FROM contextmap_token_user(:h)"), {"h": token_hash},
    ).first()


def user_email(session: Session, user_id: int) -> str | None:
    """The e-mail of a user of the session's organisation (row-level security), or None."""
    value = session.execute(text("SELECT email FROM users WHERE id = :id"), {"id": user_id}).scalar()
    return None if value is None else str(value)
