"""The learning loop: add a buyer phrasing to an entry's ``questions`` in the knowledge folder.

The file is edited in place so that a reviewer's diff is one added line: the new item is
inserted after the last existing question, in the same style (block ``- item`` or flow
``[a, b]``), and comments and layout elsewhere stay untouched. Where the layout is unusual
(no ``questions`` key yet, a flow list over several lines) ruamel.yaml's round-trip writer does
the edit instead. Either way the result is parsed back and the whole folder re-validated before
the file is replaced (atomically); on any doubt nothing is written.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

from assist.core.knowledge import KnowledgeError, load_knowledge
from assist.core.textnorm import normalise

_LOCK = threading.Lock()  # one edit of the knowledge folder at a time (API threads, CLI)
_KEY = re.compile(r"^(?P<indent>[ ]*)(?:-[ ]+)*")
MAX_QUESTION_CHARS = 200


class PromoteError(ValueError):
    """The phrasing cannot be promoted; the message says why (nothing was written)."""


@dataclass(frozen=True)
class Promoted:
    entry_id: str
    file: str
    question: str
    added: bool  # False: the entry already had this phrasing


def promote_question(knowledge_dir: Path, entry_id: str, question: str) -> Promoted:
    """Append ``question`` to entry ``entry_id``'s questions; re-index afterwards to use it."""
    question = " ".join(question.split())
    if not question or not normalise(question).has_content:
        raise PromoteError("the message has no text to learn from (only links, numbers or emoji)")
    if len(question) > MAX_QUESTION_CHARS:
        raise PromoteError(f"the phrasing is {len(question)} characters; at most "
                           f"{MAX_QUESTION_CHARS} make a useful example question")
    with _LOCK:
        knowledge = load_knowledge(knowledge_dir)
        entry = next((e for e in knowledge.entries if e.id == entry_id), None)
        if entry is None:
            raise PromoteError(f"no entry {entry_id!r} in {knowledge_dir}")
        name, line = knowledge.sources[entry_id]
        if question in entry.questions:
            return Promoted(entry_id, name, question, added=False)
        path = Path(knowledge_dir) / name
        original = path.read_text(encoding="utf-8")
        expected = [*entry.questions, question]
        edited = _insert_lines(original, line, question)
        if edited is None or _questions_in(edited, entry_id) != expected:
            edited = _insert_roundtrip(original, entry_id, question)
            if _questions_in(edited, entry_id) != expected:
                raise PromoteError(f"could not edit {name} safely; add the phrasing by hand")
        _replace(path, edited)
        try:
            load_knowledge(knowledge_dir)
        except KnowledgeError as exc:
            _replace(path, original)
            raise PromoteError(f"the edit would break the knowledge folder, left unchanged: {exc}") from exc
    return Promoted(entry_id, name, question, added=True)


def _insert_lines(text: str, entry_line: int, question: str) -> str | None:
    """Insert after the last question of the entry starting at ``entry_line`` (1-based), or None."""
    lines = text.splitlines(keepends=True)
    start = entry_line - 1
    if not 0 <= start < len(lines):
        return None
    key_col = _KEY.match(lines[start]).end()  # type: ignore[union-attr]
    for i in range(start, len(lines)):
        if i > start and _ends_entry(lines[i], key_col):
            return None
        if i == start or _indent(lines[i]) == key_col:
            match = re.match(r"questions[ ]*:(?P<rest>.*)$", lines[i][key_col:].rstrip("\r\n"))
            if match:
                return _insert_at(lines, i, match.group("rest"), key_col, question)
    return None


def _insert_at(lines: list[str], i: int, rest: str, key_col: int, question: str) -> str | None:
    value = rest.split(" #", 1)[0].strip()
    if value.startswith("["):
        if not value.endswith("]"):
            return None  # a flow list over several lines
        close = lines[i].rindex("]", 0, len(lines[i].split(" #", 1)[0].rstrip()) + 1)
        inner = value[1:-1].strip()
        item = _scalar(question, flow=True)
        lines[i] = lines[i][:close] + (", " if inner else "") + item + lines[i][close:]
        return "".join(lines)
    if value:
        return None
    last, dash_col = None, None
    for j in range(i + 1, len(lines)):
        body = lines[j].strip()
        if not body or body.startswith("#"):
            continue
        indent = _indent(lines[j])
        if dash_col is None and body.startswith("- ") and indent >= key_col:
            dash_col = indent
        if dash_col is None or indent < dash_col or (indent == dash_col and not body.startswith("-")):
            break
        last = j
    if last is None or dash_col is None:
        return None
    newline = "\r\n" if lines[last].endswith("\r\n") else "\n"
    if not lines[last].endswith("\n"):
        lines[last] += newline
    lines.insert(last + 1, " " * dash_col + "- " + _scalar(question, flow=False) + newline)
    return "".join(lines)


def _ends_entry(line: str, key_col: int) -> bool:
    body = line.strip()
    return bool(body) and not body.startswith("#") and _indent(line) < key_col


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _scalar(text: str, flow: bool) -> str:
    """``text`` as a YAML scalar: plain where it reads back unchanged, else double-quoted."""
    probe = f"[{text}]" if flow else f"- {text}"
    try:
        if yaml.safe_load(probe) == [text]:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _insert_roundtrip(text: str, entry_id: str, question: str) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedSeq
    from ruamel.yaml.util import load_yaml_guess_indent

    _, indent, offset = load_yaml_guess_indent(text)
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=indent or 2, sequence=(indent or 2) + (offset or 0), offset=offset or 0)
    data = rt.load(text)
    for item in data:
        if isinstance(item, dict) and item.get("id") == entry_id:
            questions = item.get("questions")
            if questions is None:
                item["questions"] = CommentedSeq([question])
            else:
                questions.append(question)
    out = io.StringIO()
    rt.dump(data, out)
    return out.getvalue()


def _questions_in(text: str, entry_id: str) -> list[str] | None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and item.get("id") == entry_id:
            return [str(q) for q in item.get("questions") or []]
    return None


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
