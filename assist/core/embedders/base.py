"""The embedder interface: a batch of texts in, L2-normalised float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns a batch of sentences into unit vectors.

    ``name`` identifies the model exactly (backend and weights): an index records it and
    refuses to load under another embedder, since vectors of two models are not comparable.
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` C-contiguous float32 array of unit vectors."""
        ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise rows (so inner product is cosine) as contiguous float32."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
