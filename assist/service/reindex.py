"""Hot re-index: rebuild from the knowledge folder in a thread, then swap the engine reference.

The build is atomic on disk (assist.core.index.build) and the swap is one attribute assignment, so
batches already running finish on the old engine and nothing fails. A knowledge folder with
errors returns them and leaves the old index serving.

With several processes (assist.service.cluster) the cluster sets ``guard`` (a lock across
processes), ``announce`` (tell the others) and ``current``; ``adopt`` loads a version another
process built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from assist.core.embedders import Embedder
from assist.core.engine import Engine, open_engine
from assist.core.index.build import build_index
from assist.core.index.format import current_version_dir
from assist.core.knowledge import KnowledgeError
from assist.core.retrieval import RetrievalConfig
from assist.core.risk.config import RiskConfig
from assist.service.protocol import ReindexResponse

log = logging.getLogger(__name__)


class Reindexer:
    def __init__(self, knowledge: Path, index: Path, embedder: Embedder, build_embedder: Embedder,
                 retrieval: RetrievalConfig | None, swap: Callable[[Engine], None],
                 risk: RiskConfig | None = None) -> None:
        self.knowledge = knowledge
        self.index = index
        self.embedder = embedder  # what the new engine serves with (the cached one)
        self.build_embedder = build_embedder  # the bare model: index texts need not fill the cache
        self.retrieval = retrieval
        self.risk = risk
        self._swap = swap
        self._lock = asyncio.Lock()  # one rebuild at a time; a second request waits its turn
        # Cluster hooks; alone, a re-index always swaps (and tells every connection).
        self.guard: Callable[[], contextlib.AbstractAsyncContextManager[bool]] = _no_guard
        self.announce: Callable[[str], Awaitable[None]] | None = None
        self.current: Callable[[], str] | None = None

    async def reindex(self) -> ReindexResponse:
        async with self._lock, self.guard():
            started = time.perf_counter()
            try:
                engine, unchanged = await asyncio.to_thread(self._build)
            except KnowledgeError as exc:
                log.warning("re-index refused: %s", exc)
                return ReindexResponse(ok=False, index_version="", entries=0,
                                       errors=[str(p) for p in exc.problems],
                                       seconds=time.perf_counter() - started)
            if self.current is None or self.current() != engine.version:
                self._swap(engine)
                log.info("index %s live (%d entries)", engine.version, len(engine.index.entries))
            if self.announce is not None:
                await self.announce(engine.version)
            return ReindexResponse(ok=True, index_version=engine.version,
                                   entries=len(engine.index.entries), unchanged=unchanged,
                                   seconds=round(time.perf_counter() - started, 3))

    async def adopt(self) -> bool:
        """Load and swap to the version ``CURRENT`` names, if it is not live (another process
        built it); returns whether it swapped."""
        async with self._lock:
            if self.current is not None and current_name(self.index) == self.current():
                return False
            engine = await asyncio.to_thread(self._open)
            if self.current is not None and self.current() == engine.version:
                return False
            self._swap(engine)
            log.info("index %s live (%d entries), built by another process", engine.version,
                     len(engine.index.entries))
            return True

    def _open(self) -> Engine:
        return open_engine(self.index, self.embedder, self.retrieval, self.risk)

    def _build(self) -> tuple[Engine, bool]:
        summary = build_index(self.knowledge, self.index, self.build_embedder, progress=False)
        return self._open(), summary.unchanged


@contextlib.asynccontextmanager
async def _no_guard() -> AsyncIterator[bool]:
    yield True


def current_name(root: Path) -> str | None:
    """The version ``CURRENT`` names under ``root`` (None: no complete index there yet)."""
    try:
        return current_version_dir(root).name
    except Exception:
        return None
