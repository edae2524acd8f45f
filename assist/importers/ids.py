"""Entry ids that stay the same when the same file is imported again.

An id is ``<prefix>-<part>``: the prefix is the file stem as a slug (so two imported files
never collide), the part is the shortcut code where the source has one (``quick_phrases-hi``
for 千牛 code ``/hi``) and otherwise a short hash of what identifies the row (the standard
question, the segment title). Codes that slug to the same text (``/hi`` and ``hi``) are told
apart deterministically: a code that already is a valid id keeps the plain form, the others
get a hash of the raw code appended. So ids depend on the rows' content, never on their order.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict

from assist.importers.errors import SourceProblem
from assist.importers.sheet import Draft

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_PREFIX = 48
MAX_PART = 60


def slug(text: str) -> str:
    """Letters, digits and - _ . only; empty when nothing of ``text`` survives (Chinese)."""
    text = _UNSAFE.sub("-", unicodedata.normalize("NFKC", text))
    return re.sub(r"-{2,}", "-", text).strip("-_.")


def short_hash(text: str, length: int = 8) -> str:
    canonical = " ".join(unicodedata.normalize("NFKC", text).lower().split())
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:length]


def prefix_for(stem: str) -> str:
    """The id prefix of a file: its stem as a slug, or a hash of it for a name like 快捷短语."""
    return (slug(stem).lower()[:MAX_PREFIX].rstrip("-_.") or f"import-{short_hash(stem, 6)}")


def assign_ids(drafts: list[Draft], prefix: str) -> tuple[list[str], list[SourceProblem]]:
    """One id per draft (same order); problems for rows that still collide (hash collisions)."""
    bases = []
    for draft in drafts:
        part = slug(draft.id_base)[:MAX_PART] if draft.id_base else ""
        draft.exact = bool(part) and part == draft.id_base
        bases.append(f"{prefix}-{part or short_hash(draft.id_key)}")
    by_base: dict[str, list[int]] = defaultdict(list)
    for index, base in enumerate(bases):
        by_base[base].append(index)
    ids = list(bases)
    for base, members in by_base.items():
        if len(members) < 2:
            continue
        keeps_plain = [i for i in members if drafts[i].exact]
        for i in members:
            if keeps_plain != [i]:
                draft = drafts[i]
                ids[i] = f"{base}-{short_hash(draft.id_base or _content(draft), 6)}"
    problems = []
    first: dict[str, Draft] = {}
    for draft, entry_id in zip(drafts, ids, strict=True):
        if entry_id in first:
            problems.append(draft.table.problem(
                f"same entry as {first[entry_id].where} (id {entry_id}); remove one of the rows",
                row=draft.row))
        else:
            first[entry_id] = draft
    return ids, problems


def _content(draft: Draft) -> str:
    return "\n".join([draft.category, draft.title, *draft.questions, draft.reply])
