"""Admin re-index: hot swap under load with zero failures, index_updated, refused bad knowledge."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.service.conftest import ADMIN, NO_TOKEN_LIMITS, RunningServer, message, recv, send

NEW_ENTRY = """
- id: invoice
  kind: script
  category: 售后/发票
  title: 开发票
  questions: [能开发票吗, 发票怎么开, 可以开专票吗]
  reply: 亲,可以开发票的,确认收货后在订单页申请即可~
"""


async def _client_loop(server: RunningServer, n: int, stop: asyncio.Event, out: list[dict]) -> None:
    """Send messages back to back until told to stop; every answer must be suggestions + ack."""
    texts = ["能便宜点吗", "快递怎么还不到", "这款鞋尺码标准吗", "好的谢谢", "今天能发货吗"]
    async with server.ws() as ws:
        await recv(ws, "welcome")
        await send(ws, type="subscribe", conversation_ids=[f"load-{n}"])
        await recv(ws, "subscribed")
        i = 0
        while not stop.is_set():
            await send(ws, **message(f"load-{n}", f"{n}-{i}", texts[i % len(texts)] + "?" * (i % 7)))
            while True:
                frame = await recv(ws)
                out.append(frame)
                if frame["type"] in ("ack", "error"):
                    break
            i += 1


async def test_hot_reindex_under_load(make_server, knowledge_dir: Path, tmp_path: Path) -> None:
    server = make_server(knowledge=knowledge_dir, index=tmp_path / "index", rate_per_s=1000,
                         rate_burst=1000, **NO_TOKEN_LIMITS)
    old = server.services.engine.version
    (knowledge_dir / "presale" / "invoice.yaml").write_text(NEW_ENTRY, encoding="utf-8")
    frames: list[dict] = []
    stop = asyncio.Event()
    async with server.ws() as watcher:
        await recv(watcher, "welcome")
        clients = [asyncio.create_task(_client_loop(server, n, stop, frames)) for n in range(8)]
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(base_url=server.base, timeout=120,
                                     headers={"Authorization": f"Bearer {ADMIN}"}) as http:
            response = await http.post("/api/admin/reindex")
            await asyncio.sleep(0.3)  # keep the load on after the swap
            stop.set()
            await asyncio.gather(*clients)  # a dropped connection would raise here
            suggest = await http.post("/api/suggest", json={"text": "能开发票吗"})
        event = await recv(watcher, "index_updated")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] and result["index_version"] != old and result["entries"] == 7
    assert event == {"type": "index_updated", "index_version": result["index_version"], "entries": 7}
    assert server.services.engine.version == result["index_version"]
    assert not [f for f in frames if f["type"] == "error"]
    versions = [f["index_version"] for f in frames if f["type"] == "suggestions"]
    acks = [f for f in frames if f["type"] == "ack"]
    assert len(versions) == len(acks) > 20
    assert set(versions) == {old, result["index_version"]}  # served on both sides of the swap
    assert suggest.json()["scripts"][0]["id"] == "invoice"


async def test_bad_knowledge_is_refused_and_old_index_serves(make_server, knowledge_dir: Path,
                                                             tmp_path: Path) -> None:
    server = make_server(knowledge=knowledge_dir, index=tmp_path / "index")
    old = server.services.engine.version
    (knowledge_dir / "presale" / "broken.yaml").write_text(
        "- id: broken\n  kind: script\n  category: 售前/x\n  replly: typo\n", encoding="utf-8")
    async with httpx.AsyncClient(base_url=server.base, timeout=120,
                                 headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        response = await http.post("/api/admin/reindex")
        after = await http.post("/api/suggest", json={"text": "能便宜点吗"})
    assert response.status_code == 422
    body = response.json()
    assert not body["ok"] and body["errors"]
    assert any("broken.yaml" in e and "replly" in e for e in body["errors"]), body["errors"]
    assert server.services.engine.version == old
    assert after.status_code == 200 and after.json()["index_version"] == old
