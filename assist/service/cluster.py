"""``Cluster``: joins this process to the others of the service through Redis.

* Fan-out: every frame the hub sends to a conversation's local subscribers is also published
  on the conversation's channel; this process listens on the channels of the conversations it
  has subscribers for, and delivers what others published there (``Hub.deliver``).
* Index: a re-index takes the cluster lock (one build at a time across processes; a second
  request finds the build unchanged), swaps locally and announces the version. Other processes
  load the new version from the shared index directory and swap; batches in flight finish on
  the old engine. A process that missed the announcement converges on its next check
  (``index_poll_s``): the ``CURRENT`` pointer of the shared index directory, and the version
  recorded in Redis.

Without ``redis`` in the settings there is no cluster and the service runs exactly as alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from assist.core.index.format import CURRENT_FILE
from assist.service.bus import Bus

if TYPE_CHECKING:
    from assist.service.services import Services

log = logging.getLogger(__name__)


class Cluster:
    def __init__(self, services: Services, bus: Bus, poll_s: float) -> None:
        self.services = services
        self.bus = bus
        self.poll_s = poll_s
        self.adopted = 0  # versions taken from other processes
        self._poll: asyncio.Task[None] | None = None
        self._adopting: asyncio.Task[None] | None = None
        self._again = False

    async def start(self) -> None:
        services, bus = self.services, self.bus
        services.hub.relay = bus.publish_frame
        services.hub.follow = bus.follow
        services.hub.unfollow = bus.unfollow
        bus.on_frame = services.hub.deliver
        bus.on_index = self._announced
        bus.on_connect = self._announced_maybe
        reindexer = services.reindexer
        reindexer.guard = bus.reindex_lock
        reindexer.announce = bus.announce_index
        reindexer.current = lambda: services.engine.version
        await bus.start()
        self._poll = asyncio.get_running_loop().create_task(self._poll_loop(), name="index-poll")
        log.info("cluster member %s (Redis prefix %r)", bus.origin, bus.prefix)

    async def stop(self) -> None:
        hub = self.services.hub
        hub.relay = hub.follow = hub.unfollow = None
        for task in (self._poll, self._adopting):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.bus.stop()

    def health(self) -> dict[str, Any]:
        state = self.bus.state()
        state["index_versions_adopted"] = self.adopted
        return state

    # -- index convergence -------------------------------------------------------------------

    async def _announced(self, version: str) -> None:
        if version != self.services.engine.version:
            self._converge_soon()

    async def _announced_maybe(self) -> None:
        """On (re)connect: an announcement may have been missed."""
        self._converge_soon()

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            if await self._behind():
                self._converge_soon()

    async def _behind(self) -> bool:
        on_disk = await asyncio.to_thread(self._current_on_disk)
        return on_disk is not None and on_disk != self.services.engine.version

    def _current_on_disk(self) -> str | None:
        with contextlib.suppress(OSError):
            return (self.services.settings.index / CURRENT_FILE).read_text(encoding="utf-8").strip()
        return None

    def _converge_soon(self) -> None:
        """Load the current version in the background (one load at a time, coalesced)."""
        if self._adopting is not None and not self._adopting.done():
            self._again = True
            return
        self._adopting = asyncio.get_running_loop().create_task(self._converge(), name="index-adopt")

    async def _converge(self) -> None:
        while True:
            self._again = False
            try:
                if await self.services.reindexer.adopt():
                    self.adopted += 1
            except Exception:  # a half-written or removed version: the next check retries
                log.exception("could not load the current index version; will retry")
            if not self._again:
                return
