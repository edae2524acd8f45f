"""Executable markup in buyer text and file names: script URLs and HTML that runs code.

A buyer has no reason to send ``javascript:``/``data:`` URLs, ``<script>`` or tags with
``onerror=`` handlers; they are probes for a widget that renders text as HTML, or a link whose
visible text hides what it runs. Matching works on folded text with HTML entities decoded
(``javascript&#58;``) and look-alike angle brackets (``‹`` ``﹤``) read as ``<``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from assist.core.risk.text import Folded

_ANGLES = str.maketrans({"\u2039": "<", "\ufe64": "<", "\u203a": ">", "\ufe65": ">"})
# Browsers ignore tabs/newlines inside a scheme, so "java script:" still runs.
_SCRIPT_URL = re.compile(
    r"(?:(?<![a-z0-9])(?:j\s*a\s*v\s*a|v\s*b)\s*s\s*c\s*r\s*i\s*p\s*t\s*:"
    r"|(?<![a-z0-9])data\s*:\s*[a-z]+/[a-z0-9.+-]+\s*[;,])[^\s\"'<>`]{0,80}")
_TAG = re.compile(
    r"(?:<\s*/?\s*(?:script|iframe|frame|frameset|object|embed|applet|form|meta|base|svg|math|"
    r"link|style|template)\b"
    r"|<\s*[a-z][a-z0-9]*\b[^<>]*?(?<![a-z0-9])on[a-z]{3,}\s*="
    r"|<\s*[a-z][a-z0-9]*\b[^<>]*?srcdoc\s*=)[^<>]{0,80}>?")  # the rest of the tag as evidence


@dataclass(frozen=True)
class MarkupFinding:
    code: str  # "script_url" | "markup"
    evidence: str
    span: tuple[int, int] | None


def _decoded(text: str) -> str:
    text = text.translate(_ANGLES)
    return html.unescape(text) if "&" in text else text


def find_markup(folded: Folded) -> MarkupFinding | None:
    """The first script URL or executable tag in the message, if any."""
    text = _decoded(folded.text)
    same = len(text) == len(folded.text)  # entity decoding shifts offsets; evidence only then
    for code, pattern in (("script_url", _SCRIPT_URL), ("markup", _TAG)):
        hit = pattern.search(text)
        if hit is None:
            continue
        if same:
            evidence, span = folded.evidence(hit.start(), hit.end())
            return MarkupFinding(code, evidence, span)
        return MarkupFinding(code, hit.group(0), None)
    return None


def has_markup(name: str) -> bool:
    """True when a file name carries a script URL or an executable tag."""
    text = _decoded(name.lower())
    return bool(_SCRIPT_URL.search(text) or _TAG.search(text))
