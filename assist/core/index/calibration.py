"""The on-topic decision, fitted by the indexer on each index version from the knowledge itself.

Retrieval gives a message suggestions when its best script reaches a similarity floor and is
closer to that script than to the rejection class (background chat plus the built-in courtesy
sentences no courtesy entry of the folder covers) by a margin. Where those two numbers should
sit depends on the knowledge: a base with twenty phrasings per script puts real questions near
an example, a quick-phrase list with none puts them much further away. So they are not
constants but fitted per version, by simulation:

- *positives*: every buyer phrasing in the index (own example questions and borrowed library
  phrasings), each scored against the index without itself and its duplicates, the way an
  unseen question with the same meaning would be;
- *negatives*: every rejection sentence, scored against the knowledge and against the rest of
  the rejection class without itself, the way unseen small talk would be.

The fit keeps the loosest (floor, margin) that rejects ``reject_share`` of the negatives and,
among those, answers the most positives. With no phrasings at all (a bare quick-phrase list)
it still rejects ``reject_share`` of the held-out small talk: the one number that is a product
decision, not a property of some knowledge base.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from assist.core.lexical import LEXICAL_WEIGHT, dice, grams

CANDIDATES = 24  # rows per message considered, as retrieval fetches from FAISS
MAX_POSITIVES = 3000  # held-out phrasings scored per build (a deterministic sample beyond)
# How much less a borrowed library phrasing scores than the entry's own text (retrieval's
# RetrievalConfig.borrowed_discount defaults to it): library entries are broader than the shop
# entry linked to them.
BORROWED_DISCOUNT = 0.2
FLOORS = np.round(np.arange(0.20, 0.80, 0.01), 2)
MARGINS = np.round(np.arange(-0.20, 0.25, 0.01), 2)


class CalibrationConfig(BaseModel):
    """What the fit aims for; part of the index version."""

    reject_share: float = Field(default=0.9, gt=0, le=1,
                                description="share of held-out small talk the gate must reject")
    lexical_weight: float = LEXICAL_WEIGHT  # must match RetrievalConfig.lexical_weight
    borrowed_discount: float = BORROWED_DISCOUNT  # must match RetrievalConfig.borrowed_discount


class Calibration(BaseModel):
    """The fitted gate of one index version (stored in its manifest)."""

    min_score: float
    background_margin: float
    method: Literal["held-out phrasings", "rejection only", "default"]
    positives: int = 0  # held-out phrasings it was fitted on
    negatives: int = 0  # held-out rejection sentences
    answered: float | None = None  # share of positives the fitted gate lets through
    rejected: float | None = None  # share of negatives it rejects
    # Questions about goods the folder does not sell (index/data/other_products.txt): a message
    # is off topic when its cosine to the nearest of them exceeds its best script's cosine by
    # at least this much. None: no such sentences in the version (older versions too).
    product_margin: float | None = None
    products_rejected: float | None = None  # share of held-out product questions rejected


DEFAULT = Calibration(min_score=0.45, background_margin=0.02, method="default")


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _entry_hits(cosines: np.ndarray, query: frozenset[str], row_grams: list[frozenset[str]],
                row_entry: np.ndarray, row_discount: np.ndarray,
                weight: float) -> tuple[np.ndarray, np.ndarray]:
    """(similarity, cosine) of each candidate entry's best row, as ``Retriever._rank`` does."""
    top = np.argpartition(-cosines, min(CANDIDATES, len(cosines)) - 1)[:CANDIDATES]
    best: dict[int, tuple[float, float]] = {}
    for row in top.tolist():
        cosine = float(cosines[row])
        if not np.isfinite(cosine):
            continue
        score = (1 - weight) * cosine - row_discount[row] + weight * dice(query, row_grams[row])
        entry = int(row_entry[row])
        if entry not in best or score > best[entry][0]:
            best[entry] = (score, cosine)
    pairs = list(best.values()) or [(-1.0, -1.0)]
    pairs += [(-1.0, -1.0)] * (CANDIDATES - len(pairs))
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def _features(queries: np.ndarray, query_norms: list[str], rows: np.ndarray,
              row_norms: list[str], row_entry: np.ndarray, row_discount: np.ndarray,
              rejection: np.ndarray,
              rejection_norms: list[str], weight: float,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per query: candidate entries' similarity and cosine, and its rejection-class cosine.

    A query never sees a row or rejection sentence with its own normalised text: that is
    what holding it out means.
    """
    row_grams = [grams(n) for n in row_norms]
    row_index = np.array(row_norms, dtype=object)
    rejection_index = np.array(rejection_norms, dtype=object)
    sims, coss, backgrounds = [], [], []
    for start in range(0, len(queries), 512):
        chunk = queries[start:start + 512]
        to_rows = chunk @ rows.T
        to_rejection = chunk @ rejection.T if len(rejection) else np.full((len(chunk), 1), -1.0)
        for k, norm in enumerate(query_norms[start:start + 512]):
            own = to_rows[k]
            own[row_index == norm] = -np.inf
            background = to_rejection[k]
            if len(rejection):
                background[rejection_index == norm] = -np.inf
            sim, cos = _entry_hits(own, grams(norm), row_grams, row_entry, row_discount, weight)
            sims.append(sim)
            coss.append(cos)
            backgrounds.append(float(np.max(background)) if len(background) else -1.0)
    return np.array(sims), np.array(coss), np.array(backgrounds)


def _accepted(sims: np.ndarray, coss: np.ndarray, backgrounds: np.ndarray,
              weights: np.ndarray | None = None) -> np.ndarray:
    """(Weighted) share accepted for every (floor, margin) of the grid: [floors, margins]."""
    if len(sims) == 0:
        return np.zeros((len(FLOORS), len(MARGINS)))
    weights = np.ones(len(sims)) if weights is None else weights
    weights = weights / weights.sum()
    passes_floor = sims[:, :, None] >= FLOORS[None, None, :] - 1e-9
    passes_margin = (coss - backgrounds[:, None])[:, :, None] >= MARGINS[None, None, :] - 1e-9
    accepted = np.zeros((len(FLOORS), len(MARGINS)))
    for f in range(len(FLOORS)):
        any_hit = (passes_floor[:, :, f, None] & passes_margin).any(axis=1)  # [n, margins]
        accepted[f] = weights @ any_hit
    return accepted


PRODUCT_MARGINS = np.round(np.arange(-0.20, 0.60, 0.01), 2)


def fit_product_margin(row_vectors: np.ndarray, row_entry: np.ndarray,
                       products: np.ndarray, gate: Calibration,
                       rejection: np.ndarray, row_norms: list[str],
                       config: CalibrationConfig | None = None) -> Calibration:
    """Add the product channel to a fitted gate: the loosest margin (the largest) at which
    ``reject_share`` of the held-out product questions are rejected by the gate or by it.

    Each product question is held out: its nearest *other* product question stands for the
    channel, as an unseen "do you sell X" would find its nearest listed one. The loosest margin
    costs real questions least: one that merely shares the "有…吗" frame is closer to its
    script than to "你们卖空调吗" by far more than an unrelated product question is.
    """
    cfg = config or CalibrationConfig()
    if len(products) < 2 or len(row_vectors) == 0:
        return gate
    rows = _unit(np.asarray(row_vectors, dtype=np.float32))
    products = _unit(np.asarray(products, dtype=np.float32))
    rejection = _unit(np.asarray(rejection, dtype=np.float32))
    norms = ["\0product"] * len(products)  # never equal to a row: nothing of the rows is held out
    sims, coss, backgrounds = _features(products, norms, rows, row_norms, row_entry,
                                        np.zeros(len(row_norms)), rejection,
                                        ["\0rejection"] * len(rejection), cfg.lexical_weight)
    to_products = products @ products.T
    np.fill_diagonal(to_products, -1.0)
    nearest = to_products.max(axis=1)
    passes = ((sims >= gate.min_score - 1e-9)
              & (coss - backgrounds[:, None] >= gate.background_margin - 1e-9)).any(axis=1)
    best_cosine = np.where(sims >= gate.min_score - 1e-9, coss, -np.inf).max(axis=1)
    excess = nearest - best_cosine  # the channel's evidence against each product question
    margin, share = float(PRODUCT_MARGINS[0]), 0.0
    for candidate in PRODUCT_MARGINS[::-1]:  # loosest first
        share = float(np.mean(~passes | (excess >= candidate - 1e-9)))
        if share >= cfg.reject_share - 1e-9:
            margin = float(candidate)
            break
    return gate.model_copy(update={"product_margin": margin,
                                   "products_rejected": round(share, 4)})


def fit(row_vectors: np.ndarray, row_norms: list[str], row_entry: np.ndarray,
        positive_rows: list[int], rejection_vectors: np.ndarray, rejection_norms: list[str],
        config: CalibrationConfig | None = None,
        borrowed: np.ndarray | None = None,
        positive_weights: np.ndarray | None = None) -> Calibration:
    """Fit the gate; ``row_*`` are the script rows retrieval gates on, ``positive_rows`` the
    buyer phrasings among them (indices into the rows, weighted by ``positive_weights``),
    ``borrowed`` marks library rows."""
    cfg = config or CalibrationConfig()
    discount = (np.zeros(len(row_norms)) if borrowed is None
                else np.where(borrowed, cfg.borrowed_discount, 0.0))
    if len(row_vectors) == 0 or len(rejection_vectors) < 2:
        return DEFAULT
    rows = _unit(np.asarray(row_vectors, dtype=np.float32))
    rejection = _unit(np.asarray(rejection_vectors, dtype=np.float32))
    weights = (np.ones(len(positive_rows)) if positive_weights is None
               else np.asarray(positive_weights, dtype=np.float64))
    if len(positive_rows) > MAX_POSITIVES:
        step = len(positive_rows) / MAX_POSITIVES
        picked = [int(i * step) for i in range(MAX_POSITIVES)]
        positive_rows, weights = [positive_rows[i] for i in picked], weights[picked]
    negative = _accepted(*_features(rejection, rejection_norms, rows, row_norms, row_entry,
                                    discount, rejection, rejection_norms, cfg.lexical_weight))
    rejected = 1 - negative
    if positive_rows:
        positive = _accepted(*_features(rows[positive_rows], [row_norms[i] for i in positive_rows],
                                        rows, row_norms, row_entry, discount, rejection,
                                        rejection_norms, cfg.lexical_weight), weights)
    else:
        positive = np.zeros_like(negative)
    looseness = -(FLOORS[:, None] + MARGINS[None, :])  # prefer the gate that lets more through
    feasible = rejected >= cfg.reject_share - 1e-9
    if not feasible.any():  # the knowledge looks like small talk itself: reject what we can
        feasible = rejected >= rejected.max() - 1e-9
    key = np.where(feasible, positive * 1000 + looseness, -np.inf)
    f, m = np.unravel_index(int(np.argmax(key)), key.shape)
    return Calibration(
        min_score=float(FLOORS[f]), background_margin=float(MARGINS[m]),
        method="held-out phrasings" if positive_rows else "rejection only",
        positives=len(positive_rows), negatives=len(rejection_norms),
        answered=round(float(positive[f, m]), 4) if positive_rows else None,
        rejected=round(float(rejected[f, m]), 4))
