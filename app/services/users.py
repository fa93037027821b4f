"""User administration use cases, shared by the JSON API (``app.api.admin``) and the admin pages
(``app.web.admin``): each change is checked, made and audited here, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.db import accounts
from app.exceptions import Conflict, InvalidInput
from app.schemas.admin import UserCreate
from app.security import Principal
from app.services.audit import record_action
from app.settings import Settings


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
    record_action(session, principal, "user.create", f"user:{user_id}", {"role": body.role})
    return {"user_id": user_id, "token_id": issued.token_id, "token": issued.token, "expires_at": issued.expires_at}


def revoke_all_tokens(session: Session, principal: Principal, user_id: int, email: str) -> int:
    """Revoke every token and session of a user, audited (API and admin pages)."""
    revoked = accounts.revoke_tokens(session, email=email)
    record_action(session, principal, "user.revoke", f"user:{user_id}", {"revoked": revoked})
    return revoked


def set_disabled(session: Session, principal: Principal, user_id: int, disabled: bool) -> dict[str, Any]:
    """Disable or enable a user, audited; never oneself (API and admin pages)."""
    if disabled and user_id == principal.user_id:
        # An organisation whose only admin disables themself has nobody left to enable them.
        raise InvalidInput("you cannot disable your own account", field="user_id")
    changed = accounts.set_disabled(session, disabled, user_id=user_id)
    record_action(session, principal, "user.disable" if disabled else "user.enable", f"user:{user_id}")
    return changed
