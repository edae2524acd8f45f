"""Source files written fresh in each test: CSV in a given encoding, XLSX through openpyxl."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook

QIANNU_HEADER = ["快捷短语编码", "快捷短语", "快捷短语分组"]
QIANNU_ROWS = [
    ["/hi", "亲,您好~欢迎光临小鹿美妆,有什么可以帮您的吗?", "欢迎语"],
    ["gq", "亲,面霜保质期3年,开封后建议12个月内用完哦~", "售前=>保质期"],
    ["mg", "亲,敏感肌建议先在耳后试用,24小时没有泛红刺痛再正常使用~", "售前=>肤质"],
    ["", "亲,赠品随单发出,数量有限送完为止哦~", ""],
    ["th", "亲,未拆封7天无理由退换,\n拆封后如过敏请拍照联系我们~", "售后=>退换=>过敏"],
]


def write_csv(path: Path, rows: Sequence[Sequence[str]], encoding: str = "utf-8-sig",
              delimiter: str = ",") -> Path:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty knowledge folder with one unrelated hand-written file."""
    root = tmp_path / "knowledge"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "own.yaml").write_text(
        "- id: own-greeting\n  kind: script\n  category: 通用/问候\n  questions: [在吗]\n"
        "  reply: 在的亲~\n", encoding="utf-8")
    return root


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """Where the source spreadsheets of a test go (outside the knowledge folder)."""
    path = tmp_path / "src"
    path.mkdir()
    return path


@pytest.fixture
def qianniu_csv(src: Path) -> Path:
    return write_csv(src / "phrases.csv", [QIANNU_HEADER, *QIANNU_ROWS])


def read_yaml(path: Path) -> list[dict]:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))
