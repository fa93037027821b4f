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
from fastapi.responses import JSONResponse, Response
from psycopg import errors as pg_errors
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    TooBusy,
)

__all__ = ["PROBLEM_JSON", "BootstrapError", "Conflict", "ContextmapError", "Forbidden", "InvalidInput",
           "NotAuthenticated", "NotFound", "TooBusy", "add_exception_handlers", "problem"]

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


def _html_page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response | None:
    """A page in the web application's shell when a browser asked for one (the API keeps problem+json)."""
    from app.web.errors import error_page, wants_html  # the web layer renders; imported late to avoid a cycle

    return error_page(request, status, detail, headers) if wants_html(request) else None


async def _contextmap_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ContextmapError)
    if (html := _html_page(request, exc.status, exc.detail)) is not None:
        return html
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if isinstance(exc, TooBusy):
        headers = {"Retry-After": str(exc.retry_after)}
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


def _retry_after(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    return str(getattr(settings, "retry_after_seconds", 5))


async def _database_error(request: Request, exc: Exception) -> Response:
    """The database refused or could not do the work: say so honestly, never as a 2xx or a reset.

    A statement that ran past the service role's ``statement_timeout`` (or was cancelled because the client
    left) is the request's size: narrow it. A lock wait, a full pool or an unreachable server is transient:
    503 with ``Retry-After``. Only operational errors (psycopg's ``OperationalError``: connection, resources,
    operator intervention, serialization and deadlock rollbacks) are transient; a statement the server
    refuses as written (``FeatureNotSupported``, ``UndefinedColumn``, ``InsufficientPrivilege``, …) is a
    programming error: 500. Nothing of the failed transaction was committed in any of these cases.
    """
    assert isinstance(exc, DBAPIError | PoolTimeout)
    cause = getattr(exc, "orig", None)
    path = request.url.path
    if isinstance(cause, pg_errors.QueryCanceled):
        return problem(503, "Request too large to answer in time",
                       "The query ran longer than the service allows and was stopped. Narrow the request: a "
                       "shorter period, a smaller area or search distance, or fewer categories.",
                       instance=path)
    retry = {"Retry-After": _retry_after(request)}
    if isinstance(exc, PoolTimeout):
        log.warning("no database connection free in time on %s %s", request.method, path)
        return problem(503, "Service busy", "Every database connection is in use. Try again shortly.",
                       instance=path, headers=retry)
    if isinstance(cause, pg_errors.LockNotAvailable):
        return problem(503, "Service busy", "The data are being changed by another request. Try again shortly.",
                       instance=path, headers=retry)
    if isinstance(exc, IntegrityError):
        # Reached only when a constraint fails that no route anticipated, e.g. a deferred one at commit.
        return problem(409, "Conflict", "The change conflicts with data already saved; nothing was saved.",
                       instance=path)
    if isinstance(exc, DataError):
        return await _data_error(request, exc)
    if not (isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated or cause is None):
        # The server is up and refused the statement itself (a feature it does not support, e.g. a join
        # Citus cannot plan; an unknown column; a missing privilege): a programming error, not an outage.
        # Trying again will not help, so it is a 500 like any other bug, logged with its cause.
        return await _unexpected_error(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, path, type(cause or exc).__name__)
    return problem(503, "Database unavailable",
                   "The database cannot be reached; nothing was saved. Try again shortly.",
                   instance=path, headers=retry)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Log the cause for operators; tell the client nothing about SQL or code.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if (html := _html_page(request, 500, "")) is not None:
        return html
    return problem(500, "Internal server error", "The server could not complete the request.",
                   instance=request.url.path)


class UnhandledErrorMiddleware:
    """Answer any exception no handler claimed with a generic problem+json 500 and keep the connection.

    Starlette's own last-resort handler sends the 500 and then re-raises, and uvicorn closes the socket on
    a re-raised error: the client saw a reset and could not tell whether its POST happened.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise  # the status line is out: nothing honest can be added
            request = Request(scope)
            handler = _database_error if isinstance(exc, DBAPIError | PoolTimeout) else _unexpected_error
            response = await handler(request, exc)
            await response(scope, receive, send)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ContextmapError, _contextmap_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    # Unhandled exceptions are answered by UnhandledErrorMiddleware (see there why not here).
