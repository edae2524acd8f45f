"""Mask personal data in customer text before it is stored in the suggestion log.

Masked, each replaced by a bracketed label so QA still sees what kind of data the buyer sent:

- phone numbers (``[手机号]``, landlines ``[电话]``), ID numbers (``[身份证号]``, 18- and 15-digit,
  whatever the check digit), bank cards (``[银行卡号]``, 16–19 digits, whatever the Luhn sum);
  written with ASCII, full-width or Chinese digits (一三八, 幺三八, 两, 零/〇), grouped by spaces,
  NBSPs, dots or dashes, with +86/0086 prefixes, area codes in brackets and 转/ext extensions;
  a number typed in pieces (``176开头的，中间1225，最后是4519``) is masked piece by piece;
- e-mail addresses (``[邮箱]``), also with ``＠``, ``。``, ``(at)``/``(dot)``, `` at ``, 艾特/点;
- WeChat and QQ ids introduced as such (``[微信号]``, ``[QQ号]``: 微信/vx/V信/威信/wx, QQ/扣扣/企鹅);
- addresses (``[地址]``) by structure: two or more of province, city, district/county, town,
  village, road/street/lane, estate/campus and building/unit/room parts, with or without digits,
  Chinese numerals too, and anything after an address label (地址：…);
- names (``[姓名]``) introduced as such (收件人/收货人/联系人/姓名/户名…), or heading a pasted
  ``name phone`` block.

Kept: numbers whose nearest label says they are not personal (订单号, 运单/快递 and courier
names, 发票, 型号...), numbers glued to letters (tracking numbers like SF…, models) unless they
are a mobile number, and every number of a shape no rule claims (prices, sizes, quantities,
dates, times). Masking runs in the log writer thread, off the reply path.

The rules were tuned on the dev half of a blind corpus; ``benchmarks/masking.py`` reports both
halves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# ---- same-length folds: spans found in a folded view are spans of the original text ----------
_SPACES = "\u00a0\u2002\u2003\u2007\u2009\u202f\u3000"
_WIDTH: dict[int, int | str] = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)},
                               **{ord(s): " " for s in _SPACES}}
_CN_DIGITS = str.maketrans("零〇一二三四五六七八九幺两", "0012345678912")
# Two or more Chinese digits in a row are a number being spelt out (幺三八…); a single one is a
# word (一直, 两件) and stays a letter, so it does not stretch the number next to it.
_CN_DIGIT_RUN = re.compile("[零〇一二三四五六七八九幺两]{2,}")


def _fold(text: str) -> str:
    """Full-width ASCII as ASCII, odd spaces as a space (one character for one)."""
    return text.translate(_WIDTH)


def _fold_digits(text: str) -> str:
    """``_fold`` plus spelt-out Chinese digits as ASCII digits."""
    return _CN_DIGIT_RUN.sub(lambda m: m.group(0).translate(_CN_DIGITS), _fold(text))


def _replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    out, last = [], 0
    for start, end, label in sorted(spans):
        if start < last:
            continue  # overlaps a span already replaced
        out += [text[last:start], label]
        last = end
    return "".join(out) + text[last:]


def _sub_folded(pattern: re.Pattern[str], text: str, label: Callable[[re.Match[str]], str | None],
                fold: Callable[[str], str] = _fold) -> str:
    """Replace ``pattern``'s matches in the folded view; ``label`` may return None to keep one."""
    spans = []
    for m in pattern.finditer(fold(text)):
        replacement = label(m)
        if replacement is not None:
            spans.append((m.start(m.lastindex or 0), m.end(m.lastindex or 0), replacement))
    return _replace_spans(text, spans)


# ---- e-mail ---------------------------------------------------------------------------------
_AT = r"(?:\s*@\s*|\s*[(\[【（]\s*at\s*[)\]】）]\s*|\s+at\s+|\s*艾特\s*)"
_DOT = r"(?:\s*\.\s*|\s*[。．]\s*|\s*[(\[【（]\s*dot\s*[)\]】）]\s*|\s+dot\s+|点)"
_EMAIL = re.compile(rf"(?i)(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*{_AT}"
                    rf"[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*{_DOT}[A-Za-z]{{2,6}}(?![A-Za-z])")

