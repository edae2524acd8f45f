"""Mask personal data in customer text before it is stored in the suggestion log.

Masked: mobile and landline numbers, resident ID numbers (checksum-verified), bank cards
(Luhn-verified, so order numbers of the same length stay readable for QA), e-mail addresses and
street addresses. Each is replaced by a bracketed label, e.g. ``[手机号]``, so QA still sees what
kind of data the buyer sent. Masking runs in the log writer thread, off the reply path.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 18-character resident ID: 6-digit region, birth date, 3 digits, check digit.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
                        r"\d{3}[0-9Xx](?![0-9A-Za-z])")
# Card numbers: 16-19 digits, possibly grouped by spaces or dashes.
_CARD = re.compile(r"(?<![0-9])(?:\d[ -]?){15,18}\d(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])0\d{2,3}-?\d{7,8}(?![0-9])")
# A street address: a place word (road, street, estate...) followed by a house/unit number.
_ADDRESS_CHAR = r"[\u4e00-\u9fffA-Za-z0-9\-#]"
_ADDRESS = re.compile(
    rf"{_ADDRESS_CHAR}{{0,30}}?(?:省|市|区|县|镇|乡|村|路|街|道|巷|弄|小区|花园|公寓|大厦|苑)"
    rf"{_ADDRESS_CHAR}{{0,30}}?\d+\s*(?:号|栋|幢|单元|室|楼|层|弄)"
    rf"(?:{_ADDRESS_CHAR}{{0,12}}?(?:号|栋|幢|单元|室|楼|层))*[0-9A-Za-z\-]*"
)
_ADDRESS_LABEL = re.compile(r"((?:收货|收件|寄件|家庭|详细)?地址\s*[:：是为]\s*)[^,，。;；!！?？\n]{2,80}")


def _id_valid(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _when(check: Callable[[str], bool], label: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group(0))
        return label if check(digits) else match.group(0)
    return replace


def mask(text: str) -> str:
    """Return ``text`` with personal data replaced by labels; other text is unchanged."""
    if not text:
        return text
    text = _EMAIL.sub("[邮箱]", text)
    text = _ID_NUMBER.sub(_when(_id_valid, "[身份证号]"), text)
    text = _CARD.sub(_when(_luhn_valid, "[银行卡号]"), text)
    text = _MOBILE.sub("[手机号]", text)
    text = _LANDLINE.sub("[电话]", text)
    text = _ADDRESS_LABEL.sub(lambda m: m.group(1) + "[地址]", text)
    return _ADDRESS.sub("[地址]", text)
