"""Shared fixtures: the real USE embedder and a real index built from a tiny knowledge folder."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assist.core.embedders import Embedder, shared_embedder
from assist.core.engine import Engine, open_engine
from assist.core.index.build import build_index

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return shared_embedder("use")


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    """A writable copy of the tiny fixture knowledge folder."""
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURES / "knowledge", target)
    return target


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    out = tmp_path_factory.mktemp("index")
    build_index(FIXTURES / "knowledge", out, embedder, progress=False)
    return out


@pytest.fixture(scope="session")
def small_engine(small_index: Path, embedder: Embedder) -> Engine:
    return open_engine(small_index, embedder)


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The real shipped knowledge base, indexed once per test session."""
    out = tmp_path_factory.mktemp("shipped-index")
    build_index(REPO / "knowledge", out, embedder, progress=False)
    return out


async def _until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


@pytest.fixture
def until() -> Callable[..., Awaitable[None]]:
    """``await until(condition, timeout=10)``: let the event loop run until ``condition()`` holds."""
    return _until


CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright's own download is not used
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for a module of real-browser tests (widget, QA page).

    Module scope, not session: Playwright's sync API keeps an event loop running while it is
    open, which would break every asyncio test collected after it.
    """
    if not CHROMIUM.is_file():
        pytest.skip("no /usr/bin/chromium: install Debian's chromium and fonts-noto-cjk (scripts/install.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()

