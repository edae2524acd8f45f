"""Scam intents in buyer text: rule patterns over folded text (see ``text.py``).

Each rule is a regex for the telling phrase, optionally needing a second cue somewhere in the
message (``requires``) and cancelled by an innocent reading (``unless``). Patterns stay
narrow on purpose: buyers mention 微信支付, 验证码收不到, 发票, 好评 and 换号 innocently all
day, and an agent who sees false alarms stops reading them. The semantic stage (knowledge
entries of kind ``risk``) covers phrasings the rules miss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assist.core.models import RiskType, Severity
from assist.core.risk.text import Folded

_P = r"(?:淘宝|天猫|支付宝|阿里巴?巴?|京东|拼多多|千牛|菜鸟|平台|官方|小二|旺旺)"  # platform
_STAFF = (r"(?:小二|官方|工作人员|专员|风控|安全中心|安全部|规则中心|审核|招商|服务部|客服中心|客服部|"
          r"监管局|工商局|市场监管|消协|执法|稽查|理赔|经理|运营部)")
_I_AM = r"(?:我是|我们是|本人是|这里是|这边是|我这边是|我这里是|我是来自)"
# Who is speaking, with or without 是: "本人支付宝官方客服", "我这边淘宝规则中心", "这里是京东…".
_SELF = r"(?:(?<![让叫给找问跟和向])(?:本人|我们?(?:这边|这里)?)|(?:^|(?<=[,。!?\s]))(?:这边|这里))"
# What follows a platform title when the buyer is only naming where they shop or who they asked.
_NOT_A_TITLE = r"(?!旗舰|店|自营|直营|渠道|网|app|买|购|下单|说|那|让|叫|回复|介入|处理过|电话)"
_CHAT = r"(?:微信|weixin|wechat|vx|v信|薇信|威信|徽信|wx|qq|扣扣|企鹅|tg|telegram|纸飞机|whatsapp|line|钉钉)"
_PHONE = r"(?:电话|手机号?|联系方式|号码|tel)"
_CODE = (r"(?:验证码|验正码|验证玛|校验码|动态码|短信码|确认码|安全码|动态密码|授权码"
         r"|(?<![a-z])(?:otp|code)(?![a-z])|\d位码|\d位数字?)")
# Where money would go outside the platform (not 账号, which buyers mean as their login).
_PAYEE = (r"(?:卡号|银行卡号?|银行账[号户]|收款(?:二维)?码|收钱码|付款码|收款账[号户]|收款人|"
          r"支付宝(?:账号|账户|号)|对公账[户号]|账户(?!名|余额|安全|里|被|异常))")
_GIVE_ME = r"(?:发(?:给)?我|给我|告诉我|报给?我|报一下|念(?:一?下|给我)|截图给我|发过来|提供|是多少)"
_WHO = r"(?:朋友|同事|家人|老公|老婆|媳妇|女朋友|男朋友|对象|室友|哥|姐|妹|弟|妈|爸|亲戚|同学)"
_OBJECT = (r"(?:链接|网址|网站|网页|页面|二维码|码|文件|附件|压缩包|安装包|软件|app|插件|小程序|"
           r"程序|账号|后台)")
_STRONG_ACT = r"(?:点开|点击|点进去|扫(?:一?下)?|登录|登陆|登一?下|下载|安装|运行|解压)"
_WEAK_ACT = r"(?:点(?:一?下)?|打开|进(?:入|去)?|输入)"
# A buyer whose own code does not arrive: the commonest innocent mention of 验证码.
_CODE_TROUBLE = re.compile(rf"{_CODE}[^,。!?]{{0,6}}(?:收不到|没收到|不来|错误|过期|失效|没有|获取不了)"
                           rf"|(?:收不到|没收到)[^,。!?]{{0,6}}{_CODE}")


_CLAUSE_END = ",.;!?。!?;…~"
_QUESTION = re.compile(r"[吗么嘛?]|有没有|能不能|可不可以|是不是|是否|会不会|要不要|什么|怎么|为什么|"
                       r"为啥|多少|咋|几(?:天|个|号)|哪")
_NEGATION = re.compile(r"不|没|别|非")
# "要不要", "有没有": A-not-A questions, which ask without negating anything.
_A_NOT_A = re.compile(r"(.)[不没]\1|可不可以|好不好")
# "…吧?" presumes the answer; "敢…吗" is a dare, not a question.
_PRESUMPTIVE = re.compile(r"吧[?]?$|对吧|是吧|敢")


def clause(text: str, hit: re.Match[str]) -> str:
    """The clause of ``text`` that holds ``hit`` (between sentence punctuation)."""
    start = max((text.rfind(c, 0, hit.start()) for c in _CLAUSE_END), default=-1) + 1
    ends = [i for i in (text.find(c, hit.end()) for c in _CLAUSE_END) if i >= 0]
    return text[start:min(ends) + 1 if ends else len(text)]


def is_question(text: str, any_question: bool) -> bool:
    """A buyer asking (not asserting or demanding); "…吧?" presumes the answer, so it is not."""
    if _PRESUMPTIVE.search(text.rstrip(_CLAUSE_END) + ("?" if text.endswith("?") else "")):
        return False
    asked = bool(_QUESTION.search(text) or re.search(r"可以不|行不|能不", text))
    return asked and (any_question or bool(_NEGATION.search(_A_NOT_A.sub("", text))))


@dataclass(frozen=True)
class IntentRule:
    name: str
    type: RiskType
    severity: Severity
    pattern: re.Pattern[str]
    reason: str
    requires: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    # How a question about the trigger reads: "" (still a risk: "验证码发我一下好吗"),
    # "negated" (innocent when asked in the negative: "不能加微信吗") or "any" (any question
    # is innocent: "有没有发票", "信用卡要手续费吗"). A presumptive "…吧?" stays a risk.
    questions: str = ""

    def match(self, text: str) -> re.Match[str] | None:
        found = self.pattern.search(text)
        if found is None:
            return None
        if self.questions and is_question(clause(text, found), self.questions == "any"):
            return None
        if self.requires is not None and not self.requires.search(text):
            return None
        if self.unless is not None and self.unless.search(text):
            return None
        return found


def _r(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


RULES: tuple[IntentRule, ...] = (
    # --- posing as platform staff or authorities
    IntentRule("impersonation.self_claim", "impersonation", "warn",
               _r(rf"{_I_AM}[^,。!?]{{0,10}}?{_STAFF}"),
               "对方自称平台/官方/监管人员。平台通知只走千牛后台和站内信,不会在旺旺里找客服处理。"),
    IntentRule("impersonation.titled", "impersonation", "warn",
               _r(rf"{_SELF}(?:就是|是|为|系)?(?:来自)?{_P}[^,。!?]{{0,4}}?{_STAFF}{_NOT_A_TITLE}"),
               "对方以平台/官方人员的身份说话。平台通知只走千牛后台和站内信,不会在旺旺里找客服处理。"),
    IntentRule("impersonation.insider", "impersonation", "warn",
               _r(r"我是(?:你们|贵)(?:店铺?|公司)的?(?:运营|老板|店长|主管|财务|技术)"),
               "对方自称店铺内部人员,内部人员不会通过买家旺旺要账号或改价。"),
    IntentRule("impersonation.notice", "impersonation", "warn",
               _r(rf"{_P}[^,。!?]{{0,6}}(?:通知|提醒|公告|警告)|{_P}官方[::]"),
               "冒充平台发通知,以违规/封店/保证金等名义施压,这是典型诈骗。",
               requires=_r(r"(?:违规|涉嫌|封店|被封|封号|冻结|下架|降权|保证金|侵权|处罚|扣分|"
                           r"异常|资质|认证|过期|整改|罚款|申诉)")),
    IntentRule("impersonation.callback", "impersonation", "warn",
               _r(r"回访[^。!?]{0,24}(?:扫|点|链接|二维码|码|下载|附件|红包|退还|领取|整改|报名|登录|验证)"
                  r"|(?:扫|点|链接|二维码|下载|附件|红包|领取)[^。!?]{0,16}回访"),
               "以“回访/满意度调查”为名让人扫码、点链接或下载附件,平台回访不会这样做,是冒充诈骗。",
               questions="any"),
    IntentRule("impersonation.threat", "impersonation", "warn",
               _r(r"(?:你们|您的?|你的?|你家|贵)(?:店铺?|宝贝|商品|账户|账号|公司)?[^,。!?]{0,10}"
                  r"(?:涉嫌|违规|被封|封店|即将被封|冻结|被下架|降权|保证金不足|侵权了|过期|失效|到期)"),
               "以“店铺违规/冻结/侵权”等理由施压,多为冒充平台的诈骗。",
               requires=_r(rf"{_P}|{_STAFF}|请(?:点击|尽快|及时|立即)|补缴|缴纳|逾期|重新认证|https?://|www\.")),
    # --- paying outside the platform
    IntentRule("payment.direct_transfer", "off_platform_payment", "warn",
               _r(r"(?:直接|私下|线下)(?:用?(?:银行卡?|微信|支付宝))?(?:转账|汇款|打款|打钱|转(?:给|过去)|付给?你)"
                  r"|(?:银行|网银)(?:转账|汇款)|对公(?:账户|转账)|(?:转账|汇款|打款|打钱)给你"),
               "要求绕过平台直接转账。平台外付款没有交易保障,也违反平台规则。"),
    IntentRule("payment.ask_account", "off_platform_payment", "warn",
               _r(rf"{_PAYEE}[^,。!?]{{0,6}}(?:给我|发我|告诉我|多少|是啥|是什么)"
                  rf"|(?:给|发|报|留|告诉|提供)(?:我|一下|下|个|一个)*(?:你|你们)?的?{_PAYEE}"),
               "索要收款卡号/收款码,意在平台外付款。"),
    IntentRule("payment.off_platform", "off_platform_payment", "warn",
               _r(r"私下(?:交易|卖|买|付|转|收)|线下(?:交易|付款|支付)|不(?:想|用)?走(?:淘宝|天猫|京东|平台|支付宝|系统)|绕过平台"
                  r"|(?:usdt|比特币|虚拟币|泰达币)"),
               "提出私下交易/不走平台付款,资金没有保障,且属于平台违规。"),
    IntentRule("payment.wallet_transfer", "off_platform_payment", "warn",
               _r(r"(?:微信|vx|wx|支付宝|红包|银行卡|卡上)[^,。!?]{0,3}(?:转|打|汇|发)(?:给)?你"
                  r"|(?:钱|款|差价|邮费|运费|\d+块|\d+元)[^,。!?]{0,6}(?:转|打|汇)(?:给)?你"
                  r"|(?:发|给)你?(?:个)?红包|打你(?:的)?(?:银行)?卡"
                  r"|(?:转|打|汇|付)(?:给)?你的?(?:微信|支付宝|vx|v信|wx|银行卡|卡上?)|付你(?:钱|款)"
                  r"|(?:微信|vx|v信|wx|支付宝)(?:转账|转帐)"),
               "想用微信/支付宝/红包等在平台外付款,平台外付款不受保障。"),
    # --- moving the conversation elsewhere
    IntentRule("contact.add", "off_platform_contact", "warn",
               _r(rf"(?:加|添加|留|给|发)(?:一?下|个)?(?:我|你)?(?:的)?(?:私人)?{_CHAT}"
                  rf"|加(?:我|个|下)?v(?![a-z0-9])|\+\s?v|加(?:你|我)的?(?:好友|联系方式)"
                  rf"|{_CHAT}号?(?:是|[::])?\s?(?:[a-z][a-z0-9_-]{{4,}}|\d{{5,}})"
                  rf"|{_CHAT}[^。!?]{{0,8}}加(?:一下|下|个)|加我(?:这个|的)?(?:号|{_CHAT}号?)[::]?\s?[a-z0-9_-]{{5,}}"),
               "要求加微信/QQ等私下联系。离开平台的沟通没有聊天记录保障,常是诈骗第一步。",
               unless=_r(r"加(?:他|她|快递员)"), questions="negated"),
    IntentRule("contact.move", "off_platform_contact", "warn",
               _r(rf"(?:去|到|换到|转到|上|用)(?:我的?)?{_CHAT}(?:上)?(?:聊|说|谈|沟通|联系)"
                  rf"|{_CHAT}号?(?:多少|是多少|发我|给我)|私人{_CHAT}"
                  rf"|(?:telegram|whatsapp|纸飞机)"),
               "想把沟通转到平台外的聊天工具。", questions="negated"),
    IntentRule("contact.phone", "off_platform_contact", "warn",
               _r(rf"(?:留|给|发)(?:我)?(?:一?下|个)?(?:你的?)?{_PHONE}(?!改|填|写错)"
                  rf"|(?:直接|私下)联系你|{_PHONE}[^,。!?]{{0,4}}(?:发我|给我)"),
               "索要私人电话/联系方式,想在平台外联系。",
               unless=_r(r"收(?:件|货)|快递|改成|填错|写错|地址"), questions="negated"),
    # --- one-time codes
    IntentRule("code.ask", "verification_code", "block",
               _r(rf"{_CODE}[^。!]{{0,12}}?{_GIVE_ME}|{_GIVE_ME}[^,。!?]{{0,10}}?{_CODE}|需要你[^,。!?]{{0,6}}{_CODE}"
                  r"|短信(?:里|上)?的?(?:那串|那个)?(?:数字|号码)[^,。!?]{0,6}(?:发|给|告诉|报)"
                  r"|短信[^。!?]{0,12}码[^。!?]{0,8}(?:发|给|告诉|报|截图)|接(?:个|一下|下)?(?:验证码|码)"),
               "索要验证码。验证码等于账户的钥匙,给出去账户和资金就可能被盗。",
               unless=_CODE_TROUBLE),
    # --- switching accounts to fish for another order's address or phone
    IntentRule("account.switch", "account_switch", "block",
               _r(rf"换(?:了|个)?(?:一个|个)?(?:号|账号|账户|旺旺)|(?:原来|之前|以前|另一)(?:那|的)?个?(?:号|账号|旺旺)|{_WHO}[^,。!?]{{0,3}}的?(?:号|账号|旺旺)"
                  rf"|小号|大号|另一个(?:号|账号)|新号|原来的?(?:号|账号)|之前的?(?:号|账号)"
                  rf"|是我?{_WHO}(?:拍|下|买)的|{_WHO}(?:拍|下|买)的|帮我?{_WHO}问|(?:买家|她|他)的?{_WHO}"),
               "换号/代他人询问订单的收货地址和电话。这是骗取买家信息的常见手法,"
               "只能以下单账号的信息为准,不能发给其他账号。",
               requires=_r(rf"(?:地址|{_PHONE}|收件|收货信息|收件人)[^,。!?]{{0,8}}?"
                           rf"(?:{_GIVE_ME}|多少|发来|核对|发一下)"
                           rf"|(?:{_GIVE_ME}|把|查一?下|核对一?下)[^,。!?]{{0,12}}?(?:地址|{_PHONE}|收件|收货人)"
                           rf"|(?:地址|{_PHONE}|收件|信息)[^,。!?]{{0,8}}?(?:是啥|是什么|寄哪|在哪)|寄哪"
                           rf"|(?:信息|地址)[^,。!?]{{0,6}}发(?:到|给)?(?:这个|我这个|新)号")),
    # --- fake orders and reviews
    IntentRule("review.brushing", "fake_review", "warn",
               _r(r"刷(?:一下)?(?:单|好评|信誉|销量|评价?|钻|信用|流量)|补单|空包|做销量|冲(?:一下)?销量"
                  r"|删差评|好评返现|返现好评|拍a发b|不用发货|刷手"),
               "刷单/刷好评/删差评属于平台严重违规,也常是骗局。", questions="negated"),
    IntentRule("review.paid", "fake_review", "warn",
               _r(r"(?:好评|五星|5星|带图)[^。!?]{0,10}(?:返现|返我|退我|给我|返(?:\d|[一二三四五十])|多少钱)"
                  r"|(?:返|退)(?:我)?[^,。!?]{0,4}(?:钱|现|块|元)[^,。!?]{0,8}好评|佣金"
                  r"|返(?:我)?\d+[^,。!?]{0,8}(?:好评|差评|追评)|给我返现?[^。!?]{0,6}(?:就|才)(?:追评|好评|改)"),
               "用好评换返现,属于平台禁止的“好评返现”。", questions="negated"),
    # --- baiting the shop into a rule breach (高压线) or threatening for money
    IntentRule("bait.invoice", "extortion_bait", "warn",
               _r(r"不开(?:具)?(?:发票|票)|没有发票|是不是不(?:给)?开发票|(?:不要|不用)(?:发票|票)"
                  r"[^。!?]{0,8}(?:便宜|少|优惠|折|减)"),
               "诱导说出“不开发票”,这是职业索赔人常用的投诉把柄。天猫店必须开具发票,且按实际商品开具。",
               questions="any"),
    IntentRule("bait.false_invoice", "extortion_bait", "warn",
               _r(r"发票[^,。!?]{0,8}(?:写成|开成|改成|开)(?:别的|其他|办公用品|劳保|礼品)"),
               "要求开不实发票(品名与实际商品不符),属于违规开票,也常被用来投诉索赔。"),
    IntentRule("bait.counterfeit", "extortion_bait", "warn",
               _r(r"(?:承认|直接说|说实话|老实说|说一句|你就说)[^。!?]{0,12}"
                  r"(?:高仿|仿的|仿品|假的|假货|a货|没有?(?:品牌)?授权|不是正品)"),
               "诱导承认假货/无授权,留下的聊天记录会被用来投诉或索赔。"),
    IntentRule("bait.fees", "extortion_bait", "warn",
               _r(r"信用卡[^。!?]{0,12}(?:手续费|加钱|加价)|货到付款[^,。!?]{0,12}(?:拒收|不给?发|不发)"
                  r"|敢(?:收|不)[^,。!?]{0,8}(?:邮费|运费|发货|退)|(?:聊天记录|截图)[^,。!?]{0,4}(?:都)?(?:截|留|存|保存)"),
               "诱导说出违背平台承诺的话(加收手续费、偏远加邮费、拒发货到付款),会被投诉违规。",
               questions="any"),
    IntentRule("bait.extortion", "extortion_bait", "warn",
               _r(r"私了|职业打假|退一赔三|假一赔(?:三|十)|赔(?:偿)?(?:我)?\s?\d+|给我\d+就|违反广告法"
                  r"|(?:不给|不赔|不退|不答应|不然|否则|要不然)[^。!?]{0,12}(?:差评|投诉|曝光|举报|12315|工商)"),
               "以投诉/差评/举报相威胁索要赔偿,可能是职业索赔。按平台流程处理,不要私下给钱。",
               requires=_r(r"投诉|差评|举报|打假|工商|12315|曝光|广告法|私了|赔"), questions="any"),
    # --- "click / open / log in for me"
    IntentRule("click.do_for_me", "click_for_me", "warn",
               _r(rf"(?:帮我|替我|你(?!们|家))[^,。!?]{{0,6}}?{_STRONG_ACT}"
                  rf"|(?:帮我|替我|你(?!们|家))[^,。!?]{{0,6}}?{_WEAK_ACT}[^。!?]{{0,8}}{_OBJECT}"
                  rf"|{_OBJECT}[^。!?]{{0,6}}你(?!们|家)(?:帮我)?[^,。!?]{{0,3}}(?:{_STRONG_ACT}|{_WEAK_ACT})"
                  r"|(?:帮我|你(?!们|家))[^,。!?]{0,6}(?:看|瞧|识别|扫)[^,。!?]{0,8}(?:二维码|(?<![尺号密码条编])码)"
                  r"|^(?:扫|点开|打开)(?:一?下)?(?:这个|这)"),
               "让客服替对方点开链接/扫码/登录/打开文件,这是钓鱼和木马最常用的借口。"),
    IntentRule("click.use_your_account", "click_for_me", "warn",
               _r(r"用你们?的?(?:店铺|商家|后台|电脑|账号)[^,。!?]{0,8}(?:登|打开|点|看|查)"
                  r"|远程(?:协助|控制|桌面|操作)|向日葵|todesk|teamviewer|anydesk|(?:账号|登录)?密码是"),
               "要求用店铺账号/电脑替对方登录或远程操作,可能盗取店铺账号。"),
    IntentRule("click.open_to_see", "click_for_me", "warn",
               _r(r"(?:安装|装|运行|打开|解压|下载|点开|扫|启用)[^,。!?]{0,8}(?:就能|才能|就可以|才可以)(?:看|显示|查)"
                  r"|启用(?:宏|内容|编辑)"),
               "“装一下/打开/启用宏就能看到”是木马文件的典型说辞。"),
)

# A link the buyer wants looked at: risky only with a non-platform link in the message.
PRETEXT = _r(r"(?:帮我|你(?!们|家))[^,。!?]{0,4}(?:看看|看下|看一下|瞧瞧|查|进|点|打开|登)"
             r"|拍不(?:下|了)|付不了|支付不了|下不了单|(?:打开|点开|点进|进去)[^,。!?]{0,4}看")


@dataclass(frozen=True)
class IntentFinding:
    rule: IntentRule
    evidence: str
    span: tuple[int, int]


def match_intents(folded: Folded) -> list[IntentFinding]:
    """Every intent rule that fires on the message, with the span that fired."""
    found = []
    for rule in RULES:
        hit = rule.match(folded.text)
        if hit is not None:
            evidence, span = folded.evidence(hit.start(), hit.end())
            found.append(IntentFinding(rule, evidence, span))
    return found


def pretext(folded: Folded) -> tuple[str, tuple[int, int]] | None:
    """The "have a look for me" phrase, if any (combined with a risky link by the detector)."""
    hit = PRETEXT.search(folded.text)
    return folded.evidence(hit.start(), hit.end()) if hit else None



# The message itself asks the agent to open, click, scan or log in to something.
ASKS_TO_OPEN = _r(rf"(?:帮我|替我|你(?!们|家)|麻烦|请)[^,。!?]{{0,6}}?(?:{_STRONG_ACT}|{_WEAK_ACT})"
                  rf"|{_OBJECT}[^。!?]{{0,6}}?(?:{_STRONG_ACT}|打开|点一?下|点进|进去)|{PRETEXT.pattern}")
# A buyer reporting that a link the shop sent does not work: no link of theirs to fear.
SHOP_LINK_TROUBLE = _r(r"(?:你|你们|客服|店家|商家|卖家|店铺|亲)(?:刚才|刚刚|之前|上次)?(?:发|给)(?:我)?的?"
                       r"(?:链接|网址|地址|页面|二维码)"
                       r"|(?:链接|网址|页面)[^,。!?]{0,4}(?:打不开|点不开|进不去|没反应|失效|过期|404|加载不出)")

# Innocent readings of a type that veto a semantic match (the rules carry their own ``unless``):
# a buyer whose code does not arrive, a buyer who has already paid on the platform.
INNOCENT: dict[str, re.Pattern[str]] = {
    "verification_code": _CODE_TROUBLE,
    "off_platform_payment": _r(r"(?:已经?|刚刚?)(?:付款|付了款|付过款|拍下|拍了|下单|下了单)"),
}

# A semantic match resembles a scam phrasing; a buyer *asking about* the topic ("你们会问我要验证码吗",
# "可以开公司抬头的发票吗") is not one, unless the question carries a demand ("验证码发我一下好吗").
QUESTION_INNOCENT_TYPES = frozenset({"extortion_bait", "verification_code", "fake_review",
                                     "off_platform_contact", "off_platform_payment"})
# What turns a question into a demand or an offer: "…发我好吗", "要不要合作", "能不能写别的商品名".
DEMAND = _r(rf"{_GIVE_ME}|帮我|替我|加我|(?:转|付|打)(?:给)?你|返我|赔我|退我|不然|否则"
            r"|要不要|需不需要|需要[^,。!?]{0,8}吗|合作|帮你们|(?:写|开|改)(?:成|别的)")


def innocent_question(text: str) -> bool:
    """The whole message is a question about a policy, with no demand in it."""
    return is_question(text, True) and not DEMAND.search(text)
