"""Allow/block host lists: file formats, subdomain matching, admin lists through the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.core.risk.lists import ALLOW_FILE, BLOCK_FILE, HostList, load_lists, parse_line


@pytest.mark.parametrize("line, host", [
    ("evil.top", "evil.top"),
    ("  Evil.TOP  ", "evil.top"),
    ("*.evil.top", "evil.top"),
    ("0.0.0.0 evil.top", "evil.top"),
    ("127.0.0.1\tevil.top  # from a hosts file", "evil.top"),
    ("http://evil.top/login.php?x=1", "evil.top"),
    ("https://sub.evil.top:8443/", "sub.evil.top"),
    ("||evil.top^", "evil.top"),
    ("||evil.top^$third-party", "evil.top"),
    ("淘宝-登录.top", "淘宝-登录.top".encode("idna").decode()),
    ("8.134.56.77", "8.134.56.77"),
])
def test_feed_formats_parse(line: str, host: str) -> None:
    assert parse_line(line) == host


@pytest.mark.parametrize("line", [
    "", "# comment", "! adblock comment", "[Adblock Plus 2.0]", "0.0.0.0 localhost",
    "127.0.0.1 localhost.localdomain", "not a host", "a b c", "nodot",
])
def test_comments_and_junk_are_skipped(line: str) -> None:
    assert parse_line(line) is None


def test_entry_covers_subdomains_only() -> None:
    hosts = HostList(frozenset({"evil.top"}))
    assert hosts.match("evil.top") == "evil.top"
    assert hosts.match("a.b.evil.top") == "evil.top"
    assert hosts.match("notevil.top") is None
    assert hosts.match("top") is None


def test_builtin_platform_domains_always_allowed(tmp_path: Path) -> None:
    (tmp_path / ALLOW_FILE).write_text("# nothing of mine\n", encoding="utf-8")
    lists = load_lists(tmp_path)
    assert lists.allow.match("item.taobao.com") and lists.allow.match("item.jd.com")


def test_admin_lists_extend_the_defaults(tmp_path: Path, detector) -> None:
    from assist.core.risk import detector_for_lists

    (tmp_path / ALLOW_FILE).write_text("myshop-partner.com\n", encoding="utf-8")
    (tmp_path / BLOCK_FILE).write_text("0.0.0.0 quiet-phish.com\n||other-phish.net^\n",
                                       encoding="utf-8")
    admin = detector_for_lists(tmp_path)
    blocked = admin.rule_risks("看这个 https://quiet-phish.com/x")
    assert [(r.type, r.severity, r.rule) for r in blocked] == [
        ("phishing_link", "block", "link.block_list")]
    assert admin.rule_risks("http://other-phish.net") != []
    # Unknown and ordinary without the list; allowed partners never trip the login-path check.
    assert [(r.rule, r.severity) for r in detector.rule_risks("看这个 https://quiet-phish.com/x")] == [
        ("link.offsite", "warn")]  # without the admin list: just a foreign link
    assert detector.rule_risks("https://myshop-partner.com/login") != []
    assert admin.rule_risks("https://myshop-partner.com/login") == []


def test_missing_folder_files_fall_back_to_defaults(tmp_path: Path) -> None:
    lists = load_lists(tmp_path)  # neither file exists
    assert len(lists.block) == 0 and lists.allow.match("tmall.com")


def test_shipped_lists_parse() -> None:
    folder = Path(__file__).resolve().parents[2] / "knowledge" / "lists"
    lists = load_lists(folder)
    assert lists.allow.match("www.sf-express.com")
    assert lists.block.match("tmall-refund.example")
