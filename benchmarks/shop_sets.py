"""Shop knowledge bases for benchmarks/quality.py --shops: folders, labelled questions, gold links.

A shop folder under ``benchmarks/shops/<name>/`` holds its knowledge either as YAML
(``knowledge/``) or as a 千牛 quick-phrase export (``*.csv``), ``questions.jsonl`` (labelled
buyer messages with ``split`` dev|test) and ``links.jsonl`` (gold standard-library links).

The 千牛 reader here is deliberately tiny (UTF-8 with BOM, the three fixed columns) and only for
the benchmark until ``assist knowledge import`` lands; it maps the shortcut code to an id.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

QIANNIU_HEADER = ["快捷短语编码", "快捷短语", "快捷短语分组"]


@dataclass
class Shop:
    name: str
    knowledge: Path  # a folder load_knowledge reads
    questions: list[dict]  # expected ids already mapped to entry ids
    gold_links: dict[str, list[str]]  # entry id -> library ids


def code_to_id(code: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", code).strip("-.") or "x"
    return f"qn-{slug}"


def qianniu_entries(path: Path) -> list[dict]:
    rows = list(csv.reader(path.read_text("utf-8-sig").splitlines()))
    if rows[0] != QIANNIU_HEADER:
        raise ValueError(f"{path}: not a 千牛 quick-phrase export (header {rows[0]})")
    entries = []
    for code, phrase, group in rows[1:]:
        category = "/".join(p.strip() for p in group.split("=>") if p.strip()) or "未分组"
        entries.append({"id": code_to_id(code), "kind": "script", "category": category,
                        "code": code, "reply": phrase})
    return entries


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def load_shop(folder: Path, work: Path) -> Shop:
    csvs = sorted(folder.glob("*.csv"))
    ids: dict[str, str] = {}
    if csvs:
        knowledge = work / folder.name
        knowledge.mkdir(parents=True)
        entries = qianniu_entries(csvs[0])
        ids = {e["code"]: e["id"] for e in entries}
        (knowledge / "imported.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True),
                                                 "utf-8")
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
