"""Scam-intent rules, one family at a time, each with the innocent look-alikes next to it."""

from __future__ import annotations

import pytest

from assist.core.risk.intents import match_intents
from assist.core.risk.text import fold


def types(text: str) -> set[str]:
    return {f.rule.type for f in match_intents(fold(text))}


CASES = {
    "impersonation": (
        ["我是淘宝小二,你们店铺涉嫌违规", "这里是天猫规则中心,请配合核查", "我是市场监管局的工作人员",
         "平台通知:贵店保证金不足,即将冻结", "你们的店铺资质过期了,请立即重新认证",
         # a title without 是
         "本人天猫官方客服,你店铺被投诉了", "我这边京东规则中心的,有事找你", "这边拼多多平台小二"],
        ["我找过淘宝客服了,他们让我来找你", "是官方旗舰店吗", "小二介入了,你们快处理",
         "我是老顾客了", "我是学生", "我天猫官方旗舰店买过同款", "我淘宝客服问过了,说找你们",
         "本人在淘宝买了好多年", "让淘宝小二来处理吧"],
    ),
    "off_platform_payment": (
        ["可以银行转账吗", "把你卡号给我,我打钱", "我们私下交易吧", "差价我微信转你",
         "不走淘宝能便宜吗", "先发货,到了我打款给你",
         # asking where to send money: 给个/发个/报个/留个 + card or account
         "留个收款账户,我汇过去", "报一下你们的银行账号", "发个收钱码来", "给个卡号呗"],
        ["可以用微信支付吗", "退款什么时候到账", "付款一直失败,银行卡余额够的", "能用信用卡吗",
         "我平时都用微信付款,淘宝不能用吗", "给个准话什么时候发", "报个价吧", "发个链接给我",
         "我的账户被冻结了", "留个言明天再问"],
    ),
    "off_platform_contact": (
        ["加我微信 abc12345", "加 我 薇 信 聊", "你QQ号多少", "留个电话,我打给你", "去微信上说吧",
         "加我v", "我的vx是 lily_2088"],
        ["快递员让我加他微信,正常吗", "收件电话改成13912345678", "我在微信上看到你们家广告",
         "加购物车了", "加急发货可以吗", "快递员电话打不通"],
    ),
    "verification_code": (
        ["把验证码发我一下", "告诉我你收到的校验码", "收到验证码了吧?发过来", "短信里那串数字发给我",
         "需要你收到的动态码", "把手机收到的code发给我"],
        ["验证码收不到怎么办", "付款提示验证码错误", "收不到短信验证码", "验证码过期了要重新获取吗",
         "快递柜取件码收不到"],
    ),
    "account_switch": (
        ["我换了个号,你把之前那单的地址发我", "那单是我朋友的号拍的,收件电话告诉我",
         "我是她老公,她那单的地址你发我看看", "原来的号登不上,核对下那单的地址"],
        ["我换了个账号下单,优惠券能用吗", "用我老公的账号拍的,发货了吗", "帮我核对一下我的收货地址对不对",
         "地址填错了能改吗"],
    ),
    "fake_review": (
        ["要刷单吗", "好评返现有吗", "给五星的话返我10块", "可以帮你们删差评", "补单不降权"],
        ["这个牙刷刷毛软吗", "刷卡可以吗", "已经给你们好评了", "页面刷新还是缺货", "怎么追加评价"],
    ),
    "extortion_bait": (
        ["你们这不开发票吧?", "我不要发票,你给我少点钱", "你就承认是高仿的吧", "信用卡付款要加手续费吧",
         "不赔我500我就去投诉", "违反广告法,私了吧"],
        # question forms are not bait (issue 12): the buyer asks about the invoice policy
        ["你们能开发票吗", "发票什么时候寄", "是正品吗", "可以不要发票吗,太占地方", "我要投诉",
         "可以用信用卡吗", "你们是不是不开发票", "不要发票能便宜点吗"],
    ),
    "click_for_me": (
        ["你帮我登录一下我的账号", "这个二维码你扫一下", "帮我点开这个链接", "你下载个软件帮我看看",
         "远程协助一下", "用你们后台账号登一下这个页面", "装一下这个才能看到订单"],
        ["帮我看看物流到哪了", "你们发的链接我点不开", "链接打不开了,下架了吗", "说明书能下载吗",
         "包装上的二维码是防伪的吗", "你帮我看看这个尺码合适吗"],
    ),
}


@pytest.mark.parametrize("kind, text", [(k, t) for k, (pos, _) in CASES.items() for t in pos])
def test_scam_phrasing_fires(kind: str, text: str) -> None:
    assert kind in types(text)


@pytest.mark.parametrize("kind, text", [(k, t) for k, (_, neg) in CASES.items() for t in neg])
def test_innocent_lookalike_does_not_fire(kind: str, text: str) -> None:
    assert types(text) == set()


def test_every_risk_type_has_cases() -> None:
    from assist.core.models import RISK_TYPES

    assert set(CASES) | {"phishing_link", "malicious_file"} == set(RISK_TYPES)


def test_evidence_is_the_matching_span() -> None:
    text = "亲,把 验证码 发我一下呗"
    (finding,) = match_intents(fold(text))
    start, end = finding.span
    assert text[start:end] == finding.evidence and "验证码" in finding.evidence
