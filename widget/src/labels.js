// Every string the agent reads, in one place (the UI is Chinese; identifiers stay English).
// Risk and severity labels and close codes are shared with the service: vocabulary.js is
// generated from assist/core/vocabulary.py.

import { FINAL_CLOSE_REASONS, RISK_LABELS, RISK_WARN_LABELS, SEVERITY_LABELS } from './vocabulary.js';

export { RISK_LABELS, RISK_WARN_LABELS, SEVERITY_LABELS };

export const STATE_LABELS = {
  idle: '未连接',
  connecting: '连接中…',
  open: '已连接',
  reconnecting: '重连中…',
  closed: '已断开',
};

// Why a connection was closed for good (no automatic retry makes sense).
export const CLOSE_REASONS = {
  ...FINAL_CLOSE_REASONS,
  no_token: '缺少令牌',
  no_conversation: '未指定会话',
  bad_server: '服务地址无效',
};

// Template variables a reply may contain, filled from the host's context.
export const VARIABLES = {
  buyer_name: '买家昵称',
  product_name: '商品名称',
  order_id: '订单号',
  shop_name: '店铺名称',
};

export const TEXT = {
  title: '智能辅助',
  panel: '客服智能辅助侧边栏',
  waiting: '等待买家消息…',
  cardsWaiting: '推荐回复会显示在这里',
  noScripts: '没有合适的推荐话术，请人工回复。',
  buyer: '买家',
  attachments: '附件',
  risks: '风险提示',
  cards: '推荐回复',
  policies: '相关规则',
  insert: '插入',
  inserted: '已插入',
  dismiss: '不合适',
  dismissed: '已标记不合适',
  insertSafe: '插入安全回复',
  falsePositive: '误报',
  markedFalse: '已标记误报',
  safeReply: '安全回复',
  evidence: '触发内容',
  riskDetails: '展开查看触发内容和安全回复',
  confidence: '置信度',
  index: '索引',
  latency: '耗时',
  reconnect: '重新连接',
  copied: '已复制到剪贴板，可粘贴到回复框',
  copyFailed: '无法插入或复制，请手动选择文本',
  insertedToast: '已插入回复框，可修改后发送',
  indexUpdated: '知识库已更新',
  hint: 'Alt+1–3 快速插入 · 插入后可在回复框修改再发送',
  missingVar: '缺少上下文：',
  retryIn: (n, s) => `第 ${n} 次重试，${s} 秒后`,
  announce: (n, risks) => `收到 ${n} 条推荐回复` + (risks ? `，${risks} 个风险提示` : ''),
  insertLabel: (i, title) => `插入第 ${i} 条回复：${title}`,
  dismissLabel: (i, title) => `第 ${i} 条回复不合适：${title}`,
  insertSafeLabel: (label) => `插入针对“${label}”的安全回复`,
  falseLabel: (label) => `将“${label}”标记为误报`,
};
