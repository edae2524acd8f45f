"""Build an embedder from a spec string, so config files and the CLI stay declarative.

Specs: ``use`` (default; ``use:N`` runs it on N BLAS threads) or
``sentence-transformers:/path/to/model``.
"""

from __future__ import annotations

from functools import lru_cache

from assist.core.embedders.base import Embedder

BACKENDS = ("use", "sentence-transformers")
DEFAULT_EMBEDDER = "use"


def create_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """Return the embedder for ``spec``; an unknown backend lists the supported ones."""
    backend, _, arg = spec.partition(":")
    if backend == "use":
        from assist.core.embedders.use import UseEmbedder

        if arg and not (arg.isdigit() and int(arg) > 0):
            raise ValueError(f"use:N takes a thread count, got {arg!r}")
        return UseEmbedder(threads=int(arg)) if arg else UseEmbedder()
    if backend == "sentence-transformers":
        if not arg:
            raise ValueError("sentence-transformers needs a model path: sentence-transformers:DIR")
        from assist.core.embedders.sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(arg)
    raise ValueError(f"unknown embedder backend {backend!r}; supported: {', '.join(BACKENDS)}")


@lru_cache(maxsize=4)
def shared_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """One loaded model per spec per process (the model is the expensive part)."""
    return create_embedder(spec)
