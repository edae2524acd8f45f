// <assist-sidebar server="…" token="…" conversation="…">: suggestions and risk warnings for one
// conversation, pushed by the assist service over its websocket. See widget/README.md.

import { Connection } from './connection.js';
import { copyText, insertInto } from './insert.js';
import { CLOSE_REASONS, STATE_LABELS, TEXT } from './labels.js';
import { CSS } from './styles.js';
import { fillTemplate, h, policyItem, riskBanner, scriptCard } from './view.js';

const MAX_CARDS = 3;
const REMEMBERED = 50; // inserted / sent messages kept for feedback and latency
const CONTEXT_ATTRIBUTES = {
  'buyer-name': 'buyer_name', 'product-name': 'product_name', 'order-id': 'order_id', 'shop-name': 'shop_name',
};
// Where the script was loaded from: the default service address for a one-tag embed.
const SCRIPT_ORIGIN = new URL(import.meta.url).origin;

function remember(map, key, value) {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value);
}

function newMessageId() {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `m-${Date.now().toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
}

export class AssistSidebar extends HTMLElement {
  static observedAttributes = ['server', 'token', 'conversation', ...Object.keys(CONTEXT_ATTRIBUTES)];

  /** Register the element (idempotent). */
  static define(tag = 'assist-sidebar', registry = customElements) {
    if (!registry.get(tag)) registry.define(tag, this);
    return this;
  }

  constructor() {
    super();
    this.onInsert = null; // optional callback(detail); return false if not handled
    this._context = {};
    this._connection = null;
    this._frame = null; // the latest suggestions frame of this conversation
    this._marks = new Map(); // suggestion id -> 'inserted' | 'dismissed', for the shown frame
    this._openRisks = new Set(); // folded risk banners the agent opened, for the shown frame
    this._inserted = new Map(); // message id -> {suggestionId, text}
    this._sentAt = new Map(); // message id -> performance.now() when this element sent it
    this._lastInsert = null;
    this._roundTripMs = null;
    this._indexVersion = '';
    this._status = { state: 'idle', reason: '', attempt: 0, retryInMs: 0 };
    this._abort = null;
    this._build();
  }

  // ---- attributes and properties ---------------------------------------------------------------

  get server() { return this.getAttribute('server') || SCRIPT_ORIGIN; }
  set server(value) { this.setAttribute('server', value); }
  get token() { return this.getAttribute('token') || ''; }
  set token(value) { this.setAttribute('token', value); }
  get conversation() { return this.getAttribute('conversation') || ''; }
  set conversation(value) { this.setAttribute('conversation', value); }

  /** Host context used to fill reply variables; merged over the *-name / order-id attributes. */
  get context() {
    const fromAttributes = {};
    for (const [attribute, key] of Object.entries(CONTEXT_ATTRIBUTES)) {
      if (this.hasAttribute(attribute)) fromAttributes[key] = this.getAttribute(attribute);
    }
    return { ...fromAttributes, ...this._context };
  }

  set context(value) {
    this._context = { ...(value || {}) };
    this._render();
  }

  /** The connection state: idle | connecting | open | reconnecting | closed. */
  get state() { return this._status.state; }
  get indexVersion() { return this._indexVersion; }
  get suggestions() { return this._frame; }

  connectedCallback() {
    if (!this.hasAttribute('role')) this.setAttribute('role', 'complementary');
    if (!this.hasAttribute('aria-label')) this.setAttribute('aria-label', TEXT.panel);
    this._abort = new AbortController();
    const { signal } = this._abort;
    document.addEventListener('keydown', (event) => this._onKeydown(event), { capture: true, signal });
    window.addEventListener('online', () => this._connection?.reconnectNow(), { signal });
    this._connect();
  }

  disconnectedCallback() {
    this._abort?.abort();
    this._connection?.stop();
    this._connection = null;
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue || !this.isConnected) return;
    if (name === 'server' || name === 'token') {
      this._connection?.stop();
      this._connect();
    } else if (name === 'conversation') {
      if (oldValue) this._connection?.unsubscribe([oldValue]);
      if (newValue) this._connection?.subscribe([newValue]);
      this._frame = null;
      this._marks.clear();
      this._openRisks.clear();
      this._render();
    } else {
      this._render();
    }
  }

  // ---- public methods --------------------------------------------------------------------------

  /** Insert the n-th (1-based) suggested reply, as a click or Alt+n would. */
  insert(n) {
    const script = this._visibleScripts()[n - 1];
    if (!script || this._marks.get(script.id) === 'dismissed') return false;
    this._deliver(fillTemplate(script.reply, this.context).text, script.id, 'script');
    return true;
  }

  /**
   * Tell the sidebar what the agent finally sent for a message (after editing the inserted reply).
   * Sends `edited` feedback with the final text when it differs from what was inserted.
   * Returns 'edited', 'accepted' (unchanged) or null (nothing was inserted for that message).
   */
  reportSent(messageId, finalText) {
    const id = messageId || this._frame?.message_id;
    const inserted = id && this._inserted.get(id);
    if (!inserted) return null;
    this._inserted.delete(id);
    if (String(finalText).trim() === inserted.text.trim()) return 'accepted';
    this._feedback(id, inserted.suggestionId, 'edited', String(finalText));
    return 'edited';
  }

  /**
   * Single-connection mode: send a buyer message for this conversation over the sidebar's own
   * websocket. Resolves with the message id once the service has processed and logged it.
   */
  async sendCustomerMessage({ text, attachments = [], messageId = newMessageId() }) {
    if (!this.conversation) throw new Error(CLOSE_REASONS.no_conversation);
    if (!this._connection) throw new Error(STATE_LABELS.closed);
    remember(this._sentAt, messageId, performance.now());
    await this._connection.request({
      type: 'customer_message', conversation_id: this.conversation, message_id: messageId,
      text: String(text), attachments, sent_at: Date.now() / 1000,
    });
    return messageId;
  }

  /** Reconnect now instead of waiting for the next retry. */
  reconnect() {
    if (this._connection && this._connection.state !== 'closed') this._connection.reconnectNow();
    else this._connect();
  }

  // ---- connection --------------------------------------------------------------------------------

  _connect() {
    this._connection = null;
    if (!this.token) {
      this._onState({ state: 'closed', reason: 'no_token', attempt: 0, retryInMs: 0 });
      return;
    }
    const connection = new Connection({ server: this.server, token: this.token });
    connection.addEventListener('state', (event) => this._onState(event.detail));
    connection.addEventListener('frame', (event) => this._onFrame(event.detail.frame));
    if (this.conversation) connection.subscribe([this.conversation]);
    this._connection = connection;
    connection.start();
  }

  _onState(status) {
    this._status = status;
    this._renderStatus();
    this._emit('assist-status', { ...status });
  }

  _onFrame(frame) {
    if (frame.type === 'welcome' || frame.type === 'index_updated') {
      const changed = this._indexVersion && this._indexVersion !== frame.index_version;
      this._indexVersion = String(frame.index_version || '');
      this._renderMeta();
      if (frame.type === 'index_updated' || changed) this._toast(TEXT.indexUpdated);
    } else if (frame.type === 'suggestions' && frame.conversation_id === this.conversation) {
      const started = this._sentAt.get(frame.message_id);
      this._roundTripMs = started === undefined ? null : Math.round(performance.now() - started);
      this._frame = frame;
      this._marks.clear();
      this._openRisks.clear();
      this._indexVersion = String(frame.index_version || this._indexVersion);
      this._render();
      const risks = Array.isArray(frame.risks) ? frame.risks.length : 0;
      this._live.textContent = TEXT.announce(this._visibleScripts().length, risks);
      this._emit('assist-suggestions', frame);
    } else if (frame.type === 'error' && !frame.ref) {
      this._toast(String(frame.message), true);
    }
  }

  // ---- inserting and feedback --------------------------------------------------------------------

  _deliver(text, suggestionId, kind) {
    const messageId = this._frame?.message_id || '';
    const detail = { text, suggestionId, messageId, conversationId: this.conversation, kind };
    let handled = !this._emit('assist-insert', detail, true); // preventDefault() = "I inserted it"
    if (typeof this.onInsert === 'function') {
      try {
        handled = this.onInsert({ ...detail }) !== false || handled;
      } catch (err) {
        console.error('assist-sidebar: onInsert failed', err);
      }
    }
    const target = !handled && this.getAttribute('target');
    if (target) {
      const box = this.getRootNode().querySelector?.(target);
      handled = Boolean(box) && insertInto(box, text, this._lastInsert);
    }
    this._lastInsert = text;
    if (handled) this._toast(TEXT.insertedToast);
    else copyText(text, this._root).then((ok) => this._toast(ok ? TEXT.copied : TEXT.copyFailed, !ok));
    this._marks.set(suggestionId, 'inserted');
    remember(this._inserted, messageId, { suggestionId, text });
    this._feedback(messageId, suggestionId, 'accepted');
    this._render();
  }

  _dismiss(suggestionId) {
    this._marks.set(suggestionId, 'dismissed');
    this._feedback(this._frame?.message_id || '', suggestionId, 'dismissed');
    this._render();
  }

  _feedback(messageId, suggestionId, action, finalText) {
    if (!messageId || !this._connection) return;
    const frame = { type: 'feedback', message_id: messageId, suggestion_id: suggestionId, action };
    if (finalText !== undefined) frame.final_text = finalText;
    this._connection.send(frame);
    this._emit('assist-feedback', { messageId, suggestionId, action, finalText });
  }

  _onKeydown(event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (this.hasAttribute('no-shortcuts')) return;
    // event.code, not key: on macOS Alt+1 types "¡".
    const match = /^(?:Digit|Numpad)([1-3])$/.exec(event.code);
    if (match && this.insert(Number(match[1]))) event.preventDefault();
  }

  _emit(type, detail, cancelable = false) {
    return this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable }));
  }

  _visibleScripts() {
    const scripts = this._frame && Array.isArray(this._frame.scripts) ? this._frame.scripts : [];
    return scripts.slice(0, MAX_CARDS);
  }

  // ---- rendering ---------------------------------------------------------------------------------

  _build() {
    const root = this.attachShadow({ mode: 'open' });
    this._root = root;
    root.append(h('style', { text: CSS }));
    this._statusEl = h('span', { class: 'status', role: 'status', 'data-state': 'idle' });
    this._statusDetail = h('div', { class: 'status-detail' });
    this._metaEl = h('div', { class: 'meta' });
    this._messageEl = h('section', { class: 'message', 'aria-label': TEXT.buyer });
    this._risksEl = h('section', { class: 'risks', 'aria-label': TEXT.risks });
    this._cardsEl = h('ol', {});
    this._policiesSummary = h('summary', {});
    this._policiesList = h('ul', {});
    this._policiesEl = h('details', { class: 'policies', hidden: true }, this._policiesSummary, this._policiesList);
    this._toastEl = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite' });
    this._live = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
    root.append(h('div', { class: 'panel', part: 'panel' },
      h('header', {}, h('h2', { text: TEXT.title }), this._statusEl),
      this._statusDetail, this._metaEl, this._messageEl, this._risksEl,
      h('section', { class: 'cards', 'aria-label': TEXT.cards }, this._cardsEl),
      this._policiesEl,
      h('p', { class: 'hint', text: TEXT.hint }),
      this._toastEl, this._live));
    this._renderStatus();
    this._render();
  }

  _renderStatus() {
    const { state, reason, attempt, retryInMs } = this._status;
    this._statusEl.dataset.state = state;
    this._statusEl.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }), STATE_LABELS[state] || state);
    const detail = [];
    if (state === 'reconnecting' && retryInMs) detail.push(TEXT.retryIn(attempt, (retryInMs / 1000).toFixed(1)));
    if (state === 'closed') {
      if (CLOSE_REASONS[reason]) detail.push(CLOSE_REASONS[reason]);
      if (this.isConnected) {
        detail.push(h('button', { type: 'button', class: 'small', onclick: () => this.reconnect(), text: TEXT.reconnect }));
      }
    }
    this._statusDetail.replaceChildren(...detail.map((d) => (typeof d === 'string' ? h('span', { text: d }) : d)));
  }

  _renderMeta() {
    const parts = [];
    if (this._indexVersion) {
      parts.push(h('span', { title: this._indexVersion, text: `${TEXT.index} ${this._indexVersion.slice(0, 14)}` }));
    }
    if (this._frame) {
      const roundTrip = this._roundTripMs === null ? '' : `，往返 ${this._roundTripMs} ms`;
      parts.push(h('span', {
        class: 'latency', title: `服务端处理${roundTrip}`,
        text: `${TEXT.latency} ${Number(this._frame.latency_ms).toFixed(0)} ms`,
      }));
    }
    this._metaEl.replaceChildren(...parts);
  }

  _render() {
    const focused = this._root.activeElement;
    const focusKey = focused?.closest('[data-id]')?.dataset.id;
    const focusClass = focused?.classList.contains('dismiss') ? 'dismiss' : 'insert';
    this._renderMeta();
    this._renderMessage();
    this._renderRisks();
    this._renderCards();
    this._renderPolicies();
    if (focusKey) {
      const card = [...this._root.querySelectorAll('[data-id]')].find((el) => el.dataset.id === focusKey);
      const button = card?.querySelector(`button.${focusClass}:not([disabled])`) || card?.querySelector('button:not([disabled])');
      button?.focus();
    }
  }

  _renderMessage() {
    const text = this._frame?.text;
    this._messageEl.replaceChildren(text
      ? h('p', { class: 'quote', lang: 'zh-CN', title: text }, h('span', { class: 'who', text: `${TEXT.buyer}：` }), text)
      : h('p', { class: 'placeholder', text: TEXT.waiting }));
  }

  _renderRisks() {
    const risks = this._frame && Array.isArray(this._frame.risks) ? this._frame.risks : [];
    const order = { block: 0, warn: 1, info: 2 };
    const sorted = [...risks].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3));
    this._risksEl.replaceChildren(...sorted.map((risk, i) => {
      const id = `risk:${risk.rule || risk.type}`;
      const filled = fillTemplate(String(risk.reply || ''), this.context);
      const banner = riskBanner(risk, filled, {
        state: this._marks.get(id),
        onInsert: () => this._deliver(filled.text, id, 'risk'),
        onDismiss: () => this._dismiss(id),
        compact: i > 0, // the most severe one in full, the rest folded (cards stay in view)
        open: this._openRisks.has(id),
        onToggle: (open) => (open ? this._openRisks.add(id) : this._openRisks.delete(id)),
      });
      banner.dataset.id = id;
      banner.dataset.n = String(i + 1);
      return banner;
    }));
  }

  _renderCards() {
    const scripts = this._visibleScripts();
    const slots = scripts.map((script, i) => scriptCard(script, i + 1, fillTemplate(String(script.reply), this.context), {
      state: this._marks.get(script.id),
      onInsert: () => this.insert(i + 1),
      onDismiss: () => this._dismiss(script.id),
    }));
    // Empty slots keep the panel's height constant whatever arrives next.
    while (slots.length < MAX_CARDS) {
      const first = slots.length === 0;
      const text = first ? (this._frame ? TEXT.noScripts : TEXT.cardsWaiting) : '';
      slots.push(h('li', { class: 'card empty', 'aria-hidden': first ? null : 'true', text }));
    }
    this._cardsEl.replaceChildren(...slots);
  }

  _renderPolicies() {
    const policies = this._frame && Array.isArray(this._frame.policies) ? this._frame.policies : [];
    this._policiesEl.hidden = policies.length === 0;
    this._policiesSummary.textContent = `${TEXT.policies}（${policies.length}）`;
    this._policiesList.replaceChildren(...policies.map(policyItem));
  }

  _toast(message, isError = false) {
    this._toastEl.textContent = message;
    this._toastEl.style.color = isError ? '#c62828' : '';
    clearTimeout(this._toastTimer);
    this._toastTimer = setTimeout(() => { this._toastEl.textContent = ''; }, 4000);
  }
}
