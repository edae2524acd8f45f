"""Process-wide BLAS threads: one unless an embedder asks for more inside its own calls.

NumPy's OpenBLAS starts a thread per core and its idle threads spin-wait after every product.
In the service the small products outside the embedder (entry classifier, row normalisation)
then kept the second core busy spinning: measured with benchmarks/load.py, server CPU per
message 2.6-3.0 ms with the default threads against 1.4-1.5 ms with one, at higher throughput.
``use:N`` still gets N threads: its backend raises the limit for the duration of each call.
"""

from __future__ import annotations

import logging

from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)


def limit_blas_threads(threads: int = 1) -> threadpool_limits:
    """Cap every loaded BLAS library (OpenBLAS, MKL, BLIS) at ``threads`` for this process.

    Returns the limiter; its ``restore_original_limits()`` undoes the cap (tests use it).
    """
    limiter = threadpool_limits(limits=threads, user_api="blas")
    log.debug("BLAS limited to %d thread(s)", threads)
    return limiter
