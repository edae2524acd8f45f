"""Masking: fresh cases of each class and of the numbers that must stay (not corpus rows; the
corpus figures come from benchmarks/masking.py)."""

from __future__ import annotations

import pytest

from assist.logstore.masking import mask


@pytest.mark.parametrize(("raw", "label"), [
    ("回电199.8765.4321就行", "[手机号]"),
    ("手机 135 7788 9900", "[手机号]"),
    ("号码150\u00a02233\u00a04455", "[手机号]"),
    ("电话１５９６６６６１２３４谢谢", "[手机号]"),
    ("打幺八六二二三三四四五五", "[手机号]"),
    ("号码一三九两零两零八八六六", "[手机号]"),
    ("＋86 177 0000 1111", "[手机号]"),
    ("0086-13566667777", "[手机号]"),
    ("公司座机(021)62345678", "[电话]"),
    ("前台0571 8888 6666转302", "[电话]"),
    ("老身份证 420106750312123", "[身份证号]"),
    ("身份证号 440305199912319999", "[身份证号]"),  # wrong check digit: masked all the same
    ("证件 32010219880808123x", "[身份证号]"),
    ("卡号 6217 0000 1111 2222 333", "[银行卡号]"),  # not Luhn-valid
    ("退款打到6228480012345678910", "[银行卡号]"),
    ("邮箱 wang.er＠qq。com", "[邮箱]"),
    ("发到 lisi at example dot org", "[邮箱]"),
    ("加我威信：tb_lucky88", "[微信号]"),
    ("扣扣 8877665544", "[QQ号]"),
    ("收货人：司马光明天在家", "[姓名]"),
    ("寄到江苏省南京市鼓楼区中山北路", "[地址]"),
    ("我家在和平路一百二十号三单元", "[地址]"),
    ("地址：翠苑小区七幢二单元五零一", "[地址]"),
    ("送到临安县青山镇石门村三组", "[地址]"),
    ("发到北京市朝阳区建国路88号SOHO现代城5号楼1202", "[地址]"),
    ("寄到 广东省 深圳市 南山区 科技园 10栋", "[地址]"),
    ("我是住在朝阳区三里屯路19号院的", "[地址]"),
    ("我叫韩梅梅，电话一八六零零零零幺幺幺幺", "[姓名]"),
])
def test_personal_values_are_masked(raw: str, label: str) -> None:
    masked = mask(raw)
    assert label in masked, masked
    digits = [c for c in raw if c.isdigit()]
    assert len([c for c in masked if c.isdigit()]) < max(1, len(digits) - 4), masked


@pytest.mark.parametrize("text", [
    "订单号 3307123456789012345 什么时候发货",
    "订单3307123456789012345、3307123456789012346都退",
    "顺丰 SF1402938475612 到哪了",
    "中通 78123456789012 一直没更新",
    "这件衣服原价1299，现在899.00元",
    "身高175体重70kg穿XL还是XXL，42码鞋",
    "要3件，2025-11-11 20:00 前发货",
    "型号 A2890 和 iPhone 15 Pro Max 256G",
    "发票号 04400123456789012345 收到了",
    "发到上海市要几天",
    "我穿42号，腰围2尺4",
    "2月27号下午3点送到",
    "官方旗舰店和你们有什么区别",
    "1688上也有 https://detail.1688.com/offer/6221133.html",  # not a phone typed in pieces
    "麻烦看下 http://taobao.com@evil-login.top/item",  # a phishing link QA must see, not a mailbox
    "2023080412345678",  # a bare long number that neither starts like a card nor passes Luhn
])
def test_non_personal_numbers_are_kept(text: str) -> None:
    assert mask(text) == text


@pytest.mark.parametrize(("raw", "masked"), [
    ("我家住在幸福小区3号楼2单元601", "我家住在[地址]"),  # the mask starts at the place
    ("联系电话 +86 13912345678", "联系电话 [手机号]"),  # a label heading a line is not a name
    ("人民路100号", "[地址]"),
    ("发到上海市要几天", "发到上海市要几天"),  # a city alone is not an address
    ("地址：翠苑小区七幢二单元五零一，电话13800138000", "地址：[地址]，电话[手机号]"),
    ("6217000011112222333", "[银行卡号]"),  # bare, but starts like a UnionPay card
])
def test_masks_start_and_stop_where_the_data_does(raw: str, masked: str) -> None:
    assert mask(raw) == masked


def test_masking_is_idempotent_and_total() -> None:
    once = mask("张三 13812345678\n浙江省杭州市西湖区文三路100号")
    assert once == "[姓名] [手机号]\n[地址]"
    assert mask(once) == once
    assert mask("") == ""
    assert mask("\ud800 13812345678") == "\ud800 [手机号]"  # never raises on odd text
