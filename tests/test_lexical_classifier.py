"""The lexical entry classifier: training, storage with a thin folder's index, its use in ranking."""

from pathlib import Path

import numpy as np
import pytest

from assist.core.embedders import Embedder
from assist.core.index import lexical_classifier
from assist.core.index.build import build_index
from assist.core.index.lexical_classifier import LexicalClassifier, LexicalClassifierConfig
from assist.core.index.load import IndexNotFound, load_index
from assist.core.retrieval import Retriever

REPO = Path(__file__).parent.parent
THIN_SHOP = REPO / "tests" / "fixtures" / "thin_shop"

# Two warranty-like replies that differ in the words that matter, as thin shops' neighbours do.
TEXTS = ["签收7天内性能故障可退货", "15天内出现故障可以换新机", "全国联保凭发票去官方售后",
         "七天内有故障可以退", "半个月内坏了给换新的", "联保的话去当地官方网点"]
LABELS = np.array([0, 1, 2, 0, 1, 2])


def test_training_learns_the_words_that_separate_entries_and_is_deterministic() -> None:
    model = lexical_classifier.train(TEXTS, LABELS, 3)
    probabilities = model.probabilities(["坏了能换新吗", "联保吗", "7天内能退吗"])
    assert probabilities.shape == (3, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert probabilities.argmax(axis=1).tolist() == [1, 2, 0]
    again = lexical_classifier.train(TEXTS, LABELS, 3)
    np.testing.assert_array_equal(model.weights, again.weights)
    # Words it never saw carry no evidence: the prior only.
    unseen = model.probabilities(["😀", "abc"])
    np.testing.assert_allclose(unseen[0], unseen[1], rtol=1e-6)


def test_training_is_skipped_when_empty_or_over_budget() -> None:
    assert lexical_classifier.train([], np.array([], dtype=int), 3) is None
    assert lexical_classifier.train(TEXTS, LABELS, 3, LexicalClassifierConfig(max_cells=10)) is None


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = lexical_classifier.train(TEXTS, LABELS, 3)
    model.save(tmp_path)
    loaded = LexicalClassifier.load(tmp_path)
    assert loaded.vocabulary == model.vocabulary
    np.testing.assert_array_equal(loaded.probabilities(TEXTS), model.probabilities(TEXTS))
    assert LexicalClassifier.load(tmp_path / "missing") is None


def test_a_thin_folder_gets_one_and_ranks_with_it(tmp_path: Path, embedder: Embedder) -> None:
    summary = build_index(THIN_SHOP, tmp_path, embedder, progress=False, use_library=False)
    assert (summary.path / lexical_classifier.FILE_NAME).is_file()
    index = load_index(tmp_path, embedder.name)
    assert index.lexical is not None
    assert index.lexical.weights.shape == (len(index.lexical.vocabulary), len(index.entries))
    retriever = Retriever(index, embedder)
    assert retriever._lexical_weight > 0
    first = retriever.suggest("退款几天能到账").scripts[0]
    assert first.entry.id == "shop-refund"
    assert first.score != pytest.approx(first.similarity)


WELL_PHRASED = """
- id: ship-time
  kind: script
  category: 物流/发货
  questions: [什么时候发货, 多久能发出, 今天能发吗]
  reply: 亲,付款后48小时内发货哦~
- id: refund-time
  kind: script
  category: 售后/退款
  questions: [退款多久到账, 钱什么时候退回来, 退款几天到]
  reply: 亲,退款审核后1-3个工作日原路退回~
"""


def test_a_folder_of_well_phrased_scripts_neither_trains_nor_uses_it(
        tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "kb.yaml").write_text(WELL_PHRASED, "utf-8")
    summary = build_index(folder, tmp_path / "index", embedder, progress=False, use_library=False)
    assert not (summary.path / lexical_classifier.FILE_NAME).exists()
    index = load_index(tmp_path / "index", embedder.name)
    assert index.lexical is None and Retriever(index, embedder)._lexical_weight == 0.0


def test_one_for_another_entry_list_is_refused(tmp_path: Path, embedder: Embedder) -> None:
    summary = build_index(THIN_SHOP, tmp_path, embedder, progress=False, use_library=False)
    lexical_classifier.train(TEXTS, LABELS, 3).save(summary.path)
    with pytest.raises(IndexNotFound, match="lexical classifier"):
        load_index(tmp_path, embedder.name)
