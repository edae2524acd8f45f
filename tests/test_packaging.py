"""An installed wheel (not the checkout) serves the widget, the agent console and the QA page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the project installed from a wheel; dependencies come from the test venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp / "dist"), str(REPO)], check=True, timeout=300)
    wheel = next((tmp / "dist").glob("shop_assist-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The test venv's packages as a plain path: its .pth files (the editable checkout) stay unread.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    str(wheel)], check=True, timeout=300)
    return venv


def test_installed_package_is_not_the_checkout(installed: Path) -> None:
    where = subprocess.run([installed / "bin" / "python", "-c", "import assist; print(assist.__file__)"],
                           capture_output=True, text=True, check=True, cwd="/").stdout
    assert str(installed) in where and str(REPO) not in where


def test_installed_service_serves_widget_agent_and_qa(installed: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "ASSIST_KNOWLEDGE": str(REPO / "tests/fixtures/knowledge"),
           "ASSIST_INDEX": str(tmp_path / "index"), "ASSIST_DATA": str(tmp_path / "data"),
           "ASSIST_TOKENS": "agent-pk-1:agent", "ASSIST_DEV": "false", "ASSIST_PORT": str(port)}
    env.pop("ASSIST_WIDGET_DIR", None)
    process = subprocess.Popen([installed / "bin" / "assist", "serve"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the installed service did not start"
            time.sleep(0.3)
        for path, marker in (("/widget/assist-sidebar.js", "assist-sidebar"),
                             ("/widget/src/vocabulary.js", "RISK_LABELS"),
                             ("/agent", "<assist-sidebar"), ("/qa", "qa.js")):
            response = httpx.get(base + path, timeout=10)
            assert response.status_code == 200, (path, response.status_code)
            assert marker in response.text, path
    finally:
        process.terminate()
        process.wait(timeout=30)
