"""Rule and semantic findings combined into the Risk list the agent sees.

One risk per type (the most severe finding wins; a rule beats a semantic match of the same
severity because it can point at the exact span), each with a Chinese reason and a reply the
agent can send as is.
"""

from __future__ import annotations

from collections.abc import Sequence

from assist.core.models import Attachment, Risk, Severity
from assist.core.retrieval import EntryHit
from assist.core.risk.attachments import check_attachment, check_attachments, files_named_in
from assist.core.risk.config import RiskConfig
from assist.core.risk.intents import (
    ASKS_TO_OPEN,
    INNOCENT,
    QUESTION_INNOCENT_TYPES,
    SHOP_LINK_TROUBLE,
    innocent_question,
    match_intents,
    pretext,
)
from assist.core.risk.lists import HostLists
from assist.core.risk.markup import MarkupFinding, find_markup
from assist.core.risk.semantic import semantic_risks
from assist.core.risk.text import Folded, fold
from assist.core.risk.urls import LinkChecker, LinkFinding

REPLIES: dict[str, str] = {
    "phishing_link": "亲,为了账户安全,我们这边不打开外部链接哦~您在本店直接搜索宝贝名称,"
                     "或把想要的宝贝加入购物车截图给我,我马上帮您核对~",
    "malicious_file": "亲,文件这边不方便打开哦~您要的款式和数量可以直接加入购物车,"
                      "或者用文字发给我,我马上帮您核对~",
    "impersonation": "您好,平台的官方通知都会通过商家后台和站内信发送,我们会以官方后台为准处理,"
                     "这边不点链接、不转账、不提供账号信息,谢谢理解~",
    "off_platform_payment": "亲,为了保障您的资金安全,我们只支持在平台内拍下付款哦,"
                            "付款后系统会自动安排发货~",
    "off_platform_contact": "亲,有任何问题在这里联系我们就可以啦,平台的聊天记录对您也是一份保障哦~",
    "verification_code": "亲,验证码属于账户安全信息,我们不会向任何人索要或提供验证码哦。"
                         "需要退款或售后可以直接在订单里申请,我们会尽快处理~",
    "account_switch": "亲,为了保护买家隐私,订单的收货信息只能以下单账号为准哦~"
                      "麻烦您用下单的账号联系我们,我马上帮您处理~",
    "fake_review": "亲,平台不允许刷单和好评返现,我们不参与这类合作哦~"
                   "收到宝贝后按真实感受评价就好,谢谢支持~",
    "extortion_bait": "亲,我们严格按平台规则经营,页面承诺的服务都会兑现,"
                      "有任何问题都可以通过平台售后流程为您处理~",
    "click_for_me": "亲,这边不方便打开外部链接、扫码或代您登录哦~您告诉我宝贝名称或加入购物车截图给我,"
                    "我帮您看~",
}
RULE_REPLIES: dict[str, str] = {
    "bait.invoice": "亲,我们是可以开具发票的哦,发票会按您实际购买的商品如实开具,"
                    "您确认收货后提供抬头和税号就可以啦~",
    "bait.counterfeit": "亲,本店商品都是正品,有正规的品牌授权和进货凭证,您可以放心购买~",
    "bait.fees": "亲,我们按页面的承诺服务,付款方式和运费都以页面说明为准,不会额外收取费用哦~",
}
_RANK: dict[Severity, int] = {"info": 0, "warn": 1, "block": 2}


def _risk(type_: str, severity: Severity, reason: str, evidence: str,
          span: tuple[int, int] | None, rule: str) -> Risk:
    return Risk(type=type_, severity=severity, reason=reason, evidence=evidence, span=span,
                reply=RULE_REPLIES.get(rule, REPLIES[type_]), source="rule", rule=rule)


SCRIPT_REASON = "消息含可执行脚本/伪装链接({what}),点击或复制到浏览器会运行对方的代码,不要点击。"
_SCRIPT_WHAT = {"script_url": "javascript:/data: 网址", "markup": "带脚本或事件的网页代码"}


