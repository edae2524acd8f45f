"""One message in, one SuggestResult out: retrieval plus risk detection.

An ``Engine`` is immutable and bound to one loaded index; the service replaces its engine
reference on re-index, so in-flight work finishes on the engine it started with.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from assist.core.embedders import Embedder, shared_embedder
from assist.core.index.build import BuildSummary, build_index
from assist.core.index.format import IndexNotFound
from assist.core.index.load import LoadedIndex, load_index
from assist.core.models import Attachment, Risk, SuggestResult
from assist.core.retrieval import EntryHit, RetrievalConfig, Retriever
from assist.core.risk import build_detector
from assist.core.risk.config import RiskConfig
from assist.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    text: str
    attachments: list[Attachment] = field(default_factory=list)


class DetectsRisks(Protocol):
    def detect(self, text: str, attachments: Sequence[Attachment],
               semantic: Sequence[EntryHit]) -> list[Risk]:
        """Risks in one message; ``semantic`` are the knowledge risk entries it resembles."""
        ...


class Engine:
    def __init__(self, index: LoadedIndex, embedder: Embedder,
                 risk_detector: DetectsRisks | None = None,
                 config: RetrievalConfig | None = None) -> None:
        self.index = index
        self.retriever = Retriever(index, embedder, config)
        self.risk_detector = risk_detector

    @property
    def version(self) -> str:
        return self.index.version

    def suggest(self, text: str, attachments: Sequence[Attachment] = ()) -> SuggestResult:
        return self.suggest_many([Message(text, list(attachments))])[0]

    def suggest_many(self, messages: Sequence[Message]) -> list[SuggestResult]:
        """Batch API: one embedding call for the whole batch."""
        retrievals = self.retriever.suggest_many([m.text for m in messages])
        results = []
        for message, retrieval in zip(messages, retrievals, strict=True):
            risks = (self.risk_detector.detect(message.text, message.attachments,
                                               retrieval.risk_matches)
                     if self.risk_detector else [])
            results.append(SuggestResult(scripts=retrieval.script_suggestions(),
                                         policies=retrieval.policy_snippets(), risks=risks))
        return results


def default_risk_detector(index: LoadedIndex, config: RiskConfig | None = None) -> DetectsRisks:
    """The rule + semantic detector with the host lists of ``index``'s version."""
    return build_detector(index, config)


def open_engine(index_dir: Path, embedder: Embedder, config: RetrievalConfig | None = None,
                risk: RiskConfig | None = None) -> Engine:
    """Load the live index under ``index_dir`` for ``embedder`` and wire the risk detector."""
    index = load_index(index_dir, embedder.name)
    return Engine(index, embedder, default_risk_detector(index, risk), config)


def build_for(settings: Settings, progress: bool = False) -> BuildSummary:
    """Build a new index version of ``settings.knowledge`` into ``settings.index``."""
    return build_index(settings.knowledge, settings.index, shared_embedder(settings.embedder),
                       progress=progress, use_library=settings.library)


def open_or_build(settings: Settings) -> Engine:
    """The engine for ``settings``: open the live index, building it first if there is none."""
    embedder = shared_embedder(settings.embedder)
    try:
        return open_engine(settings.index, embedder, settings.retrieval, settings.risk)
    except IndexNotFound:
        log.warning("no index at %s: building it from %s", settings.index, settings.knowledge)
        log.warning("%s", build_for(settings))
        return open_engine(settings.index, embedder, settings.retrieval, settings.risk)
