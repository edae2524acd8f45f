"""Generated broken and odd spreadsheets (hypothesis): an import either succeeds with a folder that
loads, or is ImportRejected naming the problem; it never raises anything else or half-writes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assist.core.knowledge import load_knowledge
from assist.importers import ImportRejected, import_file

HEADERS = [["快捷短语编码", "快捷短语", "快捷短语分组"], ["标准问题", "相似问题", "答案", "分类"],
           ["分段标题", "分段内容", "问题"], ["question", "answer"], []]
# Cells as chat exports contain them: Chinese, full-width forms, emoji, control and invisible
# characters, quotes and separators, very long values, empty ones.
ODD = "亲您好发货退款能吗？，,|\n\r\t\"' =>/ＡＢ０１😀\u200b\u202e\u2028\x85\x00\x0b\x1b"
CELL = (st.text(alphabet=st.sampled_from(list(ODD + "abcXYZ0123456789")), max_size=40)
        | st.just("") | st.text(max_size=3000))
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"])


def test_control_characters_in_cells_are_dropped_and_the_yaml_loads(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    path = tmp_path / "phrases.csv"
    path.write_text(_csv(["快捷短语编码", "快捷短语", "快捷短语分组"],
                         [["/a", "亲,\x00退款1-3天\x0b到账\u2028请放心~\x1b", "售后\x07"]]), "utf-8")
    report = import_file(path, knowledge)
    entry = load_knowledge(knowledge).entries[0]
    assert report.written and entry.reply == "亲,退款1-3天\n到账\n请放心~" and entry.category == "售后"


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _import_is_clean(path: Path, knowledge: Path) -> None:
    before = sorted(p.name for p in knowledge.rglob("*"))
    try:
        report = import_file(path, knowledge)
    except ImportRejected as exc:
        assert str(exc).strip()  # says what is wrong
        assert sorted(p.name for p in knowledge.rglob("*")) == before  # nothing written
        return
    if report.written:
        assert load_knowledge(knowledge).entries  # what it wrote loads


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from(HEADERS), rows=st.lists(st.lists(CELL, max_size=5), max_size=8),
       encoding=ENCODINGS)
def test_generated_sheets_import_or_are_rejected_clearly(tmp_path_factory, header: list[str],
                                                         rows: list[list[str]], encoding: str) -> None:
    work = tmp_path_factory.mktemp("fuzz")
    knowledge = work / "knowledge"
    knowledge.mkdir()
    text = _csv(header, rows)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # a character the encoding cannot hold: not a file Excel writes
        data = text.encode("utf-8")
    path = work / "sheet.csv"
    path.write_bytes(data)
    _import_is_clean(path, knowledge)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_random_bytes_are_rejected_clearly(tmp_path_factory, data: bytes, suffix: str) -> None:
    work = tmp_path_factory.mktemp("bytes")
    knowledge = work / "knowledge"
    knowledge.mkdir()
    path = work / f"sheet{suffix}"
    path.write_bytes(data)
    _import_is_clean(path, knowledge)
