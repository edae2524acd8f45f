"""The entry classifier: training, storage with the index, and its place in the ranking."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assist.core.embedders import Embedder
from assist.core.engine import Engine
from assist.core.index import classifier
from assist.core.index.build import build_index
from assist.core.index.classifier import ClassifierConfig, EntryClassifier
from assist.core.index.load import IndexNotFound, current_version_dir, load_index
from assist.core.retrieval import RetrievalConfig, Retriever


def _clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three noisy clusters on the unit sphere, 20 points each."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16))
    points = np.repeat(centres, 20, axis=0) + 0.4 * rng.normal(size=(60, 16))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32), np.repeat(np.arange(3), 20)


def test_training_separates_classes_and_is_deterministic() -> None:
    x, y = _clusters()
    model = classifier.train(x, y, 3)
    probabilities = model.probabilities(x)
    assert probabilities.shape == (60, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities.argmax(axis=1) == y).mean() == 1.0
    again = classifier.train(x, y, 3)
    np.testing.assert_array_equal(model.weights, again.weights)


def test_training_is_skipped_over_its_budget() -> None:
    x, y = _clusters()
    assert classifier.train(x, y, 3, ClassifierConfig(max_cells=100)) is None
    assert classifier.train(x[:0], y[:0], 3) is None


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    x, y = _clusters()
    model = classifier.train(x, y, 3)
    model.save(tmp_path)
    loaded = EntryClassifier.load(tmp_path)
    np.testing.assert_array_equal(loaded.weights, model.weights)
    assert EntryClassifier.load(tmp_path / "missing") is None


def test_index_versions_carry_their_classifier(small_index: Path, small_engine: Engine) -> None:
    index = small_engine.index
    assert (current_version_dir(small_index) / classifier.FILE_NAME).is_file()
    assert index.classifier.weights.shape == (index.manifest.dim, len(index.entries))


def test_an_index_without_classifier_still_serves(knowledge_dir: Path, tmp_path: Path,
                                                  embedder: Embedder) -> None:
    summary = build_index(knowledge_dir, tmp_path, embedder, progress=False)
    (summary.path / classifier.FILE_NAME).unlink()
    index = load_index(tmp_path, embedder.name)
    assert index.classifier is None
    scripts = Retriever(index, embedder).suggest("快递怎么还不到").scripts
    assert scripts[0].entry.id == "logistics-delay"
    assert scripts[0].score == scripts[0].similarity  # ranked by similarity alone


def test_a_classifier_for_another_entry_list_is_refused(knowledge_dir: Path, tmp_path: Path,
                                                        embedder: Embedder) -> None:
    summary = build_index(knowledge_dir, tmp_path, embedder, progress=False)
    EntryClassifier(np.zeros((embedder.dim, 2), np.float32), np.zeros(2, np.float32)).save(
        summary.path)
    with pytest.raises(IndexNotFound, match="classifier"):
        load_index(tmp_path, embedder.name)


def _forced(engine: Engine, favourite: str, weight: float = 0.5) -> Retriever:
    """A retriever whose classifier puts all its probability on one entry."""
    index = engine.index
    target = next(i for i, e in enumerate(index.entries) if e.id == favourite)
    bias = np.full(len(index.entries), -50.0, np.float32)
    bias[target] = 50.0
    forced = replace(index, classifier=EntryClassifier(
        np.zeros_like(index.classifier.weights), bias))
    return Retriever(forced, engine.retriever.embedder,
                     RetrievalConfig(classifier_weight=weight))


def test_the_classifier_reorders_candidates_but_keeps_alternatives(small_engine: Engine) -> None:
    text = "快递还没到 能便宜点吗"  # two questions: two entries within the cutoff
    plain = small_engine.retriever.suggest(text).scripts
    runner_up = plain[1].entry.id
    forced = _forced(small_engine, runner_up).suggest(text).scripts
    assert forced[0].entry.id == runner_up
    assert plain[0].entry.id in [h.entry.id for h in forced[1:]]  # still offered
    assert forced[0].score == pytest.approx((forced[0].similarity + 0.5) / 1.5)


@pytest.mark.parametrize("text", ["今天天气怎么样", "https://item.taobao.com/item.htm?id=6655443322"])
def test_the_classifier_cannot_pull_off_topic_messages_in(small_engine: Engine, text: str) -> None:
    # A classifier always names some entry; whether a message is on topic is decided by
    # similarity and the background alone.
    result = _forced(small_engine, "logistics-delay", weight=10).suggest(text)
    assert result.scripts == [] and result.policies == []


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04 truncated"])
def test_an_unreadable_classifier_is_a_clear_index_error(knowledge_dir: Path, tmp_path: Path,
                                                        embedder: Embedder, content: bytes) -> None:
    summary = build_index(knowledge_dir, tmp_path, embedder, progress=False)
    (summary.path / classifier.FILE_NAME).write_bytes(content)
    with pytest.raises(IndexNotFound, match="unreadable classifier"):
        load_index(tmp_path, embedder.name)
