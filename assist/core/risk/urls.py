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
from assist.core.risk.attachments import ARCHIVE, CPU_ARCH, EXECUTABLE, MACRO_DOC, SCRIPT
from assist.core.risk.lists import HostList, HostLists, idna_host
from assist.core.risk.text import CONFUSABLES, Folded
from assist.core.risk.urlvocab import (
    CHEAP_TLDS,
    CMS_MEDIA,
    CMS_PATH,
    CREDENTIAL_HOST,
    CREDENTIAL_PATH,
    EMAIL_IN_URL,
    FREE_HOST_PATHS,
    FREE_HOSTS,
    IPFS,
    PHISHED_BRANDS,
    SHORTENERS,
)

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

# Pinyin and product names that stand for a platform in look-alike domains.
BRAND_ALIASES = {"jingdong": "jd.com", "tianmao": "tmall.com", "zhifubao": "alipay.com",
                 "qianniu": "taobao.com", "wangwang": "taobao.com", "aliwangwang": "taobao.com",
                 "xianyu": "taobao.com", "taobao": "taobao.com"}
_GLYPHS = str.maketrans({"0": "o", "1": "l", "I": "l", "|": "l", "!": "l", "6": "b", "4": "a",
                         "3": "e", "5": "s", "$": "s", "@": "a"})


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
    text = label.translate(CONFUSABLES)
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
        if _word_with_dot(parts, host, ext, signals):
            return None
        allowed = self.lists.allow.match(host) is not None and not signals
        return LinkFinding(evidence, span, host, allowed, tuple(signals))

    def _signals(self, parts: _Parts, host: str, raw_host: str, ext, is_ip: bool) -> list[Signal]:
        signals: list[Signal] = []
        port = parts.port if parts.port and parts.port.isdigit() and parts.port not in (
            "80", "443") else None
        if parts.userinfo:
            signals.append(Signal("userinfo", "block",
                                  f"网址里有“@”,真正打开的是 @ 后面的 {host}"))
        if parts.port is not None and parts.port and not parts.port.isdigit():
            signals.append(Signal("fake_port", "block", "网址在端口位置藏了另一个域名"))
        blocked = self.lists.block.match(host)
        if blocked:
            signals.append(Signal("block_list", "block", f"{blocked} 在封禁名单里"))
        if self.lists.allow.match(host):
            if port:
                signals.append(Signal("port", "block", f"平台域名却用了非标准端口 {port}"))
            return _ranked(signals)  # a platform host: only the tricks above make it unsafe
        if is_ip:
            signals.append(Signal("ip", "block", "网址直接用 IP 地址,正规网站不会这样"))
        else:
            signals.extend(self._lookalike(host, raw_host, ext))
            signals.extend(self._hosting(host, parts.path, ext))
        if port:
            signals.append(Signal("port", "block", f"使用非标准端口 {port},正规网站不会这样"))
        signals.extend(_path_signals(parts.path))
        if not is_ip:
            if not ext.suffix:
                signals.append(Signal("bad_tld", "warn", f"{host} 不是有效的域名后缀"))
            elif ext.suffix.rsplit(".", 1)[-1] in CHEAP_TLDS:
                signals.append(Signal("cheap_tld", "warn",
                                      f".{ext.suffix} 是钓鱼网站常用的廉价域名后缀"))
        signals.append(OFFSITE)
        return _ranked(signals)

    def _hosting(self, host: str, path: str, ext) -> list[Signal]:
        """Where the page lives: shorteners, free hosting, IPFS, subdomain tricks."""
        registered = ext.top_domain_under_public_suffix
        # A service's bare home page (bit.ly, ipfs.io) hides nothing; a code or page on it does.
        home = host in (registered, "www." + registered) and path.strip("/") == ""
        if (host in SHORTENERS or registered in SHORTENERS) and not home:
            return [Signal("shortener", "block", "短链接,看不到真实网址")]
        if (IPFS.search(host) or IPFS.search(path.lower())) and not home:
            return [Signal("ipfs", "block", "IPFS 网关上的页面,任何人都能匿名发布钓鱼页")]
        found = _FREE.match(host)
        if (found and host != found and host != "www." + found) or FREE_HOST_PATHS.match(
                host + path.lower()):
            return [Signal("free_hosting", "block",
                           f"免费建站/托管平台({found or host})上的页面,钓鱼网站最常用")]
        signals = []
        sub = ext.subdomain.removeprefix("www.") if ext.subdomain != "www" else ""
        labels = [label for label in sub.split(".") if label]
        if labels and _EXTRACT(sub).suffix and len(labels) >= 2:
            signals.append(Signal("domain_in_subdomain", "block",
                                  f"{host} 把另一个域名({sub})放在前面冒充,真实网站是 {registered}"))
        elif len(labels) >= 3:
            signals.append(Signal("deep_subdomain", "block",
                                  f"{host} 的子域名层级很深,是钓鱼网址常用的伪装"))
        if CREDENTIAL_HOST.search(sub):
            signals.append(Signal("credential_host", "block",
                                  "子域名里带“登录/验证/账户/客服”等字样,冒充官方页面"))
        elif CREDENTIAL_HOST.search(ext.domain):
            signals.append(Signal("credential_host", "warn",
                                  "域名里带“登录/验证/账户/客服”等字样,可能冒充官方页面"))
        return signals

    def _lookalike(self, host: str, raw_host: str, ext) -> list[Signal]:
        decoded = ".".join(_decode_label(label) for label in host.split("."))
        western = self._phished_brand(host, ext)
        if western:
            return [western]
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
            return [Signal("punycode", "block",
                           f"国际化域名(实际显示为 {decoded}),可能用同形字伪装")]
        return []

    def _phished_brand(self, host: str, ext) -> Signal | None:
        """A phished brand named in a host that is not the brand's own registered domain.

        In a subdomain of another site (paypal.com.example.top, www.roblox.com.ml) or drawn
        with look-alike letters (robIox, paypa1) it is an impersonation; joined to other
        words in a registered name (apple-dns.cn, s-microsoft.com) it may be the brand's own
        infrastructure, so that alone is only a warning.
        """
        if ext.domain in PHISHED_BRANDS or ext.domain in self.brands:
            return None  # paypal.com, amazon.co.jp: at home (platform look-alikes checked next)
        found = _BRANDS.search(ext.subdomain)
        if found:
            return Signal("brand_in_domain", "block",
                          f"子域名冒用“{found.group(1)}”,真实网站是 "
                          f"{ext.top_domain_under_public_suffix},是冒充的网址")
        for raw in re.split(r"[.\-]", f"{ext.subdomain}.{ext.domain}"):
            token = _letters(skeleton(raw))
            if token in _LOOKALIKE_BRANDS and raw != _LOOKALIKE_BRANDS[token]:
                return Signal("homoglyph", "block",
                              f"{host} 用形近字母冒充“{_LOOKALIKE_BRANDS[token]}”")
        found = _BRANDS.search(ext.domain)
        if found:
            return Signal("brand_word", "warn",
                          f"域名含“{found.group(1)}”,但不是它的官方网站")
        return None

    def _typo_target(self, token: str) -> str | None:
        if len(token) < 5 or token in self.brands:
            return None
        return next((self.brands[b] for b in self._long_brands if _edit_distance_le1(token, b)),
                    None)


