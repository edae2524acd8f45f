"""Script URLs and executable HTML in buyer text: flagged as phishing links that must not be
clicked; angle brackets in ordinary Chinese text are not."""

from __future__ import annotations

import pytest

from assist.core.risk.markup import find_markup
from assist.core.risk.text import fold


@pytest.mark.parametrize("text, code", [
    ('<a href="javascript:alert(1)">点我</a>', "script_url"),
    ("JaVa\tScript:void(0) 复制到浏览器打开", "script_url"),
    ("javascript&#58;alert(document.cookie)", "script_url"),
    ("vbscript:msgbox(1)", "script_url"),
    ("图在这 data:text/html;base64,PHNjcmlwdD4=", "script_url"),
    ("<script>alert(1)</script>", "markup"),
    ("<img src=x onerror=alert(1)>", "markup"),
    ("<svg/onload=alert(1)>", "markup"),
    ("＜iframe src=//x.top＞", "markup"),
    ("\u2039img src=x onerror=alert(1)\u203a", "markup"),
    ('<div onmouseover="fetch(1)">看这</div>', "markup"),
])
def test_script_and_markup_are_found(text: str, code: str) -> None:
    finding = find_markup(fold(text))
    assert finding is not None and finding.code == code
    if finding.span is not None:
        assert text[finding.span[0]:finding.span[1]] == finding.evidence


@pytest.mark.parametrize("text", [
    "有没有<100元的款", "身高165<体重55>穿多大", "你们卖javascript的编程书吗", "<b>加粗</b>可以吗",
    "数据 data: 1米", "《说明书》在哪下载", "a<b 的话选大码", "javascript 学习资料有吗",
])
def test_ordinary_brackets_and_words_are_not_markup(text: str) -> None:
    assert find_markup(fold(text)) is None


def test_detector_blocks_markup_with_chinese_reason(detector) -> None:
    text = '亲你帮我看看 <a href="javascript:alert(1)">订单详情</a>'
    risks = {r.type: r for r in detector.rule_risks(text)}
    link = risks["phishing_link"]
    assert (link.severity, link.rule) == ("block", "link.script_url")
    assert "可执行脚本" in link.reason and "不要点击" in link.reason
    assert text[link.span[0]:link.span[1]] == link.evidence == "javascript:alert(1)"
    assert risks["click_for_me"].severity == "block"  # a pretext with a script link
