"""Every kind of bad input gets an error frame or a clean close; the server and the other
clients carry on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import httpx
import pytest
import websockets
from websockets.client import ClientProtocol
from websockets.uri import parse_uri

from tests.service.conftest import AGENT, RunningServer, message, recv, send

LONG = "快递" * 700  # 4,200 UTF-8 bytes: over the 4 KB default


@pytest.mark.parametrize(("raw", "code", "says"), [
    ("{not json", "bad_json", "not valid JSON"),
    ("[1, 2]", "bad_frame", "expected a JSON object, got list"),
    ('"hello"', "bad_frame", "got str"),
    ('{"text": "在吗"}', "unknown_type", "unknown frame type None"),
    ('{"type": "shout"}', "unknown_type", "expected one of subscribe"),
    ('{"type": 7}', "unknown_type", "unknown frame type 7"),
    ('{"type": "subscribe", "conversation_ids": "c1", "ref": "r"}', "bad_frame",
     "conversation_ids: Input should be a valid list"),
    ('{"type": "subscribe", "conversation_ids": []}', "bad_frame", "conversation_ids"),
    ('{"type": "customer_message", "conversation_id": "c", "message_id": "m"}', "bad_frame",
     "text: Field required"),
    ('{"type": "customer_message", "conversation_id": "c", "message_id": "m", "text": 42}',
     "bad_frame", "text: Input should be a valid string (got 42)"),
    ('{"type": "customer_message", "conversation_id": "c", "message_id": "m", "text": "x", '
     '"attachment": []}', "bad_frame", "attachment: Extra inputs are not permitted"),
    (json.dumps(message("c" * 200, "m", "x")), "bad_frame", "conversation_id"),
    (json.dumps(message("c", "m", "x", attachments=[{"name": "a", "size": -1}])), "bad_frame",
     "attachments.0.size"),
    ('{"type": "feedback", "message_id": "m", "suggestion_id": "s", "action": "love"}',
     "bad_frame", "action"),
    (json.dumps(message("c", "m", LONG, ref="big")), "too_large", "limit is 4096 bytes"),
    (json.dumps(message("c", "m", "看图", attachments=[{"name": f"{i}.jpg"} for i in range(11)])),
     "too_many_attachments", "11 attachments; at most 10"),
    (json.dumps({"type": "feedback", "message_id": "m", "suggestion_id": "s", "action": "edited",
                 "final_text": LONG}), "too_large", "final_text"),
])
async def test_malformed_frames_get_errors_and_the_connection_stays(
        server: RunningServer, raw: str, code: str, says: str) -> None:
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await ws.send(raw)
        frame = await recv(ws)
        assert frame["type"] == "error" and frame["code"] == code, frame
        assert says in frame["message"], frame["message"]
        sent = json.loads(raw) if raw.startswith("{") and "ref" in raw else {}
        assert frame["ref"] == sent.get("ref")
        await send(ws, type="ping", ts=1)
        assert (await recv(ws)) == {"type": "pong", "ts": 1}
    assert server.services.writer.flush()
    assert server.services.store.count_messages() == 0


async def test_binary_frames_are_refused(server: RunningServer) -> None:
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await ws.send(b'{"type": "ping"}')
        frame = await recv(ws)
        assert frame["code"] == "binary_not_supported"
        await send(ws, type="ping")
        assert (await recv(ws))["type"] == "pong"


async def test_oversized_frame_is_closed_cleanly(server: RunningServer) -> None:
    """Frames beyond the transport limit (64 KiB here) are cut off with 1009 by the server."""
    async with server.ws() as bystander:
        await recv(bystander, "welcome")
        async with server.ws() as ws:
            await recv(ws, "welcome")
            await ws.send(json.dumps(message("c", "m", "x" * 100_000)))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await recv(ws)
            assert closed.value.rcvd.code == 1009
        await send(bystander, **message("c2", "m2", "能便宜点吗"))
        assert (await recv(bystander, "suggestions"))["scripts"][0]["id"] == "bargain"


async def test_flood_is_rate_limited_then_closed(make_server) -> None:
    server = make_server(rate_per_s=5, rate_burst=5)
    async with server.ws() as calm, server.ws() as flood:
        await recv(calm, "welcome")
        await recv(flood, "welcome")
        for _ in range(8):
            await send(flood, type="ping")
        frames = [await recv(flood) for _ in range(6)]
        assert [f["type"] for f in frames[:5]] == ["pong"] * 5
        assert frames[5]["code"] == "rate_limited" and "slow down" in frames[5]["message"]
        await asyncio.sleep(0.5)  # back under the rate: served again
        await send(flood, type="ping")
        assert (await recv(flood))["type"] == "pong"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for _ in range(200):  # a flood that keeps going is cut off
                await send(flood, type="ping")
                await asyncio.sleep(0)
            await asyncio.wait_for(_drain(flood), 5)
        assert closed.value.rcvd.code == 1008
        await send(calm, **message("c", "m", "能便宜点吗"))
        assert (await recv(calm, "suggestions"))["scripts"][0]["id"] == "bargain"


async def test_slow_reader_is_dropped_and_others_unaffected(make_server, until) -> None:
    """A client that stops reading fills its queue and is closed (4408); the others carry on."""
    server = make_server(send_queue=80, rate_per_s=1000, rate_burst=1000, token_rate_per_s=1000,
                         token_rate_burst=1000)
    slow = await RawClient.connect(server)
    slow.send(type="subscribe", conversation_ids=["busy"])
    # It never reads. Each unsubscribe is echoed back: ~50 KB answers, 20 MB in all, more than
    # the kernel buffers hold, so its frames pile up on the server.
    ids = [f"{i:03d}" + "x" * 125 for i in range(400)]
    async with server.ws() as ingest, server.ws() as healthy:
        await recv(ingest, "welcome")
        await recv(healthy, "welcome")
        await send(healthy, type="subscribe", conversation_ids=["busy"])
        await recv(healthy, "subscribed")
        with contextlib.suppress(ConnectionError):  # the server may hang up while we write
            for _ in range(400):
                slow.send(type="unsubscribe", conversation_ids=ids)
                await slow.writer.drain()
                if len(server.services.hub.connections) == 2:
                    break
        await until(lambda: len(server.services.hub.connections) == 2)
        # Its socket is really closed (aborted: a polite close would wait on the unread MBs),
        # so writing to it soon fails.
        with pytest.raises(ConnectionError):
            for _ in range(500):
                slow.writer.write(b"\x89\x80" + b"\0" * 4)  # masked, empty ping frames
                await slow.writer.drain()
                await asyncio.sleep(0.01)
        for i in range(20):  # fan-out to the conversation goes on for the healthy subscriber
            await send(ingest, **message("busy", f"m{i}", "能便宜点吗"))
            assert (await recv(healthy, "suggestions"))["message_id"] == f"m{i}"
            await recv(ingest, "ack")  # (a client that leaves frames unread is slow to close)
    slow.writer.transport.abort()


class RawClient:
    """A websocket client that can stop reading (real clients read into memory without limit)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.protocol = ClientProtocol(parse_uri("ws://x/"))

    @classmethod
    async def connect(cls, server: RunningServer) -> RawClient:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(
            sock, ("127.0.0.1", int(server.base.rsplit(":", 1)[1])))
        client = cls(*await asyncio.open_connection(sock=sock, limit=1 << 16))
        request = client.protocol.connect()
        request.path = f"/ws?token={AGENT}"
        client.protocol.send_request(request)
        client._flush()
        # The handshake answer; after it, never read again.
        client.protocol.receive_data(await client.reader.readuntil(b"\r\n\r\n"))
        return client

    def send(self, **frame: object) -> None:
        self.protocol.send_text(json.dumps(frame).encode())
        self._flush()

    def _flush(self) -> None:
        self.writer.write(b"".join(self.protocol.data_to_send()))



async def test_client_vanishing_mid_message_is_harmless(server: RunningServer, until) -> None:
    for i in range(5):
        ws = await server.ws()
        await recv(ws, "welcome")
        await send(ws, **message("gone", f"m{i}", "能便宜点吗"))
        ws.transport.abort()
    async with httpx.AsyncClient(base_url=server.base) as http:
        assert (await http.get("/healthz")).json()["status"] == "ok"
    # The messages were taken before the client vanished: they are logged all the same (once
    # their suggestions are computed, which may finish after the abort).
    store, writer = server.services.store, server.services.writer
    await until(lambda: writer.flush() and len(store.conversation("gone")) == 5)


async def _drain(ws) -> None:
    while True:
        await ws.recv()
