"""Which library entries cover the same buyer situation as a shop's entry?

A link makes the shop entry match the library entry's buyer phrasings, so a wrong link is
worse than none: it pulls in questions the entry does not answer. The confidence of a pair is
the mean of two cosines (USE vectors, unit length):

- answer to answer: the shop's reply (or policy text) against the library entry's;
- questions to questions: the best cosine of any of the shop entry's own questions, title or
  category words to any of the library entry's phrasings.

A pair is linked only when it is confident (``min_confidence``), close to the shop entry's
best pair (``within_best``) and *mutual*: no other shop entry of the folder is a better match
for that library entry. The last rule is what keeps precision on a folder of neighbouring
entries (two warranty scripts, three invoice scripts): the library entry goes to the one it
fits best or to none. Chosen with the gold links of benchmarks/shops and their dev questions
(figures in README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel, Field

from assist.core.knowledge import Entry, Knowledge, KnowledgeError, Problem, category_words
from assist.core.library import Library, LibraryEntry

Encode = Callable[[list[str]], np.ndarray]  # texts -> vectors (one row each)
Links = dict[str, list[tuple[str, float]]]


class LinkConfig(BaseModel):
    min_confidence: float = Field(default=0.65, description="weakest link proposed")
    within_best: float = Field(default=0.05, description="links this far below the entry's best go")
    max_links: int = Field(default=2, ge=0, description="most library entries one entry borrows from")


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def answer_of(entry: Entry) -> str:
    return (entry.reply if entry.kind == "script" else entry.text) or ""


def cue_texts(entry: Entry) -> list[str]:
    """What a shop entry says about the questions it answers: questions, title, category words.

    An entry without questions (a quick phrase: a reply, a title the importer took from its
    first clause, a group name shared with its neighbours such as 售后=>保修) also offers its
    reply as a cue: judged on the group name alone, a reply-only entry's confidence was little
    more than half its answer match and it linked to nothing (digital shop: 5 of 18 gold links).
    """
    texts = list(entry.questions)
    if entry.title:
        texts.append(entry.title)
    words = category_words(entry.category)
    if words and words not in texts:
        texts.append(words)
    if not entry.questions and answer_of(entry):
        texts.append(answer_of(entry))
    return texts


def default_encode() -> Encode:
    from assist.core.embedders import shared_embedder

    embedder = shared_embedder("use")
    return embedder.encode


def confidences(entries: Sequence[Entry], library: Sequence[LibraryEntry],
                encode: Encode) -> np.ndarray:
    """[entries, library] confidence of every pair (-1 where the kinds differ)."""
    scores = np.full((len(entries), len(library)), -1.0, dtype=np.float32)
    if not entries or not library:
        return scores
    answers = _unit(encode([answer_of(e) for e in entries]))
    library_answers = _unit(encode([e.answer for e in library]))
    cues = [cue_texts(e) for e in entries]
    flat_cues = [t for texts in cues for t in texts]
    phrasings = [(j, q) for j, e in enumerate(library) for q in e.questions]
    cue_vectors = _unit(encode(flat_cues)) if flat_cues else np.zeros((0, answers.shape[1]))
    phrasing_vectors = _unit(encode([q for _, q in phrasings])) if phrasings else None
    owner = np.array([j for j, _ in phrasings])
    to_answers = answers @ library_answers.T
    to_questions = np.zeros_like(to_answers)
    if phrasing_vectors is not None and len(cue_vectors):
        by_cue = cue_vectors @ phrasing_vectors.T  # [cues, phrasings]
        per_library = np.full((len(flat_cues), len(library)), -1.0, dtype=np.float32)
        for j in np.unique(owner).tolist():  # best phrasing per library entry
            per_library[:, j] = by_cue[:, owner == j].max(axis=1)
        start = 0
        for i, texts in enumerate(cues):
            if texts:
                to_questions[i] = per_library[start:start + len(texts)].max(axis=0)
            start += len(texts)
    kinds = np.array([[e.kind == lib.kind for lib in library] for e in entries])
    scores[kinds] = ((to_answers + to_questions) / 2)[kinds]
    return scores


def choose_links(scores: np.ndarray, config: LinkConfig) -> list[list[tuple[int, float]]]:
    """Per entry: (library index, confidence) of the confident, near-best, mutual pairs."""
    best_for_library = scores.max(axis=0) if len(scores) else np.zeros(0)
    chosen: list[list[tuple[int, float]]] = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[: config.max_links]
        best = float(row[order[0]]) if len(order) else -1.0
        chosen.append([(int(j), round(float(row[j]), 3)) for j in order
                       if row[j] >= config.min_confidence and row[j] >= best - config.within_best
                       and row[j] >= best_for_library[j] - 1e-6])
    return chosen


def propose_links(entries: Sequence[Entry], library: Library, encode: Encode | None = None,
                  config: LinkConfig | None = None) -> Links:
    """Library links for every script and policy of ``entries`` that has confident ones.

    Returns entry id -> [(library id, confidence)], best first; entries without a confident
    link are absent. ``like`` keys are not consulted here (see ``resolve_links``). Library
    entries that are the folder's own (same id and answer: the shipped base itself) are skipped.
    """
    cfg = config or LinkConfig()
    candidates = [e for e in entries if e.kind in ("script", "policy")]
    own = {(e.id, answer_of(e)) for e in candidates}
    pool = [lib for lib in library.entries if (lib.id, lib.answer) not in own]
    if not candidates or not pool:
        return {}
    scores = confidences(candidates, pool, encode or default_encode())
    return {entry.id: [(pool[j].id, c) for j, c in picks]
            for entry, picks in zip(candidates, choose_links(scores, cfg), strict=True) if picks}


class Link(BaseModel):
    """One link of a built index version (in its manifest)."""

    library: str
    confidence: float | None  # None for a link pinned by ``like``
    pinned: bool = False


def resolve_links(knowledge: Knowledge, library: Library, encode: Encode,
                  config: LinkConfig | None = None) -> dict[str, list[Link]]:
    """The links a build uses: ``like: [ids]`` pins, ``like: []`` none, no ``like`` = proposed.

    Raises KnowledgeError (with file and line) for a ``like`` naming no library entry.
    """
    known = library.by_id()
    problems = []
    for entry in knowledge.entries:
        for name in entry.like or []:
            if name not in known:
                file, line = knowledge.sources.get(entry.id, ("?", 0))
                problems.append(Problem(file, line or None, entry.id,
                                        f"like: {name!r} is not a standard-library entry"))
    if problems:
        raise KnowledgeError(problems)
    proposed = propose_links(knowledge.entries, library, encode, config)
    links: dict[str, list[Link]] = {}
    for entry in knowledge.entries:
        if entry.kind == "risk" or entry.like == []:
            continue
        if entry.like is not None:
            links[entry.id] = [Link(library=name, confidence=None, pinned=True)
                               for name in entry.like]
        elif entry.id in proposed:
            links[entry.id] = [Link(library=name, confidence=c) for name, c in proposed[entry.id]]
    return links
