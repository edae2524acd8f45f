"""Link finding (obfuscated forms too) and host judging."""

from __future__ import annotations

import pytest

from assist.core.risk.lists import load_lists
from assist.core.risk.text import fold
from assist.core.risk.urls import LinkChecker, skeleton

CHECKER = LinkChecker(load_lists(None))


def links(text: str):
    return CHECKER.find(fold(text))


@pytest.mark.parametrize("text, host", [
    ("看看 https://item.taobao.com/item.htm?id=1 有货吗", "item.taobao.com"),
    ("没有协议 taobao-item.top/x 也要找到", "taobao-item.top"),
    ("全角点 taobao。com。item-check。top/i?id=1", "taobao.com.item-check.top"),
    ("全角字母 ｗｗｗ．ｔａｏｂａｏ．ｃｏｍ", "www.taobao.com"),
    ("插了空格 www . taobao-item . top / 8823 呢", "www.taobao-item.top"),
    ("零宽字符 taobao\u200b-login.top", "taobao-login.top"),
])
def test_finds_links_in_any_disguise(text: str, host: str) -> None:
    assert [f.host for f in links(text)] == [host]


def test_evidence_span_points_into_the_original_text() -> None:
    text = "看看 www . taobao-item . top / 8823 跟你家一样吗"
    (finding,) = links(text)
    start, end = finding.span
    assert text[start:end] == finding.evidence == "www . taobao-item . top / 8823"


@pytest.mark.parametrize("text", [
    "1.5米的床能用吗", "价格是99.9还是89.9", "v2.0版本", "2024.05.01下的单", "IMG_2231.JPG 是破损处",
    "邮箱 zhangsan@163.com", "发到 lily.wang@qq.com", "重3.2kg",
])
def test_numbers_file_names_and_emails_are_not_links(text: str) -> None:
    assert links(text) == []


@pytest.mark.parametrize("url", [
    "https://item.taobao.com/item.htm?id=652371881230",
    "https://detail.tmall.com/item.htm?id=614523987712&skuId=1",
    "https://item.jd.com/100012043978.html",
    "https://m.tb.cn/h.UaBc123?tk=Xy9Z",
    "https://s.click.taobao.com/t?e=m",
    "https://shop108842211.taobao.com",
    "https://www.alipay.com",
])
def test_platform_links_are_safe(url: str) -> None:
    (finding,) = links(url)
    assert finding.allowed and not finding.signals


@pytest.mark.parametrize("url, code, severity", [
    ("http://item-taobao.com.cn-login.top/item.htm", "brand_in_domain", "block"),
    ("http://jingdong-mall.com/item/1.html", "brand_in_domain", "block"),
    ("http://taoba0.com/i/1", "homoglyph", "block"),
    ("https://tmaII.com/x", "homoglyph", "block"),
    ("https://rnall-shop.com.tmall.xyz", "brand_in_domain", "block"),
    ("http://tm4ll.com/store", "homoglyph", "block"),
    ("http://taobae.com/x", "typosquat", "block"),
    ("https://xn--tobao-4ve.com/", "homoglyph", "block"),  # Cyrillic а
    ("https://tаobao.com/x", "homoglyph", "block"),  # the same, written in Unicode
    ("http://192.168.31.5:8080/order", "ip", "block"),
    ("http://taobao.com@evil.top/item", "userinfo", "block"),
    ("https://taobao.com:8443.login-secure.info/item", "fake_port", "block"),
    ("http://t.cn/A6xYz12k", "shortener", "block"),
    ("https://bit.ly/3xKq9Za", "shortener", "block"),
    ("http://shop-check.example.com:8088/", "port", "block"),
    ("http://drive-share.xyz/a", "cheap_tld", "warn"),
    ("https://my-shop-help.com/login", "credential_path", "block"),
    ("https://xn--80ak6aa92e.com/", "punycode", "block"),
])
def test_lookalikes_and_tricks_are_flagged(url: str, code: str, severity: str) -> None:
    (finding,) = links(url)
    assert code in [s.code for s in finding.signals]
    assert finding.severity == severity
    assert not finding.allowed


def test_unknown_but_ordinary_domain_is_a_warning_only() -> None:
    (finding,) = links("官网 www.uniqlo.com 上看到的")
    assert [s.code for s in finding.signals] == ["offsite"] and not finding.allowed
    assert finding.severity == "warn"


def test_skeleton_maps_homoglyphs() -> None:
    assert skeleton("tao6ao") == "taobao"
    assert skeleton("rnall") == "mall"
    assert skeleton("taoba0") == "taobao"
    assert skeleton("tmaIl") == "tmall"
