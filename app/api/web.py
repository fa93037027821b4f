"""Browser pages: sign-in (session cookie), sign-out and the home page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app import policy
from app.db import accounts, audit, reviews
from app.db import maps as maps_db
from app.dependencies import SESSION_COOKIE, DatabaseDep, Principal, SessionDep, SettingsDep, gate
from app.security import csrf_token, verify_password

router = APIRouter(tags=["web"], include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))

HOME_INTERVENTIONS = 8
MAP_PAGES = (
    ("/maps/hotspots", "Hotspots", "Where harm concentrates, statistically, and what is there"),
    ("/maps/safe-spaces", "Safe spaces", "Safe spaces open now, walking catchments and trusted adults"),
    ("/maps/displacement", "Displacement", "Where harm moved after an intervention, month by month"),
)


def _safe_next(value: str | None) -> str:
    # Only same-site relative paths: never an open redirect.
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/"
    return value


@router.get("/signin", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None, _: None = gate(policy.PUBLIC)) -> Response:
    return templates.TemplateResponse(request, "signin.html", {"next": _safe_next(next), "error": None})


@router.post("/signin", response_class=HTMLResponse)
def sign_in(
    request: Request, database: DatabaseDep, settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)], password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form()] = None, _: None = gate(policy.PUBLIC),
) -> Response:
    throttle = request.app.state.sign_in_throttle
    client = request.client.host if request.client else "-"
    key = f"{email.lower()}|{client}"
    if throttle.blocked(key):
        with database.tenant_session(None) as session, session.begin():
            audit.record(session, organisation_id=None, user_id=None, action="signin.throttled",
                         resource=f"user:{email.lower()}")
        return templates.TemplateResponse(
            request, "signin.html",
            {"next": _safe_next(next), "error": "Too many failed attempts. Wait a few minutes and try again."},
            status_code=429,
        )
    with database.tenant_session(None) as session, session.begin():
        candidate = accounts.login_candidate(session, email)
    if candidate is None or not verify_password(candidate["password_hash"], password):
        throttle.failed(key)
        # A failure for a known user is recorded in that user's organisation so its admins can see it.
        organisation = candidate["organisation_id"] if candidate else None
        with database.tenant_session(organisation) as session, session.begin():
            audit.record(session, organisation_id=organisation,
                         user_id=candidate["user_id"] if candidate else None,
                         action="signin.failure", resource=f"user:{email.lower()}")
        return templates.TemplateResponse(
            request, "signin.html", {"next": _safe_next(next), "error": "Wrong e-mail or password."},
            status_code=401,
        )
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
    audit.record(session, organisation_id=principal.organisation_id, user_id=principal.user_id,
                 action="signout", resource=f"user:{principal.email}")
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def page_context(request: Request, principal: Principal, settings: Any) -> dict[str, Any]:
    token = request.cookies.get(SESSION_COOKIE, "")
    return {"principal": principal, "csrf": csrf_token(settings.secret_key, token) if token else "",
            "map_pages": MAP_PAGES}


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: SessionDep, settings: SettingsDep,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> Response:
    """After sign-in: links to the maps and the organisation's places under review."""
    under_review = reviews.places_under_review(session)
    organisation = reviews.organisation_name(session)
    # The newest located interventions, each a link to where harm went afterwards (panel: no free text).
    interventions = [
        {**item, "description": None if principal.is_panel else item["description"]}
        for item in maps_db.intervention_list(session) if item["located"]
    ][:HOME_INTERVENTIONS]
    context = page_context(request, principal, settings) | {
        "under_review": under_review, "organisation": organisation, "interventions": interventions,
    }
    return templates.TemplateResponse(request, "home.html", context)
