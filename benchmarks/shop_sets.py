"""Shop knowledge bases for benchmarks/quality.py --shops: folders, labelled questions, gold links.

A shop folder under ``benchmarks/shops/<name>/`` holds its knowledge either as YAML
(``knowledge/``) or as a spreadsheet export (``*.csv`` or ``*.xlsx``: 千牛 quick phrases, an FAQ
or MaxKB sheet), ``questions.jsonl`` (labelled buyer messages with ``split`` dev|test) and
optionally ``links.jsonl`` (gold standard-library links).

A spreadsheet goes through ``assist knowledge import`` (assist/importers), as a shop's would:
titles, categories and ids are the importer's. The labels name entries by a key the importer
does not keep: a 千牛 shortcut code, or a key of ``view.jsonl`` (``{"key", "answer"}``, what the
question writers saw), matched to the imported entry with that answer.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from assist.importers.importer import import_file


@dataclass
class Shop:
    name: str
    knowledge: Path  # a folder load_knowledge reads
    questions: list[dict]  # expected ids already mapped to entry ids
    gold_links: dict[str, list[str]]  # entry id -> library ids


def imported_entries(sheet: Path, knowledge: Path, view: list[dict]) -> dict[str, str]:
    """Import ``sheet`` into ``knowledge``; returns label key -> entry id."""
    report = import_file(sheet, knowledge, out=knowledge)
    entries = yaml.safe_load(report.target.read_text("utf-8"))
    ids = {e["code"]: e["id"] for e in entries if e.get("code")}
    by_answer = {" ".join(e.get("reply", "").split()): e["id"] for e in entries}
    ids.update({row["key"]: by_answer[" ".join(row["answer"].split())] for row in view})
    return ids


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def load_shop(folder: Path, work: Path) -> Shop:
    sheets = sorted([*folder.glob("*.csv"), *folder.glob("*.xlsx")])
    knowledge = work / folder.name
    ids: dict[str, str] = {}
    if sheets:
        knowledge.mkdir(parents=True)
        view = _jsonl(folder / "view.jsonl") if (folder / "view.jsonl").is_file() else []
        ids = imported_entries(sheets[0], knowledge, view)
    else:
        shutil.copytree(folder / "knowledge", knowledge)

    def mapped(expected: str | list[str] | None) -> str | list[str] | None:
        if isinstance(expected, list):
            return [ids.get(e, e) for e in expected]
        return ids.get(expected, expected) if expected else expected

    questions = [{**q, "expected": mapped(q["expected"])} for q in _jsonl(folder / "questions.jsonl")]
    links = folder / "links.jsonl"
    gold = ({ids.get(g["entry"], g["entry"]): g["library"] for g in _jsonl(links)}
            if links.is_file() else {})
    return Shop(folder.name, knowledge, questions, gold)


def shop_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "questions.jsonl").is_file())
