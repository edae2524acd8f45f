"""Batcher: result cache, in-batch de-duplication, per-conversation order, failures, stop.

Every answer comes from a real Engine over the tiny fixture index. Where a test needs to hold a
batch in the worker, ``GatedEngine`` wraps the real engine and blocks until the test opens its
gate (and can be told to raise, for the failure test).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from assist.core.embedders import Embedder
from assist.core.engine import Engine, Message, open_engine
from assist.core.index.build import build_index
from assist.core.models import Attachment, SuggestResult
from assist.core.textnorm import normalise
from assist.service.batcher import Batcher, Busy

GREETING = "在吗"


class GatedEngine:
    """A real engine whose batches wait for ``gate``; records the texts of every batch."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.gate.set()
        self.batches: list[list[str]] = []
        self.fail: Exception | None = None

    @property
    def version(self) -> str:
        return self.inner.version

    def suggest_many(self, messages: Sequence[Message]) -> list[SuggestResult]:
        self.batches.append([m.text for m in messages])
        if not self.gate.wait(timeout=10):
            raise TimeoutError("test never opened the gate")
        if self.fail is not None:
            raise self.fail
        return self.inner.suggest_many(messages)


@pytest.fixture
def gated(small_engine: Engine) -> GatedEngine:
    return GatedEngine(small_engine)


@pytest.fixture
async def batcher(gated: GatedEngine) -> AsyncIterator[Batcher]:
    batcher = Batcher(lambda: gated)  # type: ignore[arg-type, return-value]
    batcher.start()
    yield batcher
    gated.gate.set()
    await batcher.stop()



async def test_repeat_is_answered_from_the_cache(batcher: Batcher, gated: GatedEngine,
                                                 small_engine: Engine) -> None:
    first, version = await batcher.suggest(Message(GREETING))
    again, version_again = await batcher.suggest(Message(GREETING), "c1")
    assert again is first and version == version_again == small_engine.version
    assert first == small_engine.suggest(GREETING)
    assert gated.batches == [[GREETING]]
    assert (batcher.messages, batcher.results.hits) == (1, 1)


async def test_cache_is_keyed_by_raw_text_not_normalised(batcher: Batcher, gated: GatedEngine) -> None:
    safe = "订单有问题看这里 https://item.taobao.com/item.htm?id=1"
    phishing = "订单有问题看这里 http://taobao-refund.xyz/login"
    assert normalise(safe).text == normalise(phishing).text  # the embedder sees the same text
    safe_result, _ = await batcher.suggest(Message(safe))
    phishing_result, _ = await batcher.suggest(Message(phishing))
    assert [r.type for r in safe_result.risks] == []
    assert [r.type for r in phishing_result.risks] == ["phishing_link"]
    assert gated.batches == [[safe], [phishing]] and batcher.results.hits == 0


async def test_messages_with_attachments_bypass_the_cache(batcher: Batcher, gated: GatedEngine) -> None:
    file = Attachment(name="发票.pdf", mime="application/pdf", size=1024)
    message = Message("看下这个文件", [file])
    await batcher.suggest(message)
    await batcher.suggest(message)
    assert gated.batches == [[message.text], [message.text]]
    assert batcher.results.hits == 0


async def test_a_new_index_version_misses(small_engine: Engine, embedder: Embedder,
                                          knowledge_dir: Path, tmp_path: Path) -> None:
    extra = knowledge_dir / "presale" / "extra.yaml"
    extra.write_text("- kind: script\n  id: extra-greeting\n  category: 售前\n  title: 在的\n"
                     "  questions: [在吗, 有人吗]\n  reply: 在的亲,请问有什么可以帮您?\n", encoding="utf-8")
    build_index(knowledge_dir, tmp_path / "index", embedder, progress=False)
    rebuilt = open_engine(tmp_path / "index", embedder)
    assert rebuilt.version != small_engine.version
    live = [small_engine]
    batcher = Batcher(lambda: live[0])
    batcher.start()
    try:
        old, old_version = await batcher.suggest(Message(GREETING))
        live[0] = rebuilt  # the hot re-index swaps the reference
        new, new_version = await batcher.suggest(Message(GREETING))
    finally:
        await batcher.stop()
    assert (old_version, new_version) == (small_engine.version, rebuilt.version)
    assert batcher.results.hits == 0 and batcher.messages == 2
    assert "extra-greeting" in [s.id for s in new.scripts]
    assert "extra-greeting" not in [s.id for s in old.scripts]


async def test_same_text_twice_in_a_batch_is_computed_once(batcher: Batcher, gated: GatedEngine,
                                                           until) -> None:
    gated.gate.clear()
    blocker = asyncio.create_task(batcher.suggest(Message("这件衣服起球吗")))
    await until(lambda: len(gated.batches) == 1)  # the worker holds batch 1; the rest queue
    texts = ["发什么快递", "发什么快递", "可以开发票吗"]
    waiting = [asyncio.create_task(batcher.suggest(Message(t))) for t in texts]
    await asyncio.sleep(0.01)
    gated.gate.set()
    await blocker
    (a, _), (b, _), (c, _) = await asyncio.gather(*waiting)
    assert gated.batches[1] == ["发什么快递", "可以开发票吗"]
    assert a is b and a != c
    assert batcher.messages == 3


