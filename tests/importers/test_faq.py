from __future__ import annotations

from pathlib import Path

import pytest

from assist.importers import ImportRejected, import_file
from assist.importers.ids import short_hash

from .conftest import read_yaml, write_csv, write_xlsx

FAQ_ROWS = [
    ["标准问题", "相似问法", "答案", "分类"],
    ["多久发货", "什么时候发货\n几天能发出", "亲,付款后48小时内发货哦~", "售中/发货"],
    ["可以开发票吗", "能开票不|开增值税发票", "亲,可以开电子发票,下单备注抬头税号即可~", "售中/发票"],
    ["保质期多久", "", "亲,保质期18个月,生产日期在瓶底~", ""],
]


def test_faq_csv_with_chinese_headers(src: Path, folder: Path) -> None:
    report = import_file(write_csv(src / "faq.csv", FAQ_ROWS), folder)
    assert report.formats == ["faq"]
    entries = read_yaml(report.target)
    assert entries[0] == {
        "id": f"faq-{short_hash('多久发货')}", "kind": "script", "category": "售中/发货",
        "title": "多久发货", "questions": ["多久发货", "什么时候发货", "几天能发出"],
        "reply": "亲,付款后48小时内发货哦~"}
    assert entries[1]["questions"] == ["可以开发票吗", "能开票不", "开增值税发票"]
    assert entries[2]["questions"] == ["保质期多久"] and entries[2]["category"] == "导入/未分组"


def test_english_headers_with_template_notes_and_other_column_order(src: Path, folder: Path) -> None:
    rows = [["Category", "Answer (required)", "Question*", "Similar questions"],
            ["Shipping", "We ship within 2 days.", "When do you ship?", "Ship time | dispatch"]]
    entries = read_yaml(import_file(write_csv(src / "en.csv", rows), folder).target)
    assert entries == [{"id": f"en-{short_hash('When do you ship?')}", "kind": "script",
                        "category": "Shipping", "title": "When do you ship?",
                        "questions": ["When do you ship?", "Ship time", "dispatch"],
                        "reply": "We ship within 2 days."}]


def test_headerless_two_column_csv_is_question_answer(src: Path, folder: Path) -> None:
    rows = [["能便宜点吗", "亲,已经是活动价啦~"], ["包邮吗", "亲,全国包邮(偏远地区除外)~"]]
    entries = read_yaml(import_file(write_csv(src / "qa.csv", rows, encoding="gbk"), folder).target)
    assert [(e["questions"], e["reply"]) for e in entries] == [
        (["能便宜点吗"], "亲,已经是活动价啦~"), (["包邮吗"], "亲,全国包邮(偏远地区除外)~")]


def test_xlsx_every_sheet_and_instruction_sheets_skipped(src: Path, folder: Path) -> None:
    path = write_xlsx(src / "客服问答.xlsx", {
        "售前": [["问题", "相似问题", "回复", "分组"], ["有现货吗", "现在有货吗", "亲,有现货的~", "售前"],
                 ["正品吗", None, "亲,品牌授权正品~", "售前=>正品"], [None, None, None, None]],
        "说明": [["请在其他表填写问答"]],
        "售后": [["问题", "答案"], ["怎么退货", "亲,订单页申请售后即可~"], [12, 3.0]],
    })
    report = import_file(path, folder)
    entries = read_yaml(report.target)
    assert [e["title"] for e in entries] == ["有现货吗", "正品吗", "怎么退货", "12"]
    assert entries[1]["category"] == "售前/正品" and entries[3]["reply"] == "3"
    assert report.warnings == ["sheet '说明' skipped: its first row names no known column"]
    prefix = f"import-{short_hash('客服问答', 6)}-"  # a Chinese file name still gives valid ids
    assert all(e["id"].startswith(prefix) for e in entries)


def test_bad_rows_are_named_by_sheet_row_and_column_and_nothing_is_written(
        src: Path, folder: Path) -> None:
    path = write_xlsx(src / "faq.xlsx", {
        "A": [["问题", "相似问题", "答案"], ["有货吗", "", "亲,有的~"], ["包邮吗", "", ""]],
        "B": [["分类", "问题", "回复"], ["售后", "", "亲,请联系客服~"]],
        "C": [["问题", "相似问题"], ["x", "y"]],
    })
    with pytest.raises(ImportRejected) as caught:
        import_file(path, folder)
    assert [str(p) for p in caught.value.problems] == [
        "faq.xlsx, sheet 'A', row 3, column C (答案): empty answer",
        "faq.xlsx, sheet 'B', row 2, column B (问题): empty question",
        "faq.xlsx, sheet 'C', row 1: missing required column(s) answer: expected headers such "
        "as 问题/标准问题/标准问 and 答案/回复/回答; found 问题, 相似问题",
    ]
    assert not (folder / "imported").exists()


