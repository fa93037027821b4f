"""Domain exceptions, mapped once to RFC 9457 problem responses (``application/problem+json``).

Repositories and ``geo/`` raise these (or plain ``ValueError`` subclasses of their own); nothing below the
routers raises ``HTTPException``. Error bodies never carry stack traces or SQL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("contextmap")

PROBLEM_JSON = "application/problem+json"


class ContextmapError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, errors: Sequence[dict[str, Any]] = ()):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.errors = list(errors) or ([{"field": field, "message": detail}] if field else [])


class InvalidInput(ContextmapError):
    status = 422
    title = "Invalid input"


class NotFound(ContextmapError):
    status = 404
    title = "Not found"


class Conflict(ContextmapError):
    status = 409
    title = "Conflict"


class NotAuthenticated(ContextmapError):
    status = 401
    title = "Authentication required"


class Forbidden(ContextmapError):
    status = 403
    title = "Forbidden"


class BootstrapError(RuntimeError):
    """The local database could not be prepared; the message says what to install or do."""


def problem(
    status: int, title: str, detail: str, *, instance: str | None = None,
    errors: Sequence[dict[str, Any]] = (), headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
        body["field"] = errors[0].get("field")
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# Model-level validators cannot set a location, so by convention their message starts "<field>: ".
_NAMED_FIELD = re.compile(r"^(?:Value error, )?(?P<field>[A-Za-z_][\w.]*): ")


def _field_of(error: Mapping[str, Any]) -> str:
    loc = error.get("loc", ())
    if error.get("type") == "json_invalid":
        return "body"  # FastAPI's loc holds the character offset, which is no field name
    # FastAPI prefixes "body"/"query"/"path"; the user knows their field by name, not by that prefix.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    named = _NAMED_FIELD.match(str(error.get("msg", "")))
    if named and named.group("field") not in parts:
        parts.append(named.group("field"))
    return ".".join(parts) or "body"


def _html_page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response | None:
    """A page in the web application's shell when a browser asked for one (the API keeps problem+json)."""
    from app.web.errors import error_page, wants_html  # the web layer renders; imported late to avoid a cycle

    return error_page(request, status, detail, headers) if wants_html(request) else None


async def _contextmap_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ContextmapError)
    if (html := _html_page(request, exc.status, exc.detail)) is not None:
        return html
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem(exc.status, exc.title, exc.detail, instance=request.url.path, errors=exc.errors,
                   headers=headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_of(e), "message": str(e.get("msg", "invalid"))} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    if (html := _html_page(request, 422, detail)) is not None:
        return html
    return problem(422, "Invalid input", detail, instance=request.url.path, errors=errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if (html := _html_page(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))) is not None:
        return html
    return problem(exc.status_code, str(exc.detail), str(exc.detail), instance=request.url.path,
                   headers=getattr(exc, "headers", None))


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL refused a value the schema let through (e.g. a NUL character): the client's input.
    return problem(422, "Invalid input", "a value was not acceptable to the database (e.g. a NUL character)",
                   instance=request.url.path, errors=[{"field": "body", "message": "unacceptable value"}])


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Log the cause for operators; tell the client nothing about SQL or code.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    if (html := _html_page(request, 500, "")) is not None:
        return html
    return problem(500, "Internal server error", "The server could not complete the request.",
                   instance=request.url.path)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ContextmapError, _contextmap_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected_error)
