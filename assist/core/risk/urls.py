"""Links in buyer messages: find them (also obfuscated) and judge their hosts.

Finding works on folded text (see ``text.py``), so ``taobao。com``, ``ｗｗｗ．x．top`` and
``www . x . top`` are found; bare hosts count only when their suffix is a real public suffix
(tldextract's bundled snapshot, never fetched), which keeps ``1.5米``, ``v2.0`` and file names
out. Judging a host: block-list, then platform allow-list, then the look-alike signals a
phishing page needs (brand in a foreign domain, typosquat, homograph, IP, port, ...).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import tldextract

from assist.core.models import Severity
from assist.core.risk.lists import HostLists, idna_host
from assist.core.risk.text import Folded

# The bundled public-suffix snapshot only: no HTTP fetch, no cache directory.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)

_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"  # CJK text ends a link
_STOP = r"\s<>\"'`" + _CJK
_TRAIL = ".,;:!?)]}'\"*~"
_URL = re.compile(
    rf"(?P<scheme>(?:https?|ftp|hxxps?)://)[^{_STOP}]+"
    # bare host: not the tail of a word, a path or an e-mail address
    rf"|(?<![\w@.\-/])(?![\w.\-]*@)(?:[a-z0-9_](?:[a-z0-9_\-]{{0,61}}[a-z0-9])?\.)+"
    rf"(?:xn--[a-z0-9\-]+|[a-z][a-z0-9\-]{{1,62}})(?::[^\s/?#{_CJK}]*)?(?:[/?#][^{_STOP}]*)?",
    re.ASCII,
)
_IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$")

SHORTENERS = frozenset({
    "t.cn", "url.cn", "dwz.cn", "suo.im", "mrw.so", "w.url.cn", "sohu.gg", "u.nu", "tb.gy",
    "bit.ly", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "cutt.ly", "rebrand.ly", "t.ly",
    "s.id", "v.gd", "shorturl.at", "rb.gy", "t.co", "dwz.date", "kurl.ru", "clck.ru",
})
# TLDs that dominate phishing statistics (Spamhaus / Interisle reports): cheap or free.
CHEAP_TLDS = frozenset({
    "top", "xyz", "icu", "vip", "club", "buzz", "cf", "tk", "ml", "ga", "gq", "win", "online",
    "site", "cc", "rest", "bar", "cyou", "sbs", "cfd", "bond", "work", "click", "link", "loan",
    "monster", "fun", "cam", "bid", "pw", "kim", "wang", "ren", "info", "help", "live", "ru",
    "su", "ws", "men", "party", "date", "review", "country", "stream", "gdn", "racing", "zip",
})
_CREDENTIAL_PATH = re.compile(
    r"log-?in|sign-?in|logon|passport|verif|account|passw|auth|secur|wallet|cashier|unlock|"
    r"unfreeze|reset|appeal|refund|confirm", re.ASCII)
# Pinyin and product names that stand for a platform in look-alike domains.
BRAND_ALIASES = {"jingdong": "jd.com", "tianmao": "tmall.com", "zhifubao": "alipay.com",
                 "qianniu": "taobao.com", "wangwang": "taobao.com", "aliwangwang": "taobao.com",
                 "xianyu": "taobao.com", "taobao": "taobao.com"}
_GLYPHS = str.maketrans({"0": "o", "1": "l", "I": "l", "|": "l", "!": "l", "6": "b", "4": "a",
                         "3": "e", "5": "s", "$": "s", "@": "a"})
_CONFUSABLE = str.maketrans({  # Cyrillic/Greek letters drawn like Latin ones
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ԁ": "d", "ѕ": "s", "ӏ": "l", "ɡ": "g", "ο": "o", "α": "a", "ν": "v", "τ": "t", "ı": "i",
    "κ": "k", "ρ": "p", "ь": "b", "ѡ": "w", "ԛ": "q", "һ": "h", "м": "m", "т": "t", "в": "b",
})


@dataclass(frozen=True)
class Signal:
    code: str
    severity: Severity
    reason: str


@dataclass(frozen=True)
class LinkFinding:
    """One link in the message and what is wrong with it (nothing, for a safe link)."""

    evidence: str
    span: tuple[int, int]
    host: str
    allowed: bool
    signals: tuple[Signal, ...]

    @property
    def severity(self) -> Severity | None:
        if not self.signals:
            return None
        return "block" if any(s.severity == "block" for s in self.signals) else (
            "warn" if any(s.severity == "warn" for s in self.signals) else "info")


@dataclass(frozen=True)
class _Parts:
    host: str  # as written (case kept, for homoglyph checks)
    port: str | None
    userinfo: str
    path: str
    scheme: bool


def _split(url: str, scheme: bool) -> _Parts:
    rest = url.split("://", 1)[1] if scheme else url
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, path = rest[:cut], rest[cut:]
    userinfo, _, hostport = netloc.rpartition("@")
    host, colon, port = hostport.partition(":")
    return _Parts(host, port if colon else None, userinfo, path, scheme)


def skeleton(label: str) -> str:
    """What a label looks like to a hurried reader: tao6ao, taoba0, tmaIl, rnall -> taobao..."""
    text = label.translate(_CONFUSABLE)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.translate(_GLYPHS).lower()
    return text.replace("rn", "m").replace("vv", "w")


def _edit_distance_le1(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion or substitution."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:] or (len(a) == len(b) and a[i + 1:] == b[i + 1:])


def _decode_label(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return label


class LinkChecker:
    """Finds links in folded text and judges each against the lists and look-alike rules."""

    def __init__(self, lists: HostLists) -> None:
        self.lists = lists
        brands = dict(BRAND_ALIASES)
        for host in lists.allow.hosts:
            name = _EXTRACT(host).domain
            if len(name) >= 2 and not name.isdigit():
                brands.setdefault(name, host)
        self.brands = brands  # brand word -> the domain it belongs to
        self._brand_re = re.compile(
            r"(?<![a-z0-9])(" + "|".join(sorted(map(re.escape, brands), key=len, reverse=True))
            + r")(?![a-z0-9])")
        self._long_brands = [b for b in brands if len(b) >= 5]

    def find(self, folded: Folded) -> list[LinkFinding]:
        """Every link in the message with its signals (empty signals = judged safe)."""
        found = []
        for match in _URL.finditer(folded.text):
            url = match.group(0).rstrip(_TRAIL)
            parts = _split(url, bool(match.group("scheme")))
            start = match.start()
            evidence, span = folded.evidence(start, start + len(url))
            raw_host = self._raw_host(folded, span, parts.host)
            finding = self._judge(parts, raw_host, evidence, span)
            if finding is not None:
                found.append(finding)
        return found

    @staticmethod
    def _raw_host(folded: Folded, span: tuple[int, int], host: str) -> str:
        """The host with its original letter case (I vs l matters for homoglyphs)."""
        original = folded.original[span[0]:span[1]]
        at = original.lower().find(host)
        return original[at:at + len(host)] if at >= 0 else host

    def _judge(self, parts: _Parts, raw_host: str, evidence: str,
               span: tuple[int, int]) -> LinkFinding | None:
        host = idna_host(parts.host)
        if not host or "." not in host:
            return None
        ext = _EXTRACT(host)
        is_ip = bool(_IPV4.match(host))
        if not parts.scheme and not ext.suffix and not is_ip:
            return None  # "img_2231.jpg", "abc.def": not a link
        signals = self._signals(parts, host, raw_host, ext, is_ip)
        allowed = self.lists.allow.match(host) is not None and not signals
        return LinkFinding(evidence, span, host, allowed, tuple(signals))

    def _signals(self, parts: _Parts, host: str, raw_host: str, ext, is_ip: bool) -> list[Signal]:
        signals: list[Signal] = []
        if parts.userinfo:
            signals.append(Signal("userinfo", "block",
                                  f"网址里有“@”,真正打开的是 @ 后面的 {host}"))
        if parts.port is not None and parts.port and not parts.port.isdigit():
            signals.append(Signal("fake_port", "block", "网址在端口位置藏了另一个域名"))
        blocked = self.lists.block.match(host)
        if blocked:
            signals.append(Signal("block_list", "block", f"{blocked} 在封禁名单里"))
        if self.lists.allow.match(host):
            if parts.port and parts.port.isdigit() and parts.port not in ("80", "443"):
                signals.append(Signal("port", "warn", f"平台域名却用了非标准端口 {parts.port}"))
            return signals  # a platform host: only the tricks above can make it unsafe
        if is_ip:
            signals.append(Signal("ip", "block", "网址直接用 IP 地址,正规平台不会这样"))
            return signals
        signals.extend(self._lookalike(host, raw_host, ext))
        if parts.port and parts.port.isdigit() and parts.port not in ("80", "443"):
            signals.append(Signal("port", "warn", f"使用非标准端口 {parts.port}"))
        if host in SHORTENERS or ext.top_domain_under_public_suffix in SHORTENERS:
            signals.append(Signal("shortener", "warn", "短链接,看不到真实网址"))
        if not ext.suffix:
            signals.append(Signal("bad_tld", "warn", f"{host} 不是有效的域名后缀"))
        elif ext.suffix.rsplit(".", 1)[-1] in CHEAP_TLDS:
            signals.append(Signal("cheap_tld", "warn",
                                  f".{ext.suffix} 是钓鱼网站常用的廉价域名后缀"))
        if _CREDENTIAL_PATH.search(parts.path.lower()):
            signals.append(Signal("credential_path", "warn", "网址像登录/验证/付款页面"))
        return signals

    def _lookalike(self, host: str, raw_host: str, ext) -> list[Signal]:
        decoded = ".".join(_decode_label(label) for label in host.split("."))
        brand = self._brand_re.search(host)
        if brand:
            owner = self.brands[brand.group(1)]
            return [Signal("brand_in_domain", "block",
                           f"域名含“{brand.group(1)}”,但并不属于 {owner},是冒充平台的网址")]
        look = skeleton(decoded if decoded != host else raw_host)
        if look != host and self.lists.allow.match(look):
            return [Signal("homoglyph", "block", f"{host} 用形近字符冒充 {look}")]
        for token in re.split(r"[.\-]", look):
            target = self._typo_target(token)
            if target:
                return [Signal("typosquat", "block", f"{host} 与平台域名 {target} 只差一两个字母")]
        if decoded != host:
            return [Signal("punycode", "warn",
                           f"国际化域名(实际显示为 {decoded}),可能用同形字伪装")]
        return []

    def _typo_target(self, token: str) -> str | None:
        if len(token) < 5 or token in self.brands:
            return None
        return next((self.brands[b] for b in self._long_brands if _edit_distance_le1(token, b)),
                    None)
