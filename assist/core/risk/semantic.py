"""The semantic stage: knowledge entries of kind ``risk`` that the message resembles.

The retriever already embedded the message and returned the risk entries whose cosine clears
``RetrievalConfig.risk_min_score``; admins teach new scam phrasings by adding such entries.
Embeddings alone confuse "你们能开发票吗" with invoice bait, so a match must also clear
``RiskConfig.semantic_min_score`` on the retriever's similarity (cosine plus character
overlap), and the detector drops matches that the rule stage has evidence against and softens
phishing matches in messages without a link (see ``detector.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from assist.core.models import Risk
from assist.core.retrieval import EntryHit

MAX_EVIDENCE = 80


def semantic_risks(text: str, hits: Sequence[EntryHit], min_score: float) -> list[Risk]:
    """One Risk per matching risk entry (the caller dedupes per type)."""
    risks = []
    evidence = text if len(text) <= MAX_EVIDENCE else text[: MAX_EVIDENCE - 1] + "…"
    for hit in hits:
        entry = hit.entry
        if entry.kind != "risk" or not entry.risk_type or not entry.severity:
            continue
        if hit.similarity < min_score:
            continue
        risks.append(Risk(
            type=entry.risk_type, severity=entry.severity,
            reason=f"{entry.reason}(与已知话术“{hit.matched}”相似,相似度 {hit.cosine:.2f})",
            evidence=evidence, span=None, reply=entry.reply or "", source="semantic",
            rule=entry.id,
        ))
    return risks
