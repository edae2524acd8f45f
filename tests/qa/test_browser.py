"""The /qa page in headless Chromium: filters narrow the log, charts draw, a label is saved,
and customer text stays text. Screenshots go to test-artifacts/qa/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assist.core.engine import Engine
from assist.logstore import open_log_store, review
from assist.logstore.base import MessageRecord
from assist.qa.seed import seed_store
from tests.qa.conftest import FIXTURES, fixture_entries, recent_seed
from tests.service.conftest import QA, RunningServer, service_settings, start_server, stop_server

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts" / "qa"
HOSTILE = '<img src=x onerror="window.__xss=1">买家说:<b>急</b>'


@pytest.fixture(scope="module")
def qa_server(tmp_path_factory: pytest.TempPathFactory, small_engine: Engine,
              small_index: Path) -> Iterator[RunningServer]:
    tmp = tmp_path_factory.mktemp("qa-browser")
    store = open_log_store("", tmp / "data")
    config = recent_seed(600)
    seed_store(store, fixture_entries(), config)
    store.write_messages([MessageRecord(ts=config.start + 3600, conversation_id="conv-xss",
                                        message_id="m-xss", agent="agent-x", text=HOSTILE)])
    store.close()
    running = start_server(service_settings(tmp, knowledge=FIXTURES / "knowledge", index=small_index),
                           small_engine)
    yield running
    stop_server(running)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    # A refused token is an expected 401; anything else logged as an error fails the test.
    opened.on("console", lambda msg: msg.type == "error" and "status of 401" not in msg.text
              and errors.append(msg.text))
    yield opened
    context.close()
    assert not errors, errors  # script errors and CSP violations both land here


def rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all("#log-rows tr", "trs => trs.map(tr => ({id: tr.dataset.id, "
                                     "risks: tr.dataset.risks, actions: tr.dataset.actions}))")


def apply(page: Any) -> None:
    page.click("#apply")
    page.wait_for_function("() => /已显示|没有符合/.test(document.getElementById('log-status').textContent)")


def test_filters_chart_and_label(page: Any, qa_server: RunningServer) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{qa_server.base}/qa?token={QA}")
    page.wait_for_selector("#log-rows tr")
    assert "token" not in page.url  # taken into sessionStorage, out of the address bar
    assert len(rows(page)) == 50 and page.is_visible("#more")
    page.click("#more")
    page.wait_for_function("() => document.querySelectorAll('#log-rows tr').length === 100")

    page.select_option("#f-risk", "phishing_link")
    apply(page)
    risky = rows(page)
    assert risky and all("phishing_link" in r["risks"].split() for r in risky)
    page.select_option("#f-risk", "")
    page.select_option("#f-action", "dismissed")
    apply(page)
    dismissed = rows(page)
    assert dismissed and all(r["actions"] == "dismissed" for r in dismissed)
    page.screenshot(path=str(ARTIFACTS / "qa-log-filtered.png"), full_page=False)

    page.select_option("#f-action", "")
    page.fill("#f-conversation", "conv-xss")
    apply(page)
    assert page.text_content("#log-rows tr td.text") == HOSTILE
    assert page.evaluate("() => window.__xss") is None
    assert page.eval_on_selector_all("#log-rows img, #log-rows b", "n => n.length") == 0

    page.click("#log-rows tr .label-button")
    page.check('#label-form input[value="wrong_entry"]')
    page.select_option("#label-entry", "bargain")
    page.fill("#label-note", "应该推荐议价话术")
    page.click("#label-save")
    page.wait_for_selector("#log-rows tr .label.wrong_entry")
    assert "匹配错误" in page.text_content("#log-rows tr .labels")
    pk = int(rows(page)[0]["id"])
    saved = review.labels_for(qa_server.services.store, [pk])[pk]  # type: ignore[arg-type]
    assert [(x.label, x.entry_id, x.note) for x in saved] == [("wrong_entry", "bargain", "应该推荐议价话术")]

    page.click("#tab-metrics")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-acceptance') "
                           "&& Chart.getChart('chart-risks')")
    assert page.evaluate("() => Chart.getChart('chart-acceptance').data.labels.length") >= 6
    drawn = page.evaluate("""() => {
        const c = document.getElementById('chart-acceptance');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let inked = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) inked++;
        return inked;
    }""")
    assert drawn > 500, "the acceptance chart drew nothing"
    assert "logistics-delay" in page.text_content("#never-used")
    assert page.eval_on_selector_all("#edited-table tbody tr", "n => n.length") >= 1
    page.screenshot(path=str(ARTIFACTS / "qa-metrics.png"), full_page=True)


def test_wrong_token_asks_again(page: Any, qa_server: RunningServer) -> None:
    page.goto(f"{qa_server.base}/qa?token=not-a-valid-token")
    page.wait_for_selector("#token-form:not([hidden])")
    assert "令牌无效" in page.text_content("#token-error")
    page.fill("#token-input", QA)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#log-rows tr")
