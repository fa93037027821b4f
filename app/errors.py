"""Domain exceptions (:mod:`app.exceptions`) mapped once to RFC 9457 problem responses (``application/problem+json``).

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
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

# The exceptions live in app.exceptions so services and repositories raise them without importing FastAPI;
# they are re-exported here for the routers.
from app.exceptions import (
    BootstrapError,
    Conflict,
    ContextmapError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)

__all__ = ["PROBLEM_JSON", "BootstrapError", "Conflict", "ContextmapError", "Forbidden", "InvalidInput",
           "NotAuthenticated", "NotFound", "add_exception_handlers", "problem"]

log = logging.getLogger("contextmap")

PROBLEM_JSON = "application/problem+json"


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


async def _contextmap_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ContextmapError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem(exc.status, exc.title, exc.detail, instance=request.url.path, errors=exc.errors,
                   headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_of(e), "message": str(e.get("msg", "invalid"))} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(422, "Invalid input", detail, instance=request.url.path, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail), instance=request.url.path,
                   headers=getattr(exc, "headers", None))


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL refused a value the schema let through (e.g. a NUL character): the client's input.
    return problem(422, "Invalid input", "a value was not acceptable to the database (e.g. a NUL character)",
                   instance=request.url.path, errors=[{"field": "body", "message": "unacceptable value"}])


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Log the cause for operators; tell the client nothing about SQL or code.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Internal server error", "The server could not complete the request.",
                   instance=request.url.path)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ContextmapError, _contextmap_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected_error)
