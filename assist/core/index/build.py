"""knowledge folder → vectors → FAISS index directory, atomically and incrementally."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assist.core.embedders import Embedder
from assist.core.index import ann, calibration, classifier, lexical_classifier
from assist.core.index.cache import VectorCache
from assist.core.index.calibration import Calibration, CalibrationConfig
from assist.core.index.classifier import ClassifierConfig
from assist.core.index.format import (
    FORMAT_VERSION,
    LISTS_DIR,
    Manifest,
    Row,
    VersionFiles,
    is_complete,
    point_current,
    read_manifest,
    write_version,
)
from assist.core.index.lexical_classifier import LexicalClassifierConfig
from assist.core.knowledge import (
    COURTESY_TAG,
    Entry,
    Knowledge,
    category_words,
    load_knowledge,
    thin_share,
)
from assist.core.library import Library, load_library
from assist.core.library.link import Link, LinkConfig, resolve_links
from assist.core.textnorm import normalise

log = logging.getLogger(__name__)
BATCH_SIZE = 64
# Bumped whenever what is embedded per entry or fitted per version changes, so an unchanged
# knowledge folder still gets a new version with the new rows.
BUILD_SCHEME = "rows-5 gate-5 library-3"
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
    links: dict[str, list[Link]] = field(default_factory=dict)  # entry id -> library links

    def __str__(self) -> str:
        state = "unchanged" if self.unchanged else "built"
        borrowed = (f"; {len(self.links)} entries borrow phrasings from the standard library "
                    f"({sum(len(v) for v in self.links.values())} links)" if self.links else "")
        return (f"index {self.version} {state}: {self.entries} entries, {self.vectors} vectors "
                f"({self.embedded} texts embedded now, incl. background, courtesy and library "
                f"sentences; the others came from the cache) "
                f"in {self.seconds:.1f}s -> {self.path}{borrowed}")

    def link_lines(self) -> list[str]:
        """One line per linked entry: what it borrows from, with what confidence."""
        return [f"  {entry} -> " + ", ".join(
                    f"{link.library} ({'pinned' if link.pinned else f'{link.confidence:.2f}'})"
                    for link in links)
                for entry, links in self.links.items()]


def _data_lines(name: str) -> list[str]:
    raw = resources.files("assist.core.index").joinpath(f"data/{name}").read_text("utf-8")
    return [line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#")]


def background_texts() -> list[str]:
    """Generic off-topic chat used as a rejection class (see data/background.txt beside this module)."""
    return _data_lines("background.txt")


def courtesy_texts() -> list[str]:
    """Built-in acknowledgements, thanks, greetings (data/courtesy.txt): rejected unless covered."""
    return _data_lines("courtesy.txt")


def other_products() -> list[tuple[str, list[str]]]:
    """"Do you also sell X" questions with the words naming X (data/other_products.txt)."""
    pairs = []
    for line in _data_lines("other_products.txt"):
        sentence, _, words = line.partition("|")
        pairs.append((sentence.strip(), [w.strip() for w in words.split(",") if w.strip()]))
    return pairs


def sold_by_folder(products: list[tuple[str, list[str]]], entries: list[Entry]) -> np.ndarray:
    """Which of ``products`` the folder deals in: a word naming it occurs in its own text.

    Words, not vectors: "你们卖耳机吗" and "你们卖空调吗" are closer to each other than either
    is to any reply, so only the product word tells a shop that sells earphones apart.
    """
    text = "\n".join(part for e in entries if e.kind == "script"
                     for part in (e.title or "", e.category, e.reply or "", *e.questions))
    return np.array([any(w in text for w in words) for _, words in products], dtype=bool)


BUYER_FIELDS = ("question", "library")  # rows that are buyer phrasings (own or borrowed)


def covered_courtesy(entries: list[Entry], rows: list[Row], row_vectors: np.ndarray,
                     courtesy: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Which built-in courtesy sentences the folder's own courtesy entries answer.

    A sentence is covered when some courtesy entry's row (a phrasing, or its title and reply
    when it has none) is closer to it than any
    background sentence: a thin acknowledgement entry ("好的", "嗯嗯") still covers "行吧", and
    a folder without courtesy entries covers nothing, so its acknowledgements stay rejected.
    """
    covered = np.zeros(len(courtesy), dtype=bool)
    mine = [i for i, r in enumerate(rows) if entries[r.entry].is_courtesy and entries[r.entry].kind
            == "script"]
    if not mine or not len(courtesy):
        return covered
    to_entries = (courtesy @ row_vectors[mine].T).max(axis=1)
    to_background = (courtesy @ background.T).max(axis=1) if len(background) else -1.0
    return to_entries > to_background


