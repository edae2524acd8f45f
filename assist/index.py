"""A built index directory, loaded into memory as one immutable object.

Layout of an index root (written by ``indexer``)::

    CURRENT            name of the live version directory (replaced atomically)
    v-<hash>/          manifest.json, entries.json, rows.json, vectors.faiss, background.npy,
                       classifier.npz (absent when skipped),
                       lists/*.txt (host allow/block lists copied from knowledge/lists)
    .cache/            embedding cache reused by incremental builds

The service holds one ``LoadedIndex`` and hot-swaps the reference on re-index, so a request
that started on the old object finishes on it.
"""

from __future__ import annotations

import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel

from assist import ann
from assist.classifier import EntryClassifier
from assist.knowledge import Entry

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
LISTS_DIR = "lists"  # host lists for the link checker, in knowledge/ and in each version


class IndexError_(Exception):
    """Base for problems loading an index (named to avoid shadowing the builtin)."""


class IndexNotFound(IndexError_):
    pass


class EmbedderMismatch(IndexError_):
    pass


class Manifest(BaseModel):
    """Self-description of an index version: what built it and from what."""

    format: int = FORMAT_VERSION
    version: str
    embedder: str
    dim: int
    ann: ann.AnnKind
    built_at: str
    knowledge_hash: str
    entries: int
    vectors: int
    kinds: dict[str, int]


@dataclass(frozen=True)
class Row:
    """One embedded text: which entry it belongs to and what it said."""

    entry: int
    field: str
    text: str
    norm: str


@dataclass(frozen=True)
class LoadedIndex:
    path: Path
    manifest: Manifest
    entries: list[Entry]
    rows: list[Row]
    ann: faiss.Index
    background: np.ndarray
    classifier: EntryClassifier | None = None

    @property
    def version(self) -> str:
        return self.manifest.version


def current_version_dir(root: Path) -> Path:
    """The live version directory of an index root."""
    pointer = Path(root) / CURRENT_FILE
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFound(f"no index at {root} (run 'assist-index build')") from None
    version_dir = Path(root) / name
    if not (version_dir / "manifest.json").is_file():
        raise IndexNotFound(f"{pointer} names {name!r}, which is missing or incomplete")
    return version_dir


def load_index(root: Path, embedder_name: str | None = None) -> LoadedIndex:
    """Load the live version under ``root``; refuse one built by another embedder."""
    version_dir = current_version_dir(root)
    manifest = Manifest.model_validate_json((version_dir / "manifest.json").read_text("utf-8"))
    if manifest.format != FORMAT_VERSION:
        raise IndexNotFound(f"index format {manifest.format} is not {FORMAT_VERSION}; rebuild it")
    if embedder_name is not None and manifest.embedder != embedder_name:
        raise EmbedderMismatch(
            f"index {manifest.version} was built with embedder {manifest.embedder!r} but the "
            f"running embedder is {embedder_name!r}: rebuild the index or configure that embedder"
        )
    entries = [Entry.model_validate(e) for e in _read_json(version_dir / "entries.json")]
    rows = [Row(**r) for r in _read_json(version_dir / "rows.json")]
    index = ann.load(version_dir / "vectors.faiss")
    if index.ntotal != len(rows) or index.d != manifest.dim:
        raise IndexNotFound(f"{version_dir} is inconsistent: {index.ntotal} vectors, {len(rows)} rows")
    background = np.load(version_dir / "background.npy")
    try:
        classifier = EntryClassifier.load(version_dir)
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise IndexNotFound(f"{version_dir}: unreadable classifier ({exc}); rebuild the index") from exc
    if classifier is None:
        log.warning("index %s has no entry classifier (built before it existed, or over its "
                    "size budget): ranking by similarity alone; re-index to add it",
                    manifest.version)
    elif classifier.weights.shape != (manifest.dim, len(entries)):
        raise IndexNotFound(f"{version_dir} is inconsistent: classifier for another entry list")
    return LoadedIndex(version_dir, manifest, entries, rows, index, background, classifier)


def _read_json(path: Path) -> list:
    return json.loads(path.read_text(encoding="utf-8"))
