"""Auth: websocket refusals with 44xx close codes, Origin allow-list, roles, hashing, dev mode."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import websockets

from assist.service.auth import (
    AuthConfigError,
    TokenStore,
    build_tokens,
    hash_token,
    origin_allowed,
    own_origins,
    query_token,
)
from tests.service.conftest import ADMIN, AGENT, QA, InProcess, RunningServer, recv


async def closed_with(server: RunningServer, token: str | None, **kwargs) -> int:
    async with server.ws(token, **kwargs) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    return closed.value.rcvd.code


@pytest.mark.parametrize(("token", "code"), [(None, 4401), ("wrong-token-123", 4401), (QA, 4403)])
async def test_websocket_refusals(server: RunningServer, token: str | None, code: int) -> None:
    assert await closed_with(server, token) == code
    assert not server.services.hub.connections


async def test_origin_allow_list(make_server) -> None:
    server = make_server(origins=["https://*.taobao.com"])
    port = server.base.rsplit(":", 1)[1]
    evil = {"origin": "https://evil.example"}
    assert await closed_with(server, AGENT, **evil) == 4403
    for origin in ("https://myshop.taobao.com", f"http://127.0.0.1:{port}"):
        async with server.ws(AGENT, origin=origin) as ws:
            assert (await recv(ws))["type"] == "welcome"


def test_admin_endpoints_need_admin(client: InProcess) -> None:
    http = client
    none = http.post("/api/admin/reindex")
    wrong = http.post("/api/admin/reindex", headers={"Authorization": "Bearer nope-nope"})
    agent = http.post("/api/admin/reindex", headers={"Authorization": f"Bearer {AGENT}"})
    qa_suggest = http.post("/api/suggest", json={"text": "在吗"},
                           headers={"Authorization": f"Bearer {QA}"})
    qa_index = http.get("/api/index", headers={"Authorization": f"Bearer {QA}"})
    admin_suggest = http.post("/api/suggest", json={"text": "在吗"},
                              headers={"Authorization": f"Bearer {ADMIN}"})
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401
    assert agent.status_code == 403 and "admin" in agent.json()["detail"]
    assert qa_suggest.status_code == 403  # QA reads logs; it does not ingest
    assert qa_index.status_code == 200
    assert admin_suggest.status_code == 200


def test_tokens_are_hashed_at_rest() -> None:
    store = TokenStore([f"{AGENT}:agent", f"sha256:{hash_token(ADMIN).upper()}:admin"])
    assert AGENT not in repr(vars(store)) and ADMIN not in repr(vars(store))
    assert store.authenticate(AGENT).role == "agent"
    assert store.authenticate(ADMIN).role == "admin"
    assert store.authenticate(ADMIN).agent == f"admin-{hash_token(ADMIN)[:8]}"
    assert store.authenticate("") is None and store.authenticate("unknown-token") is None


@pytest.mark.parametrize(("entry", "says"), [
    ("no-role-here", "':role'"), ("secret-123:boss", "role must be one of"),
    ("short:agent", "at least 8"), ("sha256:abc:agent", "64 hex"),
])
def test_bad_token_entries_say_why(entry: str, says: str) -> None:
    with pytest.raises(AuthConfigError, match=says):
        TokenStore([entry])


def test_dev_mode_generates_and_keeps_an_admin_token(tmp_path: Path) -> None:
    store, token = build_tokens([], dev=True, data_dir=tmp_path)
    assert token and store.authenticate(token).role == "admin"
    path = tmp_path / "dev-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert build_tokens([], dev=True, data_dir=tmp_path)[1] == token  # reused across restarts
    assert build_tokens([f"{AGENT}:agent"], dev=True, data_dir=tmp_path)[1] is None
    with pytest.raises(AuthConfigError, match="ASSIST_TOKENS"):
        build_tokens([], dev=False, data_dir=tmp_path)


def test_origin_rules() -> None:
    own = own_origins(("127.0.0.1", 8000))
    assert origin_allowed(None, own, [])  # not a browser
    assert origin_allowed("http://127.0.0.1:8000", own, [])
    assert origin_allowed("http://localhost:8000", own, [])
    assert not origin_allowed("http://127.0.0.1:8001", own, [])
    assert origin_allowed("https://a.jd.com", own, ["https://*.jd.com"])
    assert not origin_allowed("https://a.jd.com.evil.io", own, ["https://*.jd.com"])
    public = own_origins(("10.0.0.5", 443), "https://assist.example.com/")
    assert origin_allowed("https://assist.example.com", public, [])
    assert origin_allowed("https://10.0.0.5", public, [])
    assert not origin_allowed("https://evil.example", public, [])


async def test_same_origin_does_not_trust_the_host_header(server: RunningServer) -> None:
    """The client writes Host: an Origin matching it proves nothing."""
    port = int(server.base.rsplit(":", 1)[1])
    # The URI names evil.example (so Host says so); the TCP connection goes to the server.
    async with websockets.connect(f"ws://evil.example:{port}/ws?token={AGENT}", host="127.0.0.1",
                                  port=port, origin=f"http://evil.example:{port}") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4403


def test_only_the_literal_token_parameter_authenticates() -> None:
    assert query_token(b"token=abc%2Fd&x=1") == "abc/d"
    assert query_token(b"%74oken=abc") is None
    assert query_token(b"Token=abc") is None
    assert query_token(b"x=1&token=") is None