class RiskDetector:
    """Rules (links, markup, files, intents) plus the semantic matches the retriever found."""

    def __init__(self, lists: HostLists, config: RiskConfig | None = None) -> None:
        self.links = LinkChecker(lists)
        self.config = config or RiskConfig()

    def detect(self, text: str, attachments: Sequence[Attachment] = (),
               semantic: Sequence[EntryHit] = ()) -> list[Risk]:
        """All risks in one message, one per type, most severe first."""
        folded = fold(text)
        links = self.links.find(folded)
        markup = find_markup(folded)
        similar = []
        for risk in semantic_risks(text, semantic, self.config.semantic_min_score):
            if self._contradicted(risk, folded, links):
                continue
            kept: Risk | None = risk
            if risk.type == "phishing_link" and not links and markup is None:
                kept = self._without_link(risk, folded)
            elif risk.type in _LINK_TYPES and links and markup is None:
                kept = _as_severe_as_links(risk, links)
            if kept is not None:
                similar.append(kept)
        return merge(self._rule_risks(folded, links, markup, attachments) + similar)

    def rule_risks(self, text: str, attachments: Sequence[Attachment] = ()) -> list[Risk]:
        """The fast stage alone (no embedding), merged like ``detect``."""
        folded = fold(text)
        return merge(self._rule_risks(folded, self.links.find(folded), find_markup(folded),
                                      attachments))

    @staticmethod
    def _contradicted(risk: Risk, folded: Folded, links: list[LinkFinding]) -> bool:
        """A semantic match the rule stage has evidence against."""
        if risk.type == "phishing_link" and links and all(link.allowed for link in links):
            return True  # the links are checked platform links
        innocent = INNOCENT.get(risk.type)
        if innocent and innocent.search(folded.text):
            return True
        return risk.type in QUESTION_INNOCENT_TYPES and innocent_question(folded.text)

    def _without_link(self, risk: Risk, folded: Folded) -> Risk | None:
        """A phishing match in a message with no link: there is nothing to open yet.

        Dropped when the buyer reports that the shop's own link fails; kept when the text asks
        the agent to open, click or scan something (the link is the next message); otherwise
        only a hint, since the resemblance alone is weak evidence.
        """
        if SHOP_LINK_TROUBLE.search(folded.text):
            return None
        if ASKS_TO_OPEN.search(folded.text):
            return risk
        return risk.model_copy(update={
            "severity": self.config.unlinked_phishing_severity,
            "reason": risk.reason + "。消息里还没有链接,对方若发来链接不要打开"})

    def _rule_risks(self, folded: Folded, links: list[LinkFinding], markup: MarkupFinding | None,
                    attachments: Sequence[Attachment]) -> list[Risk]:
        risks: list[Risk] = []
        foreign_link: LinkFinding | MarkupFinding | None = None
        if markup is not None:
            foreign_link = markup
            risks.append(_risk("phishing_link", "block", SCRIPT_REASON.format(
                what=_SCRIPT_WHAT[markup.code]), markup.evidence, markup.span, "link." + markup.code))
        for link in links:
            if not link.allowed and foreign_link is None:
                foreign_link = link
            if link.severity is None:
                continue
            reason = link_reason(link)
            risks.append(_risk("phishing_link", link.severity, reason, link.evidence, link.span,
                               "link." + link.signals[0].code))
        for file in check_attachments(list(attachments)):
            risks.append(_risk("malicious_file", file.severity, f"文件“{file.name}”:{file.reason}。",
                               file.name, None, "file." + file.code))
        risks.extend(_named_files(folded, links))
        for hit in match_intents(folded):
            risks.append(_risk(hit.rule.type, hit.rule.severity, hit.rule.reason, hit.evidence,
                               hit.span, hit.rule.name))
        if foreign_link is not None:
            found = pretext(folded)
            if found:
                risks.append(self._pretext_risk(foreign_link, found))
        return risks

    @staticmethod
    def _pretext_risk(link: LinkFinding | MarkupFinding,
                      found: tuple[str, tuple[int, int]]) -> Risk:
        if isinstance(link, MarkupFinding):
            severity: Severity = "block"
            what = "含脚本的链接"
        else:
            severity = "block" if link.severity == "block" else "warn"
            what = f"站外链接 {link.host}"
        return _risk("click_for_me", severity, f"找借口让客服打开{what},这是钓鱼的典型说辞。",
                     found[0], found[1], "click.pretext_link")


_LINK_TYPES = frozenset({"phishing_link", "click_for_me"})


def _as_severe_as_links(risk: Risk, links: list[LinkFinding]) -> Risk:
    """A semantic link match is no more severe than the worst link the rules judged.

    "退款链接 <url>" resembles the refund scam whatever the url is; whether to block is the
    rules' call on the link itself (a popular site with no phishing signal stays a warning).
    """
    worst = max((_RANK[link.severity] for link in links if link.severity), default=0)
    if _RANK[risk.severity] <= worst:
        return risk
    return risk.model_copy(update={"severity": "warn" if worst >= 1 else "info"})


def _named_files(folded: Folded, links: list[LinkFinding]) -> list[Risk]:
    """Dangerous file names written in the text (not inside a link, which is judged as one)."""
    risks = []
    taken = [link.span for link in links]
    for name, span in files_named_in(folded.original):
        evidence = name
        if any(lo < span[1] and span[0] < hi for lo, hi in taken):
            continue
        file = check_attachment(Attachment(name=name))
        if file is not None:
            risks.append(_risk("malicious_file", file.severity,
                               f"消息里提到的文件“{evidence}”:{file.reason},收到也不要打开。",
                               evidence, span, "file." + file.code))
    return risks


def link_reason(link: LinkFinding) -> str:
    """Why a link is flagged, ending with what the agent should do instead of opening it."""
    specific = [s.reason for s in link.signals if s.code != "offsite"]
    where = "链接" if link.allowed or not any(s.code == "offsite" for s in link.signals) else "站外链接"
    head = f"{where} {link.host}" + (":" + ";".join(specific) if specific else "")
    return head + "。不要打开,请买家发商品截图或告诉你宝贝名称,在店内帮他查找。"


def merge(risks: Sequence[Risk]) -> list[Risk]:
    """Keep the most severe risk per type (rules win ties); order by severity."""
    best: dict[str, Risk] = {}
    for risk in risks:
        current = best.get(risk.type)
        if current is None or (_RANK[risk.severity], risk.source == "rule") > (
                _RANK[current.severity], current.source == "rule"):
            best[risk.type] = risk
    return sorted(best.values(), key=lambda r: -_RANK[r.severity])
