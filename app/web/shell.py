"""What every page shares: the organisation's name, who is signed in, the navigation their role may use,
breadcrumbs, the CSRF token for forms and the success banner after a change (POST → redirect → banner)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app import policy
from app.db import reviews
from app.dependencies import SESSION_COOKIE
from app.policy import Gate
from app.security import Principal, csrf_token
from app.web.templating import templates


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    gate: Gate
    section: str  # the first path segment that marks the item as the current one


# Each item is shown only to roles its gate allows (DESIGN.md role table).
NAVIGATION = (
    NavItem("Home", "/", policy.READ_CONTEXT, ""),
    NavItem("Places", "/places", policy.READ_CONTEXT, "places"),
    NavItem("Incidents", "/incidents", policy.READ_INCIDENTS, "incidents"),
    NavItem("Imports", "/imports", policy.IMPORT_INCIDENTS, "imports"),
    NavItem("Interventions", "/interventions", policy.READ_CONTEXT, "interventions"),
    NavItem("Maps", "/maps/hotspots", policy.ANALYSIS, "maps"),
    NavItem("Find a safe space", "/safe-spaces/find", policy.WRITE_SAFE_SPACES, "safe-spaces"),
    NavItem("Safety mapping", "/safety-mapping/area", policy.ANALYSIS, "safety-mapping"),
    NavItem("Admin", "/admin", policy.ADMINISTER, "admin"),
)

# Banners after a successful change: keys in the redirect's query string, never free text from it.
SAVED_MESSAGES = {
    "place-added": "Place added",
    "place-updated": "Place details saved",
    "concern": "Place of concern recorded",
    "safe_space": "Safe space recorded",
    "designation-ended": "Designation ended",
    "guardian-added": "Guardian added",
    "guardian-updated": "Guardian saved",
    "guardian-removed": "Guardian removed",
    "assessment": "Location assessment recorded",
    "intervention-added": "Intervention recorded",
    "intervention-updated": "Intervention saved",
    "intervention-ended": "Intervention ended",
    "flagged": "Place of concern recorded from the hot-spot map",
    "user-added": "User added",
    "user-updated": "User's role changed",
    "user-disabled": "User disabled",
    "user-enabled": "User enabled",
    "tokens-revoked": "User's tokens revoked",
    "organisation-saved": "Organisation settings saved",
    "streets-loaded": "Street network loaded",
    "incident-added": "Incident recorded",
    "incident-updated": "Incident saved",
    "incident-deleted": "Incident deleted",
}


def navigation(principal: Principal | None, path: str) -> list[dict[str, Any]]:
    if principal is None:
        return []
    section = path.strip("/").split("/", 1)[0]
    items = []
    for item in NAVIGATION:
        if item.gate.allows(principal.role):
            current = section == item.section or (item.section == "maps" and section == "maps"
                                                   and not path.startswith("/maps/displacement"))
            items.append({"text": item.label, "href": item.href, "active": current})
    return items


SERVICE_NAME = "contextmap"


def form_csrf(request: Request, settings: Any) -> str:
    token = request.cookies.get(SESSION_COOKIE, "")
    return csrf_token(settings.secret_key, token) if token else ""


def page(
    request: Request, template: str, *, principal: Principal | None, session: Session | None = None,
    title: str, breadcrumbs: list[tuple[str, str]] | None = None, status_code: int = 200,
    organisation: str | None = None, **context: Any,
) -> HTMLResponse:
    """Render a page in the shell. ``breadcrumbs`` are (text, href) pairs above the page's own title."""
    settings = request.app.state.settings
    if organisation is None and session is not None:
        organisation = reviews.organisation_name(session)
    saved = SAVED_MESSAGES.get(request.query_params.get("saved", ""))
    values = {
        # The header names the service when no organisation is known (signed out, or an error page whose
        # database look-up failed); the <title> then names the service once, not twice.
        "principal": principal, "organisation": organisation or SERVICE_NAME, "title": title,
        "title_organisation": organisation,
        "navigation": navigation(principal, request.url.path), "csrf": form_csrf(request, settings),
        "breadcrumbs": [{"text": text, "href": href} for text, href in (breadcrumbs or [])],
        "saved": saved, "role_label": principal.role.replace("_", " ") if principal else "",
        **context,
    }
    return templates.TemplateResponse(request, template, values, status_code=status_code)
