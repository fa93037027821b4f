"""Request dependencies with names you can read in a signature: the database session of the signed-in
user's organisation, the principal, and the role gates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from app.db import accounts
from app.db.session import Database
from app.errors import Forbidden, NotAuthenticated
from app.policy import Gate
from app.security import Principal, csrf_matches, hash_token
from app.services.disclosure import Disclosure
from app.settings import Settings

SESSION_COOKIE = "contextmap_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]


def _presented_token(request: Request) -> tuple[str | None, str]:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), "token"
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, "cookie"
    return None, "none"


def lookup_principal(database: Database, token: str, via: str) -> Principal | None:
    with database.tenant_session(None) as session, session.begin():
        row = accounts.token_user(session, hash_token(token))
    if row is None:
        return None
    if via == "token" and row.kind != "api":
        return None  # a session cookie value is not an API token
    if via == "cookie" and row.kind != "session":
        return None
    return Principal(row.user_id, row.organisation_id, row.role, row.email, via, row.suppress_max, row.round_to)


def get_principal(request: Request, database: DatabaseDep, settings: SettingsDep) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token, via = _presented_token(request)
    if token is None:
        raise NotAuthenticated("Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    principal = lookup_principal(database, token, via)
    if principal is None:
        raise NotAuthenticated("The token or session is invalid, expired or revoked.")
    # Cookies ride along with cross-site requests: cookie-authenticated writes need the CSRF token.
    if via == "cookie" and request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER) or request.query_params.get("csrf_token")
        if not csrf_matches(settings.secret_key, token, presented):
            raise Forbidden("Missing or wrong CSRF token for a cookie-authenticated change.",
                            field=CSRF_HEADER)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


class RoleGate:
    """A route's rule from the role table; use as ``Depends(RoleGate(policy.X))``."""

    def __init__(self, gate: Gate):
        self.gate = gate

    def __call__(self, request: Request, database: DatabaseDep, settings: SettingsDep) -> Principal | None:
        if self.gate.public:
            return None
        principal = get_principal(request, database, settings)
        if not self.gate.allows(principal.role):
            raise Forbidden(f"The {principal.role} role may not do this ({self.gate.name}).")
        return principal


def gate(g: Gate) -> Any:
    """``Depends`` on a role gate; returns the principal (``None`` only on public routes)."""
    return Depends(RoleGate(g))


def tenant_session(principal: CurrentPrincipal, database: DatabaseDep) -> Iterator[Session]:
    with database.request_transaction(principal.organisation_id) as session:
        yield session


# scope="function": the transaction commits and the connection goes back to the pool when the route
# returns, *before* the response is sent. With FastAPI's default ("request") the commit ran after the
# client had its 2xx, so a failed commit was an acknowledged write that was never saved, and a slow
# reader held a connection idle in transaction until it had read the whole body.
SessionDep = Annotated[Session, Depends(tenant_session, scope="function")]


# ---- disclosure: resolved once per request ------------------------------------------------------------
def reader_disclosure(principal: CurrentPrincipal, settings: SettingsDep) -> Disclosure:
    """What this reader may see (panel: disclosure-controlled), for routes without ``shareable``."""
    return Disclosure.for_reader(principal, settings)


def shareable_disclosure(
    principal: CurrentPrincipal, settings: SettingsDep,
    shareable: Annotated[bool, Query(description="disclosure-controlled output for sharing, for any role")]
    = False,
) -> Disclosure:
    """As :func:`reader_disclosure`, and controlled for any role asking ``shareable=true``."""
    return Disclosure.for_reader(principal, settings, shareable)


ReaderDisclosure = Annotated[Disclosure, Depends(reader_disclosure)]
ShareableDisclosure = Annotated[Disclosure, Depends(shareable_disclosure)]
