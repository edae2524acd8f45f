from __future__ import annotations

from pathlib import Path

import pytest

from assist.importers import ImportRejected, import_file

from .conftest import QIANNU_HEADER, QIANNU_ROWS, read_yaml, write_csv

FAQ = [["问题", "相似问题", "答案", "分类"],
       ["多久发货", "几天发货\n啥时候发", "亲,48小时内发货~", "售中/发货"],
       ["包邮吗", "", "亲,全国包邮~", "售前/邮费"]]


def test_second_import_is_byte_identical(qianniu_csv: Path, folder: Path) -> None:
    first = import_file(qianniu_csv, folder)
    state = first.target.parent / ".import" / "phrases.json"
    yaml_bytes, state_bytes = first.target.read_bytes(), state.read_bytes()
    second = import_file(qianniu_csv, folder)
    assert not second.written and second.unchanged == len(QIANNU_ROWS) and not second.added
    assert first.target.read_bytes() == yaml_bytes and state.read_bytes() == state_bytes
    assert len(read_yaml(first.target)) == len(QIANNU_ROWS)


def test_hand_edits_to_admin_keys_survive_and_source_changes_apply(src: Path, folder: Path) -> None:
    path = write_csv(src / "faq.csv", FAQ)
    target = import_file(path, folder).target
    text = target.read_text(encoding="utf-8")
    ship = read_yaml(target)[0]["id"]
    # The admin tags an entry, pins its links, adds a question (as `assist qa promote` does)
    # and writes a whole entry of their own into the imported file.
    text = text.replace("    - 啥时候发\n", "    - 啥时候发\n    - 咋还不发货\n  tags: [发货]\n"
                                           "  like: [shipping-time]\n", 1)
    text += "\n- id: my-own\n  kind: script\n  category: 售前/其他\n  reply: 亲,稍等~\n"
    target.write_text(text, encoding="utf-8")
    # The sheet changes: one similar question dropped, one added, an answer edited.
    edited = [FAQ[0], ["多久发货", "几天发货\n当天发吗", "亲,当天16点前付款当天发~", "售中/发货"], FAQ[2]]
    report = import_file(write_csv(src / "faq.csv", edited), folder)
    entries = {e["id"]: e for e in read_yaml(target)}
    assert entries[ship]["questions"] == ["多久发货", "几天发货", "当天发吗", "咋还不发货"]
    assert entries[ship]["reply"] == "亲,当天16点前付款当天发~"
    assert entries[ship]["tags"] == ["发货"] and entries[ship]["like"] == ["shipping-time"]
    assert "my-own" in entries and report.kept_by_hand == ["my-own"]
    assert report.updated == [ship] and report.unchanged == 1 and not report.removed
    # and importing once more changes nothing
    before = target.read_bytes()
    assert not import_file(write_csv(src / "faq.csv", edited), folder).written
    assert target.read_bytes() == before


def test_hand_edit_of_an_imported_key_is_replaced_and_reported(src: Path, folder: Path) -> None:
    target = import_file(write_csv(src / "faq.csv", FAQ), folder).target
    target.write_text(target.read_text(encoding="utf-8").replace("亲,全国包邮~", "亲,包邮哦~"),
                      encoding="utf-8")
    report = import_file(write_csv(src / "faq.csv", FAQ), folder)
    assert read_yaml(target)[1]["reply"] == "亲,全国包邮~"
    assert report.overwritten == [f"{read_yaml(target)[1]['id']}.reply"]


def test_rows_gone_from_the_source_are_removed_or_kept(qianniu_csv: Path, folder: Path) -> None:
    import_file(qianniu_csv, folder)
    shorter = write_csv(qianniu_csv, [QIANNU_HEADER, *QIANNU_ROWS[:3]])
    kept = import_file(shorter, folder, keep_removed=True)
    assert len(kept.removed) == 2 and len(read_yaml(kept.target)) == 5
    assert "no longer in the file: " in str(kept) and "(kept)" in str(kept)
    report = import_file(shorter, folder)
    assert report.removed == kept.removed and "phrases-th" in report.removed
    assert [e["id"] for e in read_yaml(report.target)] == ["phrases-hi", "phrases-gq", "phrases-mg"]


def test_duplicate_id_with_another_file_rejects_and_writes_nothing(
        qianniu_csv: Path, folder: Path) -> None:
    (folder / "shop" / "clash.yaml").write_text(
        "- id: phrases-gq\n  kind: script\n  category: x\n  reply: y\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_file(qianniu_csv, folder)
    assert "imported/phrases.yaml" in str(caught.value) and "duplicate id" in str(caught.value)
    assert not (folder / "imported").exists()


def test_dry_run_writes_nothing(qianniu_csv: Path, folder: Path) -> None:
    report = import_file(qianniu_csv, folder, dry_run=True)
    assert len(report.added) == len(QIANNU_ROWS) and not report.written
    assert not (folder / "imported").exists()


def test_proposed_links_are_written_with_confidence_and_admin_like_is_kept(
        qianniu_csv: Path, folder: Path) -> None:
    links = {"phrases-gq": [("shelf-life", 0.912), ("expiry-date", 0.8)],
             "phrases-mg": [("sensitive-skin", 0.87)]}
    target = import_file(qianniu_csv, folder, links=links).target
    text = target.read_text(encoding="utf-8")
    assert "  like: [shelf-life, expiry-date]  # 0.91, 0.80\n" in text
    assert "  like: [sensitive-skin]  # 0.87\n" in text
    # The admin rejects one link and turns another entry's off; a new proposal does not undo it.
    text = text.replace("  like: [sensitive-skin]  # 0.87\n", "  like: []\n")
    text = text.replace("  like: [shelf-life, expiry-date]  # 0.91, 0.80\n", "  like: [shelf-life]\n")
    target.write_text(text, encoding="utf-8")
    import_file(qianniu_csv, folder, links={**links, "phrases-hi": [("greeting", 0.95)]})
    entries = {e["id"]: e for e in read_yaml(target)}
    assert entries["phrases-gq"]["like"] == ["shelf-life"]
    assert entries["phrases-mg"]["like"] == []
    assert entries["phrases-hi"]["like"] == ["greeting"]
    assert "# 0.95" in target.read_text(encoding="utf-8")


def test_another_file_with_the_same_stem_is_flagged(qianniu_csv: Path, src: Path, folder: Path) -> None:
    import_file(qianniu_csv, folder)
    other = write_csv(src / "phrases.tsv", [QIANNU_HEADER, *QIANNU_ROWS[:2]], delimiter="\t")
    report = import_file(other, folder)
    assert report.warnings == ["phrases.yaml was last imported from phrases.csv; this import "
                               "replaces its entries (use --out or rename the file to keep both)"]
    assert len(report.removed) == 3
