"""Request dependencies with names you can read in a signature: the database session of the signed-in
user's organisation, the principal, and the role gates."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from app.db import accounts
from app.db.session import Database
from app.errors import Forbidden, NotAuthenticated
from app.middleware import FORM_CSRF_FIELD, FORM_CSRF_STATE
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


def _kind_fits(kind: str, via: str) -> bool:
    # A session cookie value is not an API token, nor the other way round.
    return (via == "token" and kind == "api") or (via == "cookie" and kind == "session")


def lookup_principal(database: Database, token: str, via: str) -> Principal | None:
    # Always the cheap lane: a heavy route may already hold its lane's only connection (heavy_pool_size=1)
    # when a remembered role is looked up afresh.
    with database.tenant_session(None, lane="cheap") as session, session.begin():
        row = accounts.token_user(session, hash_token(token))
    if row is None or not _kind_fits(row.kind, via):
        return None
    return Principal(row.user_id, row.organisation_id, row.role, row.email, via, row.suppress_max, row.round_to)


class PrincipalCache:
    """Principals remembered per credential digest, so a request does not spend a second connection (a pool
    checkout, BEGIN, a query and COMMIT) on the token look-up before its own transaction.

    Nothing is trusted from it unchecked: a remembered principal is used only by a route that opens the
    request's transaction, whose first statement looks the credential up again in the same round trip as
    the organisation scope (:meth:`app.db.session.Database.request_transaction`); a revoked, expired or
    disabled credential, or a changed role, is refused there with 401 (:func:`tenant_session`) and
    forgotten. So revocation takes effect at once, from any process. A role changed by another process
    costs its user one 401 (the next request looks the credential up afresh); in this process the admin
    pages forget every remembered principal (:func:`forget_principals`). Bounded in size and age.
    """

    def __init__(self, seconds: float, size: int = 10_000):
        self.seconds, self.size = seconds, size
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + self.seconds, principal)

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _principal_cache(request: Request, settings: Settings) -> PrincipalCache:
    cache: PrincipalCache | None = getattr(request.app.state, "principal_cache", None)
    if cache is None:
        cache = request.app.state.principal_cache = PrincipalCache(settings.principal_cache_seconds)
    return cache


def forget_principals(request: Request) -> None:
    """After a role change in this process: no remembered principal carries the old role. (Another
    process notices in the request's own transaction and answers 401 once; see :class:`PrincipalCache`.)"""
    cache: PrincipalCache | None = getattr(request.app.state, "principal_cache", None)
    if cache is not None:
        cache.clear()


_OPENS_TRANSACTION: dict[int, bool] = {}


def _route_opens_transaction(request: Request) -> bool:
    """Whether the matched route depends on :func:`tenant_session` (where a remembered principal is checked)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return False
    known = _OPENS_TRANSACTION.get(id(route))
    if known is None:
        def calls(d: Any) -> Iterator[Any]:
            yield d.call
            for sub in d.dependencies:
                yield from calls(sub)

        known = _OPENS_TRANSACTION[id(route)] = any(call is tenant_session for call in calls(dependant))
    return known


def get_principal(request: Request, database: DatabaseDep, settings: SettingsDep) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token, via = _presented_token(request)
    if token is None:
        raise NotAuthenticated("Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    digest = hash_token(token)
    cache = _principal_cache(request, settings)
    principal = cache.get(digest) if _route_opens_transaction(request) else None
    if principal is not None and principal.via == via:
        request.state.check_token = digest  # checked again in the request's own transaction
    else:
        principal = lookup_principal(database, token, via)
        if principal is None:
            cache.forget(digest)
            raise NotAuthenticated("The token or session is invalid, expired or revoked.")
        cache.put(digest, principal)
    # Cookies ride along with cross-site requests: cookie-authenticated writes need the CSRF token.
    if via == "cookie" and request.method not in SAFE_METHODS:
        # From JavaScript as a header; from an HTML form as its hidden field, which FormCsrfMiddleware read
        # from the body. Never from the URL: a URL reaches the browser history, Referer headers and logs.
        presented = request.headers.get(CSRF_HEADER) or getattr(request.state, FORM_CSRF_STATE, None)
        if not csrf_matches(settings.secret_key, token, presented):
            raise Forbidden("Missing or wrong CSRF token for a cookie-authenticated change "
                            f"(send the form's hidden '{FORM_CSRF_FIELD}' field or the {CSRF_HEADER} header).",
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
        digest = getattr(request.state, "check_token", None)
        if not self.gate.allows(principal.role) and digest is not None:
            # A remembered role may be out of date (raised since): look the credential up afresh.
            _principal_cache(request, settings).forget(digest)
            request.state.principal = request.state.check_token = None
            principal = get_principal(request, database, settings)
        if not self.gate.allows(principal.role):
            raise Forbidden(f"The {principal.role} role may not do this ({self.gate.name}).")
        return principal


def gate(g: Gate) -> Any:
    """``Depends`` on a role gate; returns the principal (``None`` only on public routes)."""
    return Depends(RoleGate(g))


def tenant_session(request: Request, principal: CurrentPrincipal, database: DatabaseDep,
                   settings: SettingsDep) -> Iterator[Session]:
    digest: str | None = getattr(request.state, "check_token", None)
    with database.request_transaction(principal.organisation_id, token_hash=digest) as session:
        if digest is not None:
            row = session.info.pop("token_user", None)
            same = row is not None and (row.user_id, row.organisation_id, row.role) == (
                principal.user_id, principal.organisation_id, principal.role)
            if not same or not _kind_fits(row.kind, principal.via):
                _principal_cache(request, settings).forget(digest)
                raise NotAuthenticated("The token or session is invalid, expired or revoked.")
            if (row.suppress_max, row.round_to) != (principal.suppress_max, principal.round_to):
                # The organisation's own disclosure thresholds changed (in another process): remembered from
                # the next request on. They only ever tighten above the deployment's floor (app.services.disclosure).
                fresh = replace(principal, suppress_max=row.suppress_max, round_to=row.round_to)
                _principal_cache(request, settings).put(digest, fresh)
                request.state.principal = fresh
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
