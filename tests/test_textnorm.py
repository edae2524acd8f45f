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


@pytest.mark.parametrize("raw, expected", [
    ("肿么还没到啊", "怎么还没到啊"),
    ("有木有优惠", "有没有优惠"),
    ("啥时候发货", "什么时候发货"),
    ("坏了咋办", "坏了怎么办"),
    ("是zp吗", "是正品吗"),
    ("有货么?", "有货吗?"),
    ("在麽", "在吗"),
])
def test_chat_spellings_become_the_words_they_stand_for(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


@pytest.mark.parametrize("raw", [
    "zp-300有现货", "型号zp3",  # a model number, not 正品
    "什么时候发", "怎么退", "这么多", "多么好看",  # their 么 is part of the word
    "童鞋多大码", "稀饭好吃吗", "手表防水吗", "偶尔会卡",  # words that mean something else in a shop
])
def test_words_that_only_look_like_chat_spellings_stay(raw: str) -> None:
    assert normalise(raw).text == raw.lower()
