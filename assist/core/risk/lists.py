"""Host allow/block lists: admin-edited text files in the formats public feeds publish.

Accepted per line (``#``/``!`` start comments): a plain host (``evil.top``), a wildcard
(``*.evil.top``), a hosts-file line (``0.0.0.0 evil.top``, ``127.0.0.1 evil.top``), a URL
(``http://evil.top/login``) or an adblock rule (``||evil.top^``). Hosts are lower-cased and
IDNA-encoded; a list entry covers the host and all its subdomains.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

ALLOW_FILE = "allow_hosts.txt"
BLOCK_FILE = "block_hosts.txt"
FEED_FILE = "block_feeds.txt"  # written by 'assist risk lists update' (threat-feed imports)
_NOT_HOSTS = frozenset({"localhost", "localhost.localdomain", "broadcasthost"})
_HOSTS_FILE_IPS = {"0.0.0.0", "127.0.0.1", "::", "::1", "255.255.255.255"}
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$|"
                   r"^\d{1,3}(?:\.\d{1,3}){3}$")


def idna_host(host: str) -> str:
    """Lower-case ASCII form of a host (punycode for non-ASCII labels); '' if it cannot be."""
    host = host.strip().strip(".").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def parse_line(line: str) -> str | None:
    """The host a list line names, or None for comments, blanks and unparseable lines."""
    line = line.strip()
    if _HOST.match(line):  # the common case, a plain lower-case host: 100k lines in ~0.1 s
        return None if line in _NOT_HOSTS else line.strip(".")
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("!") or line.startswith("["):
        return None
    parts = line.split()
    if len(parts) >= 2 and parts[0] in _HOSTS_FILE_IPS:
        line = parts[1]
    elif len(parts) != 1:
        return None
    if line.startswith("||"):
        line = line[2:].split("^", 1)[0]
    elif "://" in line:
        line = urlsplit(line).hostname or ""
    else:
        line = line.split("/", 1)[0]
    line = line.removeprefix("*.").removeprefix(".")
    host = idna_host(line)
    if host in _NOT_HOSTS or not _HOST.match(host):
        return None
    return host


def parse_hosts(lines: Iterable[str]) -> frozenset[str]:
    return frozenset(h for h in map(parse_line, lines) if h)


@dataclass(frozen=True)
class HostList:
    """A set of hosts matched with all their subdomains."""

    hosts: frozenset[str]

    def match(self, host: str) -> str | None:
        """The list entry covering ``host`` (itself or a parent domain), if any.

        Parents down to two labels: a bare public suffix ("com") never matches.
        """
        hosts = self.hosts
        if host in hosts:
            return host
        dot = host.find(".")
        while dot >= 0:
            parent = host[dot + 1:]
            if "." not in parent:
                return None
            if parent in hosts:
                return parent
            dot = host.find(".", dot + 1)
        return None

    def __len__(self) -> int:
        return len(self.hosts)


@dataclass(frozen=True)
class HostLists:
    allow: HostList
    block: HostList


def read_list(path: Path) -> frozenset[str]:
    """Hosts in one list file; a missing file is an empty list."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return frozenset()
    hosts = parse_hosts(text.splitlines())
    log.debug("%s: %d hosts", path, len(hosts))
    return hosts


def default_hosts(name: str) -> frozenset[str]:
    """The lists shipped with the package (platform domains; an empty block list)."""
    text = resources.files("assist.core.risk").joinpath("data").joinpath(name).read_text("utf-8")
    return parse_hosts(text.splitlines())


def load_lists(folder: Path | None) -> HostLists:
    """The built-in platform allow-list plus the admin lists in ``folder`` (if given).

    ``folder`` holds ``allow_hosts.txt``, ``block_hosts.txt`` (hand-edited) and
    ``block_feeds.txt`` (threat-feed imports); each is optional.

    Built-in platform domains are always allowed so a broken admin file cannot turn every
    genuine taobao.com link into an alarm; the admin files add to them.
    """
    allow, block = default_hosts(ALLOW_FILE), default_hosts(BLOCK_FILE)
    if folder is not None:
        allow |= read_list(folder / ALLOW_FILE)
        block |= read_list(folder / BLOCK_FILE) | read_list(folder / FEED_FILE)
    return HostLists(HostList(allow), HostList(block))
