"""Public governance pages: the accessibility statement, security.txt and the documents in ``docs/``.

All public (gate ``PUBLIC``): the Public Sector Bodies Accessibility Regulations 2018 require the
accessibility statement to be reachable by anyone, RFC 9116 puts ``security.txt`` where a stranger finds
it, and the other documents are generated from this open-source code (a deployment's completed DPIA and
signed agreement live with the deploying organisation, not here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from app import policy
from app.dependencies import SettingsDep, gate
from app.governance import accessibility, documents

router = APIRouter(tags=["governance"], include_in_schema=False)

_APP = Path(__file__).resolve().parents[1]
# The web application's templates first (app/web/templates/governance/...), then the original ones.
_environment = Environment(
    loader=ChoiceLoader([FileSystemLoader(str(_APP / "web" / "templates")), FileSystemLoader(str(_APP / "templates"))]),
    autoescape=select_autoescape(["html"], default_for_string=True),
)
templates = Jinja2Templates(env=_environment)
# The page shell the governance templates extend: switch to the web application's base template here.
SHELL_TEMPLATE = "base.html"


def _page(request: Request, template: str, context: dict[str, Any]) -> Response:
    return templates.TemplateResponse(request, f"governance/{template}",
                                      {"shell": SHELL_TEMPLATE, "principal": None, **context})


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility_statement(request: Request, settings: SettingsDep, _: None = gate(policy.PUBLIC)) -> Response:
    """The accessibility statement, from the last browser-test run's axe results (GOV.UK model structure)."""
    context = accessibility.statement_context(accessibility.load_results())
    return _page(request, "accessibility.html", {**context, "settings": settings,
                                                 "site": str(request.base_url).rstrip("/")})


def _security_txt(request: Request, settings: SettingsDep, _: None = gate(policy.PUBLIC)) -> Response:
    body = documents.security_txt(settings.security_contact, str(request.base_url))
    return PlainTextResponse(body, media_type="text/plain; charset=utf-8")


# RFC 9116 section 3: /.well-known/security.txt; the top-level path too, for older scanners.
router.add_api_route("/.well-known/security.txt", _security_txt, methods=["GET"], name="security_txt")
router.add_api_route("/security.txt", _security_txt, methods=["GET"], name="security_txt_legacy")


def _document_page(document: documents.Document) -> Any:
    def page(request: Request, settings: SettingsDep, _: None = gate(policy.PUBLIC)) -> Response:
        return _page(request, "document.html", {"title": document.title, "body": documents.render(document),
                                                "settings": settings})

    page.__name__ = f"document_{document.slug.replace('-', '_')}"
    return page


for _document in documents.DOCUMENTS.values():
    router.add_api_route(f"/about/{_document.slug}", _document_page(_document), methods=["GET"],
                         response_class=HTMLResponse)
