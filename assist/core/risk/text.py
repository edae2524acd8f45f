"""Length-aware folding of chat text, shared by the link finder and the intent rules.

Rules match on a folded copy (full-width ASCII to ASCII, ideographic dots between ASCII to '.',
lower case, spaces dropped where evasion puts them) and report spans in the original text, so
the agent sees exactly what fired. ``Folded.offsets[i]`` is where folded char ``i`` came from.
"""

from __future__ import annotations

from dataclasses import dataclass

_DOTS = "\u3002\uff61\uff0e"  # 。 ｡ ．
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
CONFUSABLES = str.maketrans({  # Cyrillic/Greek letters drawn like Latin ones
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ԁ": "d", "ѕ": "s", "ӏ": "l", "ɡ": "g", "ο": "o", "α": "a", "ν": "v", "τ": "t", "ı": "i",
    "κ": "k", "ρ": "p", "ь": "b", "ѡ": "w", "ԛ": "q", "һ": "h", "м": "m", "т": "t", "в": "b",
})


def _fold_char(char: str) -> str:
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII block
        return chr(code - 0xFEE0)
    if char == "\u3000":
        return " "
    return char


def _asciiish(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "-_")


@dataclass(frozen=True)
class Folded:
    text: str
    offsets: tuple[int, ...]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the folded text back to the original."""
        if start >= end:
            return (self.offsets[start], self.offsets[start]) if start < len(self.offsets) else (
                len(self.original), len(self.original))
        return self.offsets[start], self.offsets[end - 1] + 1

    def evidence(self, start: int, end: int) -> tuple[str, tuple[int, int]]:
        lo, hi = self.span(start, end)
        return self.original[lo:hi], (lo, hi)


def fold(raw: str) -> Folded:
    """Fold ``raw`` for matching; see the module docstring."""
    chars = [_fold_char(c) for c in raw]
    out: list[str] = []
    offsets: list[int] = []
    for i, char in enumerate(chars):
        if char in _ZERO_WIDTH:
            continue
        if char in _DOTS:
            char = "."
        if char.isspace():
            # Spaces inside "taobao . com" or "加 我 微 信" are evasion, not separators; keep
            # one only between two runs of ASCII words ("hello world", "wx abc123").
            prev = out[-1] if out else ""
            nxt = next((c for c in chars[i + 1:] if not c.isspace()), "")
            if not prev or not nxt or prev == " ":
                continue
            if _asciiish(prev) and _asciiish(nxt):
                out.append(" ")
                offsets.append(i)
            continue
        out.append(char.lower())
        offsets.append(i)
    # An ASCII dot/slash/colon with a space before or after ("www . a . top / 1"): drop it.
    text = "".join(out)
    if " " in text:
        keep = [k for k, c in enumerate(text) if not (
            c == " " and ((k > 0 and text[k - 1] in "./:") or (k + 1 < len(text) and text[k + 1] in "./:")))]
        text = "".join(text[k] for k in keep)
        offsets = [offsets[k] for k in keep]
    return Folded(text, tuple(offsets), raw)
