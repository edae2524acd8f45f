import pytest

from assist.core.engine import Engine, Message
from assist.core.lexical import lexical_overlap


def top_id(engine: Engine, text: str) -> str | None:
    scripts = engine.suggest(text).scripts
    return scripts[0].id if scripts else None


@pytest.mark.parametrize("text, expected", [
    ("都一个星期了还没收到货", "logistics-delay"),
    ("我的快递咋还没到啊", "logistics-delay"),
    ("鞋子偏大吗，平时穿41", "size-advice"),
    ("能不能再便宜点", "bargain"),
])
def test_paraphrases_find_their_entry(small_engine: Engine, text: str, expected: str) -> None:
    assert top_id(small_engine, text) == expected


def test_result_carries_the_matched_example_and_scores(small_engine: Engine) -> None:
    [script, *_] = small_engine.suggest("快递怎么还不到").scripts
    assert script.matched == "快递怎么还不到"
    assert 0.9 <= script.score <= 1.0
    assert script.category == "售后/物流" and script.title == "物流延迟"


@pytest.mark.parametrize("text", ["好的谢谢", "嗯嗯", "没了，谢谢亲", "好的"])
def test_acknowledgements_get_only_the_courtesy_entry(small_engine: Engine, text: str) -> None:
    result = small_engine.suggest(text)
    assert [s.id for s in result.scripts] == ["courtesy-bye"]
    assert result.policies == []


@pytest.mark.parametrize("text", [
    "今天天气怎么样", "你是机器人吗", "https://item.taobao.com/item.htm?id=6655443322",
    "4402 1234 5566 7788", "😂😂😂", "JD0012345678901",
])
def test_off_topic_returns_nothing(small_engine: Engine, text: str) -> None:
    result = small_engine.suggest(text)
    assert result.scripts == [] and result.policies == []


def test_policies_come_separately(small_engine: Engine) -> None:
    result = small_engine.suggest("几点之前下单今天能发出")
    assert [p.id for p in result.policies] == ["ship-cutoff"]
    assert "16:00" in result.policies[0].text
    assert all(s.id != "ship-cutoff" for s in result.scripts)


def test_suggest_many_matches_single_calls(small_engine: Engine) -> None:
    texts = ["快递怎么还不到", "好的", "今天天气怎么样", "能便宜点吗", ""]
    batch = small_engine.suggest_many([Message(t) for t in texts])
    assert [r.model_dump() for r in batch] == [small_engine.suggest(t).model_dump() for t in texts]


def test_risk_entries_are_not_suggested_as_scripts(small_engine: Engine) -> None:
    retrieval = small_engine.retriever.suggest("我拍不下来，你帮我看看这个链接")
    assert [h.entry.id for h in retrieval.risk_matches] == ["risk-phishing"]
    assert all(h.entry.kind == "script" for h in retrieval.scripts)


def test_lexical_overlap_bounds() -> None:
    assert lexical_overlap("快递到哪了", "快递到哪了") == 1.0
    assert lexical_overlap("快递", "尺码") == 0.0
    assert lexical_overlap("", "尺码") == 0.0
