"""FAISS search over unit vectors: exact for small indexes, HNSW for large ones."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

AnnKind = Literal["flat", "hnsw"]
# Below this an exact scan is both faster to build and fast enough to query (measured: a
# 20k x 512 flat scan is ~2 ms on 2 cores); above it HNSW keeps queries sub-millisecond.
HNSW_THRESHOLD = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128

# FAISS parallelises one search over OpenMP threads whose spin-waiting, on a 2-core machine
# shared with the embedder and the event loop, cost more than the scan itself (profiled under
# load). Searches here are small; the service gets its parallelism from batching instead.
# OpenMP keeps the thread count per calling thread: setting it once at import covered only the
# importing thread, and the service searches in its embedding thread, where a libgomp worker
# kept spinning after every search (perf, issue 13: ~1 ms of a second core per message, a
# third of the server's CPU). So every thread that searches sets it once for itself.
faiss.omp_set_num_threads(1)
_single_threaded = threading.local()


def _one_omp_thread() -> None:
    if not getattr(_single_threaded, "done", False):
        faiss.omp_set_num_threads(1)
        _single_threaded.done = True


def choose_kind(n_vectors: int) -> AnnKind:
    return "hnsw" if n_vectors >= HNSW_THRESHOLD else "flat"


def _checked(vectors: np.ndarray, dim: int | None = None) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or (dim is not None and vectors.shape[1] != dim):
        raise ValueError(f"expected vectors of shape (n, {dim}), got {vectors.shape}")
    return vectors


def build(vectors: np.ndarray, kind: AnnKind | None = None) -> faiss.Index:
    """Inner-product index (cosine on unit vectors) over ``vectors``."""
    vectors = _checked(vectors)
    dim = vectors.shape[1]
    kind = kind or choose_kind(len(vectors))
    index: faiss.Index
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


def save(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load(path: Path) -> faiss.Index:
    index = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` (scores, row ids) per query; FAISS pads short results with id -1."""
    _one_omp_thread()
    queries = _checked(queries, index.d)
    k = max(1, min(k, index.ntotal))
    return index.search(queries, k)
