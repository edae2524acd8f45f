"""Live connections: subscriptions, fan-out, heartbeats, rate limits, dropping dead or slow clients.

Every connection has its own bounded outbound queue and writer task, so fan-out never waits on
a slow client: when a client's queue is full it is closed (4408) and the others carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from assist.core.vocabulary import CLOSE_GOING_AWAY, CLOSE_INTERNAL, CLOSE_TIMEOUT
from assist.service.auth import Principal
from assist.service.limits import TokenBucket
from assist.service.protocol import ServerPing

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 1000
CLOSE_WAIT_S = 2.0
HOLD_S = 2.0  # longest a subscriber's frames wait for Redis to confirm a subscription


class Connection:
    def __init__(self, websocket: WebSocket, principal: Principal, rate: float, burst: int,
                 send_queue: int) -> None:
        self.websocket = websocket
        self.principal = principal
        self.subscriptions: set[str] = set()
        self.bucket = TokenBucket(rate, burst)
        self.refused = 0  # frames refused in a row by the rate limit
        self.last_seen = time.monotonic()
        self.closed = False
        self.must_abort = False  # dropped as dead or slow: the socket is aborted, not closed
        # Frames, and futures the writer waits for before the frames after them (see hold).
        self._outbox: asyncio.Queue[str | asyncio.Future[Any]] = asyncio.Queue(maxsize=send_queue)
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        self._closing: asyncio.Task[None] | None = None
        self.on_close: Callable[[Connection], None] | None = None  # set by the hub

    def send(self, text: str) -> None:
        """Queue a frame; a client that lets its queue fill up is closed."""
        if self.closed:
            return
        try:
            self._outbox.put_nowait(text)
        except asyncio.QueueFull:
            log.warning("closing %s: it is not reading its frames", self.principal.agent)
            self.close(CLOSE_TIMEOUT, "too slow")

    def hold(self, until: asyncio.Future[Any]) -> None:
        """Send nothing queued after this until ``until`` is done (at most HOLD_S)."""
        if not self.closed:
            try:
                self._outbox.put_nowait(until)
            except asyncio.QueueFull:
                self.close(CLOSE_TIMEOUT, "too slow")

    async def _write_loop(self) -> None:
        try:
            while True:
                text = await self._outbox.get()
                if isinstance(text, asyncio.Future):
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(asyncio.shield(text), HOLD_S)
                    continue
                await self.websocket.send_text(text)
        except Exception:  # the peer went away mid-send; the reader notices and returns
            self.close(CLOSE_INTERNAL, "send failed")

    def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        self.must_abort = code == CLOSE_TIMEOUT
        self._writer.cancel()
        if self.on_close is not None:  # leave the hub now, not when the peer finally answers
            self.on_close(self)
        self._closing = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def wait_closed(self) -> None:
        """Wait until the close frame is out: the endpoint must not return before (uvicorn
        would then drop the TCP connection without one, and the client would not see the code)."""
        if self._closing is not None:
            await self._closing

    async def _close(self, code: int, reason: str) -> None:
        # Bounded: a client that does not read cannot take the close frame either, and its
        # handler must still finish (uvicorn then closes the transport).
        try:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await asyncio.wait_for(self.websocket.close(code, reason), CLOSE_WAIT_S)
        except TimeoutError:
            self.must_abort = True
        except Exception:  # the peer is gone already
            pass

    async def drain(self, timeout: float = 2.0) -> None:
        """Give queued frames a moment to go out (clean shutdown)."""
        deadline = time.monotonic() + timeout
        while not self._outbox.empty() and not self.closed and time.monotonic() < deadline:
            await asyncio.sleep(0.01)


class Hub:
    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self.connections: set[Connection] = set()
        self._subscribers: dict[str, set[Connection]] = {}
        self._task: asyncio.Task[None] | None = None
        # With several processes (assist.service.cluster): hands each conversation frame to the
        # other processes too. None when this process serves alone.
        self.relay: Callable[[str, str], None] | None = None
        # ... and hears a conversation from the other processes while it has a subscriber here.
        self.follow: Callable[[str], asyncio.Future[None] | None] | None = None
        self.unfollow: Callable[[str], None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._heartbeat(), name="heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.gather(*(c.drain() for c in self.connections))
        for connection in list(self.connections):
            connection.close(CLOSE_GOING_AWAY, "server shutting down")

    def add(self, connection: Connection) -> None:
        self.connections.add(connection)
        connection.on_close = self._forget

    def remove(self, connection: Connection, code: int = 1000, reason: str = "") -> None:
        self._forget(connection)
        connection.close(code, reason)

    def _forget(self, connection: Connection) -> None:
        self.connections.discard(connection)
        self.unsubscribe(connection, list(connection.subscriptions))

    def subscribe(self, connection: Connection, conversation_ids: Iterable[str]) -> list[str]:
        """Subscribe; returns the ids now subscribed (capped at MAX_SUBSCRIPTIONS)."""
        added = []
        waits = []
        for cid in conversation_ids:
            if len(connection.subscriptions) >= MAX_SUBSCRIPTIONS:
                break
            connection.subscriptions.add(cid)
            self._subscribers.setdefault(cid, set()).add(connection)
            added.append(cid)
            if self.follow is not None and (wait := self.follow(cid)) is not None:
                waits.append(wait)
        if waits:  # the reply to this subscribe goes out once the other processes are heard
            connection.hold(asyncio.ensure_future(asyncio.gather(*waits)))
        return added

    def unsubscribe(self, connection: Connection, conversation_ids: Iterable[str]) -> list[str]:
        removed = []
        for cid in conversation_ids:
            connection.subscriptions.discard(cid)
            subscribers = self._subscribers.get(cid)
            if subscribers is not None:
                subscribers.discard(connection)
                if not subscribers:
                    del self._subscribers[cid]
                    if self.unfollow is not None:
                        self.unfollow(cid)
            removed.append(cid)
        return removed

    def publish(self, conversation_id: str, text: str, sender: Connection | None = None) -> int:
        """Send a frame to the conversation's subscribers (and its sender), here and in the other
        processes; returns how many local connections got it."""
        targets = set(self._subscribers.get(conversation_id, ()))
        if sender is not None:
            targets.add(sender)
        for connection in targets:
            connection.send(text)
        if self.relay is not None:
            self.relay(conversation_id, text)
        return len(targets)

    def deliver(self, conversation_id: str, text: str) -> int:
        """A frame another process published: to this process's subscribers only."""
        targets = self._subscribers.get(conversation_id, ())
        for connection in list(targets):
            connection.send(text)
        return len(targets)

    def broadcast(self, text: str) -> None:
        for connection in list(self.connections):
            connection.send(text)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            now = time.monotonic()
            ping = ServerPing(ts=time.time()).model_dump_json()
            for connection in list(self.connections):
                if now - connection.last_seen > 3 * self.heartbeat_s:
                    log.info("dropping %s: silent for %.0fs", connection.principal.agent,
                             now - connection.last_seen)
                    self.remove(connection, CLOSE_TIMEOUT, "no heartbeat")
                else:
                    connection.send(ping)
