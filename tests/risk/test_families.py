"""Issue 12 families, with cases written fresh for these tests (no feed rows).

Attachments judged by every field, every foreign link at least a warning, the scam pretexts,
and question/negation forms that are not accusations.
"""

from __future__ import annotations

import base64

import pytest

from assist.core.models import Attachment
from assist.core.risk.attachments import check_attachment, read_name
from assist.core.risk.text import fold


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ELF = b64(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8)
MACHO = b64(b"\xcf\xfa\xed\xfe\x07\x00\x00\x01")
SHEBANG = b64(b"#!/bin/sh\nwget ")
PNG = b64(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


# --- attachments: MIME, name, magic and the mismatch between them -------------------------

@pytest.mark.parametrize("name, mime, head, code", [
    ("dvr_update", "application/x-executable", None, "mime_executable"),  # no extension
    ("tplink.mipsel", "", None, "executable"),  # router build named after its CPU
    ("cam-fw.armv7l", "application/octet-stream", None, "executable"),
    ("readme.txt", "application/x-sharedlib", None, "mime_mismatch"),  # name says text
    ("QXKD", "application/x-dosexec", None, "mime_executable"),
    ("清单.dat", "application/vnd.microsoft.portable-executable", None, "mime_executable"),
    ("店铺助手", "application/vnd.android.package-archive", None, "mime_executable"),
    ("插件.jar", "application/java-archive", None, "executable"),
    ("安装器.pkg", "", None, "executable"),
    ("tool.dmg", "application/x-apple-diskimage", None, "executable"),
    ("订单导出.ps1", "text/plain", None, "executable"),  # scripts travel as text/plain
    ("update.py", "text/x-python", None, "executable"),
    ("部署.sh", "text/x-shellscript", None, "executable"),
    ("fix.command", "", MACHO, "executable"),
    ("售后说明.lnk", "application/x-ms-shortcut", None, "executable"),
    ("report.xyzq", "text/x-msdos-batch", None, "mime_executable"),
    ("实拍.png", "image/png", ELF, "magic_mismatch"),  # bytes say program
    ("配送表.csv", "text/csv", SHEBANG, "magic_mismatch"),
    ("核对表.xlam", "application/vnd.ms-excel.addin.macroenabled.12", None, "macro_doc"),
    ("对账单.xlsx", "application/vnd.ms-excel.sheet.macroEnabled.12", None, "mime_mismatch"),
    ("售后.onepkg", "", None, "macro_doc"),
])
def test_programs_scripts_and_macro_documents_block(name, mime, head, code) -> None:
    finding = check_attachment(Attachment(name=name, mime=mime, head_b64=head))
    assert finding is not None and (finding.code, finding.severity) == (code, "block"), finding
    assert finding.reason


@pytest.mark.parametrize("name, code", [
    ("款式清单.ｅｘｅ", "styled_name"),  # full-width letters fold to .exe
    ("付款凭证.pdf.exe.", "double_extension"),  # Windows drops the trailing dot
    ("订单.exe   ", "disguised_name"),
    ("发货单.ехе", "disguised_name"),  # Cyrillic е and х
    ("图\u202egnp.scr", "bidi_name"),
    ("明细\u2024exe", "executable"),  # one-dot leader drawn like a dot
    ("报价\u3002bat", "executable"),  # ideographic full stop
    ("𝚜𝚎𝚝𝚞𝚙.exe", "styled_name"),  # mathematical monospace letters
])
def test_disguised_names_are_read_as_the_system_reads_them(name, code) -> None:
    finding = check_attachment(Attachment(name=name))
    assert finding is not None and finding.severity == "block", finding
    assert finding.code == code


@pytest.mark.parametrize("name, mime, code", [
    ("𝐢𝐧𝐯𝐨𝐢𝐜𝐞.pdf", "application/pdf", "styled_name"),
    ("ｉｎｖｏｉｃｅ.pdf", "application/pdf", "styled_name"),
    ("合同\u200b.pdf", "application/pdf", "disguised_name"),
    ("退款说明.pdf.", "application/pdf", "disguised_name"),
    ("登录页.html", "text/html", "web_page"),
    ("图标.svg", "image/svg+xml", "web_page"),
    ("资料", "", "no_extension"),
    ("资料", "application/octet-stream", "no_extension"),
    ("备份.cab.r01", "application/x-rar", "archive"),
    ("光盘.iso", "application/x-iso9660-image", "archive"),
])
def test_unreadable_or_unseeable_files_warn(name, mime, code) -> None:
    finding = check_attachment(Attachment(name=name, mime=mime))
    assert finding is not None and (finding.code, finding.severity) == (code, "warn"), finding


@pytest.mark.parametrize("name, mime, head", [
    ("IMG_0412", "image/jpeg", None),  # a photo without a name extension
    ("VID_0413", "video/mp4", None),
    ("破损处.png", "image/png", PNG),
    ("尺码表.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None),
    ("说明书 第2版.pdf", "application/pdf", None),
    ("买家秀 (1).jpg", "image/jpeg", None),
    ("语音.amr", "audio/amr", None),
    ("订单号１２３.jpg", "image/jpeg", None),  # full-width digits from a Chinese IME
])
def test_ordinary_buyer_files_pass(name, mime, head) -> None:
    assert check_attachment(Attachment(name=name, mime=mime, head_b64=head)) is None


def test_read_name_folds_what_the_agent_cannot_see() -> None:
    name = read_name("清单\u200b.ｐｄｆ.exe. ")
    assert name.effective == "清单.pdf.exe"
    assert name.invisible and name.styled and name.trailing


# --- file names written in the text ------------------------------------------------------

@pytest.mark.parametrize("text, severity", [
    ("老板 规格都在 规格表.scr 里 你打开看看", "block"),
    ("团购名单 名单.xls.exe 麻烦核对", "block"),
    ("样图我打包了 样图合集.7z 解压就行", "warn"),
    ("工具装一下 助手.APK 就能看到优惠", "block"),
])
def test_dangerous_file_names_in_the_text(detector, text, severity) -> None:
    files = [r for r in detector.rule_risks(text) if r.type == "malicious_file"]
    assert [r.severity for r in files] == [severity]
    assert files[0].evidence in text and text[files[0].span[0]:files[0].span[1]] == files[0].evidence


@pytest.mark.parametrize("text", ["IMG_3321.jpg 是破损的地方", "发票.pdf 收到了吗", "我用的是 v2.0 版本",
                                  "尺码表.xlsx 我看过了"])
def test_ordinary_file_names_in_the_text_pass(detector, text) -> None:
    assert detector.rule_risks(text) == []


# --- links: every foreign link warns, signals block --------------------------------------

@pytest.mark.parametrize("text", [
    "这个是我在别家看到的 https://www.zhihu.com/question/5521",
    "https://www.douban.com",
    "你们家和 www.nike.com 上的一样吗",
    "退款链接 https://www.ikea.cn/cn/zh/",  # a pretext, but nothing about the link itself
])
def test_foreign_links_without_signals_warn_never_block(detector, text) -> None:
    risks = detector.rule_risks(text)
    assert risks and {r.severity for r in risks} == {"warn"}, risks
    link = next(r for r in risks if r.type == "phishing_link")
    assert link.rule == "link.offsite"
    assert "站外链接" in link.reason and "不要打开" in link.reason and "截图" in link.reason


@pytest.mark.parametrize("url, rule", [
    ("https://summer-sale.netlify.app/pay", "link.free_hosting"),
    ("https://summer-deal-4471.weebly.com", "link.free_hosting"),
    ("https://docs.google.com/forms/d/e/1FAIpQ/viewform", "link.free_hosting"),
    ("https://ipfs.io/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
     "link.ipfs"),
    ("https://bafybeih3k4.ipfs.dweb.link/claim.html", "link.ipfs"),
    ("https://bit.ly/tb-tuikuan", "link.shortener"),
    ("http://shop-help.com:2083/x", "link.port"),
    ("http://cdn-files.net/update/kb2291.msi", "link.file_path"),
    ("http://files-host.org/bins/mozi.mips", "link.file_path"),
    ("https://account-center.vip-club.top/x", "link.credential_host"),
    ("https://paypal.com.session-check.info/x", "link.brand_in_domain"),
    ("https://www.app1e.com-id.support/", "link.homoglyph"),
    ("https://www.uniqlo.com.cn.sale-outlet.top/", "link.domain_in_subdomain"),
    ("https://netfIix-billing.com/", "link.homoglyph"),
    ("https://robIox.com.py/users/1/profile", "link.homoglyph"),
    ("http://kayak-rentals.es/wp-content/plugins/x/ver/index.php", "link.cms_path"),
    ("http://garden-tools.pl/bankofamerica/signin.php", "link.brand_in_path"),
    ("http://travelnotes.com.ar/doc/?login=buyer@example.com", "link.email_in_url"),
    ("http://a1.b2.c3.shop-mirror.com/", "link.deep_subdomain"),
    ("http://203.0.113.9/i", "link.ip"),
    ("https://xn--pypal-4ve.com/", "link.punycode"),
    ("http://taobao.com@203.0.113.9/", "link.userinfo"),
    ("http://mail-notice.org/5f4dcc3b5aa765d61d8327deb882cf99/", "link.kit_path"),
])
def test_phishing_and_malware_signals_block(detector, url, rule) -> None:
    (link,) = [r for r in detector.rule_risks(f"你看下 {url}") if r.type == "phishing_link"]
    assert (link.severity, link.rule) == ("block", rule), link


@pytest.mark.parametrize("url", ["https://bit.ly", "https://ipfs.io", "https://www.netlify.com",
                                 "https://apple-dns.cn", "https://paypal.me/shopname"])
def test_a_service_home_page_or_a_brand_own_domain_only_warns(detector, url) -> None:
    risks = detector.rule_risks(url)
    assert {r.severity for r in risks} == {"warn"}, risks


@pytest.mark.parametrize("text", [
    "https://item.taobao.com/item.htm?id=7723", "https://m.tb.cn/h.5Kx2?tk=aa",
    "https://detail.tmall.com/item.htm?id=88", "https://item.m.jd.com/product/1001.html",
    "顺丰单号在 https://www.sf-express.com 查的", "iPhone15.Pro 有现货吗", "v3.app 版本", "买了3.5kg的",
])
def test_platform_links_couriers_and_dotted_words_are_quiet(detector, text) -> None:
    assert detector.rule_risks(text) == []


def test_folded_text_is_unchanged_by_the_new_rules() -> None:
    assert fold("退款链接 ｈｔｔｐ://x.top").text == "退款链接http://x.top"


# --- pretexts, in the forms buyers type them ---------------------------------------------

@pytest.mark.parametrize("text", [
    "退款链接 https://tk-back.shop/r/2201",
    "亲 这是理赔的地址 http://pei-fu.cc/k 你帮我填一下",
    "订单异常了 请点击 https://order-fix.site/a 处理",
    "账户冻结了 请点击 www.jiedong-kf.top 解冻",
    "这里是天猫回访中心 扫码领取补偿红包",
    "售后回访 麻烦下载附件填写 满意度.zip",
    "帮我看看这个码 是你们的吗",
    "你帮我扫一下这个二维码 看是不是同款",
    "我在这付的款 http://pay-cn.vip/o 你看下",
    "我转你微信 你直接发货",
    "短信里有个码 发给我就行",
    "不给我退一半 我就天天差评",
    "给我返30 我就把差评改成好评",
])
def test_pretexts_are_flagged(detector, text) -> None:
    assert detector.rule_risks(text), text


# --- questions and negations are not accusations -----------------------------------------

@pytest.mark.parametrize("text", [
    "有没有发票", "能不能开发票", "不开发票吗", "没有发票可以吗", "你们是不是不开发票啊",
    "发票可以开公司抬头吗", "信用卡要手续费吗", "不能加微信吗", "为什么不能留电话",
    "你们不做好评返现吗", "假一赔三是什么意思", "验证码收不到怎么办",
])
def test_question_and_negation_forms_are_not_flagged(detector, text) -> None:
    assert detector.rule_risks(text) == [], text


@pytest.mark.parametrize("text", [
    "你们这不开发票吧?",  # presumes the answer: bait
    "你就说一句不开发票,我就不要了",
    "发票开成办公用品吧",
    "你们敢收我邮费吗?聊天记录我都截图了",
    "加我微信 shopbuy2024",
    "不赔我300我就去投诉",
])
def test_assertions_and_demands_on_the_same_topics_still_fire(detector, text) -> None:
    assert detector.rule_risks(text), text


# --- end to end through the engine, on a knowledge folder without lists/ -----------------

def test_engine_on_a_shop_folder_without_lists(small_index, embedder) -> None:
    from assist.core.engine import Message, open_engine

    engine = open_engine(small_index, embedder)
    popular, refund, malware, question, platform = engine.suggest_many([
        Message("退款链接 https://www.ikea.cn/cn/zh/"),
        Message("退款链接 https://tb-back-7.netlify.app/r"),
        Message("文件发你了", [Attachment(name="boatnet.arm7", mime="application/x-executable")]),
        Message("有没有发票"),
        Message("https://item.taobao.com/item.htm?id=8812 这个有货吗"),
    ])
    assert popular.risks and {r.severity for r in popular.risks} == {"warn"}
    assert "block" in {r.severity for r in refund.risks}
    assert [(r.type, r.severity) for r in malware.risks] == [("malicious_file", "block")]
    assert question.risks == [] and platform.risks == []
