"""The log writer keeps what it accepted: a bad record is isolated, a store that cannot write
(disk full, file deleted, PostgreSQL gone) is spooled around and retried, and once nothing can
keep more, ``put`` says so."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assist.logstore import FeedbackRecord, LogWriter, MessageQuery, MessageRecord, open_log_store
from assist.logstore.spool import Spool
from assist.logstore.sqlite import SqliteLogStore
from benchmarks.tcpproxy import TcpProxy

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def record(n: int, text: str = "能便宜点吗", conversation: str = "c1") -> MessageRecord:
    return MessageRecord(ts=time.time(), conversation_id=conversation, message_id=f"m{n}",
                         agent="a", text=text)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class FaultyStore(SqliteLogStore):
    """A real SQLite store whose writes fail like a full disk (or ``error``) while ``full`` is set."""

    full = False
    error = "database or disk is full"

    def _before_write(self) -> None:
        if self.full:
            raise sqlite3.OperationalError(self.error)
        super()._before_write()


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool([tmp_path / "spool"], "test-store", 1 << 20)


def test_a_bad_record_is_written_masked_or_rejected_alone(tmp_path: Path, spool: Spool,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_log_store("", tmp_path)
    original = SqliteLogStore.write_messages

    def refuse_poison(self: SqliteLogStore, records: list[MessageRecord]) -> None:
        if any(r.text == "poison" for r in records):
            raise sqlite3.IntegrityError("a value this store cannot take")
        original(self, records)

    monkeypatch.setattr(SqliteLogStore, "write_messages", refuse_poison)
    writer = LogWriter(store, spool=spool)
    started = time.monotonic()
    for n in range(40):
        writer.put(record(n, "poison" if n == 17 else f"第{n}条 电话13812345678"))
    writer.put(record(99, "lone \ud800 surrogate and a NUL \x00 byte"))
    writer.put(FeedbackRecord(ts=float("inf"), message_id="m1", suggestion_id="s", action="edited",
                              agent="a", final_text="\udfff改好了"))
    assert writer.flush(20)
    assert time.monotonic() - started < 5  # no retry sleeps for a bad value
    assert writer.rejected == 1 and writer.ok and spool.records == 0
    assert store.count_messages() == 40
    rows = {r.message_id: r for r in store.query_messages(MessageQuery(limit=100))}
    assert rows["m99"].text == "lone \ufffd surrogate and a NUL  byte"
    assert rows["m3"].text == "第3条 电话[手机号]"
    assert rows["m1"].feedback[0].final_text == "\ufffd改好了"
    writer.close()


def test_disk_full_is_spooled_reported_and_replayed(tmp_path: Path, spool: Spool) -> None:
    store = FaultyStore(tmp_path / "log.db")
    writer = LogWriter(store, batch=50, spool=spool, retry_max_s=0.2)
    for n in range(20):
        assert writer.put(record(n))
    assert writer.flush()
    store.full = True
    for n in range(20, 320):
        assert writer.put(record(n, f"电话13812345{n:03d}"))
    assert writer.flush()
    health = writer.health()
    assert health["state"] == "degraded" and "disk is full" in health["reason"]
    assert health["spooled"] == 300 and writer.written == 20
    spooled = b"".join(p.read_bytes() for p in spool.files())
    assert b"13812345" not in spooled  # the spool holds masked text only
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in spool.files())
    store.full = False
    assert wait_for(lambda: writer.ok)
    assert store.count_messages() == 320 and writer.health()["spooled"] == 0
    assert spool.files() == []
    assert sorted(int(r.message_id[1:]) for r in store.query_messages(MessageQuery(limit=1000))) \
        == list(range(320))
    writer.close()


@pytest.mark.parametrize("error", ["attempt to write a readonly database", "disk I/O error",
                                   "unable to open database file"])
def test_other_storage_failures_are_spooled_too(tmp_path: Path, spool: Spool, error: str) -> None:
    """Read-only remounts and I/O errors cannot be staged for a root test process (an open file
    keeps a mount writable), so SQLite's own messages for them are injected."""
    store = FaultyStore(tmp_path / "log.db")
    store.full, store.error = True, error
    writer = LogWriter(store, spool=spool, retry_max_s=0.2)
    for n in range(50):
        assert writer.put(record(n))
    assert writer.flush() and writer.health()["reason"] == f"OperationalError: {error}"
    store.full = False
    assert wait_for(lambda: writer.ok)
    assert store.count_messages() == 50
    writer.close()


def test_when_nothing_can_keep_more_put_says_not_logged(tmp_path: Path) -> None:
    store = FaultyStore(tmp_path / "log.db")
    store.full = True
    tiny = Spool([tmp_path / "spool"], "test-store", 2000)  # a few records' worth
    writer = LogWriter(store, batch=10, spool=tiny, max_held=30, retry_max_s=0.2)
    accepted = 0
    for n in range(200):
        accepted += writer.put(record(n))
        if n % 10 == 0:
            writer.flush()
    assert writer.flush()
    assert 0 < accepted < 200 and writer.unlogged == 200 - accepted
    assert writer.health()["accepting"] is False
    store.full = False
    assert wait_for(lambda: writer.ok and writer.pending == 0)
    assert store.count_messages() == accepted  # every accepted record, none of the refused
    assert writer.put(record(999)) and writer.flush()
    writer.close()


