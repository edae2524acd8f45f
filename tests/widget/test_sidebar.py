"""The sidebar and the demo console in real headless Chromium against a real running service."""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from assist.core import vocabulary
from tests.service.conftest import ADMIN, AGENT, RunningServer
from tests.widget.conftest import (
    WIDGET_DIR,
    Servers,
    feedback,
    open_console,
    publish,
    screenshot,
    send_as_buyer,
    wait_message,
    wait_state,
)

pytestmark = pytest.mark.browser

SIZE_QUESTION = "这款鞋尺码标准吗"
SIZE_REPLY = "亲,我们家是标准码,按平时的码数拍就好~"
XSS = ('<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>'
       '<a href="javascript:window.__xss=3">点我</a> javascript:alert(document.cookie)')


def shadow_count(page: Any, selector: str) -> int:
    return page.evaluate("s => document.querySelector('assist-sidebar').shadowRoot"
                         ".querySelectorAll(s).length", selector)


def no_injected_markup(page: Any) -> None:
    assert page.evaluate("() => window.__xss") is None
    for tag in ("img", "script", "a", "iframe"):
        assert shadow_count(page, tag) == 0, f"<{tag}> inside the sidebar"
    assert page.locator("#chat img, #chat script, #chat a").count() == 0


def test_buyer_message_shows_cards_insert_and_feedback(page: Any, server: RunningServer,
                                                       wait_until: Any) -> None:
    sidebar = open_console(page, server)
    expect_text(sidebar.locator(".status"), "已连接")
    screenshot(page, "01-connected-waiting")
    message_id = send_as_buyer(page, SIZE_QUESTION)

    cards = sidebar.locator("li.card[data-id]")
    assert cards.count() >= 1
    first = cards.first
    expect_text(first.locator(".category"), "售前/尺码")
    expect_text(first.locator(".reply"), SIZE_REPLY)
    assert "%" in first.locator(".confidence").inner_text()
    expect_text(sidebar.locator(".quote"), SIZE_QUESTION)
    expect_text(sidebar.locator(".meta"), "耗时")
    expect_text(sidebar.locator(".meta"), "索引")
    live = page.evaluate("() => document.querySelector('assist-sidebar').shadowRoot"
                         ".querySelector('[aria-live=polite].visually-hidden').textContent")
    assert live.startswith("收到")
    assert first.locator("button.insert").get_attribute("aria-label").startswith("插入第 1 条回复")
    screenshot(page, "02-suggestions")

    first.locator("button.insert").click()
    assert page.input_value("#reply") == SIZE_REPLY
    expect_text(first.locator("button.insert"), "已插入")
    rows = wait_until(lambda: feedback(server, message_id))
    assert [(r.action, r.suggestion_id) for r in rows] == [("accepted", "size-advice")]
    screenshot(page, "03-inserted")

    # The agent edits before sending: the final text is reported as `edited`.
    page.fill("#reply", SIZE_REPLY + "您平时穿多大码呢?")
    page.click("#send-reply")
    rows = wait_until(lambda: [r for r in feedback(server, message_id) if r.action == "edited"])
    assert rows[0].final_text == SIZE_REPLY + "您平时穿多大码呢?"
    assert rows[0].suggestion_id == "size-advice"
    assert page.locator("#chat .bubble.agent").count() == 1


def test_dismiss_sends_dismissed_feedback(page: Any, server: RunningServer, wait_until: Any) -> None:
    sidebar = open_console(page, server)
    message_id = send_as_buyer(page, "能便宜点吗")
    card = sidebar.locator("li.card[data-id]").first
    suggestion_id = card.get_attribute("data-id")
    card.locator("button.dismiss").click()
    expect_text(card.locator("button.dismiss"), "已标记不合适")
    rows = wait_until(lambda: feedback(server, message_id))
    assert [(r.action, r.suggestion_id) for r in rows] == [("dismissed", suggestion_id)]