def fit_gate(entries: list[Entry], rows: list[Row], row_vectors: np.ndarray,
             rejection: np.ndarray, rejection_norms: list[str],
             config: CalibrationConfig) -> Calibration:
    """Fit the on-topic gate on this version's script rows (see calibration.py).

    Every script counts the same in the fit, whatever its number of phrasings: one that
    borrowed thirty library phrasings must not make the gate fit only such scripts. A script
    without any buyer phrasing stands in with its title, category and reply rows.
    """
    script_rows = [i for i, r in enumerate(rows) if entries[r.entry].kind == "script"]
    by_entry: dict[int, list[int]] = {}
    for n, i in enumerate(script_rows):
        by_entry.setdefault(rows[i].entry, []).append(n)
    positives: list[int] = []
    weights: list[float] = []
    for members in by_entry.values():
        buyer = [n for n in members if rows[script_rows[n]].field in BUYER_FIELDS] or members
        positives += buyer
        weights += [1.0 / len(buyer)] * len(buyer)
    return calibration.fit(row_vectors[script_rows], [rows[i].norm for i in script_rows],
                           np.array([rows[i].entry for i in script_rows]), positives,
                           rejection, rejection_norms, config,
                           borrowed=np.array([rows[i].source is not None for i in script_rows]),
                           positive_weights=np.array(weights))


CLAUSES_TRAIN_BELOW_QUESTIONS = 3  # see build_index: which entries' reply clauses train the classifier
REPLY_LEAD_CHARS = 60  # a reply's opening sentences up to about this length are embedded
_SENTENCE_END = re.compile(r"(?<=[。!?！？~～;；\n])")
_SALUTATION = re.compile(r"^(亲爱的|亲亲|亲)[,，!！~～ ]*")


def reply_lead(reply: str) -> str:
    """A reply's opening sentence(s): what it is about, without the details further on.

    A quick phrase is only a reply; its first sentences say the situation ("我们只卖国行"),
    the rest tends to be procedure and pleasantries that would match other questions too.
    """
    text = _SALUTATION.sub("", reply.strip())
    lead = ""
    for sentence in _SENTENCE_END.split(text):
        if lead and len(lead) + len(sentence) > REPLY_LEAD_CHARS:
            break
        lead += sentence
    return lead.strip()


MIN_CLAUSE_CHARS = 6  # shorter clauses ("好的呢~", "放心拍哦") say nothing about the situation
_CLAUSE_END = re.compile(r"(?<=[。!?！？~～;；\n,，])")


def reply_clauses(reply: str) -> list[str]:
    """Every clause of a reply long enough to carry content, each embedded as its own row.

    A buyer asks about one detail of a reply ("能用电信卡吗" against a reply about dual SIM,
    5G and 电信 cards); a whole-reply or lead vector dilutes it with the others, one clause
    per row lets the detail match on its own (benchmarks/shops dev: R@1 +2 to +14 points).
    """
    text = _SALUTATION.sub("", reply.strip())
    clauses = (_SALUTATION.sub("", c.strip()).strip() for c in _CLAUSE_END.split(text))
    return [c for c in clauses if len(c) >= MIN_CLAUSE_CHARS]