OFFSITE = Signal("offsite", "warn",
                 "站外链接,不要打开;请买家发商品截图或告诉你宝贝名称,在店内帮他查找")
_FREE = HostList(FREE_HOSTS)
_BRANDS = re.compile(r"(?<![a-z0-9])(" + "|".join(sorted(PHISHED_BRANDS, key=len, reverse=True))
                     + r")(?![a-z0-9])")


def _letters(text: str) -> str:
    """A stricter skeleton for foreign brands: i and l are one letter (robiox = roblox)."""
    return text.replace("i", "l")


_LOOKALIKE_BRANDS = {_letters(b): b for b in PHISHED_BRANDS if len(b) >= 5 and not b.isdigit()}
_RISKY_FILES = EXECUTABLE | SCRIPT | CPU_ARCH | ARCHIVE | MACRO_DOC
_NOT_DOWNLOADS = frozenset({"php", "phtml", "cab", "com"})  # page scripts; .com is a TLD word
_SESSION_DIR = re.compile(r"/(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})(?:/|$|\?)", re.ASCII)
_RANK = {"block": 0, "warn": 1, "info": 2}


# TLDs a bare "name.tld" in chat is a link with; with others ("iPhone15.Pro", "v2.app") a bare
# word with a dot is a product name unless something about it is alarming.
_LINK_TLDS = frozenset({"com", "cn", "net", "org", "hk", "tw", "mo", "io", "co", "me", "cc",
                        "tv", "info", "biz"}) | CHEAP_TLDS - {"pro", "app", "mov", "zip"}


def _word_with_dot(parts: _Parts, host: str, ext, signals: list[Signal]) -> bool:
    if parts.scheme or parts.path or parts.port or host.startswith("www.") or _IPV4.match(host):
        return False
    if any(s.severity == "block" for s in signals):
        return False
    return ext.suffix.rsplit(".", 1)[-1] not in _LINK_TLDS


def _ranked(signals: list[Signal]) -> list[Signal]:
    """Most severe first (stable), so the first signal names the rule."""
    return sorted(signals, key=lambda s: _RANK[s.severity])


def _path_signals(path: str) -> list[Signal]:
    lowered = path.lower()
    signals = []
    name = lowered.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext in _RISKY_FILES and ext not in _NOT_DOWNLOADS:
        signals.append(Signal("file_path", "block",
                              f"网址直接下载 .{ext} 文件(程序/脚本/压缩包),可能是木马"))
    brand = _BRANDS.search(lowered)
    if brand:
        signals.append(Signal("brand_in_path", "block",
                              f"网址路径里冒用“{brand.group(1)}”,不是它的官方网站"))
    if EMAIL_IN_URL.search(lowered):
        signals.append(Signal("email_in_url", "block", "网址里带着邮箱地址,是钓鱼套件的典型写法"))
    if _SESSION_DIR.search(lowered):
        signals.append(Signal("kit_path", "block", "网址里有一次性的随机目录,是钓鱼套件的典型写法"))
    if CMS_PATH.search(lowered) and not CMS_MEDIA.search(name):
        signals.append(Signal("cms_path", "block", "网址指向被入侵网站的程序目录,常用来藏钓鱼页"))
    if CREDENTIAL_PATH.search(lowered):
        signals.append(Signal("credential_path", "block", "网址像登录/验证/付款页面"))
    return signals
