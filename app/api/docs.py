"""Interactive API documentation (Swagger UI) served from this service, so it works under our CSP.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN and starts it with an inline script: the Content
Security Policy (``script-src 'self'``) blocks both, and council networks often block CDNs anyway. Here
Swagger UI comes from npm (``swagger-ui-dist``, installed by ``make vendor`` under /static/vendor) and is
started by a static script. The page and ``/openapi.json`` are public on purpose (README, "What is public").
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app import policy
from app.dependencies import gate

router = APIRouter(tags=["documentation"], include_in_schema=False)

SWAGGER_UI = "/static/vendor/swagger-ui-dist"
PAGE = f"""<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>contextmap API</title>
  <link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{SWAGGER_UI}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
  <script src="/static/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def api_docs(_: None = gate(policy.PUBLIC)) -> HTMLResponse:
    """Swagger UI for ``/openapi.json``; "Authorize" takes an API token (every operation still needs one)."""
    return HTMLResponse(PAGE)
