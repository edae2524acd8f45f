"""Any local sentence-transformers model directory (e.g. a team's bge-small-zh)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assist.core.embedders.base import normalise_rows


class SentenceTransformerEmbedder:
    """Wraps ``sentence_transformers.SentenceTransformer`` loaded from a local path only."""

    def __init__(self, model_path: str | Path, device: str = "cpu") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # optional heavy dependency
            raise RuntimeError(
                "the sentence-transformers backend needs the 'transformers' extra: "
                "pip install -e '.[transformers]'"
            ) from exc
        path = Path(model_path)
        if not path.is_dir():
            raise ValueError(f"sentence-transformers model directory not found: {path}")
        # local_files_only: a missing file must fail here, never trigger a download.
        self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension)  # renamed in sentence-transformers 5
        dim = get_dim()
        if dim is None:
            raise ValueError(f"{path}: the model does not say its embedding dimension")
        self.dim = int(dim)
        self.name = f"sentence-transformers:{path.resolve().name}"
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False
            )
        return normalise_rows(vectors)