def _email(m: re.Match[str]) -> str | None:
    # http://taobao.com@evil.top/ is a link (a phishing trick QA must see), not a mailbox.
    before = m.string[max(0, m.start() - 80):m.start()].split()[-1:] or [""]
    return None if "://" in before[0] or m.string[m.start() - 2:m.start()] == "//" else "[邮箱]"


# ---- ids introduced as WeChat / QQ ------------------------------------------------------------
_INTRO_SEP = r"[\s:：=]*(?:是|为|号是|号为|号|id|ID)?[\s:：=]*"
_WECHAT = re.compile(r"(?i)(?:微信|薇信|威信|卫星|v信|vx|wx|wechat|weixin|(?<![a-z])[+加]v(?![a-z]))"
                     rf"(?:号|id|\s?id)?{_INTRO_SEP}([A-Za-z0-9][A-Za-z0-9_-]{{4,24}})(?![A-Za-z0-9_-])")
_QQ = re.compile(r"(?i)(?:qq|扣扣|抠抠|企鹅|(?<![a-z])q(?![a-z]))(?:号|号码)?"
                 rf"{_INTRO_SEP}([1-9][0-9]{{4,11}})(?![0-9])")

# ---- numbers ---------------------------------------------------------------------------------
# A run of digits joined by single separators (space, dash, dot, brackets), maybe a + prefix and
# an X check digit; found in the digit-folded view.
_RUN = re.compile(r"(?<![0-9])[(+]?[0-9](?:[0-9]|[ \-.·()]{1,3}(?=\(?[0-9]))*(?:[Xx](?![A-Za-z]))?")
_GROUP = re.compile(r"[0-9]+[Xx]?")
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|EXT\.?|x)\s*[0-9]{1,5}(?![0-9])")
_NOT_PERSONAL = re.compile(r"订单|单号|运单|快递|物流|包裹|发票|税号|编号|条码|货号|型号|批次|序列号|"
                           r"交易|流水|券|优惠码|兑换码|sku|SKU|imei|IMEI|SN|顺丰|中通|圆通|韵达|申通|"
                           r"极兔|邮政|EMS|ems|京东|德邦|百世|快运")
# Labels that rule out a mobile number too (no courier uses 11-digit numbers; JD orders may).
_NOT_MOBILE = re.compile(r"订单|单号|编号|交易|流水|条码|货号|型号|序列号|imei|IMEI")
_PERSONAL = re.compile(r"电话|手机|号码|联系|致电|回拨|打|座机|tel|Tel|TEL|卡号|银行|卡|账号|户号|"
                       r"身份证|证件|身份|微信|QQ|qq")
_JOINED = re.compile(r"\s*(?:和|与|及|跟|或|还有|以及|、|/|,|，)\s*")
_CARD_START = re.compile(r"62|60|4|5[1-5]|2[2-7]|35")
_CARD_CONTEXT = re.compile(r"卡号|银行|卡|账号|户号")
_ID_CONTEXT = re.compile(r"身份证|证件|身份")
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_ID18 = re.compile(rf"[1-8][0-9]{{5}}(?:18|19|20)[0-9]{{2}}{_DATE}[0-9]{{3}}[0-9Xx]")
_ID15 = re.compile(rf"[1-8][0-9]{{5}}[0-9]{{2}}{_DATE}[0-9]{{3}}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{8,10}")
_LANDLINE_NO_ZERO = re.compile(r"[1-9][0-9]{8,10}")  # after +86 the trunk 0 is dropped


_LONGEST = 23


@dataclass
class _Run:
    start: int
    end: int
    groups: list[tuple[int, int, str]]  # (start, end, digits) of each digit group
    plus: bool
    context: str  # the text before the run, back to the previous run or sentence end

    @property
    def digits(self) -> str:
        return "".join(g[2] for g in self.groups)


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card_like(digits: str, introduced: bool) -> bool:
    """16–19 digits are a card when introduced as personal (卡号, 银行, 账号...), whatever the
    checksum; a bare one (an order number pasted alone looks the same) when it starts like a
    card (UnionPay 62/60, Visa 4, Mastercard 5/2, JCB 35) or passes the Luhn check."""
    if not (16 <= len(digits) <= 19 and digits.isdigit()) or digits[0] == "0":
        return False
    return introduced or bool(_CARD_START.match(digits)) or _luhn(digits)


