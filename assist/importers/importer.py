"""``import_file``: a quick-phrase or FAQ file into one YAML file of the knowledge folder.

Re-importing the same file updates that YAML file in place. The rules (knowledge/README.md,
"Re-importing"):

- keys the source owns are rewritten from it: ``kind``, ``category``, ``title``, ``code``,
  ``reply`` and the source's questions;
- everything else an admin edits in the YAML survives: ``tags``, ``like``, questions added by
  hand (or by ``assist qa promote``), any other key, and whole entries added to the file;
- entries whose row is gone from the source are removed (``keep_removed`` keeps them) and
  reported.

What the last import wrote is kept next to the YAML in ``.import/<name>.json`` (the loader
skips hidden folders); it is how a question or entry added by hand is told apart from one the
source has since dropped. Without it (first import, or deleted) nothing in the YAML is
dropped except entries absent from the source.

The result is validated with the whole knowledge folder before anything is written, and
files are replaced atomically: a rejected file writes nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from assist.core.knowledge import KnowledgeError, knowledge_files, load_knowledge
from assist.core.textnorm import normalise
from assist.importers import faq, maxkb, qianniu
from assist.importers.errors import ImportRejected, SourceProblem
from assist.importers.ids import assign_ids, prefix_for
from assist.importers.sheet import Draft, Table, find_columns, read_tables
from assist.importers.yaml_writer import Links, render_entries

Format = Literal["auto", "qianniu", "faq", "maxkb"]
FORMATS: tuple[str, ...] = ("auto", "qianniu", "faq", "maxkb")
OWNED_KEYS = ("kind", "category", "title", "code", "reply")  # plus the source's questions
STATE_DIR = ".import"
_PARSERS: dict[str, Callable[[Table], tuple[list[Draft], list[SourceProblem]]]] = {
    "qianniu": qianniu.parse, "faq": faq.parse, "maxkb": maxkb.parse,
}


@dataclass
class ImportReport:
    source: str
    target: Path
    formats: list[str]
    encoding: str | None
    entries: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)  # gone from the source (deleted or kept)
    kept_removed: bool = False
    kept_by_hand: list[str] = field(default_factory=list)  # entries added to the YAML by hand
    overwritten: list[str] = field(default_factory=list)  # "id.key" hand edits of imported keys
    warnings: list[str] = field(default_factory=list)
    written: bool = False

    def __str__(self) -> str:
        lines = [f"{self.source} ({'/'.join(self.formats)}"
                 + (f", {self.encoding}" if self.encoding else "") + f"): {self.entries} entries "
                 f"-> {self.target}",
                 f"  {len(self.added)} new, {len(self.updated)} updated, {self.unchanged} unchanged, "
                 f"{len(self.removed)} no longer in the file"
                 + (" (kept)" if self.kept_removed and self.removed else " (removed)" if self.removed
                    else "")]
        if self.removed:
            lines.append("  no longer in the file: " + ", ".join(self.removed))
        if self.kept_by_hand:
            lines.append("  kept, added by hand: " + ", ".join(self.kept_by_hand))
        if self.overwritten:
            lines.append("  hand edits replaced by the file's values: " + ", ".join(self.overwritten))
        lines.extend(f"  warning: {w}" for w in self.warnings)
        if not self.written:
            lines.append("  nothing written" + (" (no changes)" if not self.changed else ""))
        return "\n".join(lines)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or (self.removed and not self.kept_removed))


def read_drafts(path: Path, fmt: Format = "auto") -> tuple[list[Draft], list[str], str | None,
                                                            list[str]]:
    """Parse ``path``: drafts, formats seen, encoding, warnings; ImportRejected on problems."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    tables = read_tables(path)
    drafts: list[Draft] = []
    problems: list[SourceProblem] = []
    formats: list[str] = []
    warnings: list[str] = []
    for table in tables:
        detected = _detect(table)
        if detected is None and table.sheet is not None and len(tables) > 1 \
                and not _closest(table):
            warnings.append(f"sheet {table.sheet!r} skipped: its first row names no known column")
            continue
        chosen = (detected or _closest(table)) if fmt == "auto" else fmt
        if chosen is None:
            header = ", ".join(c for c in table.rows[0].cells if c) if table.rows else "(empty)"
            problems.append(table.problem(
                f"format not recognised from the header ({header}); expected a 千牛 export "
                f"({','.join(qianniu.HEADER)}), an FAQ sheet ({','.join(faq.HEADER)}), a MaxKB "
                f"sheet ({','.join(maxkb.HEADER)}) or two columns question,answer", row=1))
            continue
        found, table_problems = _PARSERS[chosen](table)
        drafts.extend(found)
        problems.extend(table_problems)
        if chosen not in formats:
            formats.append(chosen)
    if not drafts and not problems:
        problems.append(SourceProblem(path.name, "no rows to import"))
    if problems:
        raise ImportRejected(problems)
    warnings.extend(shared_questions(drafts))
    return drafts, formats, tables[0].encoding if tables else None, warnings


