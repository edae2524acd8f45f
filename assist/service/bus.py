"""``Bus``: Redis pub/sub between the processes of one service (``redis`` package, asyncio API).

Channels under the configured prefix:

* ``<prefix>:c:<conversation id>``: the suggestions frames of one conversation, with the id of
  the process that sent them. A process subscribes to a conversation's channel while it has a
  local subscriber there, so Redis sends each frame only to the processes that need it (the
  cost grows with messages, not with processes × messages). Each process delivers its own
  frames locally first and ignores them when Redis echoes them back, so local subscribers get
  each frame once. Frames go out in the order they were queued, over one connection, and Redis
  keeps a publisher's order, so a conversation's frames arrive in order everywhere.
* ``<prefix>:index``: the index version a process just made live (also kept in the key
  ``<prefix>:index:current`` for processes that start later or were disconnected).

Redis going away is not an error for the service: local fan-out does not use it, frames for
other processes are counted as dropped while it is down, the listener reconnects with backoff,
and ``state`` says what is degraded (``/healthz``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

OUTBOX = 10000  # frames queued for Redis; beyond this (Redis far too slow) new ones are dropped
RETRY_S = (0.1, 0.25, 0.5, 1.0, 2.0)  # reconnect backoff
REINDEX_LOCK_S = 900  # a crashed builder's lock expires after this


def process_id() -> str:
    """Names this process in frames and logs: host, pid and a random part (pids get reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Bus:
    def __init__(self, url: str, prefix: str, origin: str | None = None) -> None:
        self.url = url
        self.prefix = prefix
        self.origin = origin or process_id()
        self.frames_prefix = f"{prefix}:c:"
        self.index_channel = f"{prefix}:index"
        self.index_key = f"{prefix}:index:current"
        self.lock_name = f"{prefix}:reindex-lock"
        # Set by the cluster before start(): what to do with another process's frame / version.
        self.on_frame: Callable[[str, str], object] = lambda conversation_id, text: None
        self.on_index: Callable[[str], Awaitable[None]] | None = None
        self.on_connect: Callable[[], Awaitable[None]] | None = None
        self.up = False
        self.error: str | None = "not connected yet"
        self.down_since: float | None = time.time()
        self.published = self.received = self.dropped = 0
        self._client = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=None,
                                         health_check_interval=5, decode_responses=True)
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=OUTBOX)
        self._tasks: list[asyncio.Task[None]] = []
        # Conversations with a local subscriber, and the SUBSCRIBEs Redis has not confirmed yet.
        self._followed: set[str] = set()
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._pubsub: Any = None  # the listener's, while connected
        self._commands: set[asyncio.Task[None]] = set()  # (un)subscribes being sent

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen(), name="bus-listen"),
                       loop.create_task(self._publish_loop(), name="bus-publish")]

    async def stop(self) -> None:
        """Send what is queued (briefly), then disconnect."""
        deadline = time.monotonic() + 2
        while self.up and not self._outbox.empty() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._client.aclose()

    def state(self) -> dict[str, Any]:
        return {"url": _redacted(self.url), "prefix": self.prefix, "process": self.origin,
                "connected": self.up, "error": self.error,
                "down_since": self.down_since, "published": self.published,
                "received": self.received, "dropped": self.dropped,
                "queued": self._outbox.qsize(), "conversations_followed": len(self._followed)}

    # -- which conversations this process hears ---------------------------------------------

    def follow(self, conversation_id: str) -> asyncio.Future[None] | None:
        """Hear the other processes' frames for a conversation (its first local subscriber).

        Returns a future that completes once Redis has confirmed the subscription (None when
        there is nothing to wait for): the hub holds the subscriber's next frames, the
        ``subscribed`` reply among them, until then, so a message ingested elsewhere after that
        reply is never missed."""
        if conversation_id in self._followed:
            return self._pending.get(conversation_id)
        self._followed.add(conversation_id)
        if not self.up or self._pubsub is None:
            return None  # subscribed with all the others on (re)connect
        future = asyncio.get_running_loop().create_future()
        self._pending[conversation_id] = future
        self._spawn(self._command("subscribe", conversation_id))
        return future

    def unfollow(self, conversation_id: str) -> None:
        """Its last local subscriber left."""
        if conversation_id not in self._followed:
            return
        self._followed.discard(conversation_id)
        self._settle(conversation_id)
        if self.up and self._pubsub is not None:
            self._spawn(self._command("unsubscribe", conversation_id))

    def _spawn(self, command: Coroutine[Any, Any, None]) -> None:
        # The loop keeps only weak references to tasks: hold them until they finish.
        task = asyncio.get_running_loop().create_task(command)
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    async def _command(self, verb: str, conversation_id: str) -> None:
        pubsub = self._pubsub
        try:
            if pubsub is not None:
                await getattr(pubsub, verb)(self.frames_prefix + conversation_id)
        except (RedisError, OSError) as exc:  # the listener reconnects and resubscribes
            self._failed(exc)
            self._settle(conversation_id)

    def _settle(self, conversation_id: str) -> None:
        future = self._pending.pop(conversation_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    # -- frames ------------------------------------------------------------------------------

    def publish_frame(self, conversation_id: str, text: str) -> None:
        """Queue a frame for the other processes (never blocks; dropped while Redis is down)."""
        if not self.up:
            self.dropped += 1
            return
        # The header is JSON (a conversation id may hold any character); the frame follows the
        # first newline untouched, so no process re-encodes it.
        envelope = json.dumps([self.origin, conversation_id], ensure_ascii=False) + "\n" + text
        try:
            self._outbox.put_nowait((self.frames_prefix + conversation_id, envelope))
        except asyncio.QueueFull:
            self.dropped += 1

    async def _publish_loop(self) -> None:
        while True:
            first = await self._outbox.get()
            batch = [first]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(self._outbox.get_nowait())
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for channel, envelope in batch:
                        pipe.publish(channel, envelope)
                    await pipe.execute()
                self.published += len(batch)
            except (RedisError, OSError) as exc:
                self.dropped += len(batch)
                self._failed(exc)
                await asyncio.sleep(RETRY_S[0])

    def _deliver(self, data: str) -> None:
        header, _, text = data.partition("\n")
        try:
            origin, conversation_id = json.loads(header)
        except (ValueError, TypeError):
            log.warning("ignoring a malformed frame on %s*", self.frames_prefix)
            return
        if origin == self.origin:  # ours, delivered locally already
            return
        self.received += 1
        self.on_frame(conversation_id, text)

    # -- index versions ----------------------------------------------------------------------

    async def announce_index(self, version: str) -> None:
        """Record and announce the version this process just made live (best effort)."""
        try:
            await self._client.set(self.index_key, version)
            await self._client.publish(self.index_channel, json.dumps([self.origin, version]))
        except (RedisError, OSError) as exc:
            log.warning("could not announce index %s (Redis: %s); other processes will find it "
                        "on their next index check", version, exc)

    @contextlib.asynccontextmanager
    async def reindex_lock(self) -> AsyncIterator[bool]:
        """Held while this process rebuilds, so concurrent re-index requests build once.

        Yields False (and does not lock) when Redis is down: the build is atomic on disk, so two
        builders at worst build the same version twice."""
        lock = self._client.lock(self.lock_name, timeout=REINDEX_LOCK_S, blocking_timeout=REINDEX_LOCK_S)
        try:
            acquired = bool(await lock.acquire())
        except (RedisError, OSError) as exc:
            log.warning("re-index without the cluster lock (Redis: %s)", exc)
            acquired = False
        try:
            yield acquired
        finally:
            if acquired:
                with contextlib.suppress(LockError, RedisError, OSError):
                    await lock.release()

    # -- the listener ------------------------------------------------------------------------

    async def _listen(self) -> None:
        failures = 0
        while True:
            pubsub = self._client.pubsub()
            try:
                channels = [self.frames_prefix + c for c in self._followed]
                await pubsub.subscribe(self.index_channel, *channels)
                self._pubsub = pubsub
                self._up()
                failures = 0
                if self.on_connect is not None:  # catch up on what was missed while away
                    await self.on_connect()
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    channel = message["channel"]
                    if message["type"] == "message" and channel.startswith(self.frames_prefix):
                        self._deliver(message["data"])
                    elif message["type"] == "message" and channel == self.index_channel:
                        await self._index_event(message["data"])
                    elif message["type"] == "subscribe" and channel.startswith(self.frames_prefix):
                        self._settle(channel[len(self.frames_prefix):])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._down(exc)
                await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1
            except Exception:  # a bug in a callback must not end cross-process delivery
                log.exception("bus listener failed; reconnecting")
                await asyncio.sleep(RETRY_S[-1])
            finally:
                self._pubsub = None
                for conversation_id in list(self._pending):  # resubscribed on reconnect
                    self._settle(conversation_id)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _index_event(self, data: str) -> None:
        try:
            origin, version = json.loads(data)
        except (ValueError, TypeError):
            return
        if origin != self.origin and self.on_index is not None:
            await self.on_index(str(version))

    def _failed(self, exc: BaseException) -> None:
        """A command failed. Only the listener decides that Redis is down (and back): a command
        that marked it down could do so after the listener had reconnected, and nothing would
        mark it up again."""
        log.warning("Redis command failed (%s: %s)", type(exc).__name__, exc)

    def _up(self) -> None:
        if not self.up:
            log.info("Redis %s connected (process %s)", _redacted(self.url), self.origin)
        self.up, self.error, self.down_since = True, None, None

    def _down(self, exc: BaseException) -> None:
        if self.up:
            log.warning("Redis %s unreachable (%s): delivering to local subscribers only until "
                        "it is back", _redacted(self.url), exc)
            self.down_since = time.time()
        self.up = False
        self.error = f"{type(exc).__name__}: {exc}"


def _redacted(url: str) -> str:
    """The URL without a password, for health output and logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"