def entry_fields(entry: Entry) -> list[tuple[str, str]]:
    """(field, text) pairs embedded for one entry.

    Example questions first; then what every entry has, so a script without questions (a
    quick phrase) is still found: its title, its category's last part and its reply's lead.
    Risk entries match on their examples and title only: the semantic risk stage must not
    fire on a warning reply's wording.
    """
    fields = [("question", q) for q in entry.questions]
    if entry.title:
        fields.append(("title", entry.title))
    if entry.kind == "script":
        words = category_words(entry.category)
        if words and words != entry.title:
            fields.append(("category", words))
        if entry.reply:
            fields.append(("reply", reply_lead(entry.reply)))
            fields += [("clause", c) for c in reply_clauses(entry.reply)]
    if entry.kind == "policy" and entry.text:
        fields.append(("text", entry.text))
    return fields


def entry_rows(entries: list[Entry],
               borrowed: Mapping[int, list[tuple[str, str]]] | None = None) -> list[Row]:
    """The embedded rows of every entry (see ``entry_fields``) and the library phrasings it
    borrows (``borrowed``: entry number -> [(library id, phrasing)], field ``library``);
    duplicates within an entry dropped, its own rows first."""
    rows: list[Row] = []
    for i, entry in enumerate(entries):
        seen: set[str] = set()
        for name, text, source in [(n, t, None) for n, t in entry_fields(entry)] + [
                ("library", t, s) for s, t in (borrowed or {}).get(i, [])]:
            norm = normalise(text).text
            if norm and norm not in seen:
                seen.add(norm)
                rows.append(Row(entry=i, field=name, text=text, norm=norm, source=source))
    return rows


def own_side(rows: list[Row], vectors: np.ndarray) -> np.ndarray:
    """Which rows to keep: all own rows, and the borrowed phrasings closer to their entry's
    own rows than to any other entry's.

    A library entry is broader than the shop entry linked to it: "seven-day-guarantee" also
    has phrasings about defects, which in a shop with its own warranty script belong there.
    Borrowing only what sits on the entry's side keeps a link from taking over its neighbours.
    """
    keep = np.ones(len(rows), dtype=bool)
    borrowed = [i for i, r in enumerate(rows) if r.source is not None]
    own = [i for i, r in enumerate(rows) if r.source is None]
    if not borrowed or not own:
        return keep
    owner = np.array([rows[i].entry for i in own])
    nearest = owner[np.argmax(vectors[borrowed] @ vectors[own].T, axis=1)]
    for i, entry in zip(borrowed, nearest.tolist(), strict=True):
        keep[i] = entry == rows[i].entry
    return keep


def apply_links(entries: list[Entry], links: Mapping[str, list[Link]],
                library: Library) -> tuple[list[Entry], dict[int, list[tuple[str, str]]]]:
    """Entries as indexed, and the phrasings each borrows.

    An entry linked to a library courtesy entry is a courtesy entry itself (a 千牛 "欢迎语"
    linked to the greeting): when it wins it is the only suggestion, like the library's.
    """
    known = library.by_id()
    indexed, borrowed = [], {}
    for i, entry in enumerate(entries):
        sources = [known[link.library] for link in links.get(entry.id, [])]
        if any(s.courtesy for s in sources) and not entry.is_courtesy:
            entry = entry.model_copy(update={"tags": [*entry.tags, COURTESY_TAG]})
        indexed.append(entry)
        if sources:
            borrowed[i] = [(s.id, q) for s in sources for q in s.questions]
    return indexed, borrowed


def host_lists(knowledge_dir: Path) -> dict[str, bytes]:
    """The link checker's host lists (knowledge/lists/*.txt), copied into each version."""
    folder = Path(knowledge_dir) / LISTS_DIR
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.txt")) if p.is_file()}