def _number_label(digits: str, plus: bool, after_letter: bool, introduced: bool = True) -> str | None:
    """The label of a whole digit string, or None when no personal shape fits."""
    if after_letter:  # SF…, JD…, model numbers: only a mobile number glued to a name counts
        return "[手机号]" if _MOBILE.fullmatch(digits) else None
    national = digits
    if digits.startswith("0086"):
        national = digits[4:]
    elif digits.startswith("86") and (plus or len(digits) in (12, 13)):
        national = digits[2:]
    if _MOBILE.fullmatch(national):
        return "[手机号]"
    if _LANDLINE.fullmatch(national) or (national != digits and _LANDLINE_NO_ZERO.fullmatch(national)):
        return "[电话]"
    if _ID18.fullmatch(digits) or _ID15.fullmatch(digits):
        return "[身份证号]"
    if _card_like(digits, introduced):
        return "[银行卡号]"
    return None


def _context_allows(context: str, mobile: bool) -> bool:
    """False when the nearest label before a number says it is not personal (订单号…)."""
    last_not = max((m.end() for m in (_NOT_MOBILE if mobile else _NOT_PERSONAL).finditer(context)),
                   default=-1)
    last_yes = max((m.end() for m in _PERSONAL.finditer(context)), default=-1)
    return last_not < 0 or last_yes > last_not


def _runs(folded: str) -> list[_Run]:
    runs: list[_Run] = []
    for m in _RUN.finditer(folded):
        groups = [(m.start() + g.start(), m.start() + g.end(), g.group(0))
                  for g in _GROUP.finditer(m.group(0))]
        # The label in force: up to 20 characters back, within the clause (订单 A 和 B: both orders).
        context = re.split(r"[。！？!?\n；;，,]", folded[max(0, m.start() - 20):m.start()])[-1]
        if runs and _JOINED.fullmatch(folded[runs[-1].end:m.start()]):
            context = runs[-1].context  # 订单 A 和 B: B is an order number too
        runs.append(_Run(m.start(), m.end(), groups, m.group(0).startswith("+"), context))
    return runs


def _mask_numbers(text: str) -> str:
    folded = _fold_digits(text)
    spans: list[tuple[int, int, str]] = []
    loose: list[_Run] = []  # runs no rule claimed, for numbers typed in pieces
    for run in _runs(folded):
        if not _context_allows(run.context, bool(_MOBILE.search(run.digits))):
            continue
        after_letter = run.start > 0 and folded[run.start - 1].isascii() and folded[run.start - 1].isalpha()
        found = _claim(run, after_letter, folded, spans)
        if not found and not after_letter:
            loose.append(run)
    spans += _pieces(loose, folded)
    return _replace_spans(text, spans)


def _claim(run: _Run, after_letter: bool, folded: str, spans: list[tuple[int, int, str]]) -> bool:
    """Mask the longest personal shapes made of whole groups of ``run``; True if any."""
    groups, i, found = run.groups, 0, False
    introduced = bool(_PERSONAL.search(run.context))
    while i < len(groups):
        # No personal number is longer than 0086 + 19 digits: bounds the work on a long run.
        longest, length = i, 0
        while longest < len(groups) and length + len(groups[longest][2]) <= _LONGEST:
            length += len(groups[longest][2])
            longest += 1
        for j in range(longest, i, -1):
            digits = "".join(g[2] for g in groups[i:j])
            label = _number_label(digits, run.plus and i == 0, after_letter and i == 0, introduced)
            if label is None:
                continue
            start = run.start if i == 0 else groups[i][0]
            end = groups[j - 1][1]
            if label == "[电话]":
                # Trailing short groups (-1757) and 转/ext extensions belong to the landline.
                while j < len(groups) and len(groups[j][2]) <= 5:
                    end, j = groups[j][1], j + 1
                ext = _EXTENSION.match(folded, end)
                end = ext.end() if ext else end
            if start > 0 and folded[start - 1] in "(（" and label == "[电话]":
                start -= 1
            spans.append((start, end, label))
            found, i = True, j - 1
            break
        i += 1
    return found


