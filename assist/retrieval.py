"""Which templates fit this message? Embedding search, lexical re-scoring, off-topic gating.

Scores are per entry (its best-matching row wins). A message gets suggestions only if it has
content (not just a link, number or emoji), its best entry clears an absolute floor, and it is
closer to that entry than to the small-talk background by a margin: one threshold alone lets
acknowledgements through or drops real questions. Acknowledgements and goodbyes are handled by
courtesy entries: when one wins, it is the only suggestion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel

from assist import ann
from assist.embedders import Embedder
from assist.index import LoadedIndex
from assist.knowledge import Entry
from assist.models import PolicySnippet, ScriptSuggestion
from assist.textnorm import Normalised, normalise


class RetrievalConfig(BaseModel):
    """Tuning knobs, calibrated with benchmarks/quality.py on the shipped knowledge base."""

    top_k: int = 3
    max_policies: int = 2
    candidates: int = 48  # rows fetched from FAISS before per-entry aggregation
    lexical_weight: float = 0.3  # share of character-overlap in the score
    min_score: float = 0.45
    background_margin: float = 0.02
    policy_min_score: float = 0.5
    risk_min_score: float = 0.6
    relative_cutoff: float = 0.12  # drop suggestions this far below the best one


@dataclass(frozen=True)
class EntryHit:
    entry: Entry
    score: float
    cosine: float
    matched: str


@dataclass
class Retrieval:
    """Internal result: what the engine turns into a SuggestResult."""

    normalised: Normalised
    scripts: list[EntryHit] = field(default_factory=list)
    policies: list[EntryHit] = field(default_factory=list)
    risk_matches: list[EntryHit] = field(default_factory=list)

    def script_suggestions(self) -> list[ScriptSuggestion]:
        return [ScriptSuggestion(id=h.entry.id, category=h.entry.category,
                                 title=h.entry.display_title, reply=h.entry.reply or "",
                                 score=round(h.score, 4), matched=h.matched)
                for h in self.scripts]

    def policy_snippets(self) -> list[PolicySnippet]:
        return [PolicySnippet(id=h.entry.id, category=h.entry.category,
                              title=h.entry.display_title, text=h.entry.text or "",
                              score=round(h.score, 4))
                for h in self.policies]


def _grams(text: str) -> set[str]:
    chars = [c for c in text if not c.isspace()]
    return set(chars) | {a + b for a, b in zip(chars, chars[1:], strict=False)}


def lexical_overlap(query: str, candidate: str) -> float:
    """Dice overlap of character unigrams+bigrams: robust to Chinese word boundaries."""
    q, c = _grams(query), _grams(candidate)
    return 2 * len(q & c) / (len(q) + len(c)) if q and c else 0.0


class Retriever:
    """Ranks knowledge entries for messages against one loaded index."""

    def __init__(self, index: LoadedIndex, embedder: Embedder,
                 config: RetrievalConfig | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config or RetrievalConfig()

    def suggest(self, text: str) -> Retrieval:
        return self.suggest_many([text])[0]

    def suggest_many(self, texts: Sequence[str]) -> list[Retrieval]:
        """Batch API: one embedder call for all messages that have content."""
        prepared = [normalise(t) for t in texts]
        wanted = [p.text for p in prepared if p.has_content]
        vectors = iter(self.embedder.encode(wanted)) if wanted else iter(())
        return [self.rank(p, next(vectors)) if p.has_content else Retrieval(p) for p in prepared]

    def rank(self, message: Normalised, vector: np.ndarray) -> Retrieval:
        """Rank entries for one normalised message and its embedding."""
        cfg = self.config
        scores, ids = ann.search(self.index.ann, vector[None, :], cfg.candidates)
        best: dict[int, EntryHit] = {}
        for cosine, row_id in zip(scores[0].tolist(), ids[0].tolist(), strict=True):
            if row_id < 0:
                continue
            row = self.index.rows[row_id]
            lexical = lexical_overlap(message.text, row.norm)
            score = (1 - cfg.lexical_weight) * cosine + cfg.lexical_weight * lexical
            current = best.get(row.entry)
            if current is None or score > current.score:
                best[row.entry] = EntryHit(self.index.entries[row.entry], score, cosine, row.text)
        hits = sorted(best.values(), key=lambda h: h.score, reverse=True)
        background = float(np.max(self.index.background @ vector)) if len(
            self.index.background) else -1.0
        return self._select(message, hits, background)

    def _select(self, message: Normalised, hits: list[EntryHit], background: float) -> Retrieval:
        cfg = self.config
        result = Retrieval(message)
        result.risk_matches = [h for h in hits if h.entry.kind == "risk"
                               and h.cosine >= cfg.risk_min_score]

        def on_topic(hit: EntryHit, floor: float) -> bool:
            return hit.score >= floor and hit.cosine - background >= cfg.background_margin

        scripts = [h for h in hits if h.entry.kind == "script" and on_topic(h, cfg.min_score)]
        if scripts and scripts[0].entry.is_courtesy:
            result.scripts = scripts[:1]
            return result  # an acknowledgement: no product answers or policies
        scripts = [h for h in scripts if not h.entry.is_courtesy]
        if scripts:
            cutoff = scripts[0].score - cfg.relative_cutoff
            result.scripts = [h for h in scripts if h.score >= cutoff][: cfg.top_k]
        policies = [h for h in hits if h.entry.kind == "policy"
                    and on_topic(h, cfg.policy_min_score)]
        result.policies = policies[: cfg.max_policies]
        return result
