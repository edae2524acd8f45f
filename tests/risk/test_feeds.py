"""Threat-feed imports: formats, de-duplication, skipped hosts, the CLI and the detector."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from assist.cli.main import main
from assist.core.risk import detector_for_lists
from assist.core.risk.feeds import hosts_in, update_feed_list
from assist.core.risk.lists import BLOCK_FILE, FEED_FILE, read_list

URLHAUS_CSV = """################################################################
# abuse.ch URLhaus Database Dump (CSV - online URLs only)      #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"3001","2026-04-02 10:00:00","http://198.51.100.7:8081/i","online","2026-04-02","malware_download","elf,mirai","https://urlhaus.abuse.ch/url/3001/","someone"
"3002","2026-04-02 10:01:00","https://dl.cheap-soft.top/setup.exe","online","2026-04-02","malware_download","exe","https://urlhaus.abuse.ch/url/3002/","someone"
"3003","2026-04-02 10:02:00","https://docs.google.com/uc?id=abc","online","2026-04-02","malware_download","","https://urlhaus.abuse.ch/url/3003/","someone"
"""
PHISHTANK_CSV = """phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target
91,http://secure-login.bank-check.xyz/a,http://www.phishtank.com/phish_detail.php?phish_id=91,2026-04-01T00:00:00+00:00,yes,2026-04-01T00:10:00+00:00,yes,Other
92,"https://item.taobao.com/item.htm?id=1,2",http://www.phishtank.com/phish_detail.php?phish_id=92,2026-04-01T00:00:00+00:00,yes,2026-04-01T00:10:00+00:00,yes,Other
93,https://dl.cheap-soft.top/other,http://www.phishtank.com/phish_detail.php?phish_id=93,2026-04-01T00:00:00+00:00,yes,2026-04-01T00:10:00+00:00,yes,Other
"""
PLAIN = """# a hosts file and a plain list mixed, as admins paste them
0.0.0.0 fake-express.top
127.0.0.1 tmall.com
||refund-now.cc^
cheap-soft.top
https://openphish-style.example-pay.site/login
not a host line
"""


def test_csv_exports_yield_their_url_column() -> None:
    assert sorted(hosts_in(URLHAUS_CSV)) == ["198.51.100.7", "dl.cheap-soft.top", "docs.google.com"]
    assert sorted(hosts_in(PHISHTANK_CSV)) == ["dl.cheap-soft.top", "item.taobao.com",
                                               "secure-login.bank-check.xyz"]


def test_update_merges_dedupes_and_skips_platform_and_shared_hosts(tmp_path: Path) -> None:
    lists = tmp_path / "knowledge" / "lists"
    files = []
    for name, text in (("urlhaus.csv", URLHAUS_CSV), ("phishtank.csv", PHISHTANK_CSV),
                       ("plain.txt", PLAIN)):
        files.append(tmp_path / name)
        files[-1].write_text(text, encoding="utf-8")
    summary = update_feed_list(lists, files)
    listed = read_list(lists / FEED_FILE)
    # cheap-soft.top covers dl.cheap-soft.top, so the subdomain is not listed twice
    assert listed == {"198.51.100.7", "cheap-soft.top", "secure-login.bank-check.xyz",
                      "fake-express.top", "refund-now.cc", "openphish-style.example-pay.site"}
    assert (summary.skipped_platform, summary.skipped_shared) == (2, 1)  # taobao, tmall; docs.google
    again = update_feed_list(lists, files)
    assert again.added == 0 and read_list(lists / FEED_FILE) == listed
    (lists / BLOCK_FILE).write_text("hand-listed.top\n", encoding="utf-8")
    extra = tmp_path / "extra.txt"
    extra.write_text("hand-listed.top\nnew-one.top\n", encoding="utf-8")
    summary = update_feed_list(lists, [extra], replace=True)
    assert read_list(lists / FEED_FILE) == {"new-one.top"}  # replace: a full refresh
    assert summary.already_listed == 1  # in the hand-edited list already
    assert read_list(lists / BLOCK_FILE) == {"hand-listed.top"}  # never rewritten


def test_imported_hosts_block_in_the_detector(tmp_path: Path) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text("quiet-looking-shop.com\n", encoding="utf-8")
    update_feed_list(tmp_path / "lists", [feed])
    before = detector_for_lists(None).rule_risks("看下 https://quiet-looking-shop.com/item")
    after = detector_for_lists(tmp_path / "lists").rule_risks("看下 https://quiet-looking-shop.com/item")
    assert [(r.rule, r.severity) for r in before] == [("link.offsite", "warn")]
    assert [(r.rule, r.severity) for r in after] == [("link.block_list", "block")]


def test_cli_update_writes_the_knowledge_lists(tmp_path: Path) -> None:
    knowledge = tmp_path / "kb"
    knowledge.mkdir()
    feed = tmp_path / "phishtank.csv"
    feed.write_text(PHISHTANK_CSV, encoding="utf-8")
    result = CliRunner().invoke(main, ["risk", "lists", "update", str(feed),
                                       "--knowledge", str(knowledge)])
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output and "assist index build" in result.output
    assert read_list(knowledge / "lists" / FEED_FILE) == {"secure-login.bank-check.xyz",
                                                         "dl.cheap-soft.top"}


def test_cli_update_rejects_missing_inputs(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["risk", "lists", "update", str(tmp_path / "nope.txt"),
                                       "--knowledge", str(tmp_path)])
    assert result.exit_code != 0 and "does not exist" in result.output
    feed = tmp_path / "f.txt"
    feed.write_text("x.top\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["risk", "lists", "update", str(feed),
                                       "--knowledge", str(tmp_path / "no-such-kb")])
    assert result.exit_code != 0 and "does not exist" in result.output
