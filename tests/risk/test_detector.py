"""The combined detector: hard negatives, merging, replies, the latency budget."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from assist.core.knowledge import Entry
from assist.core.models import RISK_TYPES, Attachment
from assist.core.retrieval import EntryHit
from assist.core.risk import RiskConfig, build_detector, detector_for_lists
from assist.core.risk.detector import REPLIES, merge

HARD_NEGATIVES = [
    "https://item.taobao.com/item.htm?id=652371881230 这个还有货吗",
    "亲,这款有黑色的吗 https://detail.tmall.com/item.htm?id=614523987712",
    "https://item.jd.com/100012043978.html 和你家的是一个型号吗",
    "【淘宝】https://m.tb.cn/h.UaBc123?tk=Xy9Z 「连衣裙」点击链接直接打开",
    "复制这段 ¥Ab12CdEfGh¥ 打开手机淘宝,这款有货吗",
    "可以用微信支付吗", "验证码收不到怎么办", "付款时验证码一直收不到",
    "订单号:3812456789012345678,什么时候发货", "快递单号YT2345678901234一直没更新",
    "顺丰 SF1400234567890 三天没动了", "收货地址改成杭州市文三路88号 电话13800138000",
    "你们能开发票吗", "东西不错,已经好评了", "帮我看看物流到哪了", "1.5米的床能用吗",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_are_not_flagged(detector, text: str) -> None:
    assert detector.rule_risks(text) == []


def test_defect_photos_are_not_flagged(detector) -> None:
    photos = [Attachment(name="IMG_1.jpg", mime="image/jpeg", size=2_000_000,
                         head_b64="/9j/4AAQSkZJRgABAQ=="),
              Attachment(name="IMG_2.HEIC", mime="image/heic", size=1_500_000)]
    assert detector.rule_risks("收到就这样了,你看下照片", photos) == []


def test_seed_pretexts_are_flagged_with_spans_and_replies(detector) -> None:
    text = "想拍一款鞋子一直拍不下来,你帮我看看 http://item-taobao.com.cn-login.top/item.htm?id=1"
    risks = {r.type: r for r in detector.rule_risks(text)}
    assert risks["phishing_link"].severity == "block"
    assert risks["click_for_me"].severity == "block"
    link = risks["phishing_link"]
    assert text[link.span[0]:link.span[1]] == link.evidence
    assert "item-taobao.com.cn-login.top" in link.reason
    staff = detector.rule_risks("您好,我是淘宝小二,你们店铺出现了严重违规,请进入链接了解详情 "
                                "https://taobao-security.xyz/notice")
    assert {"impersonation", "phishing_link"} <= {r.type for r in staff}


def test_every_type_has_a_chinese_reply() -> None:
    assert set(REPLIES) == set(RISK_TYPES)
    assert all(any("\u4e00" <= c <= "\u9fff" for c in reply) for reply in REPLIES.values())


def test_merge_keeps_the_most_severe_per_type(detector) -> None:
    risks = detector.rule_risks("http://quiet-shop.com/abc 和 http://taoba0.com/x 你看看")
    links = [r for r in risks if r.type == "phishing_link"]
    assert len(links) == 1 and links[0].severity == "block" and "taoba0.com" in links[0].reason
    assert [r.severity for r in risks] == sorted(
        [r.severity for r in risks], key=["block", "warn", "info"].index)
    assert merge(risks + risks) == risks


def _hit(risk_type: str, severity: str, score: float) -> EntryHit:
    entry = Entry(id=f"r-{risk_type}", kind="risk", category="安全/测试", questions=["示例"],
                  reply="安全回复", risk_type=risk_type, severity=severity, reason="测试原因")
    return EntryHit(entry, score, score, score, "示例")


def test_semantic_hits_become_risks(detector) -> None:
    (risk,) = detector.detect("有个事想请你帮忙", [], [_hit("verification_code", "block", 0.7)])
    assert (risk.source, risk.rule, risk.severity, risk.reply) == (
        "semantic", "r-verification_code", "block", "安全回复")


def test_weak_or_contradicted_semantic_hits_are_dropped(detector) -> None:
    assert detector.detect("随便问问", [], [_hit("fake_review", "warn", 0.4)]) == []
    assert detector.detect("验证码收不到", [], [_hit("verification_code", "block", 0.9)]) == []
    genuine = "https://item.taobao.com/item.htm?id=1 你看看"
    assert detector.detect(genuine, [], [_hit("phishing_link", "block", 0.9)]) == []
    paid = [_hit("off_platform_payment", "warn", 0.8)]
    assert detector.detect("我已经付款了,麻烦尽快发货", [], paid) == []
    assert [r.source for r in detector.detect("已经拍下了,差价私下转你", [], paid)] == ["rule"]


def test_rule_beats_semantic_of_equal_severity(detector) -> None:
    risks = detector.detect("把验证码发我", [], [_hit("verification_code", "block", 0.9)])
    assert [(r.type, r.source) for r in risks] == [("verification_code", "rule")]


def test_bad_input_does_not_crash(detector) -> None:
    for text in ["", " ", "\u202e", "http://", "https://[::1]/x", "a" * 5000, "http://.../",
                 "www." + "a." * 200 + "com", "\x00\x01", "🙂" * 100]:
        detector.rule_risks(text)
    detector.rule_risks("x", [Attachment(name=".", head_b64="@@@"), Attachment(name="")])


def test_rule_stage_is_fast(detector) -> None:
    texts = HARD_NEGATIVES + ["我是淘宝小二,你店铺违规 http://taobao-x.top/login", "加我微信 abc12345"]
    for text in texts:
        detector.rule_risks(text)
    samples = []
    for text in texts * 5:
        start = time.perf_counter()
        detector.rule_risks(text)
        samples.append(time.perf_counter() - start)
    assert statistics.median(samples) < 0.001


@pytest.mark.parametrize("text, severity", [
    ("你发的链接打不开", None),  # the shop's own link: nothing to fear
    ("链接点不开,是不是失效了", None),
    ("拍不下来,链接发你了你点进去看看", "block"),  # asks the agent to open it: the link is next
    ("我扫不了这个码,你扫一下", "block"),
    ("这个宝贝我在别处看到的", "info"),  # resemblance alone, no link yet: a hint
])
def test_semantic_phishing_without_a_link(detector, text: str, severity: str | None) -> None:
    risks = [r for r in detector.detect(text, [], [_hit("phishing_link", "block", 0.8)])
             if r.type == "phishing_link"]
    assert [r.severity for r in risks] == ([severity] if severity else [])
    if severity == "info":
        assert "还没有链接" in risks[0].reason


def test_semantic_phishing_with_a_risky_link_keeps_its_severity(detector) -> None:
    risks = detector.detect("看下这个 http://shop-x.example.top/login", [],
                            [_hit("phishing_link", "block", 0.8)])
    assert [(r.type, r.severity) for r in risks] == [("phishing_link", "block")]


def test_semantic_match_cannot_block_a_link_the_rules_only_warn_about(detector) -> None:
    """"退款链接 <popular site>": the pretext resembles a scam, the link has no signal."""
    risks = detector.detect("退款链接 https://www.uniqlo.com", [],
                            [_hit("phishing_link", "block", 0.8), _hit("click_for_me", "block", 0.8)])
    assert {r.severity for r in risks} == {"warn"}
    assert {r.type for r in risks} == {"phishing_link", "click_for_me"}


def test_risk_config_sets_the_semantic_thresholds() -> None:
    strict = detector_for_lists(None, RiskConfig(semantic_min_score=0.75,
                                                 unlinked_phishing_severity="warn"))
    assert strict.detect("有个事想请你帮忙", [], [_hit("verification_code", "block", 0.7)]) == []
    (risk,) = strict.detect("这个宝贝我在别处看到的", [], [_hit("phishing_link", "block", 0.8)])
    assert risk.severity == "warn"
    config = RiskConfig(semantic_min_score=0.6)
    assert build_detector(None, config).config is config
    assert build_detector(None).config == RiskConfig()
    with pytest.raises(ValidationError):
        RiskConfig(semantic_min_score=1.5)
    with pytest.raises(ValidationError):
        RiskConfig(min_score=0.5)  # a typo is an error, not a silent default


@pytest.mark.parametrize("name", sorted(RiskConfig.model_fields))
def test_every_risk_setting_is_documented(name: str) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "risk.md").read_text(encoding="utf-8")
    assert f"| `{name}` |" in doc


def test_a_policy_question_vetoes_a_semantic_match(detector) -> None:
    assert detector.detect("你们会问我要验证码吗", [], [_hit("verification_code", "block", 0.8)]) == []
    assert detector.detect("发票可以开公司抬头吗", [], [_hit("extortion_bait", "warn", 0.8)]) == []
    # a question that carries a demand or an offer is still one
    (risk,) = detector.detect("验证码发我一下好吗", [], [_hit("verification_code", "block", 0.8)])
    assert risk.severity == "block"
    (risk,) = detector.detect("要不要合作做评价", [], [_hit("fake_review", "warn", 0.8)])
    assert risk.type == "fake_review"
