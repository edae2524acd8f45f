"""The ``/ws`` endpoint: authenticate, then read frames and answer each one.

A refused connection is accepted and closed at once with 4401 (bad or missing token), 4403
(role or Origin not allowed) or 4429 (too many connections for the token or address, or too
many failed token attempts from the address), so the client can see why. Frames are parsed by
``sanitize.loads`` and counted against the socket's and the token's rates. Customer messages
are handled in their own tasks, so one connection can have several in flight and the read loop
never waits on the embedder.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from assist.core.vocabulary import CLOSE_BAD_TOKEN, CLOSE_FORBIDDEN, CLOSE_POLICY, CLOSE_TOO_MANY
from assist.service.auth import Principal, bearer, origin_allowed, own_origins, query_token
from assist.service.batcher import Busy
from assist.service.hub import Connection
from assist.service.ingest import (
    NotStored,
    Refused,
    check_feedback,
    check_message,
    record_feedback,
    suggest_message,
)
from assist.service.limits import client_address
from assist.service.middleware import ABORT_KEY
from assist.service.protocol import (
    CLIENT_FRAMES,
    Ack,
    CustomerMessage,
    Error,
    ErrorCode,
    Feedback,
    Frame,
    Limits,
    Ping,
    ServerPong,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    Welcome,
)
from assist.service.sanitize import BadInput, loads, safe_text

if TYPE_CHECKING:
    from assist.service.services import Services

log = logging.getLogger(__name__)
router = APIRouter()
WS_ROLES = ("agent", "admin")


def error(code: ErrorCode, message: str, ref: str | None = None) -> str:
    # Messages may quote client input: make sure they can be encoded whatever it held.
    return Error(code=code, message=safe_text(message),
                 ref=None if ref is None else safe_text(ref)).model_dump_json()


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    await websocket.accept()
    await websocket.close(code, reason)


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.state.services
    settings, quotas = services.settings, services.quotas
    address = client_address(websocket.scope)
    wait = quotas.auth.blocked(address)
    if wait is not None:
        await _refuse(websocket, CLOSE_TOO_MANY, f"too many failed token attempts; retry in {wait:.0f}s")
        return
    token = query_token(websocket.scope.get("query_string", b"")) or bearer(
        websocket.headers.get("authorization"))
    principal = services.tokens.authenticate(token)
    if principal is None:
        quotas.auth.failed(address)
        await _refuse(websocket, CLOSE_BAD_TOKEN, "missing or unknown token")
        return
    if principal.role not in WS_ROLES:
        await _refuse(websocket, CLOSE_FORBIDDEN, f"role {principal.role} may not use /ws")
        return
    if not origin_allowed(websocket.headers.get("origin"),
                          own_origins(websocket.scope.get("server"), settings.public_origin),
                          settings.origins):
        await _refuse(websocket, CLOSE_FORBIDDEN, "origin not allowed")
        return
    refusal = quotas.admit(principal.agent, address)
    if refusal is not None:
        await _refuse(websocket, refusal.code, refusal.reason)
        return
    try:
        await websocket.accept()
        await _serve(services, websocket, principal)
    finally:
        quotas.release(principal.agent, address)


async def _serve(services: Services, websocket: WebSocket, principal: Principal) -> None:
    settings, quotas = services.settings, services.quotas
    connection = Connection(websocket, principal, settings.rate_per_s, settings.rate_burst,
                            settings.send_queue)
    services.hub.add(connection)
    connection.send(Welcome(role=principal.role, agent=principal.agent,
                            index_version=services.engine.version, heartbeat_s=settings.heartbeat_s,
                            limits=Limits(max_text_bytes=settings.max_text_bytes,
                                          max_attachments=settings.max_attachments,
                                          rate_per_s=settings.rate_per_s,
                                          token_rate_per_s=settings.token_rate_per_s)).model_dump_json())
    try:
        while not connection.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            connection.last_seen = time.monotonic()
            # The socket's own rate first: a refused frame must not use up the token's.
            if not (connection.bucket.allow() and quotas.frame_allowed(principal.agent)):
                connection.refused += 1
                if connection.refused > settings.rate_burst:
                    connection.close(CLOSE_POLICY, "flood: rate limit exceeded")
                elif connection.refused == 1 or connection.refused % 10 == 0:
                    connection.send(error("rate_limited", f"more than {settings.rate_per_s:g} frames per "
                                                          f"second on this connection or "
                                                          f"{settings.token_rate_per_s:g} on this token; "
                                                          "slow down"))
                continue
            connection.refused = 0
            if message.get("text") is None:
                connection.send(error("binary_not_supported", "frames must be JSON text, not binary"))
                continue
            handle_text(services, connection, message["text"], time.perf_counter())
    except WebSocketDisconnect:
        pass
    finally:
        services.hub.remove(connection)
        await connection.wait_closed()
        abort = websocket.scope.get(ABORT_KEY)
        if connection.must_abort and abort is not None:
            # Dropped as dead or too slow: its socket may never take the rest of our bytes, and
            # a polite close would wait on them (and keep MBs queued) forever.
            abort()


def handle_text(services: Services, connection: Connection, text: str, started: float) -> None:
    """Parse one text frame and act on it; every problem becomes an error frame."""
    try:
        data = loads(text)
    except BadInput as exc:
        connection.send(error(exc.code, f"frame refused: {exc.message}"))
        return
    if not isinstance(data, dict):
        connection.send(error("bad_frame", f"expected a JSON object, got {type(data).__name__}"))
        return
    ref = data.get("ref") if isinstance(data.get("ref"), str) else None
    kind = data.get("type")
    model = CLIENT_FRAMES.get(kind) if isinstance(kind, str) else None
    if model is None:
        connection.send(error("unknown_type", f"unknown frame type {kind!r}; expected one of "
                                              f"{', '.join(CLIENT_FRAMES)}", ref))
        return
    try:
        frame = model.model_validate(data)
    except ValidationError as exc:
        connection.send(error("bad_frame", f"{kind}: {describe(exc)}", ref))
        return
    try:
        dispatch(services, connection, frame, started)
    except Refused as exc:
        connection.send(error(exc.code, exc.message, ref))


def dispatch(services: Services, connection: Connection, frame: Frame, started: float) -> None:
    hub, principal = services.hub, connection.principal
    if isinstance(frame, CustomerMessage):
        check_message(services, frame.text, frame.attachments)  # refuse before spawning
        services.spawn(_customer_message(services, connection, principal, frame, started))
    elif isinstance(frame, Feedback):
        check_feedback(services, frame)  # refuse before spawning
        services.spawn(_feedback(services, connection, principal, frame))
    elif isinstance(frame, Subscribe):
        ids = hub.subscribe(connection, frame.conversation_ids)
        connection.send(Subscribed(ref=frame.ref, conversation_ids=ids).model_dump_json())
    elif isinstance(frame, Unsubscribe):
        ids = hub.unsubscribe(connection, frame.conversation_ids)
        connection.send(Unsubscribed(ref=frame.ref, conversation_ids=ids).model_dump_json())
    elif isinstance(frame, Ping):
        connection.send(ServerPong(ts=frame.ts).model_dump_json())
    # Pong: last_seen is already updated.


async def _customer_message(services: Services, connection: Connection, principal: Principal,
                            frame: CustomerMessage, started: float) -> None:
    try:
        _, logged = await suggest_message(services, principal, frame.text, frame.attachments,
                                          frame.conversation_id, frame.message_id, started,
                                          sender=connection)
    except Busy as exc:
        connection.send(error("busy", str(exc), frame.ref))
        return
    except NotStored as exc:  # suggestions were sent, but the message is not acknowledged
        connection.send(error("internal", f"{exc}; send it again", frame.ref))
        return
    except Exception:
        log.exception("suggestions failed for message %s", frame.message_id)
        connection.send(error("internal", "could not compute suggestions; try again", frame.ref))
        return
    # Sent after the log record is queued: an acknowledged message survives a clean shutdown.
    connection.send(Ack(ref=frame.ref, message_id=frame.message_id,
                        logged=logged is not False).model_dump_json())


async def _feedback(services: Services, connection: Connection, principal: Principal,
                    frame: Feedback) -> None:
    try:
        logged = await record_feedback(services, principal, frame)
    except NotStored as exc:
        connection.send(error("internal", f"{exc}; send it again", frame.ref))
        return
    connection.send(Ack(ref=frame.ref, message_id=frame.message_id, logged=logged).model_dump_json())


def describe(exc: ValidationError) -> str:
    """'field: expected X, got Y' for each problem, from pydantic's errors."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "frame"
        got = err.get("input")
        shown = json.dumps(got, ensure_ascii=False)[:60] if not isinstance(got, dict) else "an object"
        parts.append(f"{where}: {err['msg']} (got {shown})")
    return "; ".join(parts)
