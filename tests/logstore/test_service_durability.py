"""Through the real server: /healthz says why the log is degraded, and once nothing can keep
more, messages are still answered with ``"logged": false``; start-up on an unusable data path
is one line naming it."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from assist.cli.main import main
from assist.logstore import open_log_store
from assist.logstore.sqlite import SqliteLogStore
from tests.logstore.test_writer import wait_for
from tests.service.conftest import message, recv, send


async def test_degraded_log_is_reported_and_acks_say_not_logged(make_server, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    disk_full = {"on": False}
    original = SqliteLogStore._before_write

    def before_write(self: SqliteLogStore) -> None:
        if disk_full["on"]:
            raise sqlite3.OperationalError("database or disk is full")
        original(self)

    monkeypatch.setattr(SqliteLogStore, "_before_write", before_write)
    server = make_server(log_spool_dir=tmp_path / "spool", log_spool_max_mb=0.004, log_max_held=5,
                         rate_per_s=1000, rate_burst=1000)
    logged: dict[str, bool] = {}
    async with server.ws() as ws, httpx.AsyncClient(base_url=server.base) as http:
        await recv(ws, "welcome")
        assert (await http.get("/healthz")).json()["status"] == "ok"
        disk_full["on"] = True
        for i in range(60):
            await send(ws, **message("c1", f"m{i}", f"第{i}个问题 能便宜点吗"), ref=f"r{i}")
            ack = await recv(ws, "ack")
            logged[ack["message_id"]] = ack["logged"]
            time.sleep(0.005)  # let the writer spool between messages
        health = (await http.get("/healthz")).json()
        assert health["status"] == "degraded"
        assert "disk is full" in health["log"]["reason"] and health["log"]["spooled"] > 0
        assert any(logged.values()) and not all(logged.values())  # answered, some not logged
        await send(ws, type="feedback", message_id="m1", suggestion_id="bargain", action="accepted",
                   ref="f1")
        assert (await recv(ws, "ack"))["logged"] is False
        disk_full["on"] = False
        assert wait_for(lambda: server.services.writer.ok and server.services.writer.pending == 0)
        assert (await http.get("/healthz")).json()["status"] == "ok"
    stored = {row.message_id for row in server.services.store.conversation("c1")}
    assert stored == {m for m, ok in logged.items() if ok}


async def test_a_bad_feedback_frame_costs_no_one_else_their_records(make_server) -> None:
    """The issue's case: a feedback frame with a lone surrogate used to make the writer drop its
    whole batch (another agent's 20 acked records with it) and stall ~3 s."""
    server = make_server(rate_per_s=1000, rate_burst=1000)
    async with server.ws() as bad, server.ws() as good:
        await recv(bad, "welcome")
        await recv(good, "welcome")
        for i in range(20):
            await send(good, **message("c-good", f"g{i}", f"第{i}个问题 能便宜点吗"), ref=f"g{i}")
        # ASCII-escaped JSON: the only way a lone surrogate travels in UTF-8 text.
        await bad.send(json.dumps({"type": "feedback", "message_id": "g3", "suggestion_id": "bargain",
                                   "action": "edited", "final_text": "改好了\ud800", "ref": "bad"}))
        answer = await recv(bad)
        acks = [await recv(good, "ack") for _ in range(20)]
    assert all(a["logged"] for a in acks)
    started = time.monotonic()
    assert server.services.writer.flush(10) and time.monotonic() - started < 3
    stored_ids = {r.message_id for r in server.services.store.conversation("c-good")}
    assert stored_ids == {f"g{i}" for i in range(20)}
    if answer["type"] == "ack":  # taken at the edge: then it is stored, made valid
        stored = server.services.store.feedback_for(["g3"])
        assert [f.final_text for f in stored] == ["改好了\ufffd"]
    else:  # or refused at the edge with an error frame, which is fine too
        assert answer["type"] == "error"
    assert server.services.writer.rejected == 0


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_unusable_data_path_is_one_clear_line(tmp_path: Path, small_index: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, output = run_cli("serve", "--data", str(blocker / "data"), "--index", str(small_index))
    assert code != 0
    assert output.strip().splitlines() == [f"Error: cannot use {blocker / 'data'}: Not a directory"]
    code, output = run_cli("serve", "--data", str(tmp_path / "data"), "--index", str(small_index),
                           "--log-store", f"sqlite:///{blocker}/log.db")
    assert code != 0 and len(output.strip().splitlines()) == 1
    assert f"cannot open the log database {blocker}/log.db" in output


def test_unreachable_postgresql_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^cannot open the PostgreSQL log store postgresql://u:\*\*\*@"):
        open_log_store("postgresql://u:secret@127.0.0.1:1/x", tmp_path)
