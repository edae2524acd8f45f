"""Micro-batching: concurrent messages share one embedding call, run off the event loop.

One sentence per embedder call costs about ten times more per sentence than a batch, so the
batcher collects messages: a batch runs in a worker thread while the next one gathers, so under
load the worker is always busy and batches form by themselves. The first message reaching an
idle batcher may wait ``wait_ms`` for company; the default 0 (continuous batching) measured best
both at light load (no wait at all) and at 200 connections (benchmarks/load.py).

Each batch reads the engine reference once, when it starts: a hot re-index swaps the reference
and batches already running finish on the engine they started with.

Fairness: messages queue per tenant (the token that sent them) and batches are filled
round-robin across tenants, at most ``tenant_share`` messages of one tenant per batch, and a
tenant with ``tenant_queue`` messages waiting gets ``Busy`` for the next one. So a token that
floods from many sockets waits behind its own backlog, not in front of everyone else's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from assist.core.embedders import Embedder
from assist.core.engine import Engine, Message
from assist.core.models import SuggestResult

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


class ResultCache:
    """An LRU of results by (index version, raw text), for messages without attachments.

    Retrieval and risk detection are pure functions of the text and the index, so a repeated
    message ("在吗") needs neither. Keyed by the raw text, not the normalised one: the risk rules
    read the links and numbers that normalisation strips. Entries of a replaced index age out.
    Used from the event loop only.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self._results: OrderedDict[tuple[str, str], SuggestResult] = OrderedDict()

    def get(self, version: str, message: Message) -> SuggestResult | None:
        if message.attachments:
            return None
        result = self._results.get((version, message.text))
        if result is not None:
            self._results.move_to_end((version, message.text))
            self.hits += 1
        return result

    def put(self, version: str, message: Message, result: SuggestResult) -> None:
        if message.attachments or not self.size:
            return
        self._results[(version, message.text)] = result
        if len(self._results) > self.size:
            self._results.popitem(last=False)


class Busy(Exception):
    """The tenant already has its share of messages waiting; retry later."""


@dataclass
class _Pending:
    message: Message
    future: asyncio.Future[tuple[SuggestResult, str]]


class Batcher:
    """``await batcher.suggest(message, key)`` → (result, index_version), batched with its neighbours.

    ``key`` names the conversation: a repeat found in the result cache is answered at once,
    without waiting behind the running batch, unless an earlier message of its conversation is
    still in flight (then it queues, so answers within a conversation keep their order).
    """

    def __init__(self, engine: Callable[[], Engine], wait_ms: float = 0.0, max_batch: int = 64,
                 cache_size: int = 4096, tenant_queue: int = 1 << 30,
                 tenant_share: int | None = None) -> None:
        self._engine = engine
        self.wait = wait_ms / 1000
        self.max_batch = max_batch
        self.batches = 0
        self.messages = 0  # computed by the engine (not answered from the cache)
        self.results = ResultCache(cache_size)
        # One worker: the embedder serialises calls anyway, and one batch at a time keeps
        # batches large under load.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self.tenant_queue = tenant_queue
        self.tenant_share = max(1, min(tenant_share or max_batch, max_batch))
        # Per tenant, in round-robin order: the tenant served last moves to the end.
        self._queues: OrderedDict[str, deque[_Pending]] = OrderedDict()
        self._queued = 0
        self._in_flight: dict[str, int] = {}  # per conversation: queued or computing
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="batcher")

    async def stop(self) -> None:
        """Finish queued work (answering every caller), then stop the worker."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)

    async def suggest(self, message: Message, key: str | None = None,
                      tenant: str = "") -> tuple[SuggestResult, str]:
        if key is None or not self._in_flight.get(key):
            engine = self._engine()
            result = self.results.get(engine.version, message)
            if result is not None:
                return result, engine.version
        if self._stopping and (self._task is None or self._task.done()):
            raise RuntimeError("the batcher has stopped")
        queue = self._queues.get(tenant)
        if queue is not None and len(queue) >= self.tenant_queue:
            raise Busy(f"{len(queue)} messages of this token are already waiting; retry shortly")
        future: asyncio.Future[tuple[SuggestResult, str]] = asyncio.get_running_loop().create_future()
        if queue is None:
            queue = self._queues[tenant] = deque()
        queue.append(_Pending(message, future))
        self._queued += 1
        self._wakeup.set()
        if key is None:
            return await future
        self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            return await future
        finally:
            # Counted down when the caller resumes, not when the batch sets the result: a hit
            # arriving in between still queues, and is answered after this message.
            if self._in_flight[key] == 1:
                del self._in_flight[key]
            else:
                self._in_flight[key] -= 1

    async def _run(self) -> None:
        backlog = False  # messages arrived while the last batch ran: they have waited already
        while True:
            if not self._queued:
                if self._stopping:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if self.wait and not backlog and self._queued < self.max_batch:
                await asyncio.sleep(self.wait)
            await self._answer(self._take())
            backlog = bool(self._queued)

    @property
    def queued(self) -> int:
        return self._queued

    def _take(self) -> list[_Pending]:
        """The next batch: one message per tenant in turn, at most ``tenant_share`` each."""
        batch: list[_Pending] = []
        taken: dict[str, int] = {}
        while len(batch) < self.max_batch and self._queues:
            tenant, queue = next(iter(self._queues.items()))
            if taken.get(tenant, 0) >= self.tenant_share:  # every tenant left had its share
                break
            batch.append(queue.popleft())
            taken[tenant] = taken.get(tenant, 0) + 1
            if queue:
                self._queues.move_to_end(tenant)
            else:
                del self._queues[tenant]
        self._queued -= len(batch)
        return batch

    async def _answer(self, batch: list[_Pending]) -> None:
        engine = self._engine()  # read once: this batch finishes on this engine
        # Repeats are answered from the cache and a text twice in one batch is computed once;
        # answers still go out in arrival order, a batch at a time.
        results = [self.results.get(engine.version, p.message) for p in batch]
        todo: dict[str | int, Message] = {}
        for n, (pending, result) in enumerate(zip(batch, results, strict=True)):
            if result is None:
                todo.setdefault(_key(n, pending.message), pending.message)
        try:
            computed = await self._compute(engine, todo)
        except Exception as exc:  # a bad batch must not kill the batcher
            log.exception("suggestion batch of %d failed", len(todo))
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        for n, (pending, result) in enumerate(zip(batch, results, strict=True)):
            if not pending.future.done():  # the caller may have gone away
                answer = result if result is not None else computed[_key(n, pending.message)]
                pending.future.set_result((answer, engine.version))

    async def _compute(self, engine: Engine,
                       todo: dict[str | int, Message]) -> dict[str | int, SuggestResult]:
        """One engine call for the messages not in the cache, off the event loop."""
        if not todo:
            return {}
        fresh = await asyncio.get_running_loop().run_in_executor(
            self._executor, engine.suggest_many, list(todo.values()))
        self.batches += 1
        self.messages += len(fresh)
        for message, result in zip(todo.values(), fresh, strict=True):
            self.results.put(engine.version, message, result)
        return dict(zip(todo, fresh, strict=True))


def _key(position: int, message: Message) -> str | int:
    """Messages with the same key get the same answer: same text, no attachments."""
    return position if message.attachments else message.text
