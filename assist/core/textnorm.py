"""Chat-text normalisation shared by the indexer and the query path.

Buyer messages are noisy: full-width characters, emoji and platform emoticon codes, "？？？",
stretched characters, filler such as 亲/呢/哈, pasted links and bare order numbers, and chat
spellings of ordinary words (肿么 for 怎么, 木有 for 没有, 啥 for 什么, zp for 正品, a final 么 for 吗)
that the embedder reads as other words. Index texts and queries pass through the same function
so both sides look alike to the embedder.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Scheme-less too: "taobao.com/xx", "t.cn/abc"; the risk detector has its own, stricter finder.
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/\S*)?",
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(r"[a-z]{0,4}\d{6,}", re.IGNORECASE)
_EMOTICON_CODE = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,4}\]|/:[^\s\u4e00-\u9fff]{1,6}")
_REPEATED_PUNCT = re.compile(r"([^\w\s])\1+")
_STRETCHED = re.compile(r"(\w)\1{2,}")
_SPACES = re.compile(r"\s+")
# 亲 only as a form of address (start, or before punctuation), never inside 亲肤/亲戚.
_CLAUSE_END = r"[\s,.!?~、,。!?]"
_LEADING_FILLER = re.compile(rf"^(?:亲爱的|亲亲|亲|hi|hello|您好|你好)(?={_CLAUSE_END}|$){_CLAUSE_END}*")
# What buyers put in front of a pasted number or link ("订单 2198…", "圆通 YT77…", "链接:…"):
# with the identifier gone, such a label alone asks nothing.
_IDENTIFIER_LABEL = re.compile(
    r"^(?:我的|我|这个|这是)?(?:订单号?|单号|运单号?|快递单?号?|物流单?号?|编号|链接|宝贝|商品|"
    r"顺丰|圆通|中通|申通|韵达|百世|极兔|邮政|ems|京东|德邦|天天)*(?:是|码)?[\s:#,.。]*$")
# Chat spellings buyers type for ordinary words, longest first. Only spellings that mean one
# thing in shop chat: 童鞋 (kids' shoes), 稀饭 (porridge), 表 (watch) and 偶 (偶尔) stay as they are.
_SLANG = {
    "肿么": "怎么", "咋个": "怎么", "咋整": "怎么办", "咋": "怎么", "啥子": "什么", "啥": "什么",
    "神马": "什么", "木有": "没有", "米有": "没有", "酱紫": "这样子", "介个": "这个", "盆友": "朋友",
    "俺": "我", "在麽": "在吗",
}
_SLANG_WORD = re.compile("|".join(sorted(map(re.escape, _SLANG), key=len, reverse=True)))
# Pinyin initials as a whole Latin word: "zp吗" is 正品吗, but ZP-300 is a model number.
_INITIALS = {"zp": "正品"}
_INITIALS_WORD = re.compile(r"(?<![a-z0-9-])(" + "|".join(_INITIALS) + r")(?![a-z0-9-])")
# A final 么 asks like 吗 ("有货么"); 什么/怎么/那么/这么/多么/要么/为么 keep theirs.
_FINAL_ME = re.compile(rf"(?<![什怎那这多要为干])么(?={_CLAUSE_END}|$)")
_TRAILING_PARTICLES = re.compile(rf"(?<=[\u4e00-\u9fff])(?:呢|哈|呀|啦|哦|噢|哟|喔|滴)+(?={_CLAUSE_END}|$)")


def _standard_spelling(text: str) -> str:
    """Chat spellings replaced by the words they stand for (see ``_SLANG``)."""
    text = _SLANG_WORD.sub(lambda m: _SLANG[m.group(0)], text)
    text = _INITIALS_WORD.sub(lambda m: _INITIALS[m.group(1)], text)
    return _FINAL_ME.sub("吗", text)


def _is_emoji(char: str) -> bool:
    category = unicodedata.category(char)
    return category in ("So", "Sk", "Cs", "Co") or char in "\u200d\ufe0f"


@dataclass(frozen=True)
class Normalised:
    """A message ready for embedding; ``has_content`` is False for links, numbers, emoji only."""

    text: str
    has_content: bool


def normalise(raw: str) -> Normalised:
    """Normalise chat text; see the module docstring for what is removed and why."""
    text = unicodedata.normalize("NFKC", raw).lower()
    without_ids = _LONG_NUMBER.sub(" ", _URL.sub(" ", text))
    if without_ids != text and _IDENTIFIER_LABEL.match(without_ids.replace(" ", "")):
        return Normalised("", has_content=False)
    text = without_ids
    text = _EMOTICON_CODE.sub(" ", text)
    text = "".join(" " if _is_emoji(c) else c for c in text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    text = _STRETCHED.sub(r"\1\1", text)
    text = _SPACES.sub(" ", text).strip(" ~")
    text = _standard_spelling(text)
    if not any(c.isalnum() for c in text):
        return Normalised("", has_content=False)
    stripped = _TRAILING_PARTICLES.sub("", _LEADING_FILLER.sub("", text)).strip(" ~,")
    # A message that is only filler ("亲", "哈哈") keeps its words: it is an acknowledgement.
    if any(c.isalnum() for c in stripped):
        text = stripped
    return Normalised(text, has_content=True)
