"""Domain exceptions: what went wrong, in the domain's words, with the request field at fault.

Repositories, services and the CLI raise these; the web layer maps each to an RFC 9457 problem response once
(:mod:`app.errors`). Nothing here imports FastAPI, so the layers below the routers stay free of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["BootstrapError", "Conflict", "ContextmapError", "Forbidden", "InvalidInput", "NotAuthenticated",
           "NotFound"]


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


class TooBusy(ContextmapError):
    """A limit on concurrent work was reached; the client may retry after ``retry_after`` seconds."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, status: int = 429):
        super().__init__(detail)
        self.retry_after = retry_after
        self.status = status
        self.title = "Too many requests" if status == 429 else "Service unavailable"


class BootstrapError(RuntimeError):
    """The local database could not be prepared; the message says what to install or do."""
