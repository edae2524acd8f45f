"""A lexical entry classifier: which entry do this message's characters and bigrams belong to?

On a thin folder an entry is little more than its reply, and neighbouring entries (三包 vs 联保
vs 换新, 保质期 vs 储存) differ in a few words the sentence encoder blurs. The whole-entry BM25
channel (assist/core/bm25.py) counts shared bigrams; this model *learns* which characters and
bigrams separate the entries: a softmax regression over their unit-length indicators, on the
rows the semantic classifier (classifier.py) trains on. Its probability is blended into the
ranking with ``RetrievalConfig.lexical_classifier_weight`` times the folder's share of thin scripts, so a
base with many phrasings per script (the shipped one: share 0) neither trains nor uses it.

Chosen on the shops' dev halves and the ``--shots`` dev sets (README "Retrieval quality").
Trained by the indexer with each version (full-batch Adam from a zero start, deterministic),
stored beside classifier.npz.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sparse
from pydantic import BaseModel

from assist.core.index.classifier import fit_softmax, softmax
from assist.core.lexical import grams

FILE_NAME = "lexical_classifier.npz"


class LexicalClassifierConfig(BaseModel):
    l2: float = 1e-4
    steps: int = 400
    learning_rate: float = 0.1
    max_cells: int = 20_000_000  # vocabulary x entries above which it is skipped (80 MB)


@dataclass(frozen=True)
class LexicalClassifier:
    vocabulary: dict[str, int]
    weights: np.ndarray  # (vocabulary, entries)
    bias: np.ndarray  # (entries,)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(features(self.vocabulary, texts), self.weights, self.bias)

    def save(self, directory: Path) -> None:
        names = np.array(sorted(self.vocabulary, key=self.vocabulary.__getitem__))
        np.savez(Path(directory) / FILE_NAME, vocabulary=names, weights=self.weights,
                 bias=self.bias)

    @classmethod
    def load(cls, directory: Path) -> LexicalClassifier | None:
        """The version's lexical classifier, or None (versions built without one)."""
        path = Path(directory) / FILE_NAME
        if not path.is_file():
            return None
        with np.load(path) as data:
            vocabulary = {str(g): i for i, g in enumerate(data["vocabulary"].tolist())}
            return cls(vocabulary, data["weights"].astype(np.float32),
                       data["bias"].astype(np.float32))


def features(vocabulary: dict[str, int], texts: Sequence[str]) -> sparse.csr_matrix:
    """Unit-length indicator rows of characters and bigrams (unknown ones are ignored)."""
    rows, cols = [], []
    for i, text in enumerate(texts):
        found = sorted({vocabulary[g] for g in grams(text) if g in vocabulary})
        rows += [i] * len(found)
        cols += found
    row_of = np.asarray(rows, dtype=np.int64)
    values = (1.0 / np.sqrt(np.maximum(np.bincount(row_of, minlength=len(texts)), 1)))[row_of]
    return sparse.csr_matrix((values.astype(np.float32), (rows, cols)),
                             shape=(len(texts), len(vocabulary)))


def train(texts: Sequence[str], labels: np.ndarray, n_classes: int,
          config: LexicalClassifierConfig | None = None) -> LexicalClassifier | None:
    """Fit the model on ``texts`` (normalised rows) labelled with entry numbers; None when
    there is nothing to learn or it is over its size budget."""
    cfg = config or LexicalClassifierConfig()
    vocabulary: dict[str, int] = {}
    for text in texts:
        for gram in sorted(grams(text)):
            vocabulary.setdefault(gram, len(vocabulary))
    if not texts or not vocabulary or len(vocabulary) * n_classes > cfg.max_cells:
        return None
    weights, bias = fit_softmax(features(vocabulary, texts), labels, n_classes, cfg.l2,
                                cfg.steps, cfg.learning_rate)
    return LexicalClassifier(vocabulary, weights, bias)
