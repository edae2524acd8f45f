"""The knowledge-folder contract: YAML files of scripts, policies and risk patterns.

``load_knowledge`` validates a whole folder and reports every problem with file, entry and
line, so an admin can fix a broken folder in one pass. See knowledge/README.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assist.core.models import RiskType, Severity

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
COURTESY_TAG = "courtesy"
MIN_RISK_QUESTIONS = 1  # the semantic risk stage matches on examples only


class Entry(BaseModel):
    """One knowledge entry exactly as written in YAML (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=ID_PATTERN, max_length=128)
    kind: Literal["script", "policy", "risk"]
    category: str = Field(min_length=1)
    title: str | None = None
    questions: list[str] = Field(default_factory=list)
    reply: str | None = None
    text: str | None = None
    tags: list[str] = Field(default_factory=list)
    code: str | None = Field(None, max_length=64,
                             description="quick-phrase shortcut code of the chat tool (千牛 快捷短语编码)")
    like: list[str] | None = Field(
        None, description="standard-library entries this one borrows phrasings from: absent = "
                          "linked automatically at build time, [] = no links, a list = pinned")
    risk_type: RiskType | None = None
    severity: Severity | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Entry:
        if any(not q for q in self.questions):
            raise ValueError("questions must not contain empty strings")
        need: dict[str, tuple[str, ...]] = {
            "script": ("reply",),
            "policy": ("text",),
            "risk": ("risk_type", "severity", "reason", "reply"),
        }
        missing = [name for name in need[self.kind] if not getattr(self, name)]
        if missing:
            raise ValueError(f"kind '{self.kind}' needs non-empty: {', '.join(missing)}")
        # A script without questions is a quick phrase: matched on its title, category and reply.
        if self.kind == "risk" and len(self.questions) < MIN_RISK_QUESTIONS:
            raise ValueError("kind 'risk' needs at least one example in 'questions'")
        return self

    @property
    def display_title(self) -> str:
        return self.title or self.category.rsplit("/", 1)[-1]

    @property
    def is_courtesy(self) -> bool:
        return COURTESY_TAG in self.tags


THIN_BELOW_QUESTIONS = 3  # a script with fewer own example questions is a thin one


def thin_share(entries: Sequence[Entry]) -> float:
    """Share of the scripts that have fewer than ``THIN_BELOW_QUESTIONS`` own questions."""
    scripts = [e for e in entries if e.kind == "script"]
    if not scripts:
        return 0.0
    return sum(len(e.questions) < THIN_BELOW_QUESTIONS for e in scripts) / len(scripts)


def category_words(category: str) -> str:
    """The most specific part of a category path ("售后/保修" -> "保修"; "售后=>保修" too)."""
    return category.replace("=>", "/").rsplit("/", 1)[-1].strip()


@dataclass(frozen=True)
class Problem:
    """One validation error, located as precisely as the file allows."""

    file: str
    line: int | None
    entry: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        who = f" [{self.entry}]" if self.entry else ""
        return f"{where}{who}: {self.message}"


class KnowledgeError(Exception):
    """The folder has problems; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the knowledge folder:\n" + "\n".join(
            f"  {p}" for p in problems
        ))


@dataclass
class Knowledge:
    """A validated folder: entries in a stable order, and where each came from."""

    root: Path
    entries: list[Entry]
    sources: dict[str, tuple[str, int]] = field(default_factory=dict)

    def content_hash(self) -> str:
        payload = json.dumps([e.model_dump() for e in self.entries], ensure_ascii=False,
                             sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    def by_kind(self, kind: str) -> list[Entry]:
        return [e for e in self.entries if e.kind == kind]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of each mapping, for error messages."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def knowledge_files(root: Path) -> Iterator[Path]:
    """YAML files under ``root``, recursively, in a stable order (hidden folders skipped)."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.suffix in (".yaml", ".yml") and path.is_file() and not any(
            part.startswith(".") for part in relative.parts
        ):
            yield path


def _read_file(path: Path, name: str, problems: list[Problem]) -> list[dict]:
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, None, None, f"not UTF-8 ({exc.reason} at byte {exc.start})"))
        return []
    try:
        data = yaml.load(raw, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problems.append(Problem(name, line, None, f"malformed YAML: {getattr(exc, 'problem', exc)}"))
        return []
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(Problem(name, 1, None, "expected a list of entries at the top level"))
        return []
    items = []
    for position, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(name, None, f"#{position}", "entry is not a mapping"))
        else:
            items.append(item)
    return items


def _describe(error: ValidationError) -> list[str]:
    messages = []
    for err in error.errors():
        where = ".".join(str(part) for part in err["loc"])
        if err["type"] == "extra_forbidden":
            messages.append(f"unknown key '{where}'")
        elif err["type"] == "missing":
            messages.append(f"missing field '{where}'")
        else:
            messages.append(f"{where + ': ' if where else ''}{err['msg']}")
    return messages


def load_knowledge(root: Path) -> Knowledge:
    """Load and validate every YAML file under ``root``; raise KnowledgeError listing all problems."""
    root = Path(root)
    if not root.is_dir():
        raise KnowledgeError([Problem(str(root), None, None, "knowledge folder not found")])
    problems: list[Problem] = []
    entries: list[Entry] = []
    sources: dict[str, tuple[str, int]] = {}
    for path in knowledge_files(root):
        name = str(path.relative_to(root))
        for position, item in enumerate(_read_file(path, name, problems), start=1):
            line = item.pop("__line__", None)
            label = str(item.get("id") or f"#{position}")
            try:
                entry = Entry.model_validate(item)
            except ValidationError as exc:
                problems.extend(Problem(name, line, label, m) for m in _describe(exc))
                continue
            if entry.id in sources:
                first_file, first_line = sources[entry.id]
                problems.append(Problem(name, line, entry.id,
                                        f"duplicate id (first defined at {first_file}:{first_line})"))
                continue
            sources[entry.id] = (name, line or 0)
            entries.append(entry)
    if problems:
        raise KnowledgeError(problems)
    if not entries:
        raise KnowledgeError([Problem(str(root), None, None, "no entries found in *.yaml / *.yml")])
    return Knowledge(root=root, entries=entries, sources=sources)
