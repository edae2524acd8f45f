import pytest

from assist.core.textnorm import normalise


@pytest.mark.parametrize("raw, expected", [
    ("亲，这个鞋子尺码标准吗？？？", "这个鞋子尺码标准吗?"),
    ("ＡＢＣ　快递到哪了", "abc 快递到哪了"),
    ("在吗在吗😀😀", "在吗在吗"),
    ("好的呢[微笑]", "好的"),
    ("太慢了啦啦啦啦啦", "太慢了"),
    ("这件衣服亲肤吗", "这件衣服亲肤吗"),
    ("亲", "亲"),
    ("订单123456789012怎么还没发", "订单 怎么还没发"),
    ("退款 21983746509", "退款"),
    ("订单号", "订单号"),
])
def test_normalise(raw: str, expected: str) -> None:
    result = normalise(raw)
    assert result.has_content
    assert result.text == expected


@pytest.mark.parametrize("raw", [
    "", "   ", "😀😀👍", "？？？", "https://item.taobao.com/item.htm?id=1234567",
    "taobao.com/abc", "1234567890123", "JD123456789", "[微笑][微笑]",
    "订单 2198374650918273", "圆通 YT7765432198765", "我的订单号:2198374650918", "链接 https://a.cn/x",
])
def test_no_content(raw: str) -> None:
    assert normalise(raw).has_content is False
