"""Threat-feed imports for admins: published blocklists into a knowledge folder's ``lists/``.

Reads the formats feeds publish: plain host lists, hosts files, adblock rules, one URL per
line (OpenPhish), and CSV exports with a ``url`` column (URLhaus ``csv_online``, PhishTank
``online-valid.csv``; URLhaus comments its header line with ``#``). Each entry becomes a host
(a URL's host, lower case, IDNA), merged de-duplicated into ``lists/block_feeds.txt``, a
generated file kept apart from the admin's hand-edited ``block_hosts.txt``. Hosts that must
never be blocked wholesale are skipped and counted: platform hosts from the allow lists, and
shared services where one user's page says nothing about the rest (docs.google.com, github.io,
bit.ly; the link rules judge those per link). Like every list edit it takes effect at the next
re-index, which copies ``lists/`` into the new version.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assist.core.risk.lists import (
    ALLOW_FILE,
    BLOCK_FILE,
    FEED_FILE,
    HostList,
    default_hosts,
    parse_line,
    read_list,
)
from assist.core.risk.urlvocab import FREE_HOSTS, SHORTENERS

# Services whose hosts carry everyone's content: block the page (link rules), not the host.
SHARED_HOSTS = FREE_HOSTS | SHORTENERS | frozenset({
    "google.com", "docs.google.com", "drive.google.com", "sites.google.com", "forms.gle",
    "googleapis.com", "storage.googleapis.com", "googleusercontent.com", "github.com",
    "raw.githubusercontent.com", "gist.githubusercontent.com", "objects.githubusercontent.com",
    "gitlab.com", "bitbucket.org", "dropbox.com", "dl.dropboxusercontent.com",
    "onedrive.live.com", "1drv.ms", "live.com", "forms.office.com", "office.com",
    "sharepoint.com", "microsoft.com", "cdn.discordapp.com", "discord.com", "t.me",
    "telegra.ph", "mediafire.com", "www.mediafire.com", "mega.nz", "pastebin.com",
    "amazonaws.com", "cloudfront.net", "azureedge.net", "wetransfer.com", "we.tl",
    "facebook.com", "instagram.com", "twitter.com", "x.com", "youtube.com", "linkedin.com",
    "yahoo.com", "apple.com", "icloud.com", "baidu.com", "qq.com", "weixin.qq.com",
    "weibo.com", "cloudflare.com", "archive.org",
})


@dataclass
class ImportSummary:
    """What one ``update`` did, for the admin's terminal."""

    files: int = 0
    lines: int = 0
    hosts_read: int = 0
    skipped_platform: int = 0
    skipped_shared: int = 0
    already_listed: int = 0
    added: int = 0
    total: int = 0
    path: Path | None = None
    skipped_examples: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.files} file(s), {self.lines} lines, {self.hosts_read} distinct hosts: "
                f"{self.added} added, {self.already_listed} already listed, "
                f"{self.skipped_platform} platform/allow-listed and {self.skipped_shared} shared-"
                f"service hosts skipped; {self.path} now lists {self.total} hosts "
                f"(takes effect at the next re-index)")


def _csv_urls(lines: list[str]) -> Iterable[str]:
    """The ``url`` column of a CSV export whose header may be a ``#`` comment."""
    header_at = next((i for i, line in enumerate(lines[:50])
                      if "url" in [c.strip().strip('"').lower()
                                   for c in line.lstrip("#").strip().split(",")]), None)
    if header_at is None:
        return
    header = [c.strip().strip('"').lower() for c in lines[header_at].lstrip("#").split(",")]
    column = header.index("url")
    body = (line for line in lines[header_at + 1:] if line.strip() and not line.startswith("#"))
    for row in csv.reader(body):
        if len(row) > column:
            yield row[column]


def hosts_in(text: str) -> Iterable[str]:
    """Every host a feed file names, in any of the accepted formats."""
    lines = text.splitlines()
    urls = list(_csv_urls(lines))
    if urls:
        yield from filter(None, map(parse_line, urls))
        return
    for line in lines:
        host = parse_line(line)
        if host is None and "," in line:  # a header-less CSV row: the first field that parses
            host = next(filter(None, map(parse_line, (c.strip('" ') for c in next(
                csv.reader(io.StringIO(line)), [])))), None)
        if host:
            yield host


def _shared(host: str, shared: HostList) -> bool:
    """The host *is* a shared service (its users' subdomains, like x.github.io, are not)."""
    return host in shared.hosts or host.removeprefix("www.") in shared.hosts


def update_feed_list(lists_dir: Path, files: Iterable[Path], replace: bool = False) -> ImportSummary:
    """Merge the hosts of ``files`` into ``lists_dir/block_feeds.txt`` (de-duplicated).

    ``replace`` starts from an empty feed list instead of the current one (a full refresh).
    Raises ``OSError``/``UnicodeError`` for an unreadable file before anything is written.
    """
    summary = ImportSummary()
    read: set[str] = set()
    for path in files:
        text = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
        summary.files += 1
        summary.lines += text.count("\n") + (not text.endswith("\n") and bool(text))
        read.update(hosts_in(text))
    summary.hosts_read = len(read)
    allow = HostList(default_hosts(ALLOW_FILE) | read_list(lists_dir / ALLOW_FILE))
    shared = HostList(SHARED_HOSTS)
    target = lists_dir / FEED_FILE
    current = set() if replace else set(read_list(target))
    listed = HostList(frozenset(current) | read_list(lists_dir / BLOCK_FILE))
    for host in read:
        if allow.match(host):
            summary.skipped_platform += 1
            continue
        if _shared(host, shared):
            summary.skipped_shared += 1
            summary.skipped_examples.append(host)
            continue
        if listed.match(host):  # itself or a parent domain is listed already
            summary.already_listed += 1
            continue
        current.add(host)
        summary.added += 1
    summary.skipped_examples = sorted(summary.skipped_examples)[:5]
    kept = _without_covered(current)
    lists_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(sorted(kept))
    tmp = target.with_suffix(".tmp")
    tmp.write_text(f"# Generated by 'assist risk lists update' ({stamp}); {len(kept)} hosts.\n"
                   "# Each covers its subdomains. Edit block_hosts.txt by hand, not this file.\n"
                   + body + ("\n" if body else ""), encoding="utf-8")
    tmp.replace(target)  # atomic: the indexer never copies a half-written list
    summary.total, summary.path = len(kept), target
    return summary


def _without_covered(hosts: set[str]) -> set[str]:
    """Drop hosts whose parent domain is listed too (the parent covers them)."""
    listed = HostList(frozenset(hosts))
    kept = set()
    for host in hosts:
        parent = host.split(".", 1)[1] if "." in host else ""
        if not parent or listed.match(parent) is None:
            kept.add(host)
    return kept
