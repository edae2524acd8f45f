"""Micro-batching: concurrent messages share one embedding call, run off the event loop.

One sentence per embedder call costs about ten times more per sentence than a batch, so the
batcher collects messages: a batch runs in a worker thread while the next one gathers, so under
load the worker is always busy and batches form by themselves. The first message reaching an
idle batcher may wait ``wait_ms`` for company; the default 0 (continuous batching) measured best
both at light load (no wait at all) and at 200 connections (benchmarks/load.py).

Each batch reads the engine reference once, when it starts: a hot re-index swaps the reference
and batches already running finish on the engine they started with.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from assist.embedders import Embedder
from assist.engine import Engine, Message
from assist.models import SuggestResult

log = logging.getLogger(__name__)


class CachingEmbedder:
    """An LRU cache of vectors in front of an embedder, for repeated texts ("在吗", "发货了吗").

    Keyed by the normalised text the retriever embeds, so it stays valid across re-indexes
    (the embedder does not change); only the misses of a batch go to the model.
    """

    def __init__(self, inner: Embedder, size: int = 20000) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.size = size
        self.hits = 0
        self.misses = 0
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._cache.get(text)
                if vector is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = vector
            self.hits += len(texts) - sum(len(v) for v in missing.values())
            self.misses += len(missing)
        if missing:
            vectors = self.inner.encode(list(missing))
            with self._lock:
                for (text, rows), vector in zip(missing.items(), vectors, strict=True):
                    out[rows] = vector
                    if self.size:
                        self._cache[text] = vector
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return out


@dataclass
class _Pending:
    message: Message
    future: asyncio.Future[tuple[SuggestResult, str]]


class Batcher:
    """``await batcher.suggest(message)`` → (result, index_version), batched with its neighbours."""

    def __init__(self, engine: Callable[[], Engine], wait_ms: float = 0.0, max_batch: int = 64) -> None:
        self._engine = engine
        self.wait = wait_ms / 1000
        self.max_batch = max_batch
        self.batches = 0
        self.messages = 0
        # One worker: the embedder serialises calls anyway, and one batch at a time keeps
        # batches large under load.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._queue: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="batcher")

    async def stop(self) -> None:
        """Finish queued work, then stop the worker."""
        if self._task is not None:
            while self._queue:
                await asyncio.sleep(0.005)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._executor.shutdown(wait=True)

    async def suggest(self, message: Message) -> tuple[SuggestResult, str]:
        future: asyncio.Future[tuple[SuggestResult, str]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(message, future))
        self._wakeup.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        backlog = False  # messages arrived while the last batch ran: they have waited already
        while True:
            await self._wakeup.wait()
            if self.wait and not backlog and len(self._queue) < self.max_batch:
                await asyncio.sleep(self.wait)
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
            if not self._queue:
                self._wakeup.clear()
            if not batch:
                continue
            engine = self._engine()  # read once: this batch finishes on this engine
            try:
                results = await loop.run_in_executor(
                    self._executor, engine.suggest_many, [p.message for p in batch])
            except Exception as exc:  # a bad batch must not kill the batcher
                log.exception("suggestion batch of %d failed", len(batch))
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            backlog = bool(self._queue)
            self.batches += 1
            self.messages += len(batch)
            for pending, result in zip(batch, results, strict=True):
                if not pending.future.done():  # the caller may have gone away
                    pending.future.set_result((result, engine.version))
