"""Category and title rules shared by the formats."""

from __future__ import annotations

import re
import unicodedata

DEFAULT_CATEGORY = "导入/未分组"  # rows without a group still need a category
TITLE_CHARS = 18
# Forms of address and greetings that open most quick phrases and say nothing about the topic.
_OPENING = re.compile(r"^(?:(?:亲爱的|亲亲|亲|您好|你好|hi|hello|在的|嗯嗯|好的)[\s,，.。!！~～、:：]*)+",
                      re.IGNORECASE)
_BRACKETED = re.compile(r"[(（【\[][^)）】\]]*[)）】\]]")
_CLAUSE_END = re.compile(r"[,，.。!！?？~～;；:：\n]")


def category_from_group(group: str) -> str:
    """'售后=>保修' (千牛 nested groups) or '售后 / 保修' -> '售后/保修'; empty -> the default."""
    parts = [p.strip() for p in re.split(r"=>|/|>", group)]
    parts = [p for p in parts if p]
    return "/".join(parts) if parts else DEFAULT_CATEGORY


def group_from_category(category: str) -> str:
    """The inverse for 千牛: '售后/保修' -> '售后=>保修'; the default category -> empty."""
    return "" if category == DEFAULT_CATEGORY else "=>".join(category.split("/"))


def title_from_reply(reply: str, fallback: str) -> str:
    """A card title for a phrase without one: its first clause after the greeting."""
    text = _OPENING.sub("", unicodedata.normalize("NFKC", reply).strip())
    text = _BRACKETED.sub("", text)  # "国行(型号后缀CH/A)" -> "国行": asides make poor titles
    clause = _CLAUSE_END.split(text, 1)[0].strip()
    if len(clause) > TITLE_CHARS:
        clause = clause[:TITLE_CHARS].rstrip() + "…"
    return clause or fallback