def _version(knowledge: Knowledge, embedder: Embedder, background: list[str],
             lists: dict[str, bytes], configs: list[str]) -> str:
    digest = hashlib.sha256()
    for part in (str(FORMAT_VERSION), BUILD_SCHEME, embedder.name, knowledge.content_hash(),
                 *configs, *background):
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
    vectors = np.stack([cache.require(t) for t in texts]) if texts else np.zeros((0, embedder.dim))
    return np.ascontiguousarray(vectors, dtype=np.float32), len(missing)


def build_index(knowledge_dir: Path, out_dir: Path, embedder: Embedder,
                progress: bool = True,
                classifier_config: ClassifierConfig | None = None,
                calibration_config: CalibrationConfig | None = None,
                use_library: bool = True, library: Library | None = None,
                link_config: LinkConfig | None = None) -> BuildSummary:
    """Validate, embed and write a new index version; the live one is untouched on failure.

    With ``use_library`` the folder's entries borrow phrasings from the standard question
    library (the packaged one unless ``library`` is given; see assist/core/library).
    """
    classifier_config = classifier_config or ClassifierConfig()
    lexical_config = LexicalClassifierConfig()
    calibration_config = calibration_config or CalibrationConfig()
    link_config = link_config or LinkConfig()
    library = (library or load_library()) if use_library else None
    started = time.perf_counter()
    knowledge = load_knowledge(knowledge_dir)  # raises KnowledgeError before anything is written
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    background = background_texts()
    courtesy = courtesy_texts()
    products = other_products()
    other = [sentence for sentence, _ in products]
    lists = host_lists(knowledge_dir)
    configs = [classifier_config.model_dump_json(), lexical_config.model_dump_json(),
               calibration_config.model_dump_json(),
               link_config.model_dump_json() if library else "", library.to_json() if library else ""]
    version = "v-" + _version(knowledge, embedder, background + courtesy + other
                              + [w for _, words in products for w in words], lists, configs)
    final = out_dir / version
    if is_complete(final):
        point_current(out_dir, version)
        built = read_manifest(final)
        return BuildSummary(version, final, built.entries, built.vectors, 0,
                            time.perf_counter() - started, unchanged=True, links=built.links)

    cache = VectorCache(out_dir / ".cache", embedder.name, embedder.dim)
    linked_texts: list[str] = []  # embedded for linking, kept in the cache for the next build
    link_embedded = [0]

    def encode(texts: list[str]) -> np.ndarray:
        norms = [normalise(t).text or t.strip() for t in texts]
        linked_texts.extend(norms)
        vectors, missing = _embed_cached(norms, embedder, cache, progress=False)
        link_embedded[0] += missing
        return vectors

    links = resolve_links(knowledge, library, encode, link_config) if library else {}
    entries, borrowed = apply_links(knowledge.entries, links, library) if library else (
        knowledge.entries, {})
    rows = entry_rows(entries, borrowed)
    norm_background = [normalise(t).text for t in background]
    norm_courtesy = [normalise(t).text for t in courtesy]
    norm_other = [normalise(t).text for t in other]
    vectors, embedded = _embed_cached([r.norm for r in rows] + norm_background + norm_courtesy
                                      + norm_other, embedder, cache, progress)
    embedded += link_embedded[0]
    background_vectors = vectors[len(rows): len(rows) + len(background)]
    courtesy_vectors = vectors[len(rows) + len(background): len(rows) + len(background)
                               + len(courtesy)]
    other_vectors = vectors[len(rows) + len(background) + len(courtesy):]
    keep = own_side(rows, vectors[: len(rows)])
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    entry_vectors = np.ascontiguousarray(vectors[: len(keep)][keep])
    covered = covered_courtesy(entries, rows, entry_vectors, courtesy_vectors,
                               background_vectors)
    sold = sold_by_folder(products, knowledge.entries)
    rejection_vectors = np.concatenate([background_vectors, courtesy_vectors[~covered]])
    rejection_norms = norm_background + [n for n, c in zip(norm_courtesy, covered, strict=True)
                                         if not c]
    gate = fit_gate(entries, rows, entry_vectors, rejection_vectors, rejection_norms,
                    calibration_config)
    product_vectors = other_vectors[~sold]
    script_rows = [i for i, r in enumerate(rows) if entries[r.entry].kind == "script"]
    gate = calibration.fit_product_margin(
        entry_vectors[script_rows], np.array([rows[i].entry for i in script_rows]),
        product_vectors, gate, rejection_vectors, [rows[i].norm for i in script_rows],
        calibration_config)
    log.info("on-topic gate fitted (%s): similarity >= %.2f, margin >= %.2f, product margin "
             "%s", gate.method, gate.min_score, gate.background_margin, gate.product_margin)
    index = ann.build(entry_vectors)
    # The classifier learns from each entry's own rows only: borrowed phrasings widen what an
    # entry is similar to, but trained on they made linked entries the default answer of a
    # folder of reply-only scripts (benchmarks/shops dev questions).
    own = np.array([r.source is None for r in rows])
    # Reply clauses train it only for entries with almost no buyer phrasings of their own: an
    # entry with questions is defined by them, and its reply's clauses taught the classifier
    # agent wording that pulled neighbouring questions over (shipped dev set R@1 0.952 -> 0.941).
    own &= np.array([r.field != "clause"
                     or len(entries[r.entry].questions) < CLAUSES_TRAIN_BELOW_QUESTIONS
                     for r in rows])
    labels = np.array([r.entry for r in rows], dtype=np.int64)
    model = classifier.train(entry_vectors[own], labels[own], len(entries), classifier_config)
    if model is None:
        log.info("entry classifier skipped (%d rows x %d entries is over its budget)",
                 len(rows), len(knowledge.entries))
    # Only a folder with thin scripts uses it (retrieval weighs it by their share): the shipped
    # base, 10-21 phrasings a script, neither trains nor stores it.
    lexical = (lexical_classifier.train([r.norm for r, k in zip(rows, own, strict=True) if k],
                                        labels[own], len(entries), lexical_config)
               if thin_share(entries) > 0 else None)
    kinds: dict[str, int] = {}
    for entry in knowledge.entries:
        kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
    manifest = Manifest(
        version=version, embedder=embedder.name, dim=embedder.dim,
        ann=ann.choose_kind(len(rows)), built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        knowledge_hash=knowledge.content_hash(), entries=len(knowledge.entries),
        vectors=len(rows), kinds=kinds, calibration=gate,
        rejection={"background": len(background), "courtesy": int((~covered).sum()),
                   "courtesy covered by entries": int(covered.sum()),
                   "other products": int((~sold).sum()),
                   "other products the folder sells": int(sold.sum())},
        links=links, library=len(library.entries) if library else 0,
    )

    final = write_version(out_dir, version, VersionFiles(
        manifest=manifest, entries=entries, rows=rows, vectors=index,
        background=np.concatenate([rejection_vectors, product_vectors]), classifier=model, lists=lists,
        lexical=lexical))
    point_current(out_dir, version)
    cache.save([r.norm for r in rows] + norm_background + norm_courtesy + norm_other
               + linked_texts)
    _prune(out_dir, keep=version)
    summary = BuildSummary(version, final, len(knowledge.entries), len(rows), embedded,
                           time.perf_counter() - started, unchanged=False, links=links)
    log.info("%s", summary)
    return summary


def _prune(out_dir: Path, keep: str) -> None:
    versions = sorted((p for p in out_dir.glob("v-*") if p.is_dir() and p.name != keep),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    for old in versions[KEEP_VERSIONS - 1:]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in out_dir.glob(".tmp-*"):
        if time.time() - stale.stat().st_mtime > 3600:  # a crashed build's leftovers
            shutil.rmtree(stale, ignore_errors=True)
