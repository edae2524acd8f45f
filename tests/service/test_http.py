"""HTTP API: in-process for what needs no socket (roles, validation, bodies), a real server for
HTTP ingest fanning out to websocket subscribers."""

from __future__ import annotations

import httpx

from tests.service.conftest import ADMIN, AGENT, QA, InProcess, RunningServer, recv, send


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_suggest_returns_the_websocket_result(client: InProcess) -> None:
    server = client
    response = client.post("/api/suggest", json={"text": "能便宜点吗"}, headers=auth(AGENT))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"scripts", "policies", "risks", "index_version", "latency_ms", "logged"}
    assert body["logged"] is None  # no ids: not an ingest
    assert body["scripts"][0]["id"] == "bargain"
    assert body["index_version"] == server.services.engine.version
    assert server.services.writer.flush()
    assert server.services.store.count_messages() == 0  # no ids: a lookup, not an ingest


async def test_http_ingest_fans_out_and_logs(server: RunningServer) -> None:
    async with server.ws() as agent, httpx.AsyncClient(base_url=server.base,
                                                       headers=auth(AGENT)) as http:
        await recv(agent, "welcome")
        await send(agent, type="subscribe", conversation_ids=["tb-1"])
        await recv(agent, "subscribed")
        response = await http.post("/api/suggest", json={
            "text": "都一周了还没收到货", "conversation_id": "tb-1", "message_id": "m-http",
            "attachments": [{"name": "a.jpg", "mime": "image/jpeg", "size": 100}]})
        assert response.status_code == 200, response.text
        frame = await recv(agent, "suggestions")
    assert frame["message_id"] == "m-http" and frame["conversation_id"] == "tb-1"
    assert frame["scripts"] == response.json()["scripts"]
    assert server.services.writer.flush()
    [row] = server.services.store.conversation("tb-1")
    assert row.attachments == [{"name": "a.jpg", "mime": "image/jpeg", "size": 100}]


def test_feedback_over_http(client: InProcess) -> None:
    server, http = client, client
    ok = http.post("/api/feedback", json={"message_id": "m1", "suggestion_id": "bargain",
                                          "action": "accepted"}, headers=auth(AGENT))
    bad = http.post("/api/feedback", json={"message_id": "m1", "suggestion_id": "x",
                                           "action": "liked"}, headers=auth(AGENT))
    assert ok.status_code == 200 and ok.json()["type"] == "ack"
    assert bad.status_code == 422 and "action" in bad.text
    assert server.services.writer.flush()
    assert [f.action for f in server.services.store.feedback_for(["m1"])] == ["accepted"]


def test_health_index_and_openapi(client: InProcess) -> None:
    server, http = client, client
    health = http.get("/healthz")
    index = http.get("/api/index", headers=auth(QA))
    docs = http.get("/docs")
    schema = http.get("/openapi.json")
    assert health.json()["status"] == "ok"
    assert health.json()["index_version"] == server.services.engine.version
    manifest = server.services.engine.index.manifest
    assert index.json() == {"version": manifest.version, "entries": manifest.entries,
                            "built_at": manifest.built_at, "embedder": manifest.embedder,
                            "vectors": manifest.vectors}
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert {"/api/suggest", "/api/feedback", "/api/index", "/api/admin/reindex"} <= set(
        schema.json()["paths"])


def test_bad_http_bodies_are_clear_errors(client: InProcess) -> None:
    http, headers = client, auth(AGENT)
    not_json = http.post("/api/suggest", content=b"{nope",
                         headers={"content-type": "application/json", **headers})
    wrong_type = http.post("/api/suggest", json={"text": 5}, headers=headers)
    extra = http.post("/api/suggest", json={"text": "hi", "txt": "typo"}, headers=headers)
    too_big = http.post("/api/suggest", json={"text": "货" * 2000}, headers=headers)
    too_many = http.post("/api/suggest", headers=headers, json={
        "text": "看图", "attachments": [{"name": f"{i}.jpg"} for i in range(11)]})
    assert not_json.status_code == 422
    assert wrong_type.status_code == 422 and "text" in wrong_type.text
    assert extra.status_code == 422 and "txt" in extra.text
    assert too_big.status_code == 413 and too_big.json()["code"] == "too_large"
    assert too_many.status_code == 422 and too_many.json()["code"] == "too_many_attachments"


def test_admin_stats_need_admin(client: InProcess) -> None:
    assert client.get("/api/admin/stats", headers=auth(AGENT)).status_code == 403
    stats = client.get("/api/admin/stats", headers=auth(ADMIN))
    assert stats.status_code == 200 and stats.json()["log_dropped"] == 0
