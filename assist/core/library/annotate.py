"""Write proposed library links into hand-written YAML as ``like:`` keys, for an admin to review.

PyYAML cannot write a file back with its comments and layout, so the key is inserted as text
at the end of each entry's block (``load_knowledge`` records where each entry starts), with
the confidences as a comment. Entries that already have ``like`` are never touched; a file
is rewritten only if the result still loads, otherwise nothing is written.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from assist.core.knowledge import Knowledge, KnowledgeError, load_knowledge
from assist.core.library import load_library
from assist.core.library.link import Encode, propose_links

_KEY = re.compile(r"^(?P<indent>\s*(?:-\s+)?)(?P<key>[A-Za-z_]+)\s*:")


def like_line(indent: int, links: list[tuple[str, float]]) -> str:
    ids = ", ".join(name for name, _ in links)
    confidence = ", ".join(f"{name} {c:.2f}" for name, c in links)
    return f"{' ' * indent}like: [{ids}]  # 标准问题库链接(自动建议,请确认): {confidence}\n"


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """Index after the last line of the mapping that starts at ``start``."""
    end = start + 1
    last = start + 1
    while end < len(lines):
        text = lines[end]
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            if len(text) - len(text.lstrip()) < indent:
                break
            last = end + 1
        end += 1
    return last


def annotate_file(lines: list[str], starts: list[tuple[int, list[tuple[str, float]]]]) -> list[str]:
    """``lines`` with a like line after each entry that starts at a given 1-based line."""
    out = list(lines)
    for line_no, links in sorted(starts, reverse=True):  # bottom up keeps line numbers valid
        start = line_no - 1
        match = _KEY.match(out[start])
        if not match or "{" in out[start]:
            continue  # a flow-style mapping: left for a hand edit
        indent = len(match.group("indent"))
        end = _block_end(out, start, indent)
        if out[end - 1] and not out[end - 1].endswith("\n"):
            out[end - 1] += "\n"
        out.insert(end, like_line(indent, links))
    return out


def write_links(knowledge: Knowledge, links: Mapping[str, list[tuple[str, float]]]) -> list[Path]:
    """Insert ``like`` keys for ``links`` (entries without one) into the folder's YAML files.

    Returns the files changed. Raises KnowledgeError (and restores every file) if the
    folder no longer loads afterwards.
    """
    by_file: dict[str, list[tuple[int, list[tuple[str, float]]]]] = {}
    for entry in knowledge.entries:
        if entry.like is None and links.get(entry.id) and entry.id in knowledge.sources:
            name, line = knowledge.sources[entry.id]
            if line:
                by_file.setdefault(name, []).append((line, links[entry.id]))
    backup = Path(tempfile.mkdtemp(prefix="assist-link-"))
    changed: list[Path] = []
    try:
        for name, starts in by_file.items():
            path = knowledge.root / name
            shutil.copy2(path, backup / str(len(changed)))
            lines = path.read_text("utf-8").splitlines(keepends=True)
            path.write_text("".join(annotate_file(lines, starts)), "utf-8")
            changed.append(path)
        try:
            load_knowledge(knowledge.root)
        except KnowledgeError:
            for n, path in enumerate(changed):
                shutil.copy2(backup / str(n), path)
            raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)
    return changed


@dataclass
class LinkProposal:
    """What ``propose_into_yaml`` found and did."""

    linked: dict[str, list[tuple[str, float]]]  # entry id -> [(library id, confidence)]
    pinned: int  # entries that already had ``like`` (left as they are)
    unlinked: int  # entries with no confident link
    files: list[Path]  # files changed (none on a dry run)


def propose_into_yaml(folder: Path, encode: Encode, only: Path | None = None,
                      dry_run: bool = False) -> LinkProposal:
    """Propose library links for the entries of ``folder`` (of the file ``only``, if given)
    that have no ``like`` yet, and write them into their YAML unless ``dry_run``."""
    knowledge = load_knowledge(folder)
    entries = [e for e in knowledge.entries if e.kind in ("script", "policy")
               and (only is None or (folder / knowledge.sources[e.id][0]).resolve() == only.resolve())]
    proposed = propose_links(knowledge.entries, load_library(), encode)
    linked = {e.id: proposed[e.id] for e in entries if e.like is None and e.id in proposed}
    pinned = sum(e.like is not None for e in entries)
    files = [] if dry_run or not linked else write_links(knowledge, linked)
    return LinkProposal(linked, pinned, len(entries) - len(linked) - pinned, files)
