"""knowledge folder → vectors → FAISS index directory, atomically and incrementally."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assist import ann, classifier
from assist.classifier import ClassifierConfig
from assist.embedders import Embedder
from assist.index import CURRENT_FILE, FORMAT_VERSION, LISTS_DIR, Manifest, Row
from assist.knowledge import Entry, Knowledge, load_knowledge
from assist.textnorm import normalise
from indexer.cache import VectorCache

log = logging.getLogger(__name__)
BATCH_SIZE = 64
KEEP_VERSIONS = 3  # old versions stay briefly so a reader that just read CURRENT can finish


@dataclass(frozen=True)
class BuildSummary:
    version: str
    path: Path
    entries: int
    vectors: int
    embedded: int  # texts embedded in this build (the rest came from the cache)
    seconds: float
    unchanged: bool

    def __str__(self) -> str:
        state = "unchanged" if self.unchanged else "built"
        return (f"index {self.version} {state}: {self.entries} entries, {self.vectors} vectors "
                f"({self.embedded} newly embedded, the rest from cache) "
                f"in {self.seconds:.1f}s -> {self.path}")


def background_texts() -> list[str]:
    """Generic off-topic chat used as a rejection class (see assist/data/background.txt)."""
    raw = resources.files("assist").joinpath("data/background.txt").read_text("utf-8")
    return [line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#")]


def entry_rows(entries: list[Entry]) -> list[Row]:
    """The texts embedded per entry: every example question, the title, a policy's text."""
    rows: list[Row] = []
    for i, entry in enumerate(entries):
        fields = [("question", q) for q in entry.questions]
        if entry.title:
            fields.append(("title", entry.title))
        if entry.kind == "policy" and entry.text:
            fields.append(("text", entry.text))
        for name, text in fields:
            norm = normalise(text).text
            if norm:
                rows.append(Row(entry=i, field=name, text=text, norm=norm))
    return rows


def host_lists(knowledge_dir: Path) -> dict[str, bytes]:
    """The link checker's host lists (knowledge/lists/*.txt), copied into each version."""
    folder = Path(knowledge_dir) / LISTS_DIR
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.txt")) if p.is_file()}


def _version(knowledge: Knowledge, embedder: Embedder, background: list[str],
             lists: dict[str, bytes], classifier_config: ClassifierConfig) -> str:
    digest = hashlib.sha256()
    for part in (str(FORMAT_VERSION), embedder.name, knowledge.content_hash(),
                 classifier_config.model_dump_json(), *background):
        digest.update(part.encode("utf-8") + b"\0")
    for name, data in lists.items():  # a list edit alone makes a new version
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:16]


def _embed_cached(texts: list[str], embedder: Embedder, cache: VectorCache,
                  progress: bool) -> tuple[np.ndarray, int]:
    missing = sorted({t for t in texts if cache.get(t) is None})
    bar = tqdm(total=len(missing), desc="embedding", unit="text",
               disable=not progress or len(missing) < 2 * BATCH_SIZE)
    for start in range(0, len(missing), BATCH_SIZE):
        batch = missing[start:start + BATCH_SIZE]
        for text, vector in zip(batch, embedder.encode(batch), strict=True):
            cache.put(text, vector)
        bar.update(len(batch))
    bar.close()
    vectors = np.stack([cache.get(t) for t in texts]) if texts else np.zeros((0, embedder.dim))
    return np.ascontiguousarray(vectors, dtype=np.float32), len(missing)


def build_index(knowledge_dir: Path, out_dir: Path, embedder: Embedder,
                progress: bool = True,
                classifier_config: ClassifierConfig | None = None) -> BuildSummary:
    """Validate, embed and write a new index version; the live one is untouched on failure."""
    classifier_config = classifier_config or ClassifierConfig()
    started = time.perf_counter()
    knowledge = load_knowledge(knowledge_dir)  # raises KnowledgeError before anything is written
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    background = background_texts()
    lists = host_lists(knowledge_dir)
    version = f"v-{_version(knowledge, embedder, background, lists, classifier_config)}"
    rows = entry_rows(knowledge.entries)
    final = out_dir / version
    if (final / "manifest.json").is_file():
        _point_current(out_dir, version)
        return BuildSummary(version, final, len(knowledge.entries), len(rows), 0,
                            time.perf_counter() - started, unchanged=True)

    cache = VectorCache(out_dir / ".cache", embedder.name, embedder.dim)
    norm_background = [normalise(t).text for t in background]
    vectors, embedded = _embed_cached([r.norm for r in rows] + norm_background, embedder,
                                      cache, progress)
    entry_vectors, background_vectors = vectors[: len(rows)], vectors[len(rows):]
    index = ann.build(entry_vectors)
    model = classifier.train(entry_vectors, np.array([r.entry for r in rows], dtype=np.int64),
                             len(knowledge.entries), classifier_config)
    if model is None:
        log.info("entry classifier skipped (%d rows x %d entries is over its budget)",
                 len(rows), len(knowledge.entries))
    kinds: dict[str, int] = {}
    for entry in knowledge.entries:
        kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
    manifest = Manifest(
        version=version, embedder=embedder.name, dim=embedder.dim,
        ann=ann.choose_kind(len(rows)), built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        knowledge_hash=knowledge.content_hash(), entries=len(knowledge.entries),
        vectors=len(rows), kinds=kinds,
    )

    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out_dir))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide it from a service run as another user
    try:
        ann.save(index, staging / "vectors.faiss")
        np.save(staging / "background.npy", background_vectors)
        if model is not None:
            model.save(staging)
        _write_json(staging / "entries.json",
                    [e.model_dump(exclude_defaults=True) for e in knowledge.entries])
        _write_json(staging / "rows.json", [asdict(r) for r in rows])
        (staging / LISTS_DIR).mkdir()
        for name, data in lists.items():
            (staging / LISTS_DIR / name).write_bytes(data)
        # The manifest goes last: a directory with a manifest is complete.
        (staging / "manifest.json").write_text(manifest.model_dump_json(indent=2), "utf-8")
        if final.exists():
            shutil.rmtree(final)  # a leftover without manifest from a crashed build
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _point_current(out_dir, version)
    cache.save([r.norm for r in rows] + norm_background)
    _prune(out_dir, keep=version)
    summary = BuildSummary(version, final, len(knowledge.entries), len(rows), embedded,
                           time.perf_counter() - started, unchanged=False)
    log.info("%s", summary)
    return summary


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _point_current(out_dir: Path, version: str) -> None:
    """Swap CURRENT with one atomic rename, so readers see the old or the new name, never half."""
    fd, tmp = tempfile.mkstemp(prefix=".current-", dir=out_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(version + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out_dir / CURRENT_FILE)


def _prune(out_dir: Path, keep: str) -> None:
    versions = sorted((p for p in out_dir.glob("v-*") if p.is_dir() and p.name != keep),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    for old in versions[KEEP_VERSIONS - 1:]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in out_dir.glob(".tmp-*"):
        if time.time() - stale.stat().st_mtime > 3600:  # a crashed build's leftovers
            shutil.rmtree(stale, ignore_errors=True)
