from __future__ import annotations

from pathlib import Path

import pytest

from assist.core.knowledge import load_knowledge
from assist.importers import export_knowledge, import_file

from .conftest import QIANNU_HEADER, QIANNU_ROWS, write_csv, write_xlsx


@pytest.mark.parametrize("fmt,name", [("qianniu", "phrases.csv"), ("faq", "faq.csv"),
                                      ("faq", "faq.xlsx")])
def test_import_export_import_keeps_entries_identical(fmt: str, name: str, src: Path,
                                                      tmp_path: Path) -> None:
    if fmt == "qianniu":
        source = write_csv(src / name, [QIANNU_HEADER, *QIANNU_ROWS])
    else:
        rows = [["问题", "相似问题", "答案", "分类"],
                ["多久发货", "几天发货\n啥时候发", "亲,48小时内发货~\n周日不发", "售中/发货"],
                ["包邮吗", "", "亲,全国包邮~", ""], ["yes", "on", "12:30", "售前"]]
        source = write_xlsx(src / name, {"S": rows}) if name.endswith("xlsx") \
            else write_csv(src / name, rows)
    first = tmp_path / "k1"
    import_file(source, first, out=first / "imported")
    exported = tmp_path / "out" / name
    report = export_knowledge(first, exported, fmt)
    assert report.rows == len(load_knowledge(first).entries)
    second = tmp_path / "k2"
    import_file(exported, second, out=second / "imported")
    assert (second / "imported" / source.with_suffix(".yaml").name).read_bytes() == \
        (first / "imported" / source.with_suffix(".yaml").name).read_bytes()
    if name.endswith(".csv"):
        assert exported.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8


def test_qianniu_export_is_the_file_qianniu_wrote(src: Path, tmp_path: Path) -> None:
    source = write_csv(src / "phrases.csv", [QIANNU_HEADER, *QIANNU_ROWS])
    import_file(source, tmp_path / "k", out=tmp_path / "k" / "imported")
    export_knowledge(tmp_path / "k", tmp_path / "phrases.csv", "qianniu")
    assert (tmp_path / "phrases.csv").read_bytes() == source.read_bytes()


def test_export_of_the_shipped_folder_leaves_out_policies(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[2] / "tests" / "fixtures" / "knowledge"
    report = export_knowledge(shipped, tmp_path / "faq.csv", "faq")
    scripts = [e for e in load_knowledge(shipped).entries if e.kind == "script"]
    assert report.rows == len(scripts) and report.skipped > 0
    text = (tmp_path / "faq.csv").read_text(encoding="utf-8-sig")
    assert scripts[0].reply.splitlines()[0] in text
