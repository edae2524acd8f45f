"""Character-bigram BM25 over whole entries: a lexical channel beside the per-row similarity.

The similarity looks at one row at a time (a question, a title, one reply clause); a buyer's
words are often spread over an entry (its title says 保修, its reply 三包 and 换新), which only
a score over the entry's whole text sees. Bigrams, because Chinese has no word boundaries and
the tokenizer-free overlap is what the row-level lexical score uses too.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from assist.core.lexical import bigrams

K1 = 1.2
B = 0.75


class BM25:
    """Okapi BM25 with character bigrams as terms, one document per entry."""

    def __init__(self, documents: Sequence[str]) -> None:
        counts = [Counter(bigrams(d)) for d in documents]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float64)
        average = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        frequency: Counter[str] = Counter()
        for c in counts:
            frequency.update(c.keys())
        n = len(documents)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        # term -> (document numbers, their saturated term weights)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for doc, c in enumerate(counts):
            norm = K1 * (1 - B + B * lengths[doc] / average)
            for term, tf in c.items():
                docs, weights = postings.setdefault(term, ([], []))
                docs.append(doc)
                weights.append(tf * (K1 + 1) / (tf + norm))
        self._postings = {t: (np.array(d), np.array(w)) for t, (d, w) in postings.items()}
        self.size = n

    def scores(self, query: str) -> np.ndarray:
        """BM25 of every document for ``query``, scaled so the best document has 1 (0 if none)."""
        out = np.zeros(self.size)
        for term in set(bigrams(query)):
            posting = self._postings.get(term)
            if posting is not None:
                out[posting[0]] += self._idf[term] * posting[1]
        top = out.max() if self.size else 0.0
        return out / top if top > 0 else out
