"""Real ``assist serve`` processes joined through a real Redis, for the cluster tests.

Every test run uses its own Redis prefix and its own PostgreSQL schema, so runs of other
sessions on the shared Redis and PostgreSQL of this machine do not see each other.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import TOKENS

REPO = Path(__file__).resolve().parents[2]
SYSTEM_REDIS = "redis://127.0.0.1:6379/0"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_answers(url: str) -> str | None:
    """None when Redis at ``url`` answers PING, else why not."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
        return None
    except Exception as exc:
        return f"no Redis at {url}: {exc}"


def require_redis(url: str = SYSTEM_REDIS) -> str:
    reason = redis_answers(url)
    if reason:
        pytest.skip(reason)
    return url


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A log-store URL on a schema of its own, dropped afterwards (skips without PostgreSQL)."""
    import psycopg

    schema = f"assist_cluster_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(PG_URL, connect_timeout=2, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {PG_URL}: {exc}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


class RedisServer:
    """Our own ``redis-server`` on a free port: a test may stop and restart it."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("no redis-server binary to start a Redis the test may restart")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: redis_answers(self.url) is None, 10, "redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def wait_for(check: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            value = check()
            if value:
                return value
        time.sleep(interval)
    raise AssertionError(what)


def http_json(url: str, method: str = "GET", token: str | None = None, body: Any = None,
              timeout: float = 10) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


@dataclass
class Node:
    """One ``assist serve`` (possibly with workers) in a subprocess."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def health(self) -> dict[str, Any]:
        return http_json(self.base + "/healthz", timeout=3)

    def children(self) -> list[int]:
        """Worker pids (uvicorn's manager's children)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in path.read_text().split()]
        # Not multiprocessing's resource tracker, also a child of the manager.
        return [pid for pid in pids if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_node(tmp: Path, name: str, knowledge: Path, index: Path, redis_url: str, prefix: str,
               log_store: str, workers: int = 1, **env: str) -> Node:
    port = free_port()
    data = tmp / f"data-{name}"
    environment = {**os.environ, "ASSIST_TOKENS": ",".join(TOKENS), "ASSIST_DEV": "false",
                   "ASSIST_RATE_PER_S": "1000", "ASSIST_RATE_BURST": "1000",
                   # One agent token on every load socket: the per-token limits are not tested here.
                   "ASSIST_TOKEN_RATE_PER_S": "100000", "ASSIST_TOKEN_RATE_BURST": "100000",
                   "ASSIST_TOKEN_QUEUE": "100000", "ASSIST_MAX_CONNECTIONS_PER_TOKEN": "10000",
                   "ASSIST_REDIS_PREFIX": prefix, "ASSIST_INDEX_POLL_S": "1",
                   "ASSIST_WIDGET_DIR": str(tmp / "widget"), **env}
    environment.pop("ASSIST_CONFIG", None)
    command = [sys.executable, "-c", "from assist.cli import main; main()", "serve",
               "--knowledge", str(knowledge), "--index", str(index), "--data", str(data),
               "--port", str(port), "--redis", redis_url, "--log-store", log_store,
               "--workers", str(workers)]
    log = tmp / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=environment, cwd=REPO, stdout=out,
                                   stderr=subprocess.STDOUT)
    node = Node(process, port, log)

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{log.read_text()[-3000:]}")
        health = node.health()
        return bool(health.get("cluster", {}).get("connected"))

    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if ready():
                    return node
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not start:\n{log.read_text()[-3000:]}")
    except BaseException:
        node.stop()
        raise


def unique_prefix() -> str:
    return f"assist-test-{secrets.token_hex(4)}"


def forget_prefix(url: str, prefix: str) -> None:
    """Delete the keys a test run left under its prefix (the index version it announced)."""
    import redis

    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()
