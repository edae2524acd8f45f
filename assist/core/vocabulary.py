"""One source for the words and codes the service, the widget and the QA page share.

Risk types and severities with their Chinese labels, feedback actions, QA labels, websocket
close codes and the QA confidence threshold. The widget imports the generated module
``widget/src/vocabulary.js`` (``python -m assist.core.vocabulary > widget/src/vocabulary.js``;
a test checks it is current) and the QA page reads ``/api/qa/meta``, so no copy can drift.
"""

from __future__ import annotations

import json
from typing import Final, Literal, get_args

from assist.core.models import RiskType, Severity

RISK_TYPE_LABELS: Final[dict[RiskType, str]] = {
    "phishing_link": "钓鱼链接",
    "malicious_file": "危险文件",
    "impersonation": "冒充平台",
    "off_platform_payment": "平台外付款",
    "off_platform_contact": "平台外联系",
    "verification_code": "索要验证码",
    "account_switch": "换号套信息",
    "fake_review": "刷单刷评",
    "extortion_bait": "诱导违规/敲诈",
    "click_for_me": "让客服代点代登",
}
SEVERITY_LABELS: Final[dict[Severity, str]] = {"block": "拦截", "warn": "警告", "info": "提示"}
# What a type is called when it is only warned about: a link outside the platform that no rule
# or feed marks as bad is unknown, not phishing (the agent still must not open it).
RISK_TYPE_WARN_LABELS: Final[dict[RiskType, str]] = {"phishing_link": "站外链接"}


def risk_label(risk_type: RiskType, severity: Severity) -> str:
    """The agent's name for a risk: the warned-about form where there is one."""
    if severity == "warn" and risk_type in RISK_TYPE_WARN_LABELS:
        return RISK_TYPE_WARN_LABELS[risk_type]
    return RISK_TYPE_LABELS[risk_type]

FeedbackAction = Literal["accepted", "edited", "dismissed"]
FEEDBACK_ACTIONS: Final[tuple[FeedbackAction, ...]] = get_args(FeedbackAction)
FEEDBACK_ACTION_LABELS: Final[dict[FeedbackAction, str]] = {
    "accepted": "直接采纳", "edited": "修改后发送", "dismissed": "忽略",
}
NO_FEEDBACK: Final = "none"  # filter value: messages nobody acted on

QaLabel = Literal["right", "wrong_entry", "missing_entry"]
QA_LABELS: Final[tuple[QaLabel, ...]] = get_args(QaLabel)
QA_LABEL_NAMES: Final[dict[QaLabel, str]] = {
    "right": "推荐正确", "wrong_entry": "匹配错误", "missing_entry": "缺少条目",
}

# A top suggestion at or above this score counts as a confident answer in the QA metrics.
CONFIDENT_SCORE: Final = 0.6

# Websocket close codes (docs/protocol.md). 4xxx are the application's own.
CLOSE_GOING_AWAY: Final = 1001  # the server shuts down; reconnect
CLOSE_POLICY: Final = 1008  # flood that persists after rate_limited errors
CLOSE_TOO_BIG: Final = 1009  # frame over the size limit
CLOSE_INTERNAL: Final = 1011  # sending failed
CLOSE_BAD_TOKEN: Final = 4401  # missing or unknown token
CLOSE_FORBIDDEN: Final = 4403  # role or origin not allowed
CLOSE_TIMEOUT: Final = 4408  # silent (dead) or too slow to read its frames
CLOSE_TOO_MANY: Final = 4429  # too many connections for the token or address, or auth failures
# Close codes after which a client should not retry on its own, with what the agent reads.
FINAL_CLOSE_REASONS: Final[dict[int, str]] = {
    CLOSE_BAD_TOKEN: "令牌无效或缺失",
    CLOSE_FORBIDDEN: "无权访问（角色或来源不被允许）",
}


def as_dict() -> dict[str, object]:
    """Everything above, as JSON-ready data (for the QA page and the generated JS module)."""
    return {
        "RISK_LABELS": RISK_TYPE_LABELS,
        "RISK_WARN_LABELS": RISK_TYPE_WARN_LABELS,
        "SEVERITY_LABELS": SEVERITY_LABELS,
        "FEEDBACK_ACTIONS": FEEDBACK_ACTION_LABELS,
        "QA_LABELS": QA_LABEL_NAMES,
        "CONFIDENT_SCORE": CONFIDENT_SCORE,
        "CLOSE_CODES": {"going_away": CLOSE_GOING_AWAY, "policy": CLOSE_POLICY,
                        "too_big": CLOSE_TOO_BIG, "internal": CLOSE_INTERNAL,
                        "bad_token": CLOSE_BAD_TOKEN, "forbidden": CLOSE_FORBIDDEN,
                        "timeout": CLOSE_TIMEOUT, "too_many": CLOSE_TOO_MANY},
        "FINAL_CLOSE_REASONS": FINAL_CLOSE_REASONS,
    }


def as_js_module() -> str:
    """The ES module ``widget/src/vocabulary.js``: one ``export const`` per name."""
    lines = ["// Generated from assist/core/vocabulary.py: do not edit; regenerate with",
             "//   python -m assist.core.vocabulary > widget/src/vocabulary.js", ""]
    for name, value in as_dict().items():
        lines.append(f"export const {name} = {json.dumps(value, ensure_ascii=False, indent=2)};")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(as_js_module(), end="")
