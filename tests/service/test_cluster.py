"""Two real ``assist serve`` processes behind the real Redis, logging to the real PostgreSQL.

Cross-process fan-out (websocket and HTTP ingest) in conversation order and once; feedback and
QA labels from either process; a re-index on one process under load on both, with zero failed
requests and one ``index_updated`` per connection; concurrent re-index requests building once;
an offline rebuild of the shared index directory picked up by both.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import websockets

from tests.service.cluster_support import (
    PG_URL,
    Node,
    forget_prefix,
    http_json,
    postgres_schema,
    require_redis,
    start_node,
    unique_prefix,
    wait_for,
)
from tests.service.conftest import ADMIN, AGENT, QA, message, recv, send
from tests.service.test_reindex import NEW_ENTRY

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def log_store() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture
def pair(tmp_path: Path, log_store: str) -> Iterator[tuple[Node, Node]]:
    """Processes A and B: same Redis prefix, knowledge, shared index directory and log store."""
    redis_url = require_redis()
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURES / "knowledge", knowledge)
    prefix = unique_prefix()
    nodes: list[Node] = []
    try:
        for name in ("a", "b"):
            nodes.append(start_node(tmp_path, name, knowledge, tmp_path / "index", redis_url,
                                    prefix, log_store))
        yield nodes[0], nodes[1]
    finally:
        for node in nodes:
            node.stop()
        forget_prefix(redis_url, prefix)


def ws(node: Node, token: str = AGENT) -> websockets.ClientConnection:
    return websockets.connect(f"{node.ws_url}?token={token}")


async def subscribed(connection: websockets.ClientConnection, *conversations: str) -> None:
    await recv(connection, "welcome")
    await send(connection, type="subscribe", conversation_ids=list(conversations))
    await recv(connection, "subscribed")


async def frames_until(connection: websockets.ClientConnection, kind: str, count: int,
                       timeout: float = 30) -> list[dict]:
    out: list[dict] = []
    while len(out) < count:
        out.append(await recv(connection, kind, timeout))
    return out


def schema_of(url: str) -> str:
    return url.rsplit("%3D", 1)[1]


async def test_fan_out_across_processes_in_order_once(pair: tuple[Node, Node], log_store: str) -> None:
    a, b = pair
    texts = ["能便宜点吗", "快递怎么还不到", "这款鞋尺码标准吗", "好的谢谢", "今天能发货吗"]
    async with ws(b) as agent_b, ws(a) as agent_a, ws(a) as sender:
        await subscribed(agent_b, "c1")
        await subscribed(agent_a, "c1")
        await recv(sender, "welcome")
        for i in range(20):  # back to back: several are in flight at once on A
            await send(sender, **message("c1", f"m{i}", texts[i % len(texts)] + "?" * (i % 3)))
        await asyncio.to_thread(http_json, a.base + "/api/suggest", "POST", AGENT,
                                {"text": "能开发票吗", "conversation_id": "c1", "message_id": "h0"})
        expected = [f"m{i}" for i in range(20)] + ["h0"]
        remote = await frames_until(agent_b, "suggestions", len(expected))
        local = await frames_until(agent_a, "suggestions", len(expected))
        acks = await frames_until(sender, "ack", 20)
        # HTTP ingest on B reaches the subscriber on A too.
        await asyncio.to_thread(http_json, b.base + "/api/suggest", "POST", AGENT,
                                {"text": "在吗", "conversation_id": "c1", "message_id": "h1"})
        assert (await recv(agent_a, "suggestions"))["message_id"] == "h1"
        assert (await recv(agent_b, "suggestions"))["message_id"] == "h1"
        # Nothing more: no process delivered a frame twice.
        for connection in (agent_a, agent_b):
            with pytest.raises(TimeoutError):
                await recv(connection, "suggestions", timeout=1.0)
        # Redis routes by conversation: B, with no subscriber for c9, is not sent its frames.
        received = b.health()["cluster"]["received"]
        assert b.health()["cluster"]["conversations_followed"] == 1
        for i in range(5):
            await asyncio.to_thread(http_json, a.base + "/api/suggest", "POST", AGENT,
                                    {"text": "在吗", "conversation_id": "c9", "message_id": f"n{i}"})
        await asyncio.to_thread(http_json, a.base + "/api/suggest", "POST", AGENT,
                                {"text": "好的", "conversation_id": "c1", "message_id": "h2"})
        assert (await recv(agent_b, "suggestions"))["message_id"] == "h2"
        assert b.health()["cluster"]["received"] == received + 1
        assert (await recv(agent_a, "suggestions"))["message_id"] == "h2"
        # Feedback through B for a message ingested on A.
        await send(agent_b, type="feedback", message_id="m3", suggestion_id="s1", action="accepted")
        await recv(agent_b, "ack")
    assert [f["message_id"] for f in remote] == expected
    assert [f["message_id"] for f in local] == expected
    assert len(acks) == 20
    assert remote[0]["scripts"] == local[0]["scripts"]
    assert http_json(a.base + "/healthz")["cluster"]["received"] >= 1  # h1 came from B

    schema = schema_of(log_store)

    def logged() -> tuple[int, int]:
        with psycopg.connect(PG_URL) as conn:
            messages = conn.execute(f"SELECT count(*) FROM {schema}.messages").fetchone()
            feedback = conn.execute(f"SELECT count(*) FROM {schema}.feedback WHERE message_id = 'm3'"
                                    ).fetchone()
        return int(messages[0]), int(feedback[0])

    assert wait_for(lambda: logged() == (28, 1), 10, f"log store has {logged()}")
    # A QA label through B on a message logged by A, read back through A.
    rows = http_json(a.base + "/api/qa/messages?since=1d&limit=50", token=QA)
    pk = next(r["id"] for r in rows["items"] if r["message_id"] == "m0")
    label = http_json(b.base + "/api/qa/labels", "POST", QA, {"message_pk": pk, "label": "right"})
    assert label["label"] == "right"
    again = http_json(a.base + "/api/qa/messages?since=1d&limit=50", token=QA)
    assert [r["labels"] for r in again["items"] if r["id"] == pk][0][0]["label"] == "right"


async def _load(node: Node, n: int, stop: asyncio.Event, out: list[dict]) -> None:
    texts = ["能便宜点吗", "快递怎么还不到", "这款鞋尺码标准吗", "好的谢谢", "今天能发货吗"]
    async with ws(node) as connection:
        await subscribed(connection, f"load-{n}")
        i = 0
        while not stop.is_set():
            await send(connection, **message(f"load-{n}", f"{n}-{i}", texts[i % 5] + "!" * (i % 4)))
            while True:
                frame = await recv(connection)
                out.append(frame)
                if frame["type"] in ("ack", "error"):
                    break
            i += 1


async def test_reindex_on_one_process_reaches_all(pair: tuple[Node, Node], tmp_path: Path) -> None:
    a, b = pair
    old = a.health()["index_version"]
    assert b.health()["index_version"] == old
    (tmp_path / "knowledge" / "presale" / "invoice.yaml").write_text(NEW_ENTRY, encoding="utf-8")
    frames: list[dict] = []
    stop = asyncio.Event()
    async with ws(a) as watch_a, ws(b) as watch_b:
        await recv(watch_a, "welcome")
        await recv(watch_b, "welcome")
        clients = [asyncio.create_task(_load(node, n, stop, frames))
                   for n, node in enumerate([a, b, a, b, a, b])]
        await asyncio.sleep(0.5)
        # Two requests at once, one per process: one build, the other finds it unchanged.
        first, second = await asyncio.gather(
            asyncio.to_thread(http_json, a.base + "/api/admin/reindex", "POST", ADMIN, None, 120),
            asyncio.to_thread(http_json, b.base + "/api/admin/reindex", "POST", ADMIN, None, 120))
        new = first["index_version"]
        await asyncio.to_thread(wait_for, lambda: b.health()["index_version"] == new, 20,
                                "B did not swap")
        await asyncio.sleep(0.5)  # load keeps running on the new version
        stop.set()
        await asyncio.gather(*clients)  # a failed connection would raise here
        events_a = [await recv(watch_a, "index_updated")]
        events_b = [await recv(watch_b, "index_updated")]
        for connection, events in ((watch_a, events_a), (watch_b, events_b)):
            with pytest.raises(TimeoutError):
                events.append(await recv(connection, "index_updated", timeout=1.5))
    assert first["ok"] and second["ok"] and new != old and second["index_version"] == new
    assert sorted([first["unchanged"], second["unchanged"]]) == [False, True]  # built once
    assert events_a == events_b == [{"type": "index_updated", "index_version": new, "entries": 7}]
    assert not [f for f in frames if f["type"] == "error"]
    versions = [f["index_version"] for f in frames if f["type"] == "suggestions"]
    assert len(versions) == len([f for f in frames if f["type"] == "ack"]) > 20
    assert set(versions) == {old, new}
    for node in (a, b):
        answer = http_json(node.base + "/api/suggest", "POST", AGENT, {"text": "能开发票吗"})
        assert answer["index_version"] == new and answer["scripts"][0]["id"] == "invoice"


async def test_offline_rebuild_of_the_shared_index_converges(pair: tuple[Node, Node],
                                                             tmp_path: Path) -> None:
    """A change no process announced (``assist index build`` on the shared directory) is found
    by each process's periodic check of CURRENT, and each connection hears of it once."""
    from assist.core.embedders import shared_embedder
    from assist.core.index.build import build_index

    a, b = pair
    (tmp_path / "knowledge" / "presale" / "invoice.yaml").write_text(NEW_ENTRY, encoding="utf-8")
    async with ws(a) as watch_a, ws(b) as watch_b:
        await recv(watch_a, "welcome")
        await recv(watch_b, "welcome")
        summary = await asyncio.to_thread(build_index, tmp_path / "knowledge", tmp_path / "index",
                                          shared_embedder("use"), False)
        for connection in (watch_a, watch_b):
            event = await recv(connection, "index_updated", timeout=20)
            assert event["index_version"] == summary.version
    assert a.health()["index_version"] == b.health()["index_version"] == summary.version
