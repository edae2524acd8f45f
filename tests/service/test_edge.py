"""The attacks of issue 15 against a real server: each gets a clear 4xx, an error frame or a
close code, never a 500 or a traceback, and the connection (or the server) carries on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import stat
import time

import httpx
import pytest
import websockets

from tests.service.conftest import ADMIN, AGENT, QA, RunningServer, message, recv, send, stop_server

LONE = "\ud800"


def _raw(frame: dict) -> str:
    """JSON with lone surrogates escaped (as a client would send them)."""
    return json.dumps(frame, ensure_ascii=True)


@pytest.mark.parametrize(("frame", "says"), [
    ({"type": "feedback", "message_id": "m", "suggestion_id": "s", "action": "edited",
      "final_text": f"好的{LONE}"}, "final_text: contains a lone surrogate"),
    (message("c", "m", f"在吗{LONE}"), "text: contains a lone surrogate"),
    (message("c", "m", "在吗" * 600 + LONE), "text: contains a lone surrogate"),
    ({"type": "ping", "ref": f"r{LONE}"}, "ref: contains a lone surrogate"),
    (message("c", "m", "看图", attachments=[{"name": f"a{LONE}.jpg"}]), "attachments.0.name"),
    (message("c\x00", "m", "在吗"), "conversation_id: contains control character U+0000"),
    (message("c", "m", "在吗\x1b[31m"), "control character U+001B"),
    ({"type": "subscribe", "conversation_ids": [f"x{LONE}"]}, "conversation_ids.0"),
])
async def test_bad_text_in_any_field_is_an_error_frame(server: RunningServer, frame: dict,
                                                       says: str, caplog: pytest.LogCaptureFixture) -> None:
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await ws.send(_raw(frame))
        error = await recv(ws)
        assert error["type"] == "error" and error["code"] == "bad_frame", error
        assert says in error["message"], error["message"]
        await send(ws, type="ping", ts=1)
        assert (await recv(ws)) == {"type": "pong", "ts": 1}
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(("raw", "says"), [
    ('{"type": "ping", "ts": Infinity}', "Infinity is not allowed"),
    ('{"type": "ping", "ts": NaN}', "NaN is not allowed"),
    ('{"type": "ping", "ts": 1e999}', "out of range"),
    ('{"type": "ping", "ts": 1180591620717411303424}', "out of range"),
    (json.dumps(message("c", "m", "x", attachments=[{"name": "a", "size": 2**70}])), "out of range"),
    ("[" * 1100 + "]" * 1100, "nested deeper"),
    ('{"type": "ping", "ref": ' + "[" * 40 + "]" * 40 + "}", "nested deeper"),
])
async def test_numbers_and_depth_are_bounded(server: RunningServer, raw: str, says: str) -> None:
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await ws.send(raw)
        error = await recv(ws)
        assert error["type"] == "error" and error["code"] == "bad_json", error
        assert says in error["message"], error["message"]
        await send(ws, type="ping")
        assert (await recv(ws))["type"] == "pong"


async def test_http_bodies_and_queries_are_sanitised(server: RunningServer,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    agent = {"Authorization": f"Bearer {AGENT}", "Content-Type": "application/json"}
    qa = {"Authorization": f"Bearer {QA}"}
    cases = [
        ("/api/suggest", _raw({"text": f"在吗{LONE}"}), 422, "bad_frame"),
        ("/api/suggest", _raw({"text": "快递" * 700 + LONE}), 422, "bad_frame"),
        ("/api/suggest", '{"text": "x", "attachments": [{"name": "a", "size": Infinity}]}', 422, "bad_json"),
        ("/api/feedback", _raw({"message_id": "m", "suggestion_id": "s", "action": "edited",
                                "final_text": LONE}), 422, "bad_frame"),
        ("/api/suggest", "[" * 5000, 422, "bad_json"),
    ]
    async with httpx.AsyncClient(base_url=server.base) as http:
        for path, body, status, code in cases:
            response = await http.post(path, content=body.encode(), headers=agent)
            assert response.status_code == status, (path, body[:40], response.text)
            assert response.json()["code"] == code
        label = await http.post("/api/qa/labels", headers=qa,
                                json={"message_pk": 2**70, "label": "right"})
        assert label.status_code == 422
        label = await http.post("/api/qa/labels", headers=qa,
                                json={"message_pk": 2**53 - 1, "label": "right"})
        assert label.status_code == 404  # in range, just not there
        for before in ("inf:99999999999999999999999", "nan:1", "1.5:-1", "1:99999999999999999999"):
            page = await http.get("/api/qa/messages", params={"before": before}, headers=qa)
            assert page.status_code == 422, (before, page.text)
        bad_query = await http.get("/api/qa/messages?agent=%00x", headers=qa)
        assert bad_query.status_code == 400 and "U+0000" in bad_query.json()["detail"]
        assert (await http.get("/healthz")).json()["status"] == "ok"
    assert "Traceback" not in caplog.text


async def test_auth_comes_before_the_body_and_size_before_reading(make_server) -> None:
    server = make_server(max_body_bytes=64 * 1024, body_timeout_s=0.5)
    # No token, 15 MB announced: 401 from the headers alone, and the server hangs up rather
    # than read (and skip) the body.
    reader, writer = await _open(server)
    writer.write(b"POST /api/suggest HTTP/1.1\r\nHost: x\r\nContent-Length: 15728640\r\n\r\n{")
    answer = await asyncio.wait_for(reader.read(4096), 5)
    assert answer.startswith(b"HTTP/1.1 401") and b"connection: close" in answer.lower()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    auth = b"Authorization: Bearer " + AGENT.encode() + b"\r\n"
    # Announced too large: answered from the headers, before the body is sent.
    reader, writer = await _open(server)
    writer.write(b"POST /api/suggest HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Length: 15728640\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(4096), 5)
    assert answer.startswith(b"HTTP/1.1 413") and b"too_large" in answer
    writer.close()
    # Chunked (no Content-Length): cut off while it streams.
    reader, writer = await _open(server)
    writer.write(b"POST /api/suggest HTTP/1.1\r\nHost: x\r\n" + auth + b"Transfer-Encoding: chunked\r\n\r\n")
    for _ in range(5):  # 80 KiB, over the 64 KiB limit
        writer.write(b"4000\r\n" + b"x" * 0x4000 + b"\r\n")
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), 5)
    assert answer.startswith(b"HTTP/1.1 413")
    writer.close()
    # Content-Length: 100, then 10 bytes and silence: answered 408 when the body deadline passes.
    reader, writer = await _open(server)
    writer.write(b"POST /api/suggest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + AGENT.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\": ")
    answer = await asyncio.wait_for(reader.read(4096), 5)
    assert answer.startswith(b"HTTP/1.1 408")
    assert await asyncio.wait_for(reader.read(), 5) == b""  # and hung up
    writer.close()


async def test_idle_and_half_sent_connections_are_closed(make_server) -> None:
    server = make_server(header_timeout_s=0.5)
    idle_reader, idle = await _open(server)
    half_reader, half = await _open(server)
    half.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    started = time.perf_counter()
    assert await asyncio.wait_for(idle_reader.read(), 5) == b""
    assert await asyncio.wait_for(half_reader.read(), 5) == b""
    assert time.perf_counter() - started < 3
    idle.close()
    half.close()
    reader, endless = await _open(server)  # headers without end, faster than the deadline
    endless.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Junk: " + b"a" * 100_000)
    with contextlib.suppress(ConnectionError):
        await endless.drain()
    assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 431")
    endless.close()
    async with httpx.AsyncClient(base_url=server.base) as http:  # normal requests are unaffected
        assert (await http.get("/healthz")).status_code == 200


async def test_connections_per_token_are_capped(make_server) -> None:
    server = make_server(max_connections_per_token=2)
    async with server.ws() as one, server.ws() as two:
        await recv(one, "welcome")
        await recv(two, "welcome")
        async with server.ws() as three:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await recv(three)
        assert closed.value.rcvd.code == 4429 and "too many connections" in closed.value.rcvd.reason
        async with server.ws(ADMIN) as other:  # another token is not affected
            assert (await recv(other))["type"] == "welcome"
    # Released once the server has seen the closes (which it handles a moment after the client).
    for _ in range(50):
        async with server.ws() as again:
            try:
                if (await recv(again))["type"] == "welcome":
                    break
            except websockets.ConnectionClosed as refused:
                assert refused.rcvd is not None and refused.rcvd.code == 4429
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the token's connections were not released after they closed")


async def test_frames_per_token_are_limited_across_sockets(make_server) -> None:
    server = make_server(token_rate_per_s=5, token_rate_burst=6)
    async with server.ws() as a, server.ws() as b:
        await recv(a, "welcome")
        await recv(b, "welcome")
        answers = []
        for ws in (a, b, a, b, a, b, a, b):  # 8 frames, each socket well under its own limit
            await send(ws, type="ping")
            answers.append(await recv(ws))
        assert [f["type"] for f in answers] == ["pong"] * 6 + ["error"] * 2
        assert answers[6]["code"] == "rate_limited" and "on this token" in answers[6]["message"]


async def test_failed_token_attempts_are_throttled_per_address(make_server) -> None:
    server = make_server(auth_fail_burst=3, auth_fail_per_s=0.1)
    async with httpx.AsyncClient(base_url=server.base) as http:
        codes = [(await http.get("/api/index",
                                 headers={"Authorization": f"Bearer wrong-{i}-xxxx"})).status_code
                 for i in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        good = await http.get("/api/index", headers={"Authorization": f"Bearer {AGENT}"})
        assert good.status_code == 429 and int(good.headers["retry-after"]) >= 1
    async with server.ws() as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd.code == 4429


async def test_conversation_ids_with_a_slash_open_in_the_qa_api(server: RunningServer) -> None:
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await send(ws, **message("tb/8812/a", "m1", "能便宜点吗"))
        await recv(ws, "ack")
    assert server.services.writer.flush()
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {QA}"}) as http:
        rows = (await http.get("/api/qa/conversations/tb%2F8812%2Fa")).json()
    assert [r["message_id"] for r in rows] == ["m1"]


async def test_shutdown_closes_websockets_with_1001(make_server) -> None:
    server = make_server()
    ws = await server.ws()
    await recv(ws, "welcome")
    await asyncio.to_thread(stop_server, server)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await recv(ws)
    assert closed.value.rcvd.code == 1001


async def test_pages_send_security_headers_and_docs_are_local(server: RunningServer, tmp_path) -> None:
    widget = tmp_path / "widget"
    widget.mkdir(exist_ok=True)
    (widget / "agent.html").write_text("<html><script>boot()</script><script src='/w.js'></script></html>",
                                       encoding="utf-8")
    async with httpx.AsyncClient(base_url=server.base) as http:
        page = await http.get("/agent?token=x")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy.split("style-src")[0]
        assert "frame-ancestors 'self'" in policy
        assert page.headers["referrer-policy"] == "no-referrer"
        docs = await http.get("/docs")
        assert docs.status_code == 200 and "cdn." not in docs.text
        assert "/docs/assets/swagger-ui-bundle.js" in docs.text
        bundle = await http.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and len(bundle.content) > 100_000
        assert (await http.get("/docs/assets/..%2Fcore.py")).status_code == 404


def test_data_files_are_private(server: RunningServer) -> None:
    db = server.services.settings.data / "suggestions.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


async def _open(server: RunningServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", int(server.base.rsplit(":", 1)[1]))


@pytest.fixture(autouse=True)
def _quiet_access_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    socket.setdefaulttimeout(None)


async def test_a_bad_feedback_frame_costs_no_one_else_their_records(server: RunningServer) -> None:
    """Issue 15's first case: it used to be acked, then fail the log writer's whole batch."""
    async with server.ws() as other, server.ws(ADMIN) as bad:
        await recv(other, "welcome")
        await recv(bad, "welcome")
        for i in range(20):
            await send(other, **message("theirs", f"m{i}", f"第{i}个问题 能便宜点吗"))
        await bad.send(_raw({"type": "feedback", "message_id": "m0", "suggestion_id": "s",
                             "action": "edited", "final_text": f"好{LONE}", "ref": "f"}))
        assert (await recv(bad))["code"] == "bad_frame"  # refused, not acked
        for _ in range(20):
            await recv(other, "ack")
    assert server.services.writer.flush()
    assert len(server.services.store.conversation("theirs")) == 20


async def test_a_token_over_its_queue_gets_busy_errors_and_keeps_its_socket(
        make_server, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: messages beyond a token's queue are refused with ``busy`` (each answered,
    none dropped in silence), the rest are answered, and the socket stays usable."""
    from assist.core.engine import Engine

    original = Engine.suggest_many

    def slow(self, messages):  # an embedder that cannot keep up
        time.sleep(0.2)
        return original(self, messages)

    monkeypatch.setattr(Engine, "suggest_many", slow)
    server = make_server(token_queue=1, token_rate_per_s=1000, token_rate_burst=1000,
                         rate_per_s=1000, rate_burst=1000)
    async with server.ws() as ws:
        await recv(ws, "welcome")
        for i in range(8):
            await send(ws, ref=f"r{i}", **message("c-busy", f"m{i}", f"第{i}个 什么时候发货"))
        outcome: dict[str, str] = {}
        while len(outcome) < 8:
            frame = await recv(ws, timeout=20)
            if frame["type"] == "ack":
                outcome[frame["ref"]] = "ack"
            elif frame["type"] == "error":
                assert frame["code"] == "busy" and "retry" in frame["message"]
                outcome[frame["ref"]] = "busy"
        assert "busy" in outcome.values() and "ack" in outcome.values()
        await send(ws, type="ping")
        assert (await recv(ws, "pong"))["type"] == "pong"
