"""Faults of a multi-process service: Redis stopped and restarted, a worker killed, shutdown.

The Redis test runs its own ``redis-server`` on a free port (the system one must not be
restarted); the worker test uses ``assist serve --workers 2`` on the system Redis.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
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
        assert all(node.process.poll() is None for node in nodes)
    finally:
        for node in nodes:
            node.stop()
        redis.stop()


async def test_killed_worker_is_restarted_and_shutdown_is_clean(tmp_path: Path, knowledge: Path,
                                                               log_store: str) -> None:
    node = start_node(tmp_path, "w", knowledge, tmp_path / "index", require_redis(),
                      unique_prefix(), log_store, workers=2)
    try:
        workers = await asyncio.to_thread(wait_for, lambda: len(node.children()) == 2 and node.children(),
                                          120, "two workers")
        # Both workers ready: requests spread by the kernel reach both pids.
        pids = set()
        deadline = time.monotonic() + 120  # the second one may still be loading its model
        while pids != set(workers) and time.monotonic() < deadline:
            pids.add(http_json(node.base + "/healthz")["pid"])
        assert pids == set(workers)

        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        # The other worker keeps serving meanwhile: every request made after the kill succeeds.
        answered = 0
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            answer = http_json(node.base + "/api/suggest", "POST", AGENT,
                               {"text": "能便宜点吗", "conversation_id": "k", "message_id": f"k{answered}"})
            assert answer["scripts"]
            answered += 1
            children = node.children()
            if len(children) == 2 and victim not in children:
                replacement = next(p for p in children if p != victim and p not in workers)
                if http_json(node.base + "/healthz")["pid"] == replacement:
                    break
        else:
            raise AssertionError(f"no replacement worker answered; children {node.children()}")
        assert answered > 0
    finally:
        code = node.stop()
    assert code == 0  # SIGTERM: every worker finished its lifespan
    log = node.log.read_text()
    assert "stopped;" in log and f"[pid {victim}]" in log  # logs name the process
    # Graceful shutdown wrote every acknowledged message to the shared log.
    with psycopg.connect(PG_URL) as conn:
        logged = conn.execute(f"SELECT count(*) FROM {schema_of(log_store)}.messages "
                              "WHERE conversation_id = 'k'").fetchone()
    assert int(logged[0]) == answered
