"""The detector through the real index and engine: lists copied by the indexer, knowledge risk
entries matched semantically, risks returned by Engine.suggest and shown by the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from assist.cli import main
from assist.core.engine import Engine, Message, open_engine
from assist.core.index.build import build_index
from assist.core.index.format import LISTS_DIR
from assist.core.index.load import load_index
from assist.core.knowledge import load_knowledge
from assist.core.models import RISK_TYPES, Attachment
from assist.core.risk import RiskDetector, build_detector

REPO = Path(__file__).resolve().parents[2]


def test_engine_wires_the_detector_and_returns_rule_risks(small_engine: Engine) -> None:
    assert isinstance(small_engine.risk_detector, RiskDetector)
    result = small_engine.suggest("加我微信 abc12345 细聊")
    assert [(r.type, r.source) for r in result.risks] == [("off_platform_contact", "rule")]
    files = small_engine.suggest("订单清单", [Attachment(name="清单.xls.exe")])
    assert [r.type for r in files.risks] == ["malicious_file"]


def test_engine_returns_semantic_risks_from_knowledge(small_engine: Engine) -> None:
    result = small_engine.suggest("我拍不下来你帮我看看这个链接")
    semantic = [r for r in result.risks if r.source == "semantic"]
    assert [(r.type, r.rule) for r in semantic] == [("phishing_link", "risk-phishing")]
    assert semantic[0].reply.startswith("亲,链接这边不方便打开")


@pytest.mark.parametrize("text", ["快递怎么还不到啊", "这款鞋尺码标准吗", "验证码收不到怎么办",
                                  "https://item.taobao.com/item.htm?id=6523718812 有货吗"])
def test_engine_keeps_ordinary_messages_clean(small_engine: Engine, text: str) -> None:
    assert small_engine.suggest(text).risks == []


def test_indexer_ships_lists_with_each_version(knowledge_dir: Path, tmp_path: Path,
                                               embedder) -> None:
    lists = knowledge_dir / LISTS_DIR
    lists.mkdir()
    (lists / "block_hosts.txt").write_text("0.0.0.0 quiet-phish.com\n", encoding="utf-8")
    out = tmp_path / "index"
    first = build_index(knowledge_dir, out, embedder, progress=False)
    assert (first.path / LISTS_DIR / "block_hosts.txt").is_file()
    detector = build_detector(load_index(out, embedder.name))
    assert [r.rule for r in detector.rule_risks("https://quiet-phish.com")] == ["link.block_list"]

    (lists / "block_hosts.txt").write_text("||other-phish.com^\n", encoding="utf-8")
    second = build_index(knowledge_dir, out, embedder, progress=False)
    assert second.version != first.version and second.embedded == 0
    detector = build_detector(load_index(out, embedder.name))
    # off the block list it is an ordinary foreign link again: a warning, no longer a block
    assert [(r.rule, r.severity) for r in detector.rule_risks("https://quiet-phish.com")] == [
        ("link.offsite", "warn")]
    assert detector.rule_risks("https://other-phish.com") != []


def test_index_without_lists_falls_back_to_builtin(small_index: Path, embedder) -> None:
    index = load_index(small_index, embedder.name)
    assert not (index.path / LISTS_DIR / "block_hosts.txt").exists()
    detector = build_detector(index)
    assert detector.rule_risks("https://detail.tmall.com/item.htm?id=1") == []
    assert detector.rule_risks("http://tmall-login.top/x") != []


def _risk_entries() -> list[dict]:
    return yaml.safe_load((REPO / "knowledge/security/risks.yaml").read_text("utf-8"))


def test_shipped_risk_entries_cover_every_type() -> None:
    knowledge = load_knowledge(REPO / "knowledge")
    risks = knowledge.by_kind("risk")
    assert {e.risk_type for e in risks} == set(RISK_TYPES)
    assert all(len(e.questions) >= 5 and e.reason and e.reply for e in risks)


def test_shipped_risk_entries_match_through_the_real_index(shipped_index: Path, embedder) -> None:
    engine = open_engine(shipped_index, embedder)
    texts = [(e["risk_type"], q) for e in _risk_entries() for q in e["questions"]]
    results = engine.suggest_many([Message(q) for _, q in texts])
    missed = [(kind, q) for (kind, q), r in zip(texts, results, strict=True)
              if kind not in {risk.type for risk in r.risks}]
    assert missed == []


def test_cli_shows_risks(small_index: Path, knowledge_dir: Path) -> None:
    result = CliRunner().invoke(main, ["suggest", "我是淘宝小二,你们店铺涉嫌违规 http://tb-notice.top/x",
                                       "--index", str(small_index), "--knowledge", str(knowledge_dir)])
    assert result.exit_code == 0, result.output
    assert "风险[拦截] 钓鱼链接" in result.output and "风险[警告] 冒充平台" in result.output
    assert "建议回复" in result.output and "证据: http://tb-notice.top/x" in result.output