def test_unreadable_files(src: Path, folder: Path) -> None:
    (src / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ImportRejected, match=r"broken.xlsx: unreadable XLSX workbook"):
        import_file(src / "broken.xlsx", folder)
    (src / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ImportRejected, match=r"save the workbook as .xlsx or CSV"):
        import_file(src / "old.xls", folder)
    # UTF-8 damaged on line 3: reported there, not silently read as GB18030 mojibake.
    (src / "damaged.csv").write_bytes("问题,答案\n有货吗,有的\n".encode() + b"\xe5\x8c,x\n")
    with pytest.raises(ImportRejected, match=r"damaged.csv, line 3: cannot be read as utf-8"):
        import_file(src / "damaged.csv", folder)
    with pytest.raises(ImportRejected, match="format not recognised"):
        import_file(write_csv(src / "odd.csv", [["名称", "价格", "库存"], ["面霜", "99", "3"]]), folder)
    assert not (folder / "imported").exists()


def test_explicit_format_is_enforced(src: Path, folder: Path) -> None:
    with pytest.raises(ImportRejected, match="no phrase column"):
        import_file(write_csv(src / "faq.csv", FAQ_ROWS), folder, fmt="qianniu")


def test_maxkb_segments(src: Path, folder: Path) -> None:
    path = write_xlsx(src / "maxkb.xlsx", {"Sheet1": [
        ["分段标题（选填）", "分段内容（必填，问题答案，最长不超过4096个字符）",
         "问题（选填，单元格内一行一个）"],
        ["退换货政策", "亲,支持7天无理由退换~\n质量问题我们承担运费。", "能退货吗\n七天无理由吗\n"],
        [None, "亲,默认发中通,可补差价发顺丰~", "发什么快递"],
        [None, "亲,晚上10点前都有客服在线哦~", None],
    ]})
    report = import_file(path, folder)
    assert report.formats == ["maxkb"]
    first, second, third = read_yaml(report.target)
    assert first["title"] == "退换货政策" and first["questions"] == ["能退货吗", "七天无理由吗"]
    assert first["reply"] == "亲,支持7天无理由退换~\n质量问题我们承担运费。"
    assert second["title"] == "发什么快递" and second["questions"] == ["发什么快递"]
    assert third["title"] == "晚上10点前都有客服在线哦" and "questions" not in third
    assert first["id"] == f"maxkb-{short_hash('退换货政策')}"


def test_same_question_twice_is_disambiguated_exact_duplicates_rejected(
        src: Path, folder: Path) -> None:
    rows = [["问题", "答案", "分类"], ["怎么退货", "亲,手机类请先联系客服~", "手机"],
            ["怎么退货", "亲,配件直接申请即可~", "配件"]]
    entries = read_yaml(import_file(write_csv(src / "faq.csv", rows), folder).target)
    assert len({e["id"] for e in entries}) == 2
    with pytest.raises(ImportRejected, match=r"row 3: same entry as faq.csv row 2"):
        import_file(write_csv(src / "faq.csv", [*rows[:2], rows[1]]), folder)


def test_a_question_listed_by_two_rows_is_a_warning_naming_both(src: Path, folder: Path) -> None:
    rows = [["问题", "相似问题", "答案"], ["怎么退货", "能退吗", "亲,手机类请先联系客服~"],
            ["配件怎么退", "能退吗？", "亲,配件直接申请即可~"], ["多久发货", "", "亲,48小时内~"]]
    report = import_file(write_csv(src / "faq.csv", rows), folder)
    assert report.warnings == ["question '能退吗' is in 2 rows (faq.csv row 2, faq.csv row 3): "
                               "keep it in the one whose answer fits it"]
    assert "warning: question '能退吗'" in str(report)
    assert len(read_yaml(report.target)) == 3  # still imported: the admin decides
