"""Faults of a multi-process service: Redis stopped and restarted, a worker killed under load
(restarted; nothing acknowledged lost from PostgreSQL), clean shutdown.

The Redis test runs its own ``redis-server`` on a free port (the system one must not be
restarted); the worker test uses ``assist serve --workers 2`` on the system Redis.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.service.cluster_support import (
    PG_URL,
    Node,
    RedisServer,
    http_json,
    postgres_schema,
    require_redis,
    start_node,
    unique_prefix,
    wait_for,
)
from tests.service.conftest import AGENT, message, recv, send
from tests.service.test_cluster import FIXTURES, schema_of, subscribed, ws


@pytest.fixture
def log_store() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURES / "knowledge", target)
    return target


async def _roundtrip(sender_node: Node, agent_node: Node, conversation: str, message_id: str) -> dict:
    """Send on one process, return what the subscriber on the other receives."""
    async with ws(agent_node) as agent, ws(sender_node) as sender:
        await subscribed(agent, conversation)
        await recv(sender, "welcome")
        await send(sender, **message(conversation, message_id, "快递怎么还不到"))
        await recv(sender, "ack")
        return await recv(agent, "suggestions", timeout=10)


async def test_redis_down_and_back(tmp_path: Path, knowledge: Path, log_store: str) -> None:
    redis = RedisServer()
    prefix = unique_prefix()
    nodes: list[Node] = []
    try:
        for name in ("a", "b"):
            nodes.append(start_node(tmp_path, name, knowledge, tmp_path / "index", redis.url,
                                    prefix, log_store))
        a, b = nodes
        assert (await _roundtrip(a, b, "c1", "before"))["message_id"] == "before"
        # An agent on A that stays subscribed through the outage (A resubscribes on reconnect).
        stayer = await ws(a).__aenter__()
        await subscribed(stayer, "c-stay")

        redis.stop()
        for node in nodes:
            health = await asyncio.to_thread(
                wait_for, lambda n=node: n.health()["status"] == "degraded" and n.health(), 10,
                "no degraded health")
            assert "redis" in health["degraded"][0] and health["cluster"]["connected"] is False
            assert health["pid"] == health["pid"]  # per process
        # Local fan-out and HTTP keep working; nothing crashes.
        async with ws(a) as agent_a, ws(a) as sender:
            await subscribed(agent_a, "c2")
            await recv(sender, "welcome")
            for i in range(5):
                await send(sender, **message("c2", f"down-{i}", "能便宜点吗"))
            got = [(await recv(agent_a, "suggestions"))["message_id"] for _ in range(5)]
            assert got == [f"down-{i}" for i in range(5)]
        answer = http_json(b.base + "/api/suggest", "POST", AGENT, {"text": "能便宜点吗"})
        assert answer["scripts"]

        redis.start()  # same port: the listeners reconnect by themselves
        for node in nodes:
            await asyncio.to_thread(wait_for, lambda n=node: n.health()["status"] == "ok", 20,
                                    "did not reconnect")
        assert (await _roundtrip(b, a, "c3", "after"))["message_id"] == "after"
        await asyncio.to_thread(http_json, b.base + "/api/suggest", "POST", AGENT,
                                {"text": "在吗", "conversation_id": "c-stay", "message_id": "stay"})
        assert (await recv(stayer, "suggestions"))["message_id"] == "stay"
        await stayer.close()
        assert all(node.process.poll() is None for node in nodes)
    finally:
        for node in nodes:
            node.stop()
        redis.stop()


def _ingest_load(node: Node, lane: int, stop: threading.Event, acked: list[str],
                 failed: list[float]) -> None:
    """HTTP ingest back to back; each answered id is an acknowledged message."""
    i = 0
    while not stop.is_set():
        message_id = f"k{lane}-{i}"
        started = time.monotonic()
        try:
            answer = http_json(node.base + "/api/suggest", "POST", AGENT,
                               {"text": "能便宜点吗", "conversation_id": f"k{lane}",
                                "message_id": message_id})
            assert answer["scripts"]
            acked.append(message_id)
        except OSError:  # in flight on the killed worker: not acknowledged
            failed.append(started)
        i += 1


async def test_killed_worker_is_restarted_and_nothing_acknowledged_is_lost(
        tmp_path: Path, knowledge: Path, log_store: str) -> None:
    node = start_node(tmp_path, "w", knowledge, tmp_path / "index", require_redis(),
                      unique_prefix(), log_store, workers=2)  # with Redis: ack_after_write on
    acked: list[str] = []
    failed: list[float] = []
    stop = threading.Event()
    lanes: list[threading.Thread] = []
    try:
        workers = await asyncio.to_thread(wait_for, lambda: len(node.children()) == 2 and node.children(),
                                          120, "two workers")
        # Both workers ready: requests spread by the kernel reach both pids.
        pids = set()
        deadline = time.monotonic() + 120  # the second one may still be loading its model
        while pids != set(workers) and time.monotonic() < deadline:
            pids.add(http_json(node.base + "/healthz")["pid"])
        assert pids == set(workers)

        lanes = [threading.Thread(target=_ingest_load, args=(node, n, stop, acked, failed))
                 for n in range(4)]
        for lane in lanes:
            lane.start()
        await asyncio.sleep(1.0)
        victim = workers[0]
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)

        def replaced() -> bool:
            children = node.children()
            fresh = [p for p in children if p not in workers]
            return (len(children) == 2 and victim not in children and bool(fresh)
                    and http_json(node.base + "/healthz")["pid"] in fresh)

        await asyncio.to_thread(wait_for, replaced, 180, f"no replacement; {node.children()}", 0.05)
        await asyncio.sleep(0.5)
        stop.set()
        for lane in lanes:
            lane.join(timeout=30)
        # The other worker kept serving: only requests already in flight at the kill failed.
        assert not [t for t in failed if t > killed_at + 0.5]
        assert len(acked) > 20
    finally:
        stop.set()
        for lane in lanes:
            lane.join(timeout=30)
        code = node.stop()
    assert code == 0  # SIGTERM: every worker finished its lifespan
    log = node.log.read_text()
    assert "stopped;" in log and f"[pid {victim}]" in log  # logs name the process
    # Every acknowledged message is in the shared log, including those the killed worker
    # acknowledged: with ack_after_write an ack follows the commit.
    with psycopg.connect(PG_URL) as conn:
        rows = conn.execute(f"SELECT message_id FROM {schema_of(log_store)}.messages "
                            "WHERE conversation_id LIKE 'k%'").fetchall()
    logged = {r[0] for r in rows}
    assert not set(acked) - logged
