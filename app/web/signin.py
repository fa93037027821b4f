"""Browser sign-in (session cookie, login CSRF token) and sign-out. The pages themselves live in app.web."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import policy
from app.db import accounts, audit
from app.dependencies import SESSION_COOKIE, DatabaseDep, Principal, SessionDep, SettingsDep, gate
from app.security import csrf_matches, csrf_token, verify_password
from app.services.audit import record_action
from app.settings import Settings
from app.web.shell import page

router = APIRouter(tags=["web"], include_in_schema=False)

# Login CSRF (OWASP CSRF cheat sheet, "Login CSRF"): before there is a session, a random pre-session
# value lives in an HttpOnly SameSite=Strict cookie and the form carries its HMAC; a cross-site page can
# neither read the cookie nor forge the token, so it cannot sign a victim into the attacker's account.
SIGNIN_COOKIE = "contextmap_signin"
SIGNIN_CSRF_FIELD = "csrf_token"


def _safe_next(value: str | None) -> str:
    # Only same-site relative paths: never an open redirect.
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/"
    return value


def _signin_token(settings: Settings, nonce: str) -> str:
    return csrf_token(settings.secret_key, f"signin:{nonce}")


def _signin_form(
    request: Request, settings: Settings, next: str | None, *, email: str = "", error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The sign-in page; keeps the e-mail typed and renews the pre-session CSRF cookie if it is missing."""
    nonce = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "signin.html", principal=None, title="Sign in", status_code=status_code,
                    next=_safe_next(next), email=email, error=error,
                    error_summary=bool(error), signin_csrf=_signin_token(settings, nonce))
    if SIGNIN_COOKIE not in request.cookies:
        response.set_cookie(SIGNIN_COOKIE, nonce, httponly=True, secure=settings.cookie_secure,
                            samesite="strict", path="/signin", max_age=3600)
    return response


@router.get("/signin", response_class=HTMLResponse)
def sign_in_page(
    request: Request, settings: SettingsDep, next: str | None = None, _: None = gate(policy.PUBLIC),
) -> Response:
    return _signin_form(request, settings, next)


@router.post("/signin", response_class=HTMLResponse)
def sign_in(
    request: Request, database: DatabaseDep, settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)], password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form()] = None,
    csrf_token: Annotated[str | None, Form(max_length=128)] = None, _: None = gate(policy.PUBLIC),
) -> Response:
    nonce = request.cookies.get(SIGNIN_COOKIE)
    if not nonce or not csrf_matches(settings.secret_key, f"signin:{nonce}", csrf_token):
        # Checked before any account lookup: a forged sign-in learns nothing and costs no throttle slot.
        return _signin_form(request, settings, next, email=email, status_code=403,
                            error="Your sign-in form had expired or did not come from this site. Try again.")
    throttle = request.app.state.sign_in_throttle
    client = request.client.host if request.client else "-"
    key = f"{email.lower()}|{client}"
    if throttle.blocked(key):
        with database.tenant_session(None) as session, session.begin():
            audit.record(session, organisation_id=None, user_id=None, action="signin.throttled",
                         resource=f"user:{email.lower()}")
        return _signin_form(request, settings, next, email=email, status_code=429,
                            error="Too many failed attempts. Wait a few minutes and try again.")
    with database.tenant_session(None) as session, session.begin():
        candidate = accounts.login_candidate(session, email)
    # Verified even for an unknown e-mail (against a dummy hash), so the answer takes as long either way.
    verified = verify_password(candidate["password_hash"] if candidate else None, password)
    if candidate is None or not verified:
        throttle.failed(key)
        # A failure for a known user is recorded in that user's organisation so its admins can see it.
        organisation = candidate["organisation_id"] if candidate else None
        with database.tenant_session(organisation) as session, session.begin():
            audit.record(session, organisation_id=organisation,
                         user_id=candidate["user_id"] if candidate else None,
                         action="signin.failure", resource=f"user:{email.lower()}")
        return _signin_form(request, settings, next, email=email, status_code=401,
                            error="Wrong e-mail or password.")
    throttle.succeeded(key)
    organisation = candidate["organisation_id"]
    with database.tenant_session(organisation) as session, session.begin():
        issued = accounts.issue_token(session, organisation, candidate["user_id"], "session",
                                      timedelta(hours=settings.session_ttl_hours))
        audit.record(session, organisation_id=organisation, user_id=candidate["user_id"],
                     action="signin.success", resource=f"user:{candidate['email']}")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, issued.token, max_age=settings.session_ttl_hours * 3600, httponly=True,
        secure=settings.cookie_secure, samesite="strict", path="/",
    )
    return response


@router.post("/signout")
def sign_out(
    request: Request, session: SessionDep, principal: Principal = gate(policy.READ_CONTEXT),
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.revoke_tokens(session, token=token)
    record_action(session, principal, "signout", f"user:{principal.email}")
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

