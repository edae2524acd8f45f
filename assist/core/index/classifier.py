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
        logits = vectors @ self.weights
        logits += self.bias
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

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
    n, dim = vectors.shape
    if n == 0 or n * n_classes > cfg.max_cells:
        return None
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    targets = np.zeros((n, n_classes), dtype=np.float32)
    targets[np.arange(n), labels] = 1.0
    model = EntryClassifier(np.zeros((dim, n_classes), np.float32), np.zeros(n_classes, np.float32))
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in (model.weights, model.bias)]
    for step in range(1, cfg.steps + 1):
        error = model.probabilities(x)
        error -= targets
        error /= n
        grads = (x.T @ error + cfg.l2 * model.weights, error.sum(axis=0))
        for param, grad, (mean, var) in zip((model.weights, model.bias), grads, moments,
                                            strict=True):
            adam_step(param, grad, mean, var, step, cfg.learning_rate)
    return model


def adam_step(param: np.ndarray, grad: np.ndarray, mean: np.ndarray, var: np.ndarray,
               step: int, rate: float, beta1: float = 0.9, beta2: float = 0.999) -> None:
    mean *= beta1
    mean += (1 - beta1) * grad
    var *= beta2
    var += (1 - beta2) * grad * grad
    corrected = mean / (1 - beta1**step)
    corrected /= np.sqrt(var / (1 - beta2**step)) + 1e-8
    param -= rate * corrected
