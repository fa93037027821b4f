"""ASGI middleware: request ids, body size limits, security headers, the heavy-analysis lane and
cancelling a request's queries when its client leaves."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import uuid
from collections import defaultdict
from urllib.parse import unquote_plus, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db.audit import client_request_id_var, client_var, request_id_var
from app.db.session import InFlightConnections, current_connections, current_lane

# Maps embed folium's inline scripts; each page adds its own script hashes (see app.web.maps.assets).
# Images: this service, data: URIs and the one configured internet tile host (the pages' small maps), never
# any https: host.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:{tiles}; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)


def tile_origin(tile_url: str | None) -> str:
    """The origin a tile URL template loads from, for a CSP source list ("" for none or a relative URL).

    ``https://{s}.tile.example/{z}/{x}/{y}.png``: a placeholder in the host becomes a CSP wildcard.
    """
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    return f"{parts.scheme}://{host}" if parts.scheme in ("http", "https") and host else ""


class RequestContextMiddleware:
    """Give every request a server-generated id (sent back as ``X-Request-ID``) and remember the client,
    and the id the client sent, for the audit log. The client's id is never used as ours: it is the
    client's to choose, so it could collide with or impersonate another request in the log."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        presented = headers.get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = uuid.uuid4().hex
        client = scope.get("client")
        rid_token = request_id_var.set(request_id)
        crid_token = client_request_id_var.set(presented if presented.isprintable() and presented else None)
        client_token = client_var.set(client[0] if client else None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(rid_token)
            client_request_id_var.reset(crid_token)
            client_var.reset(client_token)


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit with 413 before they reach a handler (and before anything is written).

    A declared ``Content-Length`` over the limit is refused at once; a chunked body is read up to the limit
    first and then handed on, so the refusal never surfaces as a half-parsed body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int, upload_prefixes: tuple[str, ...]):
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes
        self.upload_prefixes = upload_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.upload_max_bytes if path.startswith(self.upload_prefixes) else self.max_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)


FORM_CSRF_FIELD = "csrf_token"
FORM_CSRF_STATE = "form_csrf"  # request.state.form_csrf: the CSRF token a posted HTML form carried
_URLENCODED = b"application/x-www-form-urlencoded"
_MULTIPART = b"multipart/form-data"


class FormCsrfMiddleware:
    """Read the CSRF token an HTML form posts as its hidden ``csrf_token`` field, without consuming the body.

    The token travels in the form's body, not in its action URL (a URL reaches the browser history, the
    Referer header and access logs). The cookie gate (``app.dependencies.get_principal``) is a synchronous
    dependency and cannot read the body itself; this middleware reads it here, puts the token in
    ``request.state.form_csrf`` and replays the body unchanged to the route, which parses it as before.

    It sits inside :class:`BodySizeLimitMiddleware`, which has already read the body (up to the limit) into
    memory, so nothing more is held than before. A multipart upload is not parsed: its parts are walked by
    their boundaries until the part named ``csrf_token`` (the forms put it first), and only part headers are
    looked at. JavaScript sends the token as the ``X-CSRF-Token`` header instead.
    """

    def __init__(self, app: ASGIApp, cookie: str):
        self.app = app
        self.cookie = cookie.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only the methods whose bodies BodySizeLimitMiddleware bounds (HTML forms post anyway).
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"")
        kind = content_type.split(b";", 1)[0].strip().lower()
        if kind not in (_URLENCODED, _MULTIPART) or self.cookie not in headers.get(b"cookie", b""):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:  # one message after BodySizeLimitMiddleware; more only if it is not in front
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        token = (_urlencoded_field(body, FORM_CSRF_FIELD) if kind == _URLENCODED
                 else _multipart_field(body, content_type, FORM_CSRF_FIELD))
        if token is not None:
            scope.setdefault("state", {})[FORM_CSRF_STATE] = token
        await self.app(scope, _replay(messages, receive), send)


def _urlencoded_field(body: bytes, name: str) -> str | None:
    for pair in body.split(b"&"):
        key, _, value = pair.partition(b"=")
        if unquote_plus(key.decode("latin-1")) == name:
            return unquote_plus(value.decode("latin-1"))[:256]
    return None


