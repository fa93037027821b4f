"""Error pages for people using a browser, in the same shell as every other page (the API keeps RFC 9457
problem+json). Nothing here reveals SQL, code or another organisation's data: the page says what
happened in plain words and where to go next."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.db import reviews
from app.security import Principal
from app.web.shell import page

log = logging.getLogger("contextmap")

HEADINGS = {
    401: "You need to sign in",
    403: "You cannot do this with your role",
    404: "Page not found",
    422: "There is a problem with the address or form",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}
# Paths whose clients are programs: they keep problem+json even when a browser asks.
API_PREFIXES = ("/api", "/ogc", "/static", "/healthz", "/openapi.json", "/docs", "/redoc")


def wants_html(request: Request) -> bool:
    """A browser asking for a page (Accept: text/html) outside the API."""
    if request.url.path.startswith(API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def organisation_name(request: Request, principal: Principal | None) -> str | None:
    if principal is None:
        return None
    # Always the cheap lane: a failing map route still holds the heavy lane's only connection (pool size 1),
    # so asking the heavy pool here waited out the pool timeout and lost the name.
    try:
        with request.app.state.database.tenant_session(principal.organisation_id, lane="cheap") as session, \
                session.begin():
            return reviews.organisation_name(session)
    except Exception:  # an error page must render even when the database is the problem
        log.warning("organisation name unavailable for an error page", exc_info=True)
        return None


def error_page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    heading = HEADINGS.get(status, "Sorry, there is a problem")
    # Only messages written for people are shown; a 500's cause stays in the log.
    shown = detail if status in (403, 404, 422, 429) else None
    response = page(request, "errors/error.html", principal=principal, title=heading, status_code=status,
                    organisation=organisation_name(request, principal), heading=heading, detail=shown,
                    status=status, next_path=request.url.path)
    for name, value in (headers or {}).items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response
