"""Websocket protocol round trips against a real server: welcome, subscriptions, fan-out,
single-connection mode, feedback, heartbeats, dead connections."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import get_args

import pytest
import websockets

from assist.service.protocol import CLIENT_FRAMES, PROTOCOL_VERSION, SERVER_FRAMES, ErrorCode
from tests.service.conftest import AGENT, RunningServer, message, recv, send

DOCS = Path(__file__).parent.parent.parent / "docs" / "protocol.md"


async def test_welcome_says_role_version_and_limits(server: RunningServer) -> None:
    async with server.ws() as ws:
        welcome = await recv(ws)
    assert welcome["type"] == "welcome"
    assert welcome["v"] == PROTOCOL_VERSION
    assert welcome["role"] == "agent"
    assert welcome["agent"].startswith("agent-")
    assert welcome["index_version"] == server.services.engine.version
    assert welcome["limits"] == {"max_text_bytes": 4096, "max_attachments": 10, "rate_per_s": 50.0,
                                 "token_rate_per_s": 50.0}


async def test_customer_message_reaches_every_subscriber(server: RunningServer) -> None:
    async with server.ws() as ingest, server.ws() as a, server.ws() as b, server.ws() as other:
        for ws in (ingest, a, b, other):
            await recv(ws, "welcome")
        await send(a, type="subscribe", conversation_ids=["c1"], ref="s1")
        await send(b, type="subscribe", conversation_ids=["c1", "c2"])
        await send(other, type="subscribe", conversation_ids=["c9"])
        assert await recv(a) == {"type": "subscribed", "ref": "s1", "conversation_ids": ["c1"]}
        assert (await recv(b))["conversation_ids"] == ["c1", "c2"]
        await recv(other, "subscribed")

        await send(ingest, **message("c1", "m1", "快递怎么还不到啊", ref="r1"))
        for ws in (a, b):
            frame = await recv(ws, "suggestions")
            assert frame["message_id"] == "m1" and frame["conversation_id"] == "c1"
            assert frame["scripts"][0]["id"] == "logistics-delay"
            assert set(frame["scripts"][0]) >= {"id", "category", "title", "reply", "score"}
            assert frame["risks"] == [] and isinstance(frame["policies"], list)
            assert frame["index_version"] == server.services.engine.version
            assert frame["latency_ms"] > 0
            assert frame["text"] == "快递怎么还不到啊"
        # The sender is told its message was taken (after it is queued for the log).
        assert await recv(ingest, "ack") == {"type": "ack", "ref": "r1", "message_id": "m1",
                                                   "logged": True}
        # Nothing for a subscriber of another conversation.
        await send(other, type="ping", ts=1.5)
        assert await recv(other) == {"type": "pong", "ts": 1.5}


async def test_unsubscribe_stops_delivery(server: RunningServer) -> None:
    async with server.ws() as ingest, server.ws() as agent:
        await recv(ingest, "welcome")
        await recv(agent, "welcome")
        await send(agent, type="subscribe", conversation_ids=["c1"])
        await recv(agent, "subscribed")
        await send(agent, type="unsubscribe", conversation_ids=["c1"], ref="u")
        assert await recv(agent) == {"type": "unsubscribed", "ref": "u", "conversation_ids": ["c1"]}
        await send(ingest, **message("c1", "m2", "能便宜点吗"))
        await recv(ingest, "ack")
        await send(agent, type="ping")
        assert (await recv(agent))["type"] == "pong"  # the suggestions would have come first


async def test_single_connection_mode(server: RunningServer) -> None:
    """A sidebar that pushes messages itself gets the suggestions on the same connection once."""
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await send(ws, type="subscribe", conversation_ids=["solo"])
        await recv(ws, "subscribed")
        await send(ws, **message("solo", "m1", "这款鞋尺码标准吗"))
        frame = await recv(ws, "suggestions")
        assert frame["scripts"][0]["id"] == "size-advice"
        await recv(ws, "ack")
        await send(ws, type="ping")
        assert (await recv(ws))["type"] == "pong"  # no second copy of the suggestions


async def test_unsubscribed_sender_still_gets_its_suggestions(server: RunningServer) -> None:
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await send(ws, **message("c5", "m1", "能便宜点吗"))
        assert (await recv(ws, "suggestions"))["scripts"][0]["id"] == "bargain"


async def test_feedback_is_acknowledged_and_logged(server: RunningServer) -> None:
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await send(ws, **message("c1", "m1", "能便宜点吗"))
        await recv(ws, "ack")
        await send(ws, type="feedback", message_id="m1", suggestion_id="bargain", action="edited",
                   final_text="亲,可以送您一张优惠券,电话13812345678", ref="f1")
        assert await recv(ws) == {"type": "ack", "ref": "f1", "message_id": "m1", "logged": True}
    services = server.services
    assert services.writer.flush()
    [row] = services.store.conversation("c1")
    assert row.message_id == "m1" and row.top_id == "bargain"
    assert row.agent.startswith("agent-")
    assert [(f.suggestion_id, f.action) for f in row.feedback] == [("bargain", "edited")]
    assert row.feedback[0].final_text == "亲,可以送您一张优惠券,电话[手机号]"


async def test_server_pings_and_pong_keeps_connection(make_server) -> None:
    server = make_server(heartbeat_s=0.2)
    async with server.ws() as ws:
        await recv(ws, "welcome")
        for _ in range(5):  # well past 3 intervals: kept alive by answering
            ping = await recv(ws, "ping", timeout=2)
            assert isinstance(ping["ts"], float)
            await send(ws, type="pong", ts=ping["ts"])
        await send(ws, type="ping")
        assert (await recv(ws, "pong"))["type"] == "pong"


async def test_silent_connection_is_dropped(make_server, until) -> None:
    server = make_server(heartbeat_s=0.2)
    async with server.ws() as ws:
        await recv(ws, "welcome")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:  # read (so it is not 'slow'), never answer
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 4408
    await until(lambda: not server.services.hub.connections)


async def test_vanished_client_is_removed_from_hub(server: RunningServer, until) -> None:
    ws = await server.ws()
    await recv(ws, "welcome")
    await send(ws, type="subscribe", conversation_ids=["gone"])
    await recv(ws, "subscribed")
    ws.transport.abort()  # no close frame: the TCP connection just goes away
    await until(lambda: not server.services.hub.connections)
    assert "gone" not in server.services.hub._subscribers
    async with server.ws() as ingest:  # publishing to its conversation is harmless
        await recv(ingest, "welcome")
        await send(ingest, **message("gone", "m1", "在吗"))
        await recv(ingest, "ack")


async def test_bearer_header_authenticates(server: RunningServer) -> None:
    async with websockets.connect(server.ws_url,
                                  additional_headers={"Authorization": f"Bearer {AGENT}"}) as ws:
        assert (await recv(ws))["type"] == "welcome"


def test_every_frame_type_is_documented() -> None:
    doc = DOCS.read_text(encoding="utf-8")
    types = set(CLIENT_FRAMES) | {m.model_fields["type"].default for m in SERVER_FRAMES}
    missing = sorted(t for t in types if not re.search(rf'"type":\s*"{t}"', doc))
    assert not missing, f"frame types without a JSON example in docs/protocol.md: {missing}"
    undocumented = [code for code in get_args(ErrorCode) if f"`{code}`" not in doc]
    assert not undocumented, f"error codes missing from docs/protocol.md: {undocumented}"