def _pieces(loose: list[_Run], folded: str) -> list[tuple[int, int, str]]:
    """A mobile, card or ID number typed in 2–4 pieces of ≥3 digits, close together."""
    spans: list[tuple[int, int, str]] = []
    used = -1
    for i in range(len(loose)):
        if i <= used or len(loose[i].digits) < 3:
            continue
        for j in range(min(len(loose), i + 4), i + 1, -1):
            window = loose[i:j]
            gaps = [folded[a.end:b.start] for a, b in zip(window, window[1:], strict=False)]
            if any(len(g) > 12 or re.search(r"[。！？!?\n]", g) for g in gaps):
                continue
            if any(len(r.digits) < 3 for r in window):
                continue
            digits = "".join(r.digits for r in window)
            context = window[0].context
            if not _PERSONAL.search(context):
                continue  # pieces only when introduced (手机166290……01864), not 1688.com/…/6221133
            if _MOBILE.fullmatch(digits):
                label = "[手机号]"
            elif 16 <= len(digits) <= 19 and _CARD_CONTEXT.search(context):
                label = "[银行卡号]"
            elif (_ID18.fullmatch(digits) or _ID15.fullmatch(digits)) and _ID_CONTEXT.search(context):
                label = "[身份证号]"
            else:
                continue
            if all(len(g.strip(" ,，、.…-")) == 0 for g in gaps):
                spans.append((window[0].start, window[-1].end, label))
            else:
                spans += [(r.start, r.end, label) for r in window]
            used = j - 1
            break
    return spans


# ---- addresses -------------------------------------------------------------------------------
_PROVINCES = ("北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|"
              "湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门")
_HAN = r"[\u4e00-\u9fff]"
# A part's name (letters too: 望京SOHO) holds none of the words that lead into an address (家住在,
# 寄到, 改成, 地址是...) or chat around it, so the mask starts at the place.
_LEAD = (r"[^\W\d_的了在住到寄送是为我你他她们这那个吗呢吧啊把给从往填改成写能要想去帮看"
         r"地址收货件请就都还也很没过说问等让被对于麻烦]")
_NUM = r"[0-9A-Za-z零〇一二三四五六七八九十百两幺]{1,6}"
_PLACE_SUFFIX = (r"(?:特别行政区|自治区|自治州|自治县|省|市|盟|州|地区|区|县|街道|镇|乡|社区|村|组|屯|"
                 r"大道|大街|路|街|巷|胡同|里弄|弄|小区|花园|家园|新村|公寓|大厦|广场|苑|园区|科技园|"
                 r"产业园|工业园|大学|学院|校区|宿舍|公寓楼|城)")
_UNIT = r"(?:号楼|号院|栋|幢|座|单元|层|楼|室|号|弄|组|户|舍)"
# 5-3-1404室: building-unit-room; a bare room number only right after a building (22栋473).
_UNIT_PART = rf"(?:{_NUM}(?:号楼|栋|幢|座|单元|舍)(?:[0-9]{{2,5}}(?:室|号)?(?![0-9]))?|{_NUM}{_UNIT}|" \
             r"[0-9]{1,3}(?:-[0-9]{1,4}){1,3}(?:室|号)?(?![0-9]))"
_FIRST = rf"(?:(?:{_PROVINCES})(?=[\u4e00-\u9fff])|{_LEAD}{{1,8}}?{_PLACE_SUFFIX}|{_UNIT_PART})"
_PART = rf"(?:{_LEAD}{{0,8}}?{_PLACE_SUFFIX}|{_UNIT_PART})"
_TAIL = rf"(?:{_HAN}{{1,6}}?(?:城|园|苑|府|湾|庭|居|轩|阁|邸|墅|庄|坊|汇|中心|广场|大厦|公馆))?"
_ADDRESS = re.compile(rf"{_FIRST}(?:[ -]?{_PART})+{_TAIL}")
_ADDRESS_LABEL = re.compile(r"(?:收货|收件|寄件|家庭|详细|新|现|送货|配送|邮寄|寄回)?地址\s*"
                            r"(?:[:：]|是|为|改成|改为|换成)"
                            # up to the clause's end, or the next field (电话…, a mask already made)
                            r"\s*((?:(?!电话|手机|联系|收件人|收货人|\s*\[)[^,，。;；!！?？\n]){4,80})")
