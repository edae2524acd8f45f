from __future__ import annotations

from pathlib import Path

import pytest

from assist.core.knowledge import load_knowledge
from assist.importers import ImportRejected, import_file
from assist.importers.fields import DEFAULT_CATEGORY
from assist.importers.ids import short_hash

from .conftest import QIANNU_HEADER, QIANNU_ROWS, read_yaml, write_csv


def test_qianniu_export_becomes_scripts_without_questions(qianniu_csv: Path, folder: Path) -> None:
    report = import_file(qianniu_csv, folder)
    target = folder / "imported" / "phrases.yaml"
    assert report.target == target and report.written
    assert report.formats == ["qianniu"] and report.encoding == "utf-8-sig"
    entries = read_yaml(target)
    assert [e["id"] for e in entries] == [
        "phrases-hi", "phrases-gq", "phrases-mg",
        f"phrases-{short_hash('亲,赠品随单发出,数量有限送完为止哦~')}", "phrases-th"]
    hi, gq, _, gift, th = entries
    assert hi == {"id": "phrases-hi", "kind": "script", "category": "欢迎语",
                  "title": "欢迎光临小鹿美妆", "code": "/hi",
                  "reply": "亲,您好~欢迎光临小鹿美妆,有什么可以帮您的吗?"}
    assert gq["category"] == "售前/保质期" and gq["title"] == "面霜保质期3年"
    assert gift["category"] == DEFAULT_CATEGORY and "code" not in gift
    assert th["category"] == "售后/退换/过敏"
    assert th["reply"] == "亲,未拆封7天无理由退换,\n拆封后如过敏请拍照联系我们~"
    assert all("questions" not in e for e in entries)
    loaded = load_knowledge(folder)  # the whole folder still loads, with the hand-written file
    assert {e.id for e in loaded.entries} >= {"own-greeting", "phrases-hi"}


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16"])
def test_encodings_of_excel_exports(encoding: str, src: Path, folder: Path) -> None:
    rows = [QIANNU_HEADER, *QIANNU_ROWS]
    if encoding in ("gb18030", "utf-8", "utf-8-sig", "utf-16"):  # beyond GBK: 𠮷 (U+20BB7)
        rows = [*rows, ["jx", "亲,𠮷字款已到货~", "售前"]]
    delimiter = "\t" if encoding == "utf-16" else ","  # Excel's "Unicode text" is tab-separated
    path = write_csv(src / "phrases.csv", rows, encoding=encoding, delimiter=delimiter)
    report = import_file(path, folder)
    assert report.encoding == {"gbk": "gb18030"}.get(encoding, encoding)
    entries = read_yaml(report.target)
    assert entries[0]["reply"] == QIANNU_ROWS[0][1]
    assert entries[4]["category"] == "售后/退换/过敏"
    if len(rows) > 6:
        assert entries[-1]["reply"] == "亲,𠮷字款已到货~"


def test_duplicate_code_and_empty_phrase_name_row_and_column(src: Path, folder: Path) -> None:
    path = write_csv(src / "phrases.csv", [
        QIANNU_HEADER, ["a1", "亲,第一条~", ""], ["b", "", "售前"], ["a1", "亲,又一条~", ""],
        ["x" * 65, "亲,编码太长~", ""]])
    with pytest.raises(ImportRejected) as caught:
        import_file(path, folder)
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        "phrases.csv, row 3, column B (快捷短语): empty phrase",
        "phrases.csv, row 4, column A (快捷短语编码): duplicate code 'a1' (first in row 2)",
        "phrases.csv, row 5, column A (快捷短语编码): code longer than 64 characters",
    ]
    assert not (folder / "imported").exists()


def test_codes_that_slug_alike_get_distinct_order_independent_ids(src: Path, folder: Path) -> None:
    rows = [["/hi", "亲,在的~", ""], ["hi", "您好亲~", ""], ["售后", "亲,售后请留言~", ""],
            ["退货", "亲,退货请申请~", ""]]
    first = read_yaml(import_file(write_csv(src / "p.csv", [QIANNU_HEADER, *rows]), folder,
                                  out=folder / "a").target)
    again = read_yaml(import_file(write_csv(src / "p.csv", [QIANNU_HEADER, *reversed(rows)]),
                                  folder, out=src / "b").target)
    ids = {e["code"]: e["id"] for e in first}
    assert ids == {e["code"]: e["id"] for e in again}
    assert ids["hi"] == "p-hi"  # the code that already is an id keeps the plain form
    assert ids["/hi"] == f"p-hi-{short_hash('/hi', 6)}"
    assert ids["售后"] == f"p-{short_hash('售后')}" and len(set(ids.values())) == 4


def test_header_only_file_is_rejected(src: Path, folder: Path) -> None:
    with pytest.raises(ImportRejected, match="no rows to import"):
        import_file(write_csv(src / "phrases.csv", [QIANNU_HEADER]), folder)


def test_qianniu_header_missing_its_phrase_column_fails_as_qianniu(tmp_path: Path, folder: Path) -> None:
    """Two columns whose header is 千牛's must not be taken for a header-less question,answer sheet."""
    path = write_csv(tmp_path / "lost.csv", [["快捷短语编码", "快捷短语分组"], ["fh", "售前=>发货"]])
    with pytest.raises(ImportRejected, match="phrase column"):
        import_file(path, folder)
    assert not (folder / "imported").exists()
