"""Generated hostile input (hypothesis): malformed frames against a real server, malformed bodies
and query strings against the in-process app. Whatever arrives: no 5xx, no ``internal`` error,
no traceback in any log, the connection stays open, and a bystander is still served."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from assist.core.engine import Engine
from assist.service.app import create_app
from assist.service.auth import TokenStore
from tests.service.conftest import (
    AGENT,
    NO_TOKEN_LIMITS,
    QA,
    RunningServer,
    service_settings,
    start_server,
    stop_server,
)

LONE = st.integers(0xD800, 0xDFFF).map(chr)
CONTROL = st.sampled_from([chr(c) for c in (*range(0, 32), 127, *range(0x80, 0xA0))])
ODD = st.sampled_from(["\u202e", "\ufeff", "\u00a0", "𠮷", "１３８", "\u2028", "'\"<>&", "%00", "\\"])
TEXT = st.lists(st.one_of(st.characters(), LONE, CONTROL, ODD), max_size=24).map("".join)
CLEAN_TEXT = st.text(max_size=24)  # what a websocket text frame itself can carry (no surrogates)
NUMBER = st.one_of(st.integers(-2**80, 2**80), st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0, -1, 2**53, 2**63, 2**64, 1e308]))
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TEXT, inner, max_size=4)),
                     max_leaves=8)
ATTACHMENT = st.fixed_dictionaries({"name": TEXT}, optional={
    "size": NUMBER, "mime": TEXT, "head_b64": st.one_of(TEXT, st.just("TVqQAAMAAAAEAAAA")), "x": VALUE})
FIELDS: dict[str, Any] = {
    "conversation_id": TEXT, "message_id": TEXT, "text": st.one_of(TEXT, st.just("能便宜点吗")),
    "attachments": st.lists(ATTACHMENT, max_size=3), "ref": TEXT, "ts": NUMBER, "sent_at": VALUE,
    "final_text": TEXT, "action": st.sampled_from(["accepted", "edited", "dismissed", "love"]),
    "suggestion_id": TEXT, "conversation_ids": st.lists(TEXT, max_size=3), "extra": VALUE,
}
FRAME = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["subscribe", "unsubscribe", "customer_message", "feedback",
                                        "ping", "pong", "shout"]), VALUE)},
    optional={name: st.one_of(strategy, VALUE) for name, strategy in FIELDS.items()})
TEMPLATES = [
    {"type": "customer_message", "conversation_id": "fuzz", "message_id": "m", "text": "在吗"},
    {"type": "customer_message", "conversation_id": "fuzz", "message_id": "m", "text": "在吗",
     "attachments": [{"name": "a.jpg", "size": 1}]},
    {"type": "feedback", "message_id": "m", "suggestion_id": "s", "action": "edited", "final_text": "好"},
    {"type": "ping", "ts": 1}, {"type": "subscribe", "conversation_ids": ["fuzz"]},
]


def _mutate(template: dict[str, Any], field: int, value: Any) -> dict[str, Any]:
    """The template with one of its own fields (or the attachment's name or size, or ``ref``)
    replaced by ``value``."""
    frame = json.loads(json.dumps(template))
    fields = [k for k in frame if k != "type"] + ["ref"]
    if "attachments" in frame:
        fields += ["attachment_name", "attachment_size"]
    name = fields[field % len(fields)]
    if name.startswith("attachment_"):
        frame["attachments"][0][name.removeprefix("attachment_")] = value
    elif name == "conversation_ids":
        frame[name] = [value]
    else:
        frame[name] = value
    return frame


# Valid frames with one field made hostile: these get past the frame checks the most.
NEAR_VALID = st.builds(_mutate, st.sampled_from(TEMPLATES), st.integers(0, 20),
                       st.one_of(TEXT, NUMBER, VALUE))
def _encode(frame: Any) -> str:
    return json.dumps(frame, ensure_ascii=True, allow_nan=True)  # lone surrogates as \\udXXX


NEAR_ENCODED = NEAR_VALID.map(_encode)
ENCODED = FRAME.map(_encode)
RAW = st.one_of(
    NEAR_ENCODED, ENCODED,
    ENCODED.map(lambda s: s[: len(s) // 2]),  # cut off
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    VALUE.map(_encode),
    CLEAN_TEXT,
)
ANSWERS = {"error", "pong", "ack", "subscribed", "unsubscribed", "suggestions", "ping", "welcome"}
FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class _Tracebacks(logging.Handler):
    """Every record with an exception or a traceback, from any logger (the server runs in a thread)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "Traceback" in record.getMessage():
            self.seen.append(self.format(record))


@pytest.fixture(scope="module")
def tracebacks() -> Iterator[_Tracebacks]:
    handler = _Tracebacks()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, small_engine: Engine,
                tracebacks: _Tracebacks) -> Iterator[RunningServer]:
    settings_ = service_settings(tmp_path_factory.mktemp("fuzz"), rate_per_s=100_000, rate_burst=100_000,
                                 **NO_TOKEN_LIMITS)
    running = start_server(settings_, small_engine)
    yield running
    stop_server(running)