def shared_questions(drafts: list[Draft]) -> list[str]:
    """A warning for each question that two or more rows list: their entries would compete for
    it (and the classifier learns it both ways), so it belongs to one of them."""
    rows: dict[str, tuple[str, list[Draft]]] = {}
    for draft in drafts:
        seen = set()
        for question in draft.questions:
            # the same question whatever its punctuation, spacing or width (能退吗 / 能退吗？)
            key = "".join(c for c in normalise(question).text if c.isalnum())
            if key and key not in seen:
                seen.add(key)
                rows.setdefault(key, (question, []))[1].append(draft)
    return [f"question {question!r} is in {len(owners)} rows ({', '.join(d.where for d in owners)}): "
            "keep it in the one whose answer fits it"
            for question, owners in rows.values() if len(owners) > 1]


def _detect(table: Table) -> str | None:
    if qianniu.matches(table):
        return "qianniu"
    if maxkb.matches(table):
        return "maxkb"
    if faq.matches(table):
        return "faq"
    # Two columns read as question,answer only when the first row names no known column: a
    # 千牛 export that lost its phrase column must fail as 千牛, not import its header as an FAQ.
    if _closest(table) is None and faq.headerless(table):
        return "faq"
    return None


def _closest(table: Table) -> str | None:
    """The format most of whose columns the header names (for a sheet missing some), if any."""
    if not table.rows:
        return None
    counts = {name: len(find_columns(table.rows[0], module.ALIASES))
              for name, module in (("faq", faq), ("maxkb", maxkb), ("qianniu", qianniu))}
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] else None


def import_file(path: Path, knowledge: Path, out: Path | None = None, fmt: Format = "auto",
                id_prefix: str | None = None, keep_removed: bool = False,
                links: Links | None = None, dry_run: bool = False) -> ImportReport:
    """Import ``path`` into ``out`` (default ``<knowledge>/imported``) as ``<stem>.yaml``.

    ``links`` (entry id -> [(library id, confidence)]) are written as ``like:`` with the
    confidences as a comment, for entries without a ``like`` of their own.
    """
    path, knowledge = Path(path), Path(knowledge)
    out_dir = Path(out) if out is not None else knowledge / "imported"
    target = out_dir / f"{path.stem}.yaml"
    drafts, formats, encoding, warnings = read_drafts(path, fmt)
    ids, problems = assign_ids(drafts, id_prefix or prefix_for(path.stem))
    if problems:
        raise ImportRejected(problems)
    report = ImportReport(path.name, target, formats, encoding, entries=len(drafts),
                          kept_removed=keep_removed, warnings=warnings)
    imported = [_owned(entry_id, draft) for entry_id, draft in zip(ids, drafts, strict=True)]
    existing = _read_existing(target)
    state, last_source = _read_state(_state_path(target))
    if last_source and last_source != path.name:
        report.warnings.append(f"{target.name} was last imported from {last_source}; this import "
                               "replaces its entries (use --out or rename the file to keep both)")
    # The confidences of links proposed at an earlier import stay on their `like:` line.
    links = {**_like_comments(target), **(links or {})}
    entries = _merge(imported, existing, state, keep_removed, links, report)
    header = (f"Imported from {path.name} by `assist knowledge import` ({'/'.join(formats)}).\n"
              f"Re-importing it rewrites {', '.join(OWNED_KEYS)} and the file's questions;\n"
              "tags, like, questions and entries added here are kept (knowledge/README.md).")
    text = render_entries(entries, header=header, links=links)
    _check_roundtrip(text, entries, path.name)
    _validate(knowledge, target, text)
    recorded = {e["id"]: e for e in imported}
    if keep_removed:  # still imported entries: a later import may drop them
        recorded.update({i: (state or {}).get(i) or _owned_part(e) for e in existing
                         if (i := e.get("id")) in report.removed})
    new_state = {"source": path.name, "formats": formats, "entries": recorded}
    if dry_run:
        return report
    old_text = target.read_text(encoding="utf-8") if target.is_file() else None
    if text != old_text:
        _atomic_write(target, text)
        report.written = True
    state_text = json.dumps(new_state, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    state_path = _state_path(target)
    if not state_path.is_file() or state_path.read_text(encoding="utf-8") != state_text:
        _atomic_write(state_path, state_text)
    return report


def _owned(entry_id: str, draft: Draft) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": entry_id, "kind": "script", "category": draft.category,
                             "title": draft.title}
    if draft.code:
        entry["code"] = draft.code
    if draft.questions:
        entry["questions"] = list(draft.questions)
    entry["reply"] = draft.reply
    return entry


def _owned_part(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k in ("id", "questions", *OWNED_KEYS)}


