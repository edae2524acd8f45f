"""A real server (uvicorn on an ephemeral port, in a thread) over the tiny fixture index."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets
from fastapi.testclient import TestClient

from assist.core.engine import Engine
from assist.core.settings import Settings
from assist.service.app import create_app
from assist.service.auth import TokenStore
from assist.service.server import build_server
from assist.service.services import Services

AGENT, ADMIN, QA = "agent-secret-1", "admin-secret-1", "qa-secret-1"
TOKENS = [f"{AGENT}:agent", f"{ADMIN}:admin", f"{QA}:qa"]
# For tests that push one token hard on purpose (the per-token limits have their own tests).
NO_TOKEN_LIMITS = {"token_rate_per_s": 100_000, "token_rate_burst": 100_000, "token_queue": 100_000,
                   "batch_max_per_token": 64}


@dataclass
class RunningServer:
    base: str
    ws_url: str
    app: Any
    server: uvicorn.Server

    @property
    def services(self) -> Services:
        return self.app.state.test_services[0]

    def ws(self, token: str | None = AGENT, **kwargs: Any) -> Any:
        url = self.ws_url + (f"?token={token}" if token else "")
        return websockets.connect(url, **kwargs)


def start_server(settings: Settings, engine: Engine | None, port: int = 0) -> RunningServer:
    """Serve on ``port`` (0: an ephemeral one; a fixed one lets a test restart on the same port)."""
    app = create_app(settings, engine=engine, tokens=TokenStore(settings.tokens))
    captured: list[Services] = []
    app.state.test_services = captured
    inner = app.router.lifespan_context

    def capturing(a: Any) -> Any:  # keep a handle on the lifespan's Services for assertions
        context = inner(a)

        class Wrap:
            async def __aenter__(self) -> Any:
                state = await context.__aenter__()
                captured.append(state["services"])
                return state

            async def __aexit__(self, *exc: Any) -> Any:
                return await context.__aexit__(*exc)

        return Wrap()

    app.router.lifespan_context = capturing
    server = build_server(app, settings, host="127.0.0.1", port=port, log_level="warning",
                          ws_max_size=1 << 16, lifespan="on")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    server._thread = thread  # type: ignore[attr-defined]
    return RunningServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", app, server)


def stop_server(running: RunningServer) -> None:
    running.server.should_exit = True
    running.server._thread.join(timeout=30)  # type: ignore[attr-defined]


def service_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data": tmp / "data", "tokens": TOKENS, "dev": False,
                              "widget_dir": tmp / "widget", "heartbeat_s": 20.0}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def make_server(tmp_path: Path, small_engine: Engine) -> Iterator[Callable[..., RunningServer]]:
    """Start a server with settings overrides; stopped (and its log drained) after the test."""
    started: list[RunningServer] = []

    def make(engine: Engine | None = small_engine, **overrides: Any) -> RunningServer:
        running = start_server(service_settings(tmp_path, **overrides), engine)
        started.append(running)
        return running

    yield make
    for running in started:
        stop_server(running)


@pytest.fixture
def server(make_server: Callable[..., RunningServer]) -> RunningServer:
    return make_server()


class InProcess(TestClient):
    """The app in-process (no socket): for role and validation tests that need no server."""

    @property
    def services(self) -> Services:
        return self.app_state["services"]


@pytest.fixture
def client(tmp_path: Path, small_engine: Engine) -> Iterator[InProcess]:
    """The service app with its lifespan run in-process over the tiny fixture index."""
    settings = service_settings(tmp_path)
    app = create_app(settings, engine=small_engine, tokens=TokenStore(settings.tokens))
    with InProcess(app, base_url="http://testserver") as test_client:
        yield test_client


async def recv(ws: Any, kind: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """The next frame (of ``kind``, skipping others such as heartbeats)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(left, 0.01)))
        if kind is None or frame["type"] == kind:
            return frame


async def send(ws: Any, **frame: Any) -> None:
    await ws.send(json.dumps(frame, ensure_ascii=False))


def message(conversation_id: str, message_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "customer_message", "conversation_id": conversation_id, "message_id": message_id,
            "text": text, "attachments": [], "sent_at": time.time(), **extra}
