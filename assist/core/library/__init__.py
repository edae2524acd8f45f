"""The standard question library: buyer phrasings over the standard situations of shop CS.

Generated from the shipped knowledge base (``scripts/build_library.py``) into
``data/library.json`` beside this module, so it ships inside the wheel and a shop's knowledge
folder need not contain it. At build time every script and policy of a shop's folder is linked
to the library entries that confidently cover the same situation (``link.py``) and also
matches their phrasings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from assist.core.knowledge import COURTESY_TAG, Entry

LIBRARY_FILE = "data/library.json"
LIBRARY_KINDS = ("script", "policy")  # risk entries are not borrowed: risk has its own stage


@dataclass(frozen=True)
class LibraryEntry:
    id: str
    kind: Literal["script", "policy"]
    category: str
    title: str
    answer: str  # a script's reply or a policy's text
    questions: tuple[str, ...]
    courtesy: bool = False


@dataclass(frozen=True)
class Library:
    entries: tuple[LibraryEntry, ...]

    def by_id(self) -> dict[str, LibraryEntry]:
        return {e.id: e for e in self.entries}

    def to_json(self) -> str:
        data = [{"id": e.id, "kind": e.kind, "category": e.category, "title": e.title,
                 "answer": e.answer, "questions": list(e.questions),
                 **({"courtesy": True} if e.courtesy else {})} for e in self.entries]
        return json.dumps({"entries": data}, ensure_ascii=False, indent=1) + "\n"


def library_from_entries(entries: list[Entry]) -> Library:
    """The library made from a knowledge base's scripts and policies that have phrasings."""
    return Library(tuple(
        LibraryEntry(id=e.id, kind=e.kind, category=e.category,  # type: ignore[arg-type]
                     title=e.display_title, answer=(e.reply if e.kind == "script" else e.text) or "",
                     questions=tuple(e.questions), courtesy=COURTESY_TAG in e.tags)
        for e in entries if e.kind in LIBRARY_KINDS and e.questions))


def load_library() -> Library:
    """The packaged library (data/library.json)."""
    raw = resources.files("assist.core.library").joinpath(LIBRARY_FILE).read_text("utf-8")
    return Library(tuple(LibraryEntry(**{**e, "questions": tuple(e["questions"])})
                         for e in json.loads(raw)["entries"]))