def test_http_ingest_reaches_the_sidebar(page: Any, server: RunningServer) -> None:
    """A message from another client (an ingest bridge over HTTP) shows in the subscribed sidebar."""
    sidebar = open_console(page, server, conversation="bridge-7")
    ingest(server, "bridge-7", "b-1", "快递怎么还不到")
    wait_message(page, "b-1")
    expect_text(sidebar.locator("li.card[data-id]").first.locator(".category"), "售后/物流")
    # Another conversation's messages do not show here.
    ingest(server, "other", "o-1", "能便宜点吗")
    send_as_buyer(page, "在吗", mode="http")
    shown = page.evaluate("() => document.querySelector('assist-sidebar').suggestions.conversation_id")
    assert shown == "bridge-7"


def test_alt_shortcuts_insert(page: Any, server: RunningServer) -> None:
    sidebar = open_console(page, server)
    send_as_buyer(page, SIZE_QUESTION)
    page.focus("#reply")
    page.keyboard.press("Alt+1")
    assert page.input_value("#reply") == SIZE_REPLY
    assert sidebar.locator("li.card[data-n='1'] button.insert").inner_text().endswith("已插入")
    # Alt+3 with fewer than three cards does nothing (and does not type into the box).
    if sidebar.locator("li.card[data-id]").count() < 3:
        page.keyboard.press("Alt+3")
        assert page.input_value("#reply") == SIZE_REPLY


def test_keyboard_only_insert(page: Any, server: RunningServer) -> None:
    """Tab reaches the insert button (focus ring visible) and Enter inserts."""
    sidebar = open_console(page, server)
    send_as_buyer(page, SIZE_QUESTION)
    button = sidebar.locator("li.card[data-n='1'] button.insert")
    for _ in range(40):
        page.keyboard.press("Tab")
        if button.evaluate("b => b.getRootNode().activeElement === b"):
            break
    else:
        pytest.fail("Tab never reached the first insert button")
    outline = button.evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline == "solid"
    screenshot(page, "04-keyboard-focus")
    page.keyboard.press("Enter")
    assert page.input_value("#reply") == SIZE_REPLY


def test_xss_payload_stays_inert(page: Any, server: RunningServer) -> None:
    sidebar = open_console(page, server)
    send_as_buyer(page, XSS, file_name='<img src=x onerror="alert(2)">.jpg')
    expect_text(sidebar.locator(".quote"), '<img src=x onerror="window.__xss=1;alert(1)">')
    expect_text(page.locator("#chat .bubble.buyer").last, "<script>window.__xss=2</script>")
    page.wait_for_timeout(300)
    no_injected_markup(page)
    screenshot(page, "05-xss-inert")


