"""Character overlap between two normalised texts, robust to Chinese word boundaries.

Shared by retrieval (which blends it into the similarity) and the indexer's calibration (which
must score held-out phrasings exactly the way retrieval will).
"""

from __future__ import annotations

LEXICAL_WEIGHT = 0.3  # share of character overlap in a row's similarity (the rest is cosine)


def bigrams(text: str) -> list[str]:
    """Character bigrams in order (repeats kept), whitespace ignored."""
    chars = [c for c in text if not c.isspace()]
    return [a + b for a, b in zip(chars, chars[1:], strict=False)]


def grams(text: str) -> frozenset[str]:
    """Character unigrams and bigrams, whitespace ignored."""
    return frozenset(c for c in text if not c.isspace()) | frozenset(bigrams(text))


def dice(q: frozenset[str], c: frozenset[str]) -> float:
    return 2 * len(q & c) / (len(q) + len(c)) if q and c else 0.0


def lexical_overlap(query: str, candidate: str) -> float:
    """Dice overlap of character unigrams+bigrams."""
    return dice(grams(query), grams(candidate))