def _merge(imported: list[dict[str, Any]], existing: list[dict[str, Any]],
           state: dict[str, dict[str, Any]] | None, keep_removed: bool, links: Links,
           report: ImportReport) -> list[dict[str, Any]]:
    by_id = {e["id"]: e for e in existing if isinstance(e.get("id"), str)}
    new_ids = {e["id"] for e in imported}
    merged = []
    for entry in imported:
        old = by_id.get(entry["id"])
        proposed = links.get(entry["id"])
        # A like of the entry's own (the admin's, even []) is never replaced by a proposal.
        if proposed and "like" not in (old or {}):
            entry = {**entry, "like": [library_id for library_id, _ in proposed]}
        if old is None:
            report.added.append(entry["id"])
            merged.append(entry)
            continue
        before = (state or {}).get(entry["id"])
        result = dict(entry)
        # Questions the last import did not write were added by hand: they stay, after the file's.
        last_imported = set(before.get("questions", [])) if before else set()
        own = [q for q in old.get("questions") or [] if isinstance(q, str)
               and q not in last_imported and q not in entry.get("questions", [])]
        if entry.get("questions") or own:
            result["questions"] = [*entry.get("questions", []), *own]
        for key, value in old.items():
            if key not in OWNED_KEYS and key not in ("id", "questions"):
                result[key] = value
        if before:
            report.overwritten.extend(
                f"{entry['id']}.{key}" for key in OWNED_KEYS
                if old.get(key) != before.get(key) and old.get(key) != entry.get(key))
        if result == old:
            report.unchanged += 1
        else:
            report.updated.append(entry["id"])
        merged.append(result)
    for old in existing:
        entry_id = old.get("id")
        if entry_id in new_ids:
            continue
        if state is not None and entry_id not in state:
            report.kept_by_hand.append(str(entry_id))
            merged.append(old)
        else:
            report.removed.append(str(entry_id))
            if keep_removed:
                merged.append(old)
    return merged


_ENTRY_ID = re.compile(r"^- id:\s*(\S+)\s*$")
_LIKE_LINE = re.compile(r"^\s+like:\s*\[([^\]]*)\]\s*#\s*([0-9., ]+)$")


def _like_comments(target: Path) -> Links:
    """{entry id: [(library id, confidence)]} from the ``like: [...]  # 0.91`` lines of ``target``."""
    if not target.is_file():
        return {}
    found: dict[str, list[tuple[str, float]]] = {}
    entry_id = None
    for line in target.read_text(encoding="utf-8", errors="replace").splitlines():
        if match := _ENTRY_ID.match(line):
            entry_id = match.group(1)
        elif (match := _LIKE_LINE.match(line)) and entry_id:
            ids = [part.strip() for part in match.group(1).split(",") if part.strip()]
            scores = [part.strip() for part in match.group(2).split(",") if part.strip()]
            if len(ids) == len(scores):
                try:
                    found[entry_id] = [(i, float(s)) for i, s in zip(ids, scores, strict=True)]
                except ValueError:
                    continue
    return found


def _read_existing(target: Path) -> list[dict[str, Any]]:
    if not target.is_file():
        return []
    try:
        data = yaml.safe_load(target.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ImportRejected([SourceProblem(str(target), f"the existing file cannot be read ({exc}); "
                                                         "fix it or move it away first")]) from exc
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise ImportRejected([SourceProblem(str(target), "the existing file is not a list of "
                                                         "entries; fix it or move it away first")])
    return data


def _state_path(target: Path) -> Path:
    return target.parent / STATE_DIR / f"{target.stem}.json"


def _read_state(path: Path) -> tuple[dict[str, dict[str, Any]] | None, str | None]:
    """What the last import wrote (entries by id) and its source file name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["entries"]
        if isinstance(entries, dict):
            return entries, str(data.get("source") or "")
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None, None  # no record: treat every entry as imported, drop no question


def _check_roundtrip(text: str, entries: list[dict[str, Any]], source: str) -> None:
    """The YAML must read back as exactly the entries meant (a guard on the writer)."""
    if yaml.safe_load(text) != entries:
        raise ImportRejected([SourceProblem(source, "internal error: the YAML written would not "
                                                    "read back unchanged; nothing was written")])


def _validate(knowledge: Path, target: Path, text: str) -> None:
    """Load the folder the target belongs to, with the new text in place, in a scratch copy."""
    root = knowledge if _is_within(target, knowledge) else target.parent
    with tempfile.TemporaryDirectory(prefix="assist-import-") as scratch:
        copy = Path(scratch)
        if root.is_dir():
            for path in knowledge_files(root):
                if path.resolve() != target.resolve():
                    dest = copy / path.relative_to(root)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dest)
        dest = copy / target.resolve().relative_to(root.resolve())
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
        try:
            load_knowledge(copy)
        except KnowledgeError as exc:
            raise ImportRejected([SourceProblem(
                str(root), f"the knowledge folder would not load with the import: {p}")
                for p in exc.problems]) from exc


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