def test_server_strings_render_as_text(page: Any, server: RunningServer) -> None:
    """Every field of a suggestions frame is untrusted: risks of each severity, scripts, policies."""
    sidebar = open_console(page, server, conversation="render-1")
    page.evaluate("() => { document.querySelector('assist-sidebar').context = {buyer_name: '<b>小王</b>'}; }")
    evil = "<img src=x onerror=alert(3)>"
    frame = {
        "type": "suggestions", "message_id": "r-1", "conversation_id": "render-1", "index_version": "v-test",
        "latency_ms": 3.2, "text": f"你好 {evil} 看看这个 http://evil.example/pay?x=1",
        "scripts": [{"id": "s1", "category": f"售前/{evil}", "title": evil,
                     "reply": f"亲 {{buyer_name}}，{evil}", "score": 0.9, "matched": evil}],
        "policies": [{"id": "p1", "category": "规则", "title": evil,
                      "text": "<script>window.__xss=4</script>", "score": 0.7}],
        "risks": [
            {"type": "off_platform_contact", "severity": "warn", "reason": f"引导加微信 {evil}",
             "evidence": "vx: abc", "reply": "亲，平台内沟通就好~", "source": "rule", "rule": "wechat"},
            {"type": "phishing_link", "severity": "block", "reason": "以拍不下为由发链接，可能是钓鱼网站。",
             "evidence": "javascript:window.__xss=5", "span": [10, 30], "reply": "亲，链接这边不方便打开哦~",
             "source": "rule", "rule": "url"},
            {"type": "fake_review", "severity": "info", "reason": "提到好评返现", "evidence": "好评返现",
             "reply": "", "source": "semantic", "rule": "risk-review"},
        ],
    }
    publish(server, "render-1", frame)
    wait_message(page, "r-1")
    risks = sidebar.locator(".risk")
    assert [risks.nth(i).get_attribute("data-severity") for i in range(3)] == ["block", "warn", "info"]
    assert risks.first.get_attribute("role") == "alert"
    red = risks.first.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert red == "rgb(198, 40, 40)"
    expect_text(risks.first.locator("code"), "javascript:window.__xss=5")
    expect_text(risks.nth(1).locator(".reason"), evil)
    expect_text(sidebar.locator("li.card .reply"), "亲 <b>小王</b>，" + evil)
    sidebar.locator("details.policies summary").click()
    expect_text(sidebar.locator(".policy p"), "<script>window.__xss=4</script>")
    no_injected_markup(page)
    screenshot(page, "06-risk-severities")
    # The safe reply of a risk is insertable too.
    risks.first.locator("button.insert").click()
    assert page.input_value("#reply") == "亲，链接这边不方便打开哦~"


def test_several_risks_keep_the_replies_in_view(page: Any, server: RunningServer) -> None:
    """The most severe banner in full, the others folded: on a short screen the cards stay visible."""
    page.set_viewport_size({"width": 1200, "height": 640})
    sidebar = open_console(page, server, conversation="fold-1")
    risk = {"source": "rule", "span": None}
    frame = {
        "type": "suggestions", "message_id": "f-1", "conversation_id": "fold-1", "index_version": "v-test",
        "latency_ms": 2.0, "text": "你帮我看看这个链接 然后加我vx 转账给你",
        "scripts": [{"id": f"s{i}", "category": "售前/测试", "title": f"回复{i}",
                     "reply": f"亲，第{i}条回复~", "score": 0.8, "matched": "测试"} for i in (1, 2, 3)],
        "policies": [],
        "risks": [
            {**risk, "type": "off_platform_payment", "severity": "block", "rule": "transfer",
             "reason": "要求平台外转账付款。" * 3, "evidence": "转账给你",
             "reply": "亲，请在平台内下单付款哦~"},
            {**risk, "type": "phishing_link", "severity": "block", "rule": "url",
             "reason": "以拍不下为由发链接，可能是钓鱼网站。", "evidence": "http://evil.example/pay",
             "reply": "亲，链接这边不方便打开哦~"},
            {**risk, "type": "off_platform_contact", "severity": "warn", "rule": "wechat",
             "reason": "引导加微信。", "evidence": "vx", "reply": "亲，平台内沟通就好~"},
        ],
    }
    publish(server, "fold-1", frame)
    wait_message(page, "f-1")
    banners = sidebar.locator(".risk")
    assert banners.count() == 3
    assert banners.first.evaluate("e => e.tagName") == "DIV"
    assert banners.nth(1).evaluate("e => e.tagName === 'DETAILS' && !e.open")
    expect_text(banners.nth(1).locator(".reason"), "以拍不下为由发链接，可能是钓鱼网站。")
    assert not banners.nth(1).locator("button.insert").is_visible()
    first_card = sidebar.locator("li.card[data-id]").first.bounding_box()
    assert first_card["y"] + first_card["height"] <= 640, "the first suggested reply is below the fold"
    screenshot(page, "07-several-risks-folded")
    # Opened, a folded banner works like the first one and stays open across re-renders.
    banners.nth(1).locator("summary").click()
    banners.nth(1).locator("button.insert").click()
    assert page.input_value("#reply") == "亲，链接这边不方便打开哦~"
    expect_text(banners.nth(1).locator("button.insert"), "✓ 已插入")
    assert banners.nth(1).evaluate("e => e.open")


