"""Durability of the suggestion log against a real ``assist serve`` (a benchmark, not a test).

Each scenario starts the server in a subprocess (tiny fixture knowledge, its own data
directory), sends customer messages over /ws, records every ack (``logged`` true or false),
breaks the storage while messages flow, brings it back, stops the server (SIGTERM), and counts
what the store holds. "lost" is acknowledged-as-logged records missing from the store.

- ``disk-full``: the data directory on a 4 MiB tmpfs filled to the last block (needs root to
  mount; skipped otherwise), then freed;
- ``deleted-dir``: the data directory removed (``rm -rf``) while running;
- ``pg-restart``: PostgreSQL log store reached through a TCP proxy that is stopped (every
  connection cut, new ones refused) and started again on the same port;
- ``spool-full``: as pg-restart, with a 64 KiB spool and 50 records held in memory: acks must
  turn ``logged: false`` and every ``logged: true`` one must be stored;
- ``kill-9``: SIGKILL in the middle of a stream: lost = acked records not stored (what was in
  flight in the writer's queue);
- ``kill-9-spool``: PostgreSQL down, records spooled, SIGKILL, the database back, a new server
  started on the same store: the spool is replayed.

    python benchmarks/durability.py                 # all scenarios
    python benchmarks/durability.py --only kill-9 --messages 2000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.tcpproxy import TcpProxy  # noqa: E402

TOKEN = "durability-admin-token"
PG = "postgresql://postgres@127.0.0.1:5432"
TEXTS = ["能便宜点吗", "快递怎么还不到", "这款鞋尺码标准吗", "可以开发票吗", "我电话13812345678 收货人张三"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, work: Path, data: Path, knowledge: Path, **env: str) -> None:
        self.port = free_port()
        self.log = work / f"server-{self.port}.log"
        environment = {**os.environ, "ASSIST_TOKENS": f"{TOKEN}:admin", "ASSIST_DEV": "false",
                       "ASSIST_RATE_PER_S": "100000", "ASSIST_RATE_BURST": "100000", **env}
        command = [sys.executable, "-c", "from assist.cli import main; main()", "serve",
                   "--knowledge", str(knowledge), "--index", str(work / "index"), "--data", str(data),
                   "--port", str(self.port)]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, env=environment, cwd=REPO,
                                            stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 600  # the first start builds the index
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited; see {self.log}:\n{self.log.read_text()[-2000:]}")
            try:
                self.health()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("server did not start in time")

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as r:
            return dict(json.load(r))

    def wait_ok(self, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.health()["log"]
            if log["state"] == "ok" and log["pending"] == 0 and log["spooled"] == 0:
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=120)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


async def send_messages(port: int, ids: list[str], acks: dict[str, bool],
                        during: Callable[[int], None] | None = None, window: int = 50) -> None:
    """Send ``ids`` on one socket, at most ``window`` unanswered; ``acks[id] = logged``.
    ``during(i)`` runs after the i-th send (to break things mid-stream)."""
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/ws?token={TOKEN}", max_size=1 << 22) as ws:
        await ws.recv()  # welcome
        outstanding = 0
        for i, message_id in enumerate(ids):
            await ws.send(json.dumps({"type": "customer_message", "conversation_id": f"c{i % 13}",
                                      "message_id": message_id, "text": TEXTS[i % len(TEXTS)],
                                      "ref": message_id}, ensure_ascii=False))
            outstanding += 1
            if during is not None:
                during(i)
            while outstanding >= window:
                outstanding -= await _read_ack(ws, acks)
        while outstanding:
            outstanding -= await _read_ack(ws, acks)


async def _read_ack(ws: Any, acks: dict[str, bool]) -> int:
    frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
    if frame["type"] == "ack":
        acks[frame["message_id"]] = bool(frame.get("logged", True))
        return 1
    if frame["type"] == "error":
        raise RuntimeError(frame)
    return 0


def sqlite_ids(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT message_id FROM messages")}


def pg_ids(database: str) -> set[str]:
    import psycopg

    with psycopg.connect(f"{PG}/{database}") as conn:
        return {r[0] for r in conn.execute("SELECT message_id FROM messages")}


def report(name: str, acks: dict[str, bool], stored: set[str], note: str = "") -> dict[str, Any]:
    logged = {m for m, ok in acks.items() if ok}
    lost = logged - stored
    row = {"scenario": name, "acked": len(acks), "acked_logged": len(logged),
           "acked_not_logged": len(acks) - len(logged), "stored": len(stored & set(acks)),
           "lost": len(lost), "note": note}
    print(f"{name:12} acked {row['acked']:5}  logged {row['acked_logged']:5}  "
          f"not-logged {row['acked_not_logged']:4}  stored {row['stored']:5}  LOST {row['lost']:4}  {note}",
          flush=True)
    return row


# ---- scenarios -----------------------------------------------------------------------------------

def disk_full(work: Path, knowledge: Path, n: int) -> dict[str, Any] | None:
    disk = work / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4M", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        print("disk-full    skipped: cannot mount a tmpfs (needs root)")
        return None
    try:
        server = Server(work, disk / "data", knowledge)
        acks: dict[str, bool] = {}
        asyncio.run(send_messages(server.port, [f"a{i}" for i in range(100)], acks))
        filler = disk / "filler"
        with filler.open("wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        asyncio.run(send_messages(server.port, [f"b{i}" for i in range(n)], acks))
        degraded = server.health()
        filler.unlink()
        recovered = server.wait_ok()
        server.stop()
        return report("disk-full", acks, sqlite_ids(disk / "data" / "suggestions.db"),
                      f"healthz during: {degraded['status']} ({degraded['log']['reason']}); "
                      f"recovered: {recovered}")
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def deleted_dir(work: Path, knowledge: Path, n: int) -> dict[str, Any]:
    data = work / "data-deleted"
    server = Server(work, data, knowledge)
    before: dict[str, bool] = {}
    asyncio.run(send_messages(server.port, [f"a{i}" for i in range(100)], before))
    shutil.rmtree(data)
    after: dict[str, bool] = {}
    asyncio.run(send_messages(server.port, [f"b{i}" for i in range(n)], after))
    recovered = server.wait_ok()
    server.stop()
    # What was stored before the rm went with the directory; the figure is about what came after.
    return report("deleted-dir", after, sqlite_ids(data / "suggestions.db"),
                  f"recovered: {recovered}; the log goes on in a new file")


def _pg_database() -> str | None:
    try:
        import psycopg

        name = f"assist_durability_{os.getpid()}"
        with psycopg.connect(f"{PG}/test", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name
    except Exception as exc:
        print(f"pg scenarios skipped: {exc}")
        return None


def _drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/test", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pg_restart(work: Path, knowledge: Path, n: int, spool_full: bool = False) -> dict[str, Any] | None:
    database = _pg_database()
    if database is None:
        return None
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    env = {"ASSIST_LOG_STORE": f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}",
           "ASSIST_LOG_SPOOL_DIR": str(work / f"spool-{database}")}
    if spool_full:
        env |= {"ASSIST_LOG_SPOOL_MAX_MB": "0.0625", "ASSIST_LOG_MAX_HELD": "50"}
    try:
        server = Server(work, work / f"data-{database}-{int(spool_full)}", knowledge, **env)
        acks: dict[str, bool] = {}
        asyncio.run(send_messages(server.port, [f"a{i}" for i in range(100)], acks))
        proxy.stop()
        asyncio.run(send_messages(server.port, [f"b{i}" for i in range(n)], acks))
        degraded = server.health()
        time.sleep(1.0)
        proxy.start()
        recovered = server.wait_ok()
        server.stop()
        return report("spool-full" if spool_full else "pg-restart", acks, pg_ids(database),
                      f"healthz during: {degraded['status']} ({(degraded['log']['reason'] or '')[:60]}); "
                      f"recovered: {recovered}")
    finally:
        proxy.stop()
        _drop_pg_database(database)


def kill_9_outage(work: Path, knowledge: Path, n: int) -> dict[str, Any] | None:
    """PostgreSQL down, records spooled, then SIGKILL; a new server on the same store replays
    the spool once the database is back."""
    database = _pg_database()
    if database is None:
        return None
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    env = {"ASSIST_LOG_STORE": f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}",
           "ASSIST_LOG_SPOOL_DIR": str(work / f"spool-kill-{database}")}
    data = work / f"data-kill-{database}"
    try:
        server = Server(work, data, knowledge, **env)
        acks: dict[str, bool] = {}
        asyncio.run(send_messages(server.port, [f"a{i}" for i in range(100)], acks))
        proxy.stop()
        asyncio.run(send_messages(server.port, [f"b{i}" for i in range(n)], acks))
        # Kill once the queue is spooled: this measures the spool across a kill (what is still
        # queued at a kill is the kill-9 scenario's figure).
        started, at_last_ack = time.monotonic(), server.health()["log"]["pending"]
        while (log := server.health()["log"])["pending"] and time.monotonic() - started < 30:
            time.sleep(0.05)
        drained = time.monotonic() - started
        spooled = log["spooled"]
        server.kill()
        proxy.start()
        again = Server(work, data, knowledge, **env)
        recovered = again.wait_ok()
        again.stop()
        return report("kill-9-spool", acks, pg_ids(database),
                      f"queued at the last ack: {at_last_ack}, spooled {drained:.2f} s later; killed "
                      f"with {spooled} spooled; replayed by the next start: {recovered}")
    finally:
        proxy.stop()
        _drop_pg_database(database)


def kill_9(work: Path, knowledge: Path, n: int) -> dict[str, Any]:
    data = work / "data-kill"
    server = Server(work, data, knowledge)
    acks: dict[str, bool] = {}

    queued: list[int] = []

    def kill_half_way(i: int) -> None:
        if i == n // 2:
            queued.append(server.health()["log"]["pending"])  # in flight just before the kill
            server.kill()

    with contextlib.suppress(Exception):  # the connection dies with the server
        asyncio.run(send_messages(server.port, [f"k{i}" for i in range(n)], acks, kill_half_way))
    return report("kill-9", acks, sqlite_ids(data / "suggestions.db"),
                  f"lost = acked but still queued in memory; the writer's queue just before the "
                  f"kill: {queued[0] if queued else '?'}")


SCENARIOS = ["disk-full", "deleted-dir", "pg-restart", "spool-full", "kill-9", "kill-9-spool"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="messages sent during each outage")
    parser.add_argument("--knowledge", type=Path, default=REPO / "tests" / "fixtures" / "knowledge")
    parser.add_argument("--only", action="append",
                        choices=SCENARIOS)
    args = parser.parse_args()
    chosen = args.only or SCENARIOS
    with tempfile.TemporaryDirectory(prefix="durability-") as tmp:
        work = Path(tmp)
        rows = []
        for name in chosen:
            run = {"disk-full": lambda: disk_full(work, args.knowledge, args.messages),
                   "deleted-dir": lambda: deleted_dir(work, args.knowledge, args.messages),
                   "pg-restart": lambda: pg_restart(work, args.knowledge, args.messages),
                   "spool-full": lambda: pg_restart(work, args.knowledge, args.messages, spool_full=True),
                   "kill-9": lambda: kill_9(work, args.knowledge, args.messages),
                   "kill-9-spool": lambda: kill_9_outage(work, args.knowledge, args.messages)}[name]
            row = run()
            if row is not None:
                rows.append(row)
        print(json.dumps(rows, ensure_ascii=False))


if __name__ == "__main__":
    main()
