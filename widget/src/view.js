// DOM builders for the sidebar. Every piece of data (customer text, server strings, context
// values) goes in through textContent or a text node, never through an HTML parser, so markup
// in a message is shown as characters and nothing in it can run or be clicked.

import { RISK_LABELS, RISK_WARN_LABELS, SEVERITY_LABELS, TEXT, VARIABLES } from './labels.js';

/** createElement with attributes and children; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const VARIABLE_PATTERN = new RegExp(`\\{(${Object.keys(VARIABLES).join('|')})\\}`, 'g');

/**
 * Fill {buyer_name} {product_name} {order_id} {shop_name} from `context`.
 * Returns the text and its parts; a variable without a value stays as its placeholder and is
 * flagged so the view can mark it (the agent fills it in the reply box).
 */
export function fillTemplate(template, context) {
  const parts = [];
  let last = 0;
  for (const match of String(template).matchAll(VARIABLE_PATTERN)) {
    if (match.index > last) parts.push({ text: template.slice(last, match.index) });
    const value = context[match[1]];
    if (value !== undefined && value !== null && String(value).trim() !== '') {
      parts.push({ text: String(value), variable: match[1] });
    } else {
      parts.push({ text: match[0], variable: match[1], missing: true });
    }
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  return { text: parts.map((p) => p.text).join(''), parts };
}

export function filledText(parts) {
  return parts.map((part) => {
    if (!part.variable) return part.text;
    const title = part.missing ? `${TEXT.missingVar}${VARIABLES[part.variable]}` : VARIABLES[part.variable];
    return h('span', { class: part.missing ? 'var missing' : 'var', title, text: part.text });
  });
}

export function confidenceLevel(score) {
  if (score >= 0.75) return 'high';
  if (score >= 0.55) return 'mid';
  return 'low';
}

export function percent(score) {
  const value = Math.round(Math.max(0, Math.min(1, Number(score) || 0)) * 100);
  return `${value}%`;
}

/** One suggestion card; `n` is 1-based (Alt+n). */
export function scriptCard(script, n, filled, { onInsert, onDismiss, state }) {
  const title = String(script.title || script.category || '');
  const level = confidenceLevel(script.score);
  const done = state === 'dismissed';
  return h('li', { class: `card ${state || ''}`, 'data-id': script.id, 'data-n': n },
    h('div', { class: 'card-head' },
      h('kbd', { class: 'key', 'aria-hidden': 'true', text: `Alt+${n}` }),
      h('span', { class: 'category', title: String(script.category), text: script.category }),
      h('span', { class: `confidence ${level}`, title: TEXT.confidence, 'aria-label': `${TEXT.confidence} ${percent(script.score)}` },
        h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { style: `width:${percent(script.score)}` })),
        percent(script.score))),
    h('p', { class: 'reply', lang: 'zh-CN' }, filledText(filled.parts)),
    h('div', { class: 'actions' },
      h('button', {
        type: 'button', class: 'insert', 'aria-keyshortcuts': n <= 3 ? `Alt+${n}` : null,
        'aria-label': TEXT.insertLabel(n, title), disabled: done, onclick: onInsert,
        text: state === 'inserted' ? `✓ ${TEXT.inserted}` : TEXT.insert,
      }),
      h('button', {
        type: 'button', class: 'dismiss', 'aria-label': TEXT.dismissLabel(n, title),
        'aria-pressed': done ? 'true' : 'false', disabled: done, onclick: onDismiss,
        text: done ? TEXT.dismissed : TEXT.dismiss,
      })));
}

/**
 * A risk banner: severity colour, Chinese reason, the evidence as plain text, the safe reply.
 * `compact` (every banner after the first) folds evidence, safe reply and buttons into a
 * <details> whose summary still shows severity, type and reason: several banners would
 * otherwise push the suggested replies below the fold of a short screen.
 */
export function riskBanner(risk, filled, { onInsert, onDismiss, state, compact = false, open = false, onToggle }) {
  const severity = SEVERITY_LABELS[risk.severity] ? risk.severity : 'info';
  // A link only warned about is unknown, not known phishing: its own name (vocabulary.py).
  const label = (severity === 'warn' && RISK_WARN_LABELS[risk.type]) || RISK_LABELS[risk.type] || String(risk.type);
  const done = state === 'dismissed';
  const head = [
    h('div', { class: 'risk-head' },
      h('span', { class: 'badge', text: SEVERITY_LABELS[severity] }),
      h('strong', { class: 'risk-type', text: label })),
    h('p', { class: 'reason', text: risk.reason }),
  ];
  const body = [
    risk.evidence ? h('p', { class: 'evidence', title: risk.evidence },
      h('span', { class: 'label', text: `${TEXT.evidence}：` }),
      h('code', { text: risk.evidence })) : null,
    risk.reply ? h('p', { class: 'safe-reply' },
      h('span', { class: 'label', text: `${TEXT.safeReply}：` }), filledText(filled.parts)) : null,
    h('div', { class: 'actions' },
      risk.reply ? h('button', {
        type: 'button', class: 'insert', 'aria-label': TEXT.insertSafeLabel(label), onclick: onInsert,
        text: state === 'inserted' ? `✓ ${TEXT.inserted}` : TEXT.insertSafe,
      }) : null,
      h('button', {
        type: 'button', class: 'dismiss', 'aria-label': TEXT.falseLabel(label), disabled: done,
        'aria-pressed': done ? 'true' : 'false', onclick: onDismiss,
        text: done ? TEXT.markedFalse : TEXT.falsePositive,
      })),
  ];
  const attrs = {
    class: `risk ${severity} ${state || ''} ${compact ? 'compact' : ''}`,
    role: severity === 'block' ? 'alert' : null, 'data-type': risk.type, 'data-severity': severity,
  };
  if (!compact) return h('div', attrs, ...head, ...body);
  return h('details', { ...attrs, open, ontoggle: (event) => onToggle?.(event.target.open) },
    h('summary', { title: TEXT.riskDetails }, ...head), ...body);
}

export function policyItem(policy) {
  return h('li', { class: 'policy' },
    h('div', { class: 'policy-head' },
      h('strong', { text: policy.title }),
      h('span', { class: 'category', text: policy.category })),
    h('p', { text: policy.text }));
}
