"""The /qa page and /api/qa/* on a real server (uvicorn on an ephemeral port) over a seeded log."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assist.core.embedders import Embedder
from assist.core.engine import Engine, open_engine
from assist.core.index.build import build_index
from assist.logstore import open_log_store
from assist.qa.seed import seed_store
from tests.qa.conftest import FIXTURES, fixture_entries, recent_seed
from tests.service.conftest import (
    ADMIN,
    AGENT,
    QA,
    RunningServer,
    service_settings,
    start_server,
    stop_server,
)

SEEDED = 400


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def serve(tmp: Path, engine: Engine, knowledge: Path, index: Path, messages: int) -> RunningServer:
    if messages:
        store = open_log_store("", tmp / "data")
        seed_store(store, fixture_entries(), recent_seed(messages))
        store.close()
    return start_server(service_settings(tmp, knowledge=knowledge, index=index), engine)


@pytest.fixture(scope="module")
def qa_server(tmp_path_factory: pytest.TempPathFactory, small_engine: Engine,
              small_index: Path) -> Iterator[RunningServer]:
    running = serve(tmp_path_factory.mktemp("qa-server"), small_engine, FIXTURES / "knowledge",
                    small_index, SEEDED)
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def http(qa_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=qa_server.base, headers=auth(QA), timeout=30) as client:
        yield client


def test_roles(qa_server: RunningServer) -> None:
    url = qa_server.base + "/api/qa/messages"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=auth(AGENT)).status_code == 403
    assert httpx.get(url, headers=auth(QA)).status_code == 200
    assert httpx.get(url, headers=auth(ADMIN)).status_code == 200
    assert httpx.post(qa_server.base + "/api/qa/labels", headers=auth(AGENT),
                      json={"message_pk": 1, "label": "right"}).status_code == 403


def test_page_and_assets(qa_server: RunningServer) -> None:
    page = httpx.get(qa_server.base + "/qa")
    assert page.status_code == 200 and "质检审核" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self' covers it
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("qa.js", "qa.css", "chart.umd.min.js"):
        assert httpx.get(f"{qa_server.base}/qa/assets/{name}").status_code == 200
    assert httpx.get(qa_server.base + "/qa/assets/..%2Fapi.py").status_code == 404
    assert httpx.get(qa_server.base + "/qa/assets/qa.html.bak").status_code == 404


def test_keyset_pages_through_everything(http: httpx.Client) -> None:
    seen, cursor = [], None
    while True:
        params = {"since": "30d", "limit": 150, **({"before": cursor} if cursor else {})}
        page = http.get("/api/qa/messages", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == SEEDED


def test_filters_and_bad_parameters(http: httpx.Client) -> None:
    items = http.get("/api/qa/messages", params={"since": "30d", "risk_type": "phishing_link",
                                                 "limit": 200}).json()["items"]
    assert items and all("phishing_link" in i["risk_types"] for i in items)
    items = http.get("/api/qa/messages", params={"action": "dismissed", "limit": 200}).json()["items"]
    assert items and all(i["feedback"][-1]["action"] == "dismissed" for i in items)
    items = http.get("/api/qa/messages", params={"no_suggestion": "true"}).json()["items"]
    assert items and all(i["top_id"] is None for i in items)
    for params, says in [({"risk_type": "spam"}, "risk_type"), ({"since": "yesterday"}, "since"),
                         ({"before": "nope"}, "cursor"), ({"limit": 0}, "limit"),
                         ({"max_score": 3}, "max_score")]:
        response = http.get("/api/qa/messages", params=params)
        assert response.status_code == 422 and says in response.text, (params, response.text)


def test_conversation_in_order(http: httpx.Client) -> None:
    first = http.get("/api/qa/messages", params={"limit": 1}).json()["items"][0]
    rows = http.get(f"/api/qa/conversations/{first['conversation_id']}").json()
    assert first["id"] in [r["id"] for r in rows]
    assert [r["ts"] for r in rows] == sorted(r["ts"] for r in rows)


def test_labels_round_trip(http: httpx.Client) -> None:
    target = http.get("/api/qa/messages", params={"limit": 1}).json()["items"][0]
    saved = http.post("/api/qa/labels", json={"message_pk": target["id"], "label": "wrong_entry",
                                              "entry_id": "bargain", "note": "应为议价"})
    assert saved.status_code == 200, saved.text
    again = http.get("/api/qa/messages", params={"limit": 1}).json()["items"][0]
    assert [(x["label"], x["entry_id"], x["note"]) for x in again["labels"]] == [
        ("wrong_entry", "bargain", "应为议价")]
    assert http.post("/api/qa/labels", json={"message_pk": 10**9, "label": "right"}).status_code == 404
    assert http.post("/api/qa/labels", json={"message_pk": target["id"], "label": "meh"}).status_code == 422


def test_metrics_and_meta(http: httpx.Client) -> None:
    m = http.get("/api/qa/metrics", params={"since": "30d", "tz_offset_min": 480}).json()
    assert m["totals"]["messages"] == SEEDED and len(m["days"]) >= 6
    assert m["most_used"][0]["id"] == "courtesy-bye" and m["risk_totals"]
    assert [u["id"] for u in m["never_used"]] == ["logistics-delay"]
    assert http.get("/api/qa/metrics", params={"threshold": 2}).status_code == 422
    meta = http.get("/api/qa/meta").json()
    assert "售前/尺码" in meta["categories"] and "phishing_link" in meta["risk_types"]


LEARN = "这双鞋配什么袜子好看"  # no entry covers it: the fitted gate gives no suggestion
SIMILAR = "这双配什么颜色的袜子好看"


def top_ids(client: httpx.Client, text: str) -> list[str]:
    response = client.post("/api/suggest", json={"text": text}, headers=auth(AGENT))
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["scripts"]]


def test_promote_then_reindex_makes_the_next_message_match(tmp_path: Path, embedder: Embedder) -> None:
    """The learning loop end to end: a phrasing with no suggestion is promoted (by an admin) into
    size-advice; the service re-indexes; a similar buyer message now gets size-advice."""
    knowledge, index = tmp_path / "knowledge", tmp_path / "index"
    shutil.copytree(FIXTURES / "knowledge", knowledge)
    build_index(knowledge, index, embedder, progress=False)
    running = serve(tmp_path, open_engine(index, embedder), knowledge, index, 0)
    try:
        with httpx.Client(base_url=running.base, timeout=120) as client:
            assert "size-advice" not in top_ids(client, SIMILAR)
            ingest = client.post("/api/suggest", headers=auth(AGENT), json={
                "text": LEARN, "conversation_id": "c-learn", "message_id": "m-learn"})
            assert ingest.status_code == 200
            assert "size-advice" not in [s["id"] for s in ingest.json()["scripts"]]
            assert running.services.writer.flush()
            [row] = client.get("/api/qa/conversations/c-learn", headers=auth(QA)).json()
            refused = client.post("/api/qa/promote", headers=auth(QA),
                                  json={"message_pk": row["id"], "entry_id": "size-advice"})
            assert refused.status_code == 403  # qa reads and labels; changing knowledge is admin's
            done = client.post("/api/qa/promote", headers=auth(ADMIN),
                               json={"message_pk": row["id"], "entry_id": "size-advice"})
            assert done.status_code == 200, done.text
            body = done.json()
            assert body["added"] and body["reindex"]["ok"] and body["file"] == "presale/basics.yaml"
            assert f"    - {LEARN}\n" in (knowledge / "presale" / "basics.yaml").read_text(encoding="utf-8")
            assert top_ids(client, SIMILAR)[0] == "size-advice"
            bad = client.post("/api/qa/promote", headers=auth(ADMIN),
                              json={"message_pk": row["id"], "entry_id": "no-such-entry"})
            assert bad.status_code == 422 and "no entry" in bad.text
    finally:
        stop_server(running)
