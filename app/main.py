"""The application factory: wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from app.api import (
    admin,
    analysis,
    assessments,
    basemap,
    context,
    docs,
    exports,
    governance,
    imports,
    incidents,
    ogc,
    safe_spaces,
    school_terms,
    tiles,
)
from app.db.session import Database
from app.dependencies import SESSION_COOKIE
from app.errors import NotAuthenticated, UnhandledErrorMiddleware, add_exception_handlers, problem
from app.middleware import (
    BodySizeLimitMiddleware,
    CancelOnDisconnectMiddleware,
    FormCsrfMiddleware,
    HeavyLaneMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    TrustedHostMiddleware,
)
from app.security import SignInThrottle
from app.services import analysis_cache
from app.settings import Settings
from app.web import admin as web_admin
from app.web import finder as web_finder
from app.web import findings as web_findings
from app.web import flag as web_flag
from app.web import home as web_home
from app.web import imports as web_imports
from app.web import incidents as web_incidents
from app.web import incidents_forms as web_incidents_forms
from app.web import interventions as web_interventions
from app.web import packs as web_packs
from app.web import place_forms as web_place_forms
from app.web import places as web_places
from app.web import safety_mapping as web_safety_mapping
from app.web import safety_plan as web_safety_plan
from app.web import safety_review as web_safety_review
from app.web import signin as web_signin
from app.web.errors import error_page, wants_html
from app.web.maps import pages as web_maps

STATIC_DIR = Path(__file__).resolve().parent / "static"
HTML_PREFIXES = ("/maps", "/signout", "/places", "/interventions", "/admin", "/safe-spaces", "/incidents",
                 "/imports", "/glossary", "/packs", "/safety-mapping", "/basemap")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.database.dispose()

    app = FastAPI(
        title="contextmap",
        version="0.1.0",
        summary="Where young people are harmed outside their homes, and where they are safe.",
        lifespan=lifespan,
        # Our own /docs (app.api.docs) serves Swagger UI locally; FastAPI's loads a CDN, and ReDoc too.
        docs_url=None, redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = Database(settings)
    app.state.sign_in_throttle = SignInThrottle(app.state.database, settings.sign_in_max_failures,
                                                settings.sign_in_lockout_seconds)
    add_exception_handlers(app)

    async def _browser_sign_in(request: Request, exc: Exception) -> Response:
        # Browsers asking for a page are sent to sign in; API clients get a problem document.
        path = request.url.path
        if request.method == "GET" and (path == "/" or path.startswith(HTML_PREFIXES) or wants_html(request)):
            # Keep the query (a map's filters, the intervention shown) so the link still works after sign-in.
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/signin?next={quote(target, safe='/')}", status_code=303)
        assert isinstance(exc, NotAuthenticated)
        if wants_html(request):
            return error_page(request, 401, exc.detail)
        return problem(401, exc.title, exc.detail, instance=path, headers={"WWW-Authenticate": "Bearer"})

    app.add_exception_handler(NotAuthenticated, _browser_sign_in)

    app.openapi = lambda: problem_openapi(app)  # type: ignore[method-assign]

    for router in (admin.health_router, web_signin.router, context.router, incidents.router, admin.router,
                   imports.router, safe_spaces.router, assessments.router, ogc.router, web_maps.router,
                   exports.router, analysis.router, tiles.router, basemap.router, docs.router, school_terms.router,
                   web_home.router,
                   web_flag.router,  # /places/flag before /places/{place_id}
                   web_place_forms.router, web_places.router, web_interventions.router, web_admin.router,
                   web_finder.router, web_findings.router, web_packs.router, web_incidents_forms.router,
                   web_incidents.router, web_imports.router, web_safety_mapping.router, web_safety_plan.router,
                   web_safety_review.router):
        app.include_router(router)
    app.include_router(governance.router)  # /accessibility, /security.txt, /about/* (issue 20)

    vendor = STATIC_DIR / "node_modules"
    if vendor.is_dir():
        app.mount("/static/vendor", StaticFiles(directory=vendor), name="vendor")
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=True), name="static")

    # Outermost last. The catch-all 500 sits inside the security headers; the disconnect listener inside
    # the body limit, so it never reads more of a body than the limit allows.
    analysis_cache.configure(settings.analysis_cache_mb)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(HeavyLaneMiddleware, slots=settings.heavy_pool_size, per_user=settings.heavy_per_user,
                       queue_seconds=settings.heavy_queue_seconds, retry_after=settings.retry_after_seconds,
                       queue_length=settings.heavy_queue_length)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookie_secure,
                       tile_url=settings.tile_url if settings.map_internet_tiles != "never" else None)
    app.add_middleware(CancelOnDisconnectMiddleware)
    # Inside the body limit: it reads a form's hidden CSRF field from the body the limit has already read.
    app.add_middleware(FormCsrfMiddleware, cookie=SESSION_COOKIE)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes,
                       upload_max_bytes=settings.max_upload_bytes,
                       upload_prefixes=("/api/imports", "/admin/streets", "/imports"))
    app.add_middleware(RequestContextMiddleware)
    # Outermost: a request for a host we do not serve is refused before anything builds a link from it.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    return app


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app, flattened across included routers (FastAPI versions differ here)."""
    try:
        from fastapi.routing import iter_route_contexts

        originals = [context.original_route for context in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI keeps a flat route list
        originals = list(app.routes)
    return [route for route in originals if isinstance(route, APIRoute)]


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; `field` names the input at fault.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {"type": "object", "properties": {"field": {"type": ["string", "null"]},
                                                       "message": {"type": "string"}}},
        },
    },
}
ERROR_STATUSES = {"401": "Not signed in", "403": "Not allowed for this role", "404": "Not found",
                  "409": "Conflicts with existing data", "413": "Body too large", "422": "Invalid input"}


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI with every error documented as it is sent: ``application/problem+json``."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem_content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                if status == "401" and operation.get("security") == []:
                    continue
                responses[status] = {"description": description, "content": problem_content}
            responses["500"] = {"description": "Server error", "content": problem_content}
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)
    app.openapi_schema = schema
    return schema