_BOUNDARY = re.compile(rb'boundary="?([^";,]+)"?', re.IGNORECASE)
_PART_NAME = re.compile(rb'content-disposition:[^\r\n]*;\s*name="([^"]*)"', re.IGNORECASE)


def _multipart_field(body: bytes, content_type: bytes, name: str) -> str | None:
    """A small text field of a multipart body (RFC 7578), found by walking the parts' delimiters; the
    contents of other parts (files) are skipped, never copied or searched."""
    match = _BOUNDARY.search(content_type)
    if not match:
        return None
    delimiter = b"--" + match.group(1)
    position = body.find(delimiter)
    wanted = name.encode()
    while position != -1:
        start = position + len(delimiter)
        if body[start:start + 2] == b"--":  # the closing delimiter
            return None
        header_end = body.find(b"\r\n\r\n", start, start + 4096)
        if header_end == -1:
            return None
        following = body.find(b"\r\n" + delimiter, header_end)
        part = _PART_NAME.search(body[start:header_end])
        if part and part.group(1) == wanted and following != -1:
            return body[header_end + 4:following][:256].decode("latin-1")
        position = following + 2 if following != -1 else -1
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({
        "type": "about:blank", "title": "Request body too large", "status": 413,
        "detail": f"the request body is larger than {limit} bytes", "field": "body",
        "errors": [{"field": "body", "message": f"larger than {limit} bytes"}],
    }).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    """Standard security headers everywhere; a Content Security Policy on HTML unless the page set one."""

    def __init__(self, app: ASGIApp, hsts: bool, tile_url: str | None = None):
        self.app = app
        self.hsts = hsts
        origin = tile_origin(tile_url)
        self.csp = DEFAULT_CSP.format(tiles=f" {origin}" if origin else "").encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = message.setdefault("headers", [])
                present = {k.lower() for k, _ in headers}
                extra: dict[bytes, bytes] = {
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                    b"permissions-policy": b"geolocation=(), camera=(), microphone=()",
                    b"cross-origin-opener-policy": b"same-origin",
                }
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    extra[b"content-security-policy"] = self.csp
                    extra[b"cache-control"] = b"no-store"
                if self.hsts:
                    extra[b"strict-transport-security"] = b"max-age=31536000; includeSubDomains"
                headers.extend((k, v) for k, v in extra.items() if k not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)




# Requests whose cost grows with what the user asks for (area, period, cell size, search distance):
# analyses, analysis map pages and exports. Tiles are left out on purpose: a map asks for a dozen at once,
# each bounded by its tile.
HEAVY_PATHS = re.compile(
    r"^(/api/analysis/|/api/places/[^/]+/(outcomes|timeline)$|/api/exports/|/maps/(hotspots|displacement|places/)"
    r"|/ogc/collections/hotspot-cells/items)"
)


def _problem(status: int, title: str, detail: str, retry_after: int) -> tuple[Message, Message]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    start: Message = {"type": "http.response.start", "status": status,
                      "headers": [(b"content-type", b"application/problem+json"),
                                  (b"content-length", str(len(body)).encode()),
                                  (b"retry-after", str(retry_after).encode())]}
    return start, {"type": "http.response.body", "body": body}