@pytest.mark.skipif(importlib.util.find_spec("assist.core.risk") is None,
                    reason="assist.core.risk (the risk detector, issue 4) is not in the tree yet")
def test_phishing_link_shows_red_banner(page: Any, server: RunningServer) -> None:
    """The real detector, end to end: a phishing link gets a red (block) banner, never a link."""
    sidebar = open_console(page, server)
    send_as_buyer(page, "我拍不下来你帮我看看这个链接 http://taobao-refund.vip/login?id=8848")
    banner = sidebar.locator(".risk.block").first
    expect_text(banner.locator(".risk-type"), "钓鱼链接")
    assert banner.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(198, 40, 40)"
    assert banner.locator(".reason").inner_text().strip()
    assert shadow_count(page, "a") == 0
    screenshot(page, "07-phishing-banner")


def test_a_link_only_warned_about_is_named_an_outside_link(page: Any, server: RunningServer) -> None:
    """Unknown is not phishing: a warn-only link outside the platform reads 站外链接, not 钓鱼链接."""
    sidebar = open_console(page, server)
    send_as_buyer(page, "这个是我在别家看到的 https://www.zhihu.com/question/12345")
    banner = sidebar.locator(".risk.warn").first
    expect_text(banner.locator(".risk-type"), vocabulary.RISK_TYPE_WARN_LABELS["phishing_link"])
    assert shadow_count(page, "a") == 0


def test_reconnects_after_server_restart(page: Any, servers: Servers) -> None:
    first = servers.start()
    port = int(first.base.rsplit(":", 1)[1])
    sidebar = open_console(page, first, conversation="restart-1")
    servers.stop(first)
    wait_state(page, "reconnecting")
    expect_text(sidebar.locator(".status"), "重连中")
    screenshot(page, "08-reconnecting")
    second = servers.start(port=port)
    wait_state(page, "open", timeout=30_000)
    expect_text(sidebar.locator(".status"), "已连接")
    # Re-subscribed: a message ingested by another client reaches the sidebar with no reload.
    ingest(second, "restart-1", "after", SIZE_QUESTION)
    wait_message(page, "after")
    assert sidebar.locator("li.card[data-id]").count() >= 1


def test_reindex_updates_index_version_live(page: Any, servers: Servers, knowledge_dir: Path,
                                            tmp_path: Path) -> None:
    running = servers.start(knowledge=knowledge_dir, index=tmp_path / "live-index")
    sidebar = open_console(page, running, conversation="reindex-1")
    before = page.evaluate("() => document.querySelector('assist-sidebar').indexVersion")
    (knowledge_dir / "presale" / "extra.yaml").write_text(
        "- id: gift-wrap\n  kind: script\n  category: 售前/包装\n  title: 礼品包装\n"
        "  questions: [可以包装成礼物吗, 能送礼盒吗]\n  reply: 亲,可以免费礼盒包装哦~\n", encoding="utf-8")
    response = httpx.post(f"{running.base}/api/admin/reindex", headers={"Authorization": f"Bearer {ADMIN}"},
                          timeout=120)
    assert response.status_code == 200, response.text
    after = response.json()["index_version"]
    assert after != before
    page.wait_for_function("v => document.querySelector('assist-sidebar').indexVersion === v", arg=after)
    expect_text(sidebar.locator(".meta"), after[:14])
    assert page.evaluate("() => document.querySelector('assist-sidebar').state") == "open"
    send_as_buyer(page, "可以包装成礼物吗")
    expect_text(sidebar.locator("li.card[data-id]").first.locator(".reply"), "礼盒")


