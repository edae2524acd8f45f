"""The on-disk format of an index root, read and written here only.

Layout::

    CURRENT            name of the live version directory (replaced atomically)
    v-<hash>/          manifest.json (with the fitted on-topic calibration and library links),
                       entries.json, rows.json, vectors.faiss, background.npy (the rejection class),
                       classifier.npz (absent when skipped),
                       lexical_classifier.npz (thin folders only; see lexical_classifier.py),
                       lists/*.txt (host allow/block lists copied from knowledge/lists)
    .cache/            embedding cache reused by incremental builds

A version directory is complete once its manifest exists: the build writes the manifest last
into a staging directory and renames that into place, then swaps ``CURRENT``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from pydantic import BaseModel

from assist.core.index import ann
from assist.core.index.calibration import Calibration
from assist.core.index.classifier import EntryClassifier
from assist.core.index.lexical_classifier import LexicalClassifier
from assist.core.knowledge import Entry
from assist.core.library.link import Link

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
LISTS_DIR = "lists"  # host lists for the link checker, in knowledge/ and in each version
MANIFEST_FILE = "manifest.json"


class IndexLoadError(Exception):
    """Base for problems loading an index."""


class IndexNotFound(IndexLoadError):
    pass


class EmbedderMismatch(IndexLoadError):
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
    # the fitted on-topic gate (assist/core/index/calibration.py); None in versions built before
    calibration: Calibration | None = None
    rejection: dict[str, int] = {}  # rejection-class sentences by source (background, courtesy)
    library: int = 0  # standard-library entries offered for linking (0: library off)
    links: dict[str, list[Link]] = {}  # entry id -> the library entries it borrows from


@dataclass(frozen=True)
class Row:
    """One embedded text: which entry it belongs to and what it said."""

    entry: int
    field: str
    text: str
    norm: str
    source: str | None = None  # the library entry a borrowed phrasing comes from


@dataclass(frozen=True)
class VersionFiles:
    """Everything one version directory holds, in memory."""

    manifest: Manifest
    entries: list[Entry]
    rows: list[Row]
    vectors: faiss.Index
    background: np.ndarray
    classifier: EntryClassifier | None
    lists: dict[str, bytes]
    lexical: LexicalClassifier | None = None


def current_version_dir(root: Path) -> Path:
    """The live version directory of an index root."""
    pointer = Path(root) / CURRENT_FILE
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFound(f"no index at {root} "
                            "(run 'assist index build', alias 'assist-index build')") from None
    version_dir = Path(root) / name
    if not (version_dir / MANIFEST_FILE).is_file():
        raise IndexNotFound(f"{pointer} names {name!r}, which is missing or incomplete")
    return version_dir


def is_complete(version_dir: Path) -> bool:
    return (version_dir / MANIFEST_FILE).is_file()


def read_manifest(version_dir: Path) -> Manifest:
    manifest = Manifest.model_validate_json((version_dir / MANIFEST_FILE).read_text("utf-8"))
    if manifest.format != FORMAT_VERSION:
        raise IndexNotFound(f"index format {manifest.format} is not {FORMAT_VERSION}; rebuild it")
    return manifest


def read_entries(version_dir: Path) -> list[Entry]:
    return [Entry.model_validate(e) for e in _read_json(version_dir / "entries.json")]


def read_rows(version_dir: Path) -> list[Row]:
    return [Row(**r) for r in _read_json(version_dir / "rows.json")]


def read_vectors(version_dir: Path) -> faiss.Index:
    return ann.load(version_dir / "vectors.faiss")


def read_background(version_dir: Path) -> np.ndarray:
    return np.load(version_dir / "background.npy")


def write_version(out_dir: Path, version: str, files: VersionFiles) -> Path:
    """Write a complete version directory under ``out_dir`` (staged, then renamed into place)."""
    final = out_dir / version
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out_dir))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide it from a service run as another user
    try:
        ann.save(files.vectors, staging / "vectors.faiss")
        np.save(staging / "background.npy", files.background)
        if files.classifier is not None:
            files.classifier.save(staging)
        if files.lexical is not None:
            files.lexical.save(staging)
        _write_json(staging / "entries.json",
                    [e.model_dump(exclude_defaults=True) for e in files.entries])
        _write_json(staging / "rows.json",
                    [{k: v for k, v in asdict(r).items() if v is not None} for r in files.rows])
        (staging / LISTS_DIR).mkdir()
        for name, data in files.lists.items():
            (staging / LISTS_DIR / name).write_bytes(data)
        # The manifest goes last: a directory with a manifest is complete.
        (staging / MANIFEST_FILE).write_text(files.manifest.model_dump_json(indent=2), "utf-8")
        if final.exists():
            shutil.rmtree(final)  # a leftover without manifest from a crashed build
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def point_current(out_dir: Path, version: str) -> None:
    """Swap CURRENT with one atomic rename, so readers see the old or the new name, never half."""
    fd, tmp = tempfile.mkstemp(prefix=".current-", dir=out_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(version + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out_dir / CURRENT_FILE)


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
