"""The suggestion log: one contract run against SQLite and PostgreSQL, masking, the writer, and
draining on a clean shutdown."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assist.logstore import (
    FeedbackRecord,
    LogStore,
    LogWriter,
    MessageQuery,
    MessageRecord,
    open_log_store,
)
from assist.logstore.masking import mask
from tests.service.conftest import NO_TOKEN_LIMITS, message, recv, send, stop_server

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: skip, and say why
        return f"PostgreSQL at {PG_URL} unreachable: {exc}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogStore]:
    prefix = f"t{uuid.uuid4().hex[:10]}_"  # unique per run: concurrent runs never collide
    if request.param == "sqlite":
        opened = open_log_store("", tmp_path, prefix)
        yield opened
        opened.close()
        return
    reason = _postgres_reachable()
    if reason:
        pytest.skip(reason)
    opened = open_log_store(PG_URL, tmp_path, prefix)
    try:
        yield opened
    finally:
        opened.drop()  # type: ignore[attr-defined]
        opened.close()


def record(n: int, conversation: str = "c1", **kw) -> MessageRecord:
    values = dict(ts=1_700_000_000.0 + n, conversation_id=conversation, message_id=f"m{n}",
                  agent="agent-1", text=f"第{n}条 手机13812345678",
                  scripts=[{"id": "bargain", "category": "售前/议价", "score": 0.8}],
                  latency_ms=3.5, index_version="v-1")
    values.update(kw)
    return MessageRecord(**values)


def test_store_contract(store: LogStore) -> None:
    risk = {"type": "phishing_link", "severity": "block", "evidence": "加我微信13812345678"}
    store.write_messages([record(1), record(2, risks=[risk]), record(3, conversation="c2",
                                                                       scripts=[], agent="agent-2")])
    store.write_feedback([FeedbackRecord(ts=1_700_000_010.0, message_id="m1", suggestion_id="bargain",
                                         action="edited", agent="agent-1",
                                         final_text="给您寄到北京市朝阳区建国路88号3号楼2单元501室")])
    assert store.count_messages() == 3
    [first, second] = store.conversation("c1")
    assert first.text == "第1条 手机[手机号]"
    assert first.top_id == "bargain" and first.top_category == "售前/议价"
    assert first.suggestions["scripts"][0]["id"] == "bargain"
    assert [f.action for f in first.feedback] == ["edited"]
    assert "88号" not in first.feedback[0].final_text and "[地址]" in first.feedback[0].final_text
    assert second.risk_types == ["phishing_link"]
    assert second.risks[0]["evidence"] == "加我微信[手机号]"

    newest = store.query_messages(MessageQuery(limit=2))
    assert [r.message_id for r in newest] == ["m3", "m2"]
    page2 = store.query_messages(MessageQuery(limit=2, before=(newest[-1].ts, newest[-1].id)))
    assert [r.message_id for r in page2] == ["m1"]
    q = store.query_messages
    assert [r.message_id for r in q(MessageQuery(risk_type="phishing_link"))] == ["m2"]
    assert [r.message_id for r in q(MessageQuery(agent="agent-2"))] == ["m3"]
    assert [r.message_id for r in q(MessageQuery(no_suggestion=True))] == ["m3"]
    assert [r.message_id for r in q(MessageQuery(category="售前"))] == ["m2", "m1"]
    assert [r.message_id for r in q(MessageQuery(action="edited"))] == ["m1"]
    assert [r.message_id for r in q(MessageQuery(action="none"))] == ["m3", "m2"]
    assert [r.message_id for r in q(MessageQuery(since=1_700_000_002.0, until=1_700_000_003.0))] == ["m2"]
    assert [f.suggestion_id for f in store.feedback_for(["m1", "m2"])] == ["bargain"]


def test_writer_batches_and_flushes(store: LogStore) -> None:
    writer = LogWriter(store, batch=50)
    for n in range(300):
        writer.put(record(n))
    writer.put(FeedbackRecord(ts=time.time(), message_id="m0", suggestion_id="x",
                              action="dismissed", agent="a"))
    assert writer.flush(30)
    assert store.count_messages() == 300 and writer.written == 301 and writer.dropped == 0


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    store = open_log_store(f"sqlite:///{tmp_path}/x.db", tmp_path)
    store.write_messages([record(1)])
    store.close()
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unknown_store_url_lists_the_supported_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        open_log_store("mysql://x", tmp_path)
    with pytest.raises(ValueError, match="table prefix"):
        open_log_store("", tmp_path, "x; DROP TABLE")


@pytest.mark.parametrize(("raw", "masked"), [
    ("我电话13812345678", "我电话[手机号]"),
    ("打+86 138-1234-5678找我", "打[手机号]找我"),
    ("座机010-12345678", "座机[电话]"),
    ("身份证11010519491231002X", "身份证[身份证号]"),
    ("卡号6222 0202 0000 0000 006", "卡号[银行卡号]"),  # Luhn-valid
    ("订单号1234567890123456789", "订单号1234567890123456789"),  # not a card: kept for QA
    ("邮箱a.b@example.com", "邮箱[邮箱]"),
    ("收货地址:浙江省杭州市西湖区文三路100号", "收货地址:[地址]"),
    # Unlabelled addresses are masked from the first place word (寄到 leads into it, stays).
    ("寄到上海市浦东新区世纪大道8号2栋301室吧", "寄到[地址]吧"),
    ("能便宜点吗", "能便宜点吗"),
    ("XL码有货吗,要2件", "XL码有货吗,要2件"),
])
def test_masking(raw: str, masked: str) -> None:
    assert mask(raw) == masked


async def test_acknowledged_messages_survive_clean_shutdown(make_server, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop the server right after the acks, with the store lagging: the queue drains first."""
    from assist.logstore.sqlite import SqliteLogStore

    def slow_write(self, records):  # a store that lags behind the reply path
        time.sleep(0.02)
        original(self, records[:1])
        if records[1:]:
            slow_write(self, records[1:])

    original = SqliteLogStore.write_messages
    monkeypatch.setattr(SqliteLogStore, "write_messages", slow_write)
    server = make_server(log_store=f"sqlite:///{tmp_path}/drain.db", rate_per_s=1000,
                         rate_burst=1000, **NO_TOKEN_LIMITS)
    acked = 0
    async with server.ws() as ws:
        await recv(ws, "welcome")
        for i in range(200):
            await send(ws, **message(f"c{i % 7}", f"m{i}", f"第{i}个问题 能便宜点吗"))
        for _ in range(200):
            await recv(ws, "ack", timeout=30)
            acked += 1
    assert server.services.writer.pending > 100  # most records are still queued
    stop_server(server)
    store = open_log_store(f"sqlite:///{tmp_path}/drain.db", tmp_path)
    assert store.count_messages() == acked == 200
    store.close()


async def test_with_ack_after_write_feedback_is_acknowledged_once_stored(
        make_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An acknowledged label is a stored label: the ack waits for the commit."""
    from assist.logstore.sqlite import SqliteLogStore

    release = threading.Event()
    original = SqliteLogStore.write_feedback

    def held_write(self, records):  # a store that takes its time
        release.wait(10)
        original(self, records)

    monkeypatch.setattr(SqliteLogStore, "write_feedback", held_write)
    server = make_server(log_store=f"sqlite:///{tmp_path}/acks.db", ack_after_write=True)
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await send(ws, **message("c1", "m1", "能便宜点吗"))
        await recv(ws, "ack")
        await send(ws, type="feedback", message_id="m1", suggestion_id="x", action="accepted",
                   ref="f1")
        with pytest.raises(asyncio.TimeoutError):
            await recv(ws, "ack", timeout=0.5)  # not stored yet: not acknowledged yet
        release.set()
        ack = await recv(ws, "ack")
        assert ack["ref"] == "f1" and ack["logged"] is True
    store = open_log_store(f"sqlite:///{tmp_path}/acks.db", tmp_path)
    assert [f.action for f in store.feedback_for(["m1"])] == ["accepted"]
    store.close()