_COARSE = re.compile(rf"(?:{_PROVINCES})|{_HAN}*?(?:省|市|特别行政区|自治区)")


def _address_label(m: re.Match[str]) -> str | None:
    return "[地址]" if re.search(_PLACE_SUFFIX + "|" + _UNIT, m.group(1)) else None


def _structural_address(m: re.Match[str]) -> str | None:
    """An address needs at least one part finer than a city (发到上海市要几天 stays)."""
    parts = re.findall(rf"{_PLACE_SUFFIX}|{_UNIT}|[0-9]{{2,}}", m.group(0))
    fine = [p for p in parts if p not in ("省", "市", "特别行政区", "自治区")]
    return "[地址]" if fine and not _COARSE.fullmatch(m.group(0)) else None


# ---- names -----------------------------------------------------------------------------------
_NAME_INTRO = re.compile(r"(?:收件人|收货人|联系人|签收人|取件人|户名|持卡人|开户名|实名|姓名|名字|我叫)"
                         r"[\s:：]*(?:是|为|叫|写|填|改成|改为|换成)?[\s:：]*"
                         r"([\u4e00-\u9fff·]{2,4}?(?=电话|手机|号码|联系|地址|身份|[^\u4e00-\u9fff·]|$)|"
                         # no boundary in sight (收货人李四明天在家): the usual length of a name
                         r"[\u4e00-\u9fff]{3})")
_NAME_HEAD = re.compile(r"(?m)^\s*([\u4e00-\u9fff·]{2,4})[\s,，]+(?=\[(?:手机号|电话)\])")
# Words that are never (part of) a name: 联系电话 13812345678 heads a line but names nobody.
_NOT_NAME = re.compile(r"你好|您好|老板|客服|亲亲|电话|手机|号码|联系|麻烦|谢谢|本人|自己|我的|在吗|急|请问|"
                       r"收件|收货|地址|微信|座机|快递|打|回拨|致电|号|店|家")


def _name(m: re.Match[str]) -> str | None:
    name = m.group(1)
    return None if _NOT_NAME.search(name) or name[0] in "我你他她" else "[姓名]"


_EMAIL_HINT = re.compile(r"[@＠]|艾特|(?i:at)")
_DIGIT_HINT = re.compile("[0-9０-９零〇一二三四五六七八九幺两]")
_WECHAT_HINT = re.compile(r"(?i)微信|薇信|威信|卫星|v信|vx|wx|wechat|weixin|[+加]v")
_ADDRESS_HINT = re.compile(r"[省市州区县镇乡村组屯道街路巷弄园苑寓厦场学院舍城号楼栋幢座单元层室户]|"
                           r"[0-9]-[0-9]")


def _wechat(m: re.Match[str]) -> str:
    return "[手机号]" if _MOBILE.fullmatch(m.group(1)) else "[微信号]"  # 加我微信138…: a phone


def mask(text: str) -> str:
    """Return ``text`` with personal data replaced by labels; other text is unchanged."""
    if not text or not isinstance(text, str):
        return text
    # Each pass runs only when a character it needs is there: most chat lines need few of them.
    if _EMAIL_HINT.search(text):
        text = _sub_folded(_EMAIL, text, _email)
    if _DIGIT_HINT.search(text):
        text = _sub_folded(_WECHAT, text, _wechat)
        text = _sub_folded(_QQ, text, lambda m: "[QQ号]", _fold_digits)
        text = _mask_numbers(text)
    elif _WECHAT_HINT.search(text):  # a WeChat id may have no digits (vx: lily_wang)
        text = _sub_folded(_WECHAT, text, _wechat)
    if "地址" in text:
        text = _sub_folded(_ADDRESS_LABEL, text, _address_label)
    if _ADDRESS_HINT.search(text):
        text = _sub_folded(_ADDRESS, text, _structural_address)
    text = _sub_folded(_NAME_INTRO, text, _name)
    return _sub_folded(_NAME_HEAD, text, _name) if "[" in text else text
