"""Real-time risk flags: phishing links, dangerous attachments and scam intents.

``build_detector(index)`` wires the rule stage (links, files, intents) to the host lists that
shipped with the live index version, and takes the semantic matches (knowledge entries of
kind ``risk``) from the retriever.
"""

from __future__ import annotations

from pathlib import Path

from assist.core.index.format import LISTS_DIR
from assist.core.index.load import LoadedIndex
from assist.core.risk.config import RiskConfig
from assist.core.risk.detector import RiskDetector
from assist.core.risk.lists import load_lists

__all__ = ["RiskConfig", "RiskDetector", "build_detector", "detector_for_lists"]


def detector_for_lists(folder: Path | None, config: RiskConfig | None = None) -> RiskDetector:
    """A detector using the built-in lists plus the admin lists in ``folder``."""
    return RiskDetector(load_lists(folder), config)


def build_detector(index: LoadedIndex | None, config: RiskConfig | None = None) -> RiskDetector:
    """The detector for a loaded index: its version's lists, else the built-in defaults.

    ``config`` holds the semantic thresholds (``RiskConfig()`` defaults when omitted).
    """
    folder = index.path / LISTS_DIR if index is not None else None
    return detector_for_lists(folder if folder is not None and folder.is_dir() else None, config)