class HeavyLaneMiddleware:
    """Heavy analyses run in their own bounded lane: at most ``slots`` at once per process (the size of the
    heavy connection pool) and ``per_user`` per credential. A request waits in a bounded queue for its
    slot: a user over their share gets 429 at once; a request that finds ``queue_length`` others waiting,
    or cannot get a slot within ``queue_seconds``, gets 503; all with ``Retry-After``. Cheap requests
    never wait here and use the other pool, so a few large analyses cannot take the service down.

    Waiting rather than refusing at once: a refusal is an error for the user, and most heavy requests are
    answered from the analysis cache (:mod:`app.services.analysis_cache`) in milliseconds once in the lane.
    ``queue_seconds`` plus the statement timeout stays under a client's usual 60 s.
    """

    def __init__(self, app: ASGIApp, slots: int, per_user: int, queue_seconds: float, retry_after: int,
                 queue_length: int = 64):
        self.app = app
        self.per_user = per_user
        self.queue_seconds = queue_seconds
        self.queue_length = queue_length
        self.retry_after = retry_after
        self._waiting = 0
        self.slots = max(1, slots)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore = asyncio.Semaphore(self.slots)
        self._running: defaultdict[str, int] = defaultdict(int)

    def _slots(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; a server has one, but tests may run an app in several.
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._semaphore = loop, asyncio.Semaphore(self.slots)
        return self._semaphore

    @staticmethod
    def _who(scope: Scope) -> str:
        headers = dict(scope.get("headers") or [])
        credential = headers.get(b"authorization") or headers.get(b"cookie")
        if credential:
            return hashlib.sha256(credential).hexdigest()
        client = scope.get("client")
        return f"client:{client[0] if client else '-'}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not HEAVY_PATHS.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        who = self._who(scope)
        if self._running[who] >= self.per_user:
            for message in _problem(429, "Too many requests",
                                    f"At most {self.per_user} large analysis at a time per user; "
                                    "wait for the one running to finish.", self.retry_after):
                await send(message)
            return
        slots = self._slots()
        if slots.locked() and self._waiting >= self.queue_length:
            for message in _problem(503, "Service busy", f"{self._waiting} large analyses are already waiting. "
                                    "Try again shortly.", self.retry_after):
                await send(message)
            return
        self._running[who] += 1
        try:
            self._waiting += 1
            try:
                await asyncio.wait_for(slots.acquire(), timeout=self.queue_seconds)
            except TimeoutError:
                for message in _problem(503, "Service busy", "Every slot for large analyses is in use. "
                                        "Try again shortly.", self.retry_after):
                    await send(message)
                return
            finally:
                self._waiting -= 1
            token = current_lane.set("heavy")
            try:
                await self.app(scope, receive, send)
            finally:
                current_lane.reset(token)
                slots.release()
        finally:
            self._running[who] -= 1
            if not self._running[who]:
                del self._running[who]


class CancelOnDisconnectMiddleware:
    """When the client goes away before its response, cancel the request's running queries.

    Routes run in worker threads and never look at the socket, so without this a query the client gave up
    on ran to its end (an outside test saw two more minutes). A listener reads the request's messages as
    they come (handing them on unchanged); on ``http.disconnect`` before the response finished, it asks
    PostgreSQL to cancel the queries of the connections the request holds (see ``InFlightConnections``).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        in_flight = InFlightConnections()
        token = current_connections.set(in_flight)
        messages: asyncio.Queue[Message] = asyncio.Queue()
        finished = False

        async def listen() -> None:
            while True:
                message = await receive()
                await messages.put(message)
                if message["type"] == "http.disconnect":
                    if not finished:
                        loop = asyncio.get_running_loop()
                        # cancel_safe blocks on a network round trip: not on the event loop.
                        await loop.run_in_executor(None, in_flight.cancel)
                    return

        async def queued_receive() -> Message:
            return await messages.get()

        async def tracking_send(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        listener = asyncio.create_task(listen())
        try:
            await self.app(scope, queued_receive, tracking_send)
        finally:
            finished = True
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            current_connections.reset(token)
class TrustedHostMiddleware:
    """Refuse a request whose ``Host`` is not one of ours, with a problem document (400, field ``Host``).

    Starlette's middleware of the same name answers in plain text; this one keeps the API's error format.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]):
        self.app = app
        self.exact = {h.lower() for h in allowed_hosts if not h.startswith("*.")}
        self.suffixes = tuple(h.lower()[1:] for h in allowed_hosts if h.startswith("*."))
        self.any = "*" in self.exact

    def allows(self, host_header: str) -> bool:
        host = host_header.lower()
        # Strip the port: "[::1]:8000" -> "[::1]", "example.org:8000" -> "example.org".
        host = host[: host.index("]") + 1] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0]
        return self.any or host in self.exact or (bool(host) and host.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if self.allows(headers.get(b"host", b"").decode("latin-1")):
            await self.app(scope, receive, send)
            return
        body = json.dumps({
            "type": "about:blank", "title": "Unknown host", "status": 400,
            "detail": "this service does not answer to that Host header", "field": "Host",
            "errors": [{"field": "Host", "message": "not one of the configured allowed hosts"}],
        }).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