class SlowStore(SqliteLogStore):
    """A real SQLite store that works, but only once ``go`` is set: a database falling behind."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.go = threading.Event()

    def _before_write(self) -> None:
        self.go.wait(20)
        super()._before_write()


def test_a_store_that_falls_behind_bounds_the_queue(tmp_path: Path) -> None:
    store = SlowStore(tmp_path / "log.db")
    writer = LogWriter(store, batch=10, max_queued=50)
    accepted = sum(writer.put(record(n)) for n in range(200))
    assert accepted == 50 and writer.unlogged == 150  # memory stays bounded
    health = writer.health()
    assert health["state"] == "degraded" and "behind" in health["reason"]
    assert health["accepting"] is False
    store.go.set()
    assert writer.flush()
    assert store.count_messages() == 50  # every accepted record
    assert writer.health()["state"] == "ok" and writer.put(record(999)) and writer.flush()
    writer.close()


def test_deleted_data_directory_is_noticed_and_logging_goes_on(tmp_path: Path, spool: Spool) -> None:
    data = tmp_path / "data"
    store = open_log_store("", data)
    writer = LogWriter(store, spool=spool, retry_max_s=0.2)
    writer.put(record(0))
    assert writer.flush()
    shutil.rmtree(data)
    for n in range(1, 101):
        writer.put(record(n))
    assert writer.flush()
    # The write that noticed was spooled; the retry made the directory and a new file again.
    assert wait_for(lambda: writer.ok and (data / "suggestions.db").exists())
    assert store.count_messages() == 100 and writer.written == 101
    assert stat.S_IMODE((data / "suggestions.db").stat().st_mode) == 0o600
    writer.close()


def test_a_spool_left_by_an_outage_is_replayed_on_the_next_start(tmp_path: Path, spool: Spool) -> None:
    store = FaultyStore(tmp_path / "log.db")
    store.full = True
    writer = LogWriter(store, spool=spool, retry_max_s=60)
    for n in range(30):
        writer.put(record(n))
    writer.close()  # shut down while the disk is still full: the records stay in the spool
    assert Spool([tmp_path / "spool"], "test-store", 1 << 20).records == 30
    store = FaultyStore(tmp_path / "log.db")
    writer = LogWriter(store, spool=Spool([tmp_path / "spool"], "test-store", 1 << 20))
    assert wait_for(lambda: writer.ok)
    assert store.count_messages() == 30
    writer.close()


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    if os.geteuid() != 0 or not _mount_tmpfs(disk, "2M"):
        pytest.skip("needs permission to mount a tmpfs (root); the fault-injecting store covers it")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_real_full_disk(small_disk: Path, tmp_path: Path) -> None:
    store = open_log_store("", small_disk)
    # The spool's first choice is on the full disk too: it falls back to the second directory.
    spool = Spool([small_disk / "spool", tmp_path / "spool"], "s", 1 << 24)
    writer = LogWriter(store, batch=100, spool=spool, retry_max_s=0.2)
    filler = small_disk / "filler"
    with filler.open("wb", buffering=0) as f:  # fill the disk to the last block
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    accepted = sum(writer.put(record(n, "能便宜点吗" * 20)) for n in range(500))
    assert writer.flush(60)
    assert accepted == 500 and not writer.ok
    filler.unlink()
    assert wait_for(lambda: writer.ok and writer.pending == 0, 60)
    assert store.count_messages() == 500
    writer.close()


def _postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.mark.postgres
def test_postgresql_restart_loses_nothing() -> None:
    if not _postgres_reachable():
        pytest.skip(f"PostgreSQL at {PG_URL} unreachable")
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/test"
    store: Any = open_log_store(url, Path("."), prefix)
    spool = Spool([Path(os.environ.get("TMPDIR", "/tmp")) / f"spool-{prefix}"], url, 1 << 24)
    writer = LogWriter(store, batch=20, spool=spool, retry_max_s=0.2)
    try:
        for n in range(50):
            writer.put(record(n))
        assert writer.flush()
        proxy.stop()  # the database goes away mid-run
        for n in range(50, 250):
            assert writer.put(record(n))
        assert writer.flush()
        assert wait_for(lambda: not writer.ok)
        assert "Error" in (writer.health()["reason"] or "")
        proxy.start()  # and comes back on the same port
        assert wait_for(lambda: writer.ok and writer.pending == 0)
        assert store.count_messages() == 250
    finally:
        writer.close()
        proxy.stop()
        open_log_store(PG_URL, Path("."), prefix).drop()  # type: ignore[attr-defined]


def test_conversation_ids_are_stored_masked_and_still_found(tmp_path: Path) -> None:
    store: Any = open_log_store("", tmp_path)
    store.write_messages([record(1, conversation="buyer_13812345678"),
                          record(2, conversation="buyer_13912345678"),
                          record(3, conversation="tb-8812")])
    stored = store.stored_id("buyer_13812345678")
    assert stored.startswith("buyer_[手机号]~k") and "1381234" not in stored
    assert store.stored_id(stored) == stored  # idempotent: the QA page passes stored ids back
    assert stored != store.stored_id("buyer_13912345678")  # two buyers stay two conversations
    assert [r.message_id for r in store.conversation("buyer_13812345678")] == ["m1"]
    assert [r.message_id for r in store.conversation(stored)] == ["m1"]
    assert [r.message_id for r in store.conversation("tb-8812")] == ["m3"]  # no personal data: as is
    assert store.query_messages(MessageQuery(conversation_id="buyer_13912345678"))[0].message_id == "m2"
    attached = record(4)
    attached.attachments = [{"name": "身份证11010519491231002X_13812345678.jpg", "mime": "image/jpeg"}]
    store.write_messages([attached])
    row = store.query_messages(MessageQuery(limit=1))[0]
    assert row.attachments == [{"name": "身份证[身份证号]_[手机号].jpg", "mime": "image/jpeg"}]
    store.close()
