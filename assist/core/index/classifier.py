"""An entry classifier over sentence vectors: which entry does this message belong to?

Nearest-neighbour search asks which single example question is closest; neighbouring entries
("when will it ship" vs "how long is delivery") have examples that sit close together, and the
closest one is often on the wrong side. A linear softmax model trained on all examples of all
entries learns the directions that separate them instead. Its probability is blended into the
ranking (``RetrievalConfig.classifier_weight``); the on-topic gates still use similarity only.

Trained by the indexer on every build (full-batch Adam on the L2-regularised cross-entropy,
numpy only, deterministic from a zero start) and stored with the index version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

FILE_NAME = "classifier.npz"


class ClassifierConfig(BaseModel):
    """Training settings; chosen by 5-fold cross-validation over the shipped example questions."""

    l2: float = 1e-5
    steps: int = 600
    learning_rate: float = 0.1
    # rows x entries above which training is skipped (its cost grows with both); retrieval then
    # ranks by similarity alone. The shipped knowledge base is ~0.2 M cells and trains in ~2.5 s
    # on one core of the 2-core box, so the cap is about half a minute of build time.
    max_cells: int = 2_000_000


@dataclass(frozen=True)
class EntryClassifier:
    weights: np.ndarray  # (dim, entries)
    bias: np.ndarray  # (entries,)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Softmax over entries for each row of ``vectors``."""
        return softmax(vectors, self.weights, self.bias)

    def save(self, directory: Path) -> None:
        np.savez(Path(directory) / FILE_NAME, weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, directory: Path) -> EntryClassifier | None:
        """The classifier of an index version, or None for versions built without one."""
        path = Path(directory) / FILE_NAME
        if not path.is_file():
            return None
        with np.load(path) as data:
            return cls(data["weights"].astype(np.float32), data["bias"].astype(np.float32))


def train(vectors: np.ndarray, labels: np.ndarray, n_classes: int,
          config: ClassifierConfig | None = None) -> EntryClassifier | None:
    """Fit softmax regression of ``labels`` (entry numbers) on ``vectors``; None if too large."""
    cfg = config or ClassifierConfig()
    n = len(vectors)
    if n == 0 or n * n_classes > cfg.max_cells:
        return None
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    return EntryClassifier(*fit_softmax(x, labels, n_classes, cfg.l2, cfg.steps,
                                        cfg.learning_rate))


def softmax(x: Any, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Softmax of ``x @ weights + bias`` per row; ``x`` dense or a scipy sparse matrix."""
    logits = x @ weights
    logits += bias
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return logits


def fit_softmax(x: Any, labels: np.ndarray, n_classes: int, l2: float, steps: int,
                learning_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """(weights, bias) of the L2-regularised softmax regression of ``labels`` on the rows of
    ``x`` (dense float32, or scipy sparse CSR for the lexical classifier): full-batch Adam from
    a zero start, so the same data always gives the same model."""
    n, dim = x.shape
    x_t = x.T.tocsr() if hasattr(x, "tocsr") else x.T
    targets = np.zeros((n, n_classes), dtype=np.float32)
    targets[np.arange(n), labels] = 1.0
    weights = np.zeros((dim, n_classes), np.float32)
    bias = np.zeros(n_classes, np.float32)
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in (weights, bias)]
    for step in range(1, steps + 1):
        error = softmax(x, weights, bias)
        error -= targets
        error /= n
        grads = (x_t @ error + l2 * weights, error.sum(axis=0))
        for param, grad, (mean, var) in zip((weights, bias), grads, moments, strict=True):
            _adam_step(param, grad, mean, var, step, learning_rate)
    return weights, bias


def _adam_step(param: np.ndarray, grad: np.ndarray, mean: np.ndarray, var: np.ndarray,
               step: int, rate: float, beta1: float = 0.9, beta2: float = 0.999) -> None:
    mean *= beta1
    mean += (1 - beta1) * grad
    var *= beta2
    var += (1 - beta2) * grad * grad
    corrected = mean / (1 - beta1**step)
    corrected /= np.sqrt(var / (1 - beta2**step)) + 1e-8
    param -= rate * corrected