async def test_hit_waits_for_its_conversation_but_not_for_others(batcher: Batcher,
                                                                 gated: GatedEngine, until) -> None:
    await batcher.suggest(Message(GREETING))  # now cached
    gated.gate.clear()
    delivered: list[str] = []

    async def send(label: str, text: str, conversation: str) -> None:
        await batcher.suggest(Message(text), conversation)
        delivered.append(label)

    miss = asyncio.create_task(send("c1 miss", "我的快递到哪了", "c1"))
    await until(lambda: len(gated.batches) == 2)  # the miss is in the worker, held at the gate
    queued_hit = asyncio.create_task(send("c1 hit", GREETING, "c1"))
    other_hit = asyncio.create_task(send("c2 hit", GREETING, "c2"))
    http_hit = asyncio.create_task(send("no conversation", GREETING, None))  # type: ignore[arg-type]
    await asyncio.wait_for(asyncio.gather(other_hit, http_hit), 1)  # while the batch is held
    assert not queued_hit.done() and not miss.done()
    gated.gate.set()
    await asyncio.gather(miss, queued_hit)
    assert delivered == ["c2 hit", "no conversation", "c1 miss", "c1 hit"]
    assert batcher._in_flight == {}


async def test_engine_exception_fails_its_batch_only(batcher: Batcher, gated: GatedEngine) -> None:
    gated.fail = RuntimeError("embedder exploded")
    with pytest.raises(RuntimeError, match="embedder exploded"):
        await batcher.suggest(Message("尺码怎么选"), "c1")
    gated.fail = None
    result, _ = await batcher.suggest(Message("尺码怎么选"), "c1")
    assert result.scripts
    assert batcher._in_flight == {}


async def test_stop_drains_queued_work(small_engine: Engine, until) -> None:
    gated = GatedEngine(small_engine)
    gated.gate.clear()
    batcher = Batcher(lambda: gated, max_batch=2)  # type: ignore[arg-type, return-value]
    batcher.start()
    texts = [f"第{n}件衣服什么时候发货" for n in range(7)]
    tasks = [asyncio.create_task(batcher.suggest(Message(t), f"c{n % 2}")) for n, t in enumerate(texts)]
    await until(lambda: len(gated.batches) == 1)
    stopping = asyncio.create_task(batcher.stop())
    await asyncio.sleep(0.01)
    assert not stopping.done()
    gated.gate.set()
    await asyncio.wait_for(stopping, 10)
    results = [result for result, _ in await asyncio.gather(*tasks)]
    assert results == [small_engine.suggest(t) for t in texts]
    assert [len(b) for b in gated.batches] == [2, 2, 2, 1]
    with pytest.raises(RuntimeError, match="stopped"):
        await batcher.suggest(Message("还有一个问题"))


async def test_batches_are_filled_round_robin_across_tenants(gated: GatedEngine) -> None:
    """A tenant's backlog waits behind itself: a newcomer is in the very next batch."""
    batcher = Batcher(lambda: gated, max_batch=8, cache_size=0, tenant_share=4)  # type: ignore[arg-type, return-value]
    batcher.start()
    gated.gate.clear()
    first = asyncio.ensure_future(batcher.suggest(Message("greedy-0"), tenant="greedy"))
    await asyncio.sleep(0.05)  # the first batch is now held in the worker
    flood = [asyncio.ensure_future(batcher.suggest(Message(f"greedy-{i}"), tenant="greedy"))
             for i in range(1, 30)]
    others = [asyncio.ensure_future(batcher.suggest(Message(f"{name}-1"), tenant=name))
              for name in ("calm", "quiet")]
    await asyncio.sleep(0.05)
    gated.gate.set()
    await asyncio.gather(first, *flood, *others)
    await batcher.stop()
    second = gated.batches[1]
    assert "calm-1" in second and "quiet-1" in second
    assert sum(t.startswith("greedy") for t in second) == 4  # its share, not the whole batch
    assert all(len(b) <= 8 for b in gated.batches)


async def test_a_tenant_over_its_queue_is_told_busy(gated: GatedEngine) -> None:
    batcher = Batcher(lambda: gated, cache_size=0, tenant_queue=3)  # type: ignore[arg-type, return-value]
    batcher.start()
    gated.gate.clear()
    running = asyncio.ensure_future(batcher.suggest(Message("a-0"), tenant="a"))
    await asyncio.sleep(0.05)
    waiting = [asyncio.ensure_future(batcher.suggest(Message(f"a-{i}"), tenant="a")) for i in range(1, 4)]
    await asyncio.sleep(0)
    with pytest.raises(Busy):
        await batcher.suggest(Message("a-4"), tenant="a")
    other = asyncio.ensure_future(batcher.suggest(Message("b-0"), tenant="b"))  # others still queue
    gated.gate.set()
    await asyncio.gather(running, *waiting, other)
    await batcher.stop()