def test_malformed_frames_on_a_real_server(fuzz_server: RunningServer, tracebacks: _Tracebacks) -> None:
    url = f"{fuzz_server.ws_url}?token={AGENT}"
    with connect(url, max_size=None) as ws, connect(url) as bystander:
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        assert json.loads(bystander.recv(timeout=10))["type"] == "welcome"
        seen: dict[str, int] = {}

        @FUZZ
        @given(raw=st.one_of(RAW, NEAR_ENCODED))
        def one_frame(raw: str) -> None:
            ws.send(raw)
            barrier = time.monotonic_ns()  # a ping after it: everything before it has been answered
            ws.send(json.dumps({"type": "ping", "ts": barrier}))
            while True:
                frame = json.loads(ws.recv(timeout=10))
                assert frame["type"] in ANSWERS, frame
                assert frame.get("code") != "internal", frame
                seen[frame.get("code") or frame["type"]] = seen.get(frame.get("code") or frame["type"], 0) + 1
                if frame["type"] == "pong" and frame.get("ts") == barrier:
                    return

        one_frame()

        @FUZZ
        @given(frame=NEAR_VALID)
        def one_hostile_field(frame: dict[str, Any]) -> None:  # valid frames but for one field
            one_frame.hypothesis.inner_test(raw=_encode(frame))

        one_hostile_field()
        # The bystander is served as usual, and the fuzzed connection is still open.
        started = time.perf_counter()
        bystander.send(json.dumps({"type": "customer_message", "conversation_id": "calm",
                                   "message_id": "m1", "text": "能便宜点吗"}))
        while (frame := json.loads(bystander.recv(timeout=10)))["type"] != "suggestions":
            pass
        assert frame["scripts"][0]["id"] == "bargain" and time.perf_counter() - started < 5
        ws.send('{"type": "ping", "ts": 1}')
        while (frame := json.loads(ws.recv(timeout=10)))["type"] != "pong" or frame.get("ts") != 1:
            pass
    assert {"bad_json", "bad_frame", "unknown_type", "suggestions", "ack"} <= set(seen), seen  # all reached
    assert not tracebacks.seen, tracebacks.seen[0]


BODY_PATHS = ["/api/suggest", "/api/feedback", "/api/qa/labels", "/api/qa/promote", "/api/admin/reindex"]
QUERY_PATHS = ["/api/qa/messages", "/api/qa/metrics", "/api/qa/conversations/x", "/api/index", "/healthz"]
SUGGEST = st.fixed_dictionaries({}, optional={
    "text": st.one_of(TEXT, st.just("在吗")),
    "attachments": st.one_of(st.lists(ATTACHMENT, max_size=3), VALUE),
    "conversation_id": TEXT, "message_id": TEXT, "sent_at": VALUE, "message_pk": NUMBER,
    "label": st.sampled_from(["right", "wrong_entry", "x"]), "entry_id": TEXT, "note": TEXT,
    "suggestion_id": TEXT, "action": st.sampled_from(["accepted", "edited"]), "final_text": TEXT})
BODY = st.one_of(SUGGEST.map(_encode), RAW)
QUERY = st.lists(st.tuples(st.sampled_from(["since", "until", "before", "limit", "max_score", "agent",
                                            "risk_type", "threshold", "tz_offset_min", "token"]),
                           st.one_of(st.binary(max_size=12), NUMBER.map(lambda n: str(n).encode()),
                                     st.sampled_from([b"inf:99999999999999999999999", b"nan:1",
                                                      b"\xed\xa0\x80", b"7d", b"1e999"]))),
                 max_size=4).map(lambda pairs: "&".join(f"{quote(k)}={quote_from_bytes(v)}"
                                                        for k, v in pairs))


def test_malformed_bodies_and_queries_in_process(tmp_path: Path, small_engine: Engine,
                                                 tracebacks: _Tracebacks) -> None:
    settings_ = service_settings(tmp_path, auth_fail_burst=100_000, **NO_TOKEN_LIMITS)
    app = create_app(settings_, engine=small_engine, tokens=TokenStore(settings_.tokens))
    statuses: dict[int, int] = {}
    with TestClient(app, raise_server_exceptions=False) as client:

        @FUZZ
        @given(path=st.sampled_from(BODY_PATHS), body=BODY, query=QUERY,
               who=st.sampled_from([AGENT, QA, AGENT, "wrong-token-0"]))
        def one_request(path: str, body: str, query: str, who: str) -> None:
            headers = {"Authorization": f"Bearer {who}", "Content-Type": "application/json"}
            for response in (client.post(path, content=body.encode(), headers=headers),
                             client.get(f"{QUERY_PATHS[len(query) % len(QUERY_PATHS)]}?{query}",
                                        headers=headers)):
                assert response.status_code < 500, (path, body[:80], query, response.text[:200])
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        one_request()
        assert client.post("/api/suggest", json={"text": "能便宜点吗"},
                           headers={"Authorization": f"Bearer {AGENT}"}).status_code == 200
    assert {200, 422} <= set(statuses), statuses
    assert not tracebacks.seen, tracebacks.seen[0]