@pytest.mark.parametrize("width", [320, 420])
def test_embedded_with_one_script_tag_fits_width(page: Any, servers: Servers, tmp_path: Path,
                                                 width: int) -> None:
    """A bare host page: one module script, the element with attributes, target= for insertion."""
    # The host page is served by the service itself (a copy of the widget folder plus the page):
    # Chromium refuses loopback websockets from pages it cannot place on the local network.
    folder = tmp_path / "widget-copy"
    shutil.copytree(WIDGET_DIR, folder)
    (folder / "host.html").write_text(
        '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">'
        '<body style="margin:0;display:flex"><textarea id="box" style="flex:1"></textarea>'
        '<script type="module" src="/widget/assist-sidebar.js"></script>'
        f'<assist-sidebar token="{AGENT}" conversation="embed-1" buyer-name="小王" target="#box" '
        f'style="width:{width}px;flex:none;height:100vh"></assist-sidebar></body>', encoding="utf-8")
    server = servers.start(widget_dir=folder)
    page.set_viewport_size({"width": width + 200, "height": 900})
    page.goto(f"{server.base}/widget/host.html")
    wait_state(page, "open")
    sidebar = page.locator("assist-sidebar")
    empty = sidebar.locator("section.cards").bounding_box()
    ingest(server, "embed-1", "e-1", f"{SIZE_QUESTION} {'x' * 300}")
    wait_message(page, "e-1")
    assert sidebar.locator("section.cards").bounding_box() == empty  # no layout jump
    assert_no_overflow(sidebar)
    # Risk banners (a long phishing URL as evidence) must wrap too.
    ingest(server, "embed-1", "e-2", f"我拍不下你帮我看看 http://taobao-{'a' * 120}.vip/{'b' * 120}")
    wait_message(page, "e-2")
    assert_no_overflow(sidebar)
    screenshot(page, f"09-embedded-{width}px-risks")
    ingest(server, "embed-1", "e-3", SIZE_QUESTION)
    wait_message(page, "e-3")
    screenshot(page, f"09-embedded-{width}px")
    page.focus("#box")
    page.keyboard.press("Alt+1")
    assert page.input_value("#box") == SIZE_REPLY


def ingest(server: RunningServer, conversation_id: str, message_id: str, text: str) -> None:
    """A buyer message from another client: the HTTP ingest of a chat-platform bridge."""
    response = httpx.post(f"{server.base}/api/suggest", headers={"Authorization": f"Bearer {AGENT}"},
                          json={"text": text, "conversation_id": conversation_id, "message_id": message_id})
    assert response.status_code == 200, response.text


def assert_no_overflow(sidebar: Any) -> None:
    overflow = sidebar.evaluate("""el => {
        const panel = el.shadowRoot.querySelector('.panel');
        const limit = panel.getBoundingClientRect().right + 0.5;
        const wide = [...el.shadowRoot.querySelectorAll('*')]
            .filter(e => e.getBoundingClientRect().right > limit).map(e => e.className || e.tagName);
        return {scroll: panel.scrollWidth, client: panel.clientWidth, wide};
    }""")
    assert overflow["scroll"] <= overflow["client"], overflow
    assert overflow["wide"] == [], overflow


def test_fill_template(page: Any, server: RunningServer) -> None:
    script = httpx.get(f"{server.base}/widget/assist-sidebar.js")
    assert script.status_code == 200
    assert script.headers["access-control-allow-origin"] == "*"  # loadable as a module cross-origin
    page.goto(f"{server.base}/agent")  # any page of the service; this one has no favicon request
    result = page.evaluate("""async () => {
        const { fillTemplate } = await import('/widget/assist-sidebar.js');
        const ctx = {buyer_name: '小王', order_id: '123', shop_name: ''};
        return fillTemplate('{buyer_name}您好,订单{order_id}已发货,{shop_name}感谢您,{unknown}', ctx);
    }""")
    assert result["text"] == "小王您好,订单123已发货,{shop_name}感谢您,{unknown}"
    assert [p.get("missing", False) for p in result["parts"] if p.get("variable")] == [False, False, True]


