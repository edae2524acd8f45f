"""Text → vectors. ``create_embedder`` picks a backend from a spec string."""

from assist.core.embedders.base import Embedder, normalise_rows
from assist.core.embedders.factory import BACKENDS, DEFAULT_EMBEDDER, create_embedder, shared_embedder

__all__ = [
    "BACKENDS",
    "DEFAULT_EMBEDDER",
    "Embedder",
    "create_embedder",
    "normalise_rows",
    "shared_embedder",
]
