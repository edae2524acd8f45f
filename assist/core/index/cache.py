"""Embedding cache: unchanged texts reuse their vectors across builds."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class VectorCache:
    """A per-embedder ``.npz`` of text-hash → vector, rewritten atomically after each build."""

    def __init__(self, directory: Path, embedder_name: str, dim: int) -> None:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder_name)
        self.path = Path(directory) / f"{slug}.npz"
        self.dim = dim
        self._vectors: dict[str, np.ndarray] = {}
        self._load()

    def _load(self) -> None:
        try:
            with np.load(self.path) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (OSError, KeyError, ValueError):
            return  # missing or unreadable cache: rebuild from scratch, never fail the build
        if vectors.ndim == 2 and vectors.shape[1] == self.dim:
            self._vectors = dict(zip(keys.tolist(), vectors, strict=True))

    def get(self, text: str) -> np.ndarray | None:
        return self._vectors.get(text_key(text))

    def require(self, text: str) -> np.ndarray:
        """The cached vector of ``text``, which the caller has just embedded or found."""
        vector = self.get(text)
        if vector is None:
            raise KeyError(f"no cached vector for {text!r}")
        return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        self._vectors[text_key(text)] = vector

    def save(self, keep_texts: list[str]) -> None:
        """Persist only the vectors of ``keep_texts`` so the cache cannot grow without bound."""
        keys = sorted({text_key(t) for t in keep_texts} & self._vectors.keys())
        vectors = (np.stack([self._vectors[k] for k in keys]) if keys
                   else np.zeros((0, self.dim), np.float32))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, keys=np.array(keys), vectors=vectors)
        os.replace(tmp, self.path)
