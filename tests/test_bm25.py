"""The whole-entry lexical channel: character-bigram BM25 and when retrieval uses it."""

from __future__ import annotations

from assist.core.bm25 import BM25
from assist.core.knowledge import Entry, thin_share
from assist.core.lexical import bigrams
from assist.core.retrieval import entry_document


def test_bigrams_ignore_whitespace() -> None:
    assert bigrams("三包 换新") == ["三包", "包换", "换新"]


def test_the_entry_sharing_the_rare_words_scores_highest() -> None:
    index = BM25(["国行 全国联保 三包 换新", "发货 四十八小时 内发货", "发票 电子发票 抬头 税号"])
    scores = index.scores("坏了能换新吗 三包吗")
    assert scores.argmax() == 0 and scores[0] == 1.0 and scores[1] == 0.0
    assert index.scores("").tolist() == [0.0, 0.0, 0.0]  # nothing shared: all zero, no error


def test_the_channel_weighs_in_only_as_far_as_scripts_are_thin() -> None:
    def script(n: int) -> Entry:
        return Entry(id=f"s{n}", kind="script", category="售后/保修", reply="亲,保修一年~",
                     questions=[f"问题{i}" for i in range(n)])

    assert thin_share([script(0), script(2)]) == 1.0
    assert thin_share([script(0), script(10)]) == 0.5
    assert thin_share([script(12)]) == 0.0 and thin_share([]) == 0.0
    assert "保修" in entry_document(script(0)) and "售后" in entry_document(script(0))
