"""The one path every customer message takes, from the websocket or HTTP: check, suggest, fan
out, log. Logging only queues a record (the writer thread stores it); with ``ack_after_write``
the caller also waits until it is committed, so an acknowledged message survives even a killed
process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from assist.core.engine import Message
from assist.core.models import Attachment
from assist.logstore import FeedbackRecord, MessageRecord
from assist.service.auth import Principal
from assist.service.protocol import ErrorCode, Feedback, FeedbackRequest, Suggestions

if TYPE_CHECKING:
    from assist.service.hub import Connection
    from assist.service.services import Services


class Refused(Exception):
    """Input outside the limits; ``code`` is the protocol error code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_text(text: str | None, max_bytes: int, what: str = "text") -> None:
    if text is not None and len(text) * 4 > max_bytes and len(text.encode("utf-8")) > max_bytes:
        raise Refused("too_large", f"{what} is {len(text.encode('utf-8'))} bytes; the limit is "
                                   f"{max_bytes} bytes (UTF-8)")


def check_message(services: Services, text: str, attachments: Sequence[Attachment]) -> None:
    settings = services.settings
    check_text(text, settings.max_text_bytes)
    if len(attachments) > settings.max_attachments:
        raise Refused("too_many_attachments", f"{len(attachments)} attachments; at most "
                                              f"{settings.max_attachments} are allowed")


async def suggest_message(services: Services, principal: Principal, text: str,
                          attachments: list[Attachment], conversation_id: str | None,
                          message_id: str | None, started: float,
                          sender: Connection | None = None) -> tuple[Suggestions, bool | None]:
    """Suggestions for one message; with ids it is also fanned out and logged. The flag: None
    when not logged by design (no ids), False when the log could not keep it (Ack.logged)."""
    result, version = await services.batcher.suggest(Message(text, attachments), conversation_id,
                                                     tenant=principal.agent)
    frame = Suggestions(message_id=message_id or "", conversation_id=conversation_id or "",
                        scripts=result.scripts, policies=result.policies, risks=result.risks,
                        index_version=version,
                        latency_ms=round((time.perf_counter() - started) * 1000, 2), text=text)
    logged: bool | None = None
    stored: asyncio.Future[bool] | None = None
    if conversation_id and message_id:
        services.hub.publish(conversation_id, frame.model_dump_json(), sender)
        if services.settings.acks_after_write:
            stored = _stored_future()
        logged = services.writer.put(MessageRecord(
            ts=time.time(), conversation_id=conversation_id, message_id=message_id,
            agent=principal.agent, text=text,
            attachments=[a.model_dump(exclude={"head_b64"}) for a in attachments],
            scripts=[s.model_dump() for s in result.scripts],
            policies=[p.model_dump() for p in result.policies],
            risks=[r.model_dump() for r in result.risks], latency_ms=frame.latency_ms,
            index_version=version), None if stored is None else _settler(stored))
    if stored is not None and logged and not await stored:
        raise NotStored(f"message {message_id} could not be written to the log store")
    return frame, logged


class NotStored(Exception):
    """With ``ack_after_write``: the log store refused the record, so it is not acknowledged."""


def _stored_future() -> asyncio.Future[bool]:
    return asyncio.get_running_loop().create_future()


def _settler(future: asyncio.Future[bool]) -> Callable[[bool], None]:
    """A writer-thread callback that settles ``future`` on its event loop."""
    loop = future.get_loop()

    def settle(stored: bool) -> None:
        def resolve() -> None:
            if not future.done():
                future.set_result(stored)

        loop.call_soon_threadsafe(resolve)

    return settle


def check_feedback(services: Services, frame: Feedback | FeedbackRequest) -> None:
    check_text(frame.final_text, services.settings.max_text_bytes, "final_text")


async def record_feedback(services: Services, principal: Principal,
                          frame: Feedback | FeedbackRequest) -> bool:
    """Log the feedback; False when the log cannot keep it (see Ack.logged). With
    ``ack_after_write`` it returns only once the row is committed (or spooled), like a message,
    and raises NotStored when the store refused it: an acknowledged label is a stored label.
    Callers check it first (``check_feedback``), as messages are checked before suggesting."""
    stored = _stored_future() if services.settings.acks_after_write else None
    logged = services.writer.put(FeedbackRecord(ts=time.time(), message_id=frame.message_id,
                                                suggestion_id=frame.suggestion_id,
                                                action=frame.action, agent=principal.agent,
                                                final_text=frame.final_text),
                                 None if stored is None else _settler(stored))
    if stored is not None and logged and not await stored:
        raise NotStored(f"feedback on message {frame.message_id} could not be written to the "
                        "log store")
    return logged
