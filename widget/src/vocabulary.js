// Generated from assist/core/vocabulary.py: do not edit; regenerate with
//   python -m assist.core.vocabulary > widget/src/vocabulary.js

export const RISK_LABELS = {
  "phishing_link": "钓鱼链接",
  "malicious_file": "危险文件",
  "impersonation": "冒充平台",
  "off_platform_payment": "平台外付款",
  "off_platform_contact": "平台外联系",
  "verification_code": "索要验证码",
  "account_switch": "换号套信息",
  "fake_review": "刷单刷评",
  "extortion_bait": "诱导违规/敲诈",
  "click_for_me": "让客服代点代登"
};
export const RISK_WARN_LABELS = {
  "phishing_link": "站外链接"
};
export const SEVERITY_LABELS = {
  "block": "拦截",
  "warn": "警告",
  "info": "提示"
};
export const FEEDBACK_ACTIONS = {
  "accepted": "直接采纳",
  "edited": "修改后发送",
  "dismissed": "忽略"
};
export const QA_LABELS = {
  "right": "推荐正确",
  "wrong_entry": "匹配错误",
  "missing_entry": "缺少条目"
};
export const CONFIDENT_SCORE = 0.6;
export const CLOSE_CODES = {
  "going_away": 1001,
  "policy": 1008,
  "too_big": 1009,
  "internal": 1011,
  "bad_token": 4401,
  "forbidden": 4403,
  "timeout": 4408,
  "too_many": 4429
};
export const FINAL_CLOSE_REASONS = {
  "4401": "令牌无效或缺失",
  "4403": "无权访问（角色或来源不被允许）"
};
