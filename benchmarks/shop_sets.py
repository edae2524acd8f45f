"""Shop knowledge bases for benchmarks/quality.py --shops: folders, labelled questions, gold links.

A shop folder under ``benchmarks/shops/<name>/`` holds its knowledge either as YAML
(``knowledge/``) or as a 千牛 quick-phrase export (``*.csv``), ``questions.jsonl`` (labelled
buyer messages with ``split`` dev|test) and ``links.jsonl`` (gold standard-library links).

A 千牛 export goes through ``assist knowledge import`` (assist/importers), as a shop's would:
titles, categories and ids are the importer's; the labels' shortcut codes map to its ids.
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


def imported_entries(csv_path: Path, knowledge: Path) -> dict[str, str]:
    """Import a 千牛 export into ``knowledge``; returns shortcut code -> entry id."""
    report = import_file(csv_path, knowledge, out=knowledge)
    entries = yaml.safe_load(report.target.read_text("utf-8"))
    return {e["code"]: e["id"] for e in entries if e.get("code")}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def load_shop(folder: Path, work: Path) -> Shop:
    csvs = sorted(folder.glob("*.csv"))
    ids: dict[str, str] = {}
    if csvs:
        knowledge = work / folder.name
        knowledge.mkdir(parents=True)
        ids = imported_entries(csvs[0], knowledge)
    else:
        knowledge = work / folder.name
        shutil.copytree(folder / "knowledge", knowledge)

    def mapped(expected: str | list[str] | None) -> str | list[str] | None:
        if isinstance(expected, list):
            return [ids.get(e, e) for e in expected]
        return ids.get(expected, expected) if expected else expected

    questions = [{**q, "expected": mapped(q["expected"])} for q in _jsonl(folder / "questions.jsonl")]
    gold = {ids.get(g["entry"], g["entry"]): g["library"] for g in _jsonl(folder / "links.jsonl")}
    return Shop(folder.name, knowledge, questions, gold)


def shop_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "questions.jsonl").is_file())
