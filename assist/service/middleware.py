"""The edge: cheap checks before any route reads, parses or computes anything.

For HTTP, in this order: the request target (query and path must be valid text), then for
``/api/*`` the token (401, or 429 while the address is throttled for failed attempts) before
a byte of the body is read, then the body's size (413 from ``Content-Length`` and again while
streaming) under a deadline (408), then its JSON (``sanitize.loads``: 422 with a code). Routes
then see the body replayed, already known to be clean. Websockets get a handle to abort their
TCP connection (a client that stopped reading cannot take a close frame, and closing politely
would wait on it forever).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assist.core.settings import Settings
from assist.service.auth import bearer
from assist.service.limits import client_address
from assist.service.sanitize import BadInput, loads, text_problem

log = logging.getLogger(__name__)
MAX_QUERY_BYTES = 8192
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ABORT_KEY = "assist.abort"  # scope key: a callable that aborts the websocket's transport


class _Refused(Exception):
    def __init__(self, status: int, detail: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code, self.headers = status, detail, code, headers or {}


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[ABORT_KEY] = transport_aborter(send)
            problem = target_problem(scope)
            if problem is not None:  # refused before the handshake: the client sees 403
                await send({"type": "websocket.close", "code": 1008, "reason": problem[:120]})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            problem = target_problem(scope)
            if problem is not None:
                raise _Refused(400, problem, "bad_request")
            if scope["path"].startswith("/api/"):
                self._authenticate(scope)
            if scope["method"] in BODY_METHODS and scope["path"].startswith("/api/"):
                body = await self._read_body(scope, receive)
                receive = _replay(body, receive)
        except _Refused as refused:
            headers = {**refused.headers}
            if refused.status in (408, 413) or _body_unread(scope, refused.status):
                headers["Connection"] = "close"  # the (rest of the) body is not wanted: hang up
            response = JSONResponse({"detail": refused.detail, "code": refused.code},
                                    status_code=refused.status, headers=headers)
            await response(scope, receive, send)
            return
        except _Disconnected:
            return
        await self.app(scope, receive, send)

    def _authenticate(self, scope: Scope) -> None:
        services = scope.get("state", {}).get("services")
        if services is None:  # no lifespan (never in service); the route's dependency decides
            return
        address = client_address(scope)
        wait = services.quotas.auth.blocked(address)
        if wait is not None:
            raise _Refused(429, f"too many failed token attempts from this address; retry in "
                                f"{wait:.0f}s", "auth_throttled", {"Retry-After": f"{wait:.0f}"})
        token = bearer(_header(scope, b"authorization"))
        if services.tokens.authenticate(token) is None:
            services.quotas.auth.failed(address)
            raise _Refused(401, "missing or unknown token (Authorization: Bearer TOKEN)",
                           "unauthorized", {"WWW-Authenticate": "Bearer"})

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.settings.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise _Refused(400, "Content-Length must be a number", "bad_request")
            if int(declared) > limit:
                raise _Refused(413, f"body of {int(declared)} bytes; the limit is {limit} bytes",
                               "too_large")
        chunks: list[bytes] = []
        size = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.body_timeout_s
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise _Refused(408, f"the body did not arrive within {self.settings.body_timeout_s:g}s",
                               "timeout") from None
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Refused(413, f"body over the limit of {limit} bytes", "too_large")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                loads(body)
            except BadInput as exc:
                raise _Refused(422, exc.message, exc.code) from None
        return body


class _Disconnected(Exception):
    pass


def _body_unread(scope: Scope, status: int) -> bool:
    """Refused before its body was read (401, 429): reading it just to skip it is the work
    the refusal was meant to save, so the connection is closed instead."""
    if status not in (401, 429) or scope["method"] not in BODY_METHODS:
        return False
    length = _header(scope, b"content-length")
    return _header(scope, b"transfer-encoding") is not None or (length or "0").strip() not in ("", "0")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def target_problem(scope: Scope) -> str | None:
    """What is wrong with the request's path and query string as text, if anything."""
    raw = scope.get("query_string", b"")
    if len(raw) > MAX_QUERY_BYTES:
        return f"query string over {MAX_QUERY_BYTES} bytes"
    problem = text_problem(scope.get("path", ""), "path")
    if problem is not None:
        return problem
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                                errors="replace"):
        problem = text_problem(key, "a query parameter name") or text_problem(value, f"query {key[:40]!r}")
        if problem is not None:
            return problem
    return None


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A ``receive`` that hands the app the body already read, then the real events."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def transport_aborter(send: Any) -> Callable[[], None] | None:
    """``transport.abort`` of the server's websocket protocol, when the server exposes it.

    uvicorn passes its protocol's bound ``send``, whose object holds the asyncio transport;
    behind another server (or a test client) there is none and polite closing has to do.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    return abort if callable(abort) else None
