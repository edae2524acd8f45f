import numpy as np
from threadpoolctl import threadpool_info

from assist.core.blas import limit_blas_threads
from assist.core.embedders import Embedder


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_limit_blas_threads_caps_and_restores(embedder: Embedder) -> None:
    np.ones((4, 4)) @ np.ones((4, 4))  # make sure numpy's BLAS is loaded
    before = _blas_threads()
    assert before
    limiter = limit_blas_threads(1)
    try:
        assert _blas_threads() == {1}
        # An embedder call raises the limit for itself only and leaves the cap in place.
        embedder.encode(["这款鞋偏码吗"])
        assert _blas_threads() == {1}
    finally:
        limiter.restore_original_limits()
    assert _blas_threads() == before
