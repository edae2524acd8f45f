"""Real headless Chromium (Debian's, never a downloaded one) against a real running service."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assist.core.engine import Engine
from tests.service.conftest import AGENT, RunningServer, service_settings, start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
WIDGET_DIR = REPO / "widget"
ARTIFACTS = REPO / "test-artifacts" / "widget"
# Chromium logs a failed websocket handshake as a console error; expected while a server restarts.
EXPECTED_CONSOLE = ("WebSocket connection to", "net::ERR_CONNECTION_REFUSED")


class Servers:
    """Starts services over the widget folder; a restart reuses the port, like a real redeploy."""

    def __init__(self, tmp_path: Path, engine: Engine) -> None:
        self.tmp_path = tmp_path
        self.engine = engine
        self.running: list[RunningServer] = []

    def start(self, port: int = 0, **overrides: Any) -> RunningServer:
        overrides.setdefault("widget_dir", WIDGET_DIR)
        running = start_server(service_settings(self.tmp_path, **overrides), self.engine, port)
        self.running.append(running)
        return running

    def stop(self, running: RunningServer) -> None:
        stop_server(running)
        self.running.remove(running)


@pytest.fixture
def servers(tmp_path: Path, small_engine: Engine) -> Iterator[Servers]:
    made = Servers(tmp_path, small_engine)
    yield made
    for running in list(made.running):
        made.stop(running)


@pytest.fixture
def server(servers: Servers) -> RunningServer:
    return servers.start()


class PageProblems:
    """Dialogs (an executed alert would be one) and unexpected console errors of a page."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    def attach(self, page: Any) -> None:
        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        def on_console(msg: Any) -> None:
            if msg.type == "error" and not any(e in msg.text for e in EXPECTED_CONSOLE):
                self.errors.append(msg.text)

        page.on("dialog", on_dialog)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, problems: PageProblems) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 860}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems.attach(page)
    yield page
    context.close()
    assert problems.errors == [], f"errors in the page: {problems.errors}"
    assert problems.dialogs == [], f"dialogs opened (script ran?): {problems.dialogs}"


def open_console(page: Any, server: RunningServer, conversation: str = "conv-1",
                 token: str = AGENT) -> Any:
    """The demo console at /agent, connected; returns the sidebar's locator."""
    page.goto(f"{server.base}/agent?token={token}&conversation={conversation}")
    wait_state(page, "open")
    return page.locator("assist-sidebar")


def wait_state(page: Any, state: str, timeout: float = 15_000) -> None:
    page.wait_for_function("s => document.querySelector('assist-sidebar')?.state === s", arg=state,
                           timeout=timeout)


def send_as_buyer(page: Any, text: str, file_name: str = "", mode: str = "ws") -> str:
    """Type a buyer message in the demo console; returns its message id once suggestions show."""
    page.select_option("#send-mode", mode)
    page.fill("#buyer-text", text)
    page.fill("#buyer-file", file_name)
    before = page.evaluate("() => document.querySelector('assist-sidebar').suggestions?.message_id ?? null")
    page.press("#buyer-text", "Enter")
    page.wait_for_function("b => { const f = document.querySelector('assist-sidebar').suggestions;"
                           " return f && f.message_id !== b; }", arg=before)
    return page.evaluate("() => document.querySelector('assist-sidebar').suggestions.message_id")


def wait_message(page: Any, message_id: str) -> None:
    """Wait until the sidebar shows the suggestions for ``message_id``."""
    page.wait_for_function("m => document.querySelector('assist-sidebar').suggestions?.message_id === m",
                           arg=message_id)


def publish(server: RunningServer, conversation_id: str, frame: dict[str, Any]) -> None:
    """Push a frame to a conversation's subscribers through the running hub (its own loop)."""
    hub = server.services.hub
    loop = hub._task.get_loop()  # the server thread's event loop
    loop.call_soon_threadsafe(hub.publish, conversation_id, json.dumps(frame, ensure_ascii=False))


def feedback(server: RunningServer, message_id: str) -> list[Any]:
    server.services.writer.flush()
    return server.services.store.feedback_for([message_id])


def screenshot(page: Any, name: str, **kwargs: Any) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), **kwargs)
    return path


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """Poll a Python condition (log store writes land on the writer thread)."""
    import time

    def wait(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.05)

    return wait