def test_no_innerhtml_in_widget_sources() -> None:
    """Data only ever goes through textContent: the sources never assign HTML strings."""
    for path in WIDGET_DIR.rglob("*.js"):
        source = path.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{path.relative_to(WIDGET_DIR)} uses {sink}"


def expect_text(locator: Any, text: str, timeout: float = 10.0) -> None:
    """Wait until the locator's text contains ``text`` (assertion with the actual text on failure)."""
    deadline = time.monotonic() + timeout
    actual = ""
    while time.monotonic() < deadline:
        actual = locator.first.text_content() or ""
        if text in actual:
            return
        time.sleep(0.05)
    raise AssertionError(f"expected {text!r} in {actual!r}")


def test_answers_heartbeats_and_stays_connected(page: Any, servers: Servers) -> None:
    """The server drops a connection silent for 3 heartbeats; the widget's pongs keep it open."""
    running = servers.start(heartbeat_s=0.3)
    open_console(page, running)
    page.wait_for_timeout(2000)  # more than 6 heartbeat intervals
    assert page.evaluate("() => document.querySelector('assist-sidebar').state") == "open"
    assert len(running.services.hub.connections) == 1
    send_as_buyer(page, SIZE_QUESTION)


def test_clipboard_fallback_when_no_one_inserts(browser: Any, server: RunningServer,
                                                problems: Any) -> None:
    """No listener, no callback, no target: the reply goes to the clipboard and the agent is told."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    problems.attach(page)
    try:
        page.goto(f"{server.base}/agent?token={AGENT}&conversation=clip-1")
        wait_state(page, "open")
        # A host without an insertion path: replace the demo's reply box handling.
        page.evaluate("""() => {
            const old = document.querySelector('assist-sidebar');
            const fresh = document.createElement('assist-sidebar');
            for (const a of ['token', 'conversation']) fresh.setAttribute(a, old.getAttribute(a));
            old.replaceWith(fresh);
        }""")
        wait_state(page, "open")
        ingest(server, "clip-1", "c-1", SIZE_QUESTION)
        wait_message(page, "c-1")
        page.locator("assist-sidebar li.card[data-n='1'] button.insert").click()
        expect_text(page.locator("assist-sidebar .toast"), "已复制到剪贴板")
        assert page.evaluate("() => navigator.clipboard.readText()") == SIZE_REPLY
        assert page.input_value("#reply") == ""
    finally:
        context.close()
    assert problems.errors == [] and problems.dialogs == []


def test_refused_token_is_shown_and_not_retried(page: Any, server: RunningServer) -> None:
    page.goto(f"{server.base}/agent?token=wrong-token-123&conversation=x")
    wait_state(page, "closed")
    sidebar = page.locator("assist-sidebar")
    expect_text(sidebar.locator(".status"), "已断开")
    expect_text(sidebar.locator(".status-detail"), "令牌无效或缺失")
    assert sidebar.locator(".status-detail button").inner_text() == "重新连接"
    page.wait_for_timeout(1500)
    assert page.evaluate("() => document.querySelector('assist-sidebar').state") == "closed"
    screenshot(page, "10-bad-token")


def test_refused_message_is_reported_in_the_console(page: Any, servers: Servers) -> None:
    running = servers.start(max_text_bytes=64)
    sidebar = open_console(page, running)
    page.fill("#buyer-text", "太长了" * 40)
    page.press("#buyer-text", "Enter")
    expect_text(page.locator("#compose-note"), "发送失败")
    expect_text(page.locator("#compose-note"), "limit is 64 bytes")
    assert page.evaluate("() => document.querySelector('assist-sidebar').state") == "open"
    send_as_buyer(page, SIZE_QUESTION)
    assert sidebar.locator("li.card[data-id]").count() >= 1
