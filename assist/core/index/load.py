"""Loading an index version into memory as one immutable object (the format is in ``format``).

The service holds one ``LoadedIndex`` and hot-swaps the reference on re-index, so a request
that started on the old object finishes on it.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from assist.core.index.calibration import DEFAULT as DEFAULT_CALIBRATION
from assist.core.index.calibration import Calibration
from assist.core.index.classifier import EntryClassifier
from assist.core.index.format import (
    EmbedderMismatch,
    IndexLoadError,
    IndexNotFound,
    Manifest,
    Row,
    current_version_dir,
    read_background,
    read_entries,
    read_manifest,
    read_rows,
    read_vectors,
)
from assist.core.index.lexical_classifier import LexicalClassifier
from assist.core.knowledge import Entry

log = logging.getLogger(__name__)

__all__ = ["EmbedderMismatch", "IndexLoadError", "IndexNotFound", "LoadedIndex", "load_index"]

@dataclass(frozen=True)
class LoadedIndex:
    path: Path
    manifest: Manifest
    entries: list[Entry]
    rows: list[Row]
    ann: faiss.Index
    background: np.ndarray
    classifier: EntryClassifier | None = None
    lexical: LexicalClassifier | None = None  # thin folders only (lexical_classifier.py)

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def calibration(self) -> Calibration:
        """The version's fitted on-topic gate (the old constants for versions without one)."""
        return self.manifest.calibration or DEFAULT_CALIBRATION


def load_index(root: Path, embedder_name: str | None = None) -> LoadedIndex:
    """Load the live version under ``root``; refuse one built by another embedder."""
    version_dir = current_version_dir(root)
    manifest = read_manifest(version_dir)
    if embedder_name is not None and manifest.embedder != embedder_name:
        raise EmbedderMismatch(
            f"index {manifest.version} was built with embedder {manifest.embedder!r} but the "
            f"running embedder is {embedder_name!r}: rebuild the index or configure that embedder"
        )
    entries = read_entries(version_dir)
    rows = read_rows(version_dir)
    index = read_vectors(version_dir)
    if index.ntotal != len(rows) or index.d != manifest.dim:
        raise IndexNotFound(f"{version_dir} is inconsistent: {index.ntotal} vectors, {len(rows)} rows")
    background = read_background(version_dir)
    if manifest.calibration is None:
        log.warning("index %s has no fitted on-topic calibration (built before it existed): "
                    "using the old fixed gate; re-index to fit it", manifest.version)
    try:
        classifier = EntryClassifier.load(version_dir)
        lexical = LexicalClassifier.load(version_dir)
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise IndexNotFound(f"{version_dir}: unreadable classifier ({exc}); rebuild the index") from exc
    if classifier is None:
        log.warning("index %s has no entry classifier (built before it existed, or over its "
                    "size budget): ranking by similarity alone; re-index to add it",
                    manifest.version)
    elif classifier.weights.shape != (manifest.dim, len(entries)):
        raise IndexNotFound(f"{version_dir} is inconsistent: classifier for another entry list")
    if lexical is not None and lexical.weights.shape != (len(lexical.vocabulary), len(entries)):
        raise IndexNotFound(f"{version_dir} is inconsistent: lexical classifier for another "
                            "entry list")
    return LoadedIndex(version_dir, manifest, entries, rows, index, background, classifier, lexical)
