// The websocket to the assist service: reconnects with exponential backoff and jitter, answers
// heartbeats, re-subscribes after every (re)connect, and queues feedback while offline.
//
// Events (on the Connection, an EventTarget):
//   'state'  detail {state, reason, attempt, retryInMs}   state: connecting|open|reconnecting|closed
//   'frame'  detail {frame}                                every server frame after JSON parsing

import { FINAL_CLOSE_REASONS } from './vocabulary.js';

// Bad token, forbidden: retrying cannot help.
const FATAL_CLOSE_CODES = new Set(Object.keys(FINAL_CLOSE_REASONS).map(Number));
const OUTBOX_LIMIT = 200;

export function websocketUrl(server, token) {
  const url = new URL('/ws', server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('token', token);
  return url.toString();
}

/** Delay before retry number `attempt` (1-based): exponential, capped, "equal jitter". */
export function backoffDelay(attempt, baseMs = 500, maxMs = 15000, random = Math.random) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class Connection extends EventTarget {
  constructor({ server, token, baseMs = 500, maxMs = 15000 }) {
    super();
    this.server = server;
    this.token = token;
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.state = 'idle';
    this.attempt = 0;
    this.welcome = null;
    this._ws = null;
    this._subscriptions = new Set();
    this._outbox = [];
    this._pending = new Map(); // ref -> {resolve, reject, timer}
    this._refs = 0;
    this._retryTimer = null;
    this._watchdog = null;
    this._lastFrameAt = 0;
    this._stopped = true;
  }

  start() {
    this._stopped = false;
    this._open();
  }

  /** Close for good (element removed from the page). */
  stop() {
    this._stopped = true;
    clearTimeout(this._retryTimer);
    this._stopWatchdog();
    if (this._ws) this._ws.close(1000, 'client closed');
    this._ws = null;
    this._failPending('connection stopped');
    this._setState('closed', '');
  }

  /** Reconnect now (the "重新连接" button, or the browser coming back online). */
  reconnectNow() {
    if (this._stopped) return;
    clearTimeout(this._retryTimer);
    if (this._ws && this.state === 'open') return;
    if (this._ws) this._ws.close(1000, 'reconnecting');
    this._ws = null;
    this._open();
  }

  subscribe(ids) {
    const fresh = ids.filter((id) => !this._subscriptions.has(id));
    fresh.forEach((id) => this._subscriptions.add(id));
    if (fresh.length && this.state === 'open') this._sendNow({ type: 'subscribe', conversation_ids: fresh });
  }

  unsubscribe(ids) {
    const known = ids.filter((id) => this._subscriptions.delete(id));
    if (known.length && this.state === 'open') this._sendNow({ type: 'unsubscribe', conversation_ids: known });
  }

  /** Send now, or queue until the next welcome (feedback must not be lost to a blip). */
  send(frame) {
    if (this.state === 'open') return this._sendNow(frame);
    if (this._outbox.length >= OUTBOX_LIMIT) this._outbox.shift();
    this._outbox.push(frame);
    return false;
  }

  /** Send a frame with a ref; resolves with the server's ack, rejects on its error frame. */
  request(frame, timeoutMs = 15000) {
    if (this.state !== 'open') return Promise.reject(new Error('未连接到服务'));
    const ref = `r${++this._refs}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(ref);
        reject(new Error('服务无响应（超时）'));
      }, timeoutMs);
      this._pending.set(ref, { resolve, reject, timer });
      this._sendNow({ ...frame, ref });
    });
  }

  _open() {
    let ws;
    try {
      ws = new WebSocket(websocketUrl(this.server, this.token));
    } catch (err) {
      this._setState('closed', 'bad_server');
      return;
    }
    this._ws = ws;
    this._setState(this.attempt ? 'reconnecting' : 'connecting', '');
    ws.addEventListener('message', (event) => this._onMessage(ws, event));
    ws.addEventListener('close', (event) => this._onClose(ws, event));
  }

  _onMessage(ws, event) {
    if (ws !== this._ws || typeof event.data !== 'string') return;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return; // the server only sends JSON; ignore anything else rather than crash the widget
    }
    if (!frame || typeof frame !== 'object') return;
    this._lastFrameAt = Date.now();
    switch (frame.type) {
      case 'welcome':
        this._onWelcome(frame);
        break;
      case 'ping':
        this._sendNow({ type: 'pong', ts: frame.ts });
        break;
      case 'ack':
      case 'subscribed':
      case 'error':
        this._settle(frame);
        break;
      default:
        break;
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: { frame } }));
  }

  _onWelcome(frame) {
    this.welcome = frame;
    this.attempt = 0;
    this._setState('open', '');
    if (this._subscriptions.size) {
      this._sendNow({ type: 'subscribe', conversation_ids: [...this._subscriptions] });
    }
    const queued = this._outbox.splice(0);
    queued.forEach((f) => this._sendNow(f));
    this._startWatchdog((Number(frame.heartbeat_s) || 20) * 1000);
  }

  _settle(frame) {
    const waiter = frame.ref && this._pending.get(frame.ref);
    if (!waiter) return;
    this._pending.delete(frame.ref);
    clearTimeout(waiter.timer);
    if (frame.type === 'error') waiter.reject(Object.assign(new Error(String(frame.message)), { code: frame.code }));
    else waiter.resolve(frame);
  }

  _onClose(ws, event) {
    if (ws !== this._ws) return;
    this._ws = null;
    this._stopWatchdog();
    this._failPending('连接已断开');
    if (this._stopped) return;
    if (FATAL_CLOSE_CODES.has(event.code)) {
      this._setState('closed', String(event.code));
      return;
    }
    this.attempt += 1;
    const delay = backoffDelay(this.attempt, this.baseMs, this.maxMs);
    this._setState('reconnecting', '', delay);
    this._retryTimer = setTimeout(() => this._open(), delay);
  }

  // A connection can die without a close frame (laptop sleep, proxy): the server pings every
  // heartbeat_s, so three silent intervals mean it is gone and we reconnect ourselves.
  _startWatchdog(heartbeatMs) {
    this._stopWatchdog();
    this._watchdog = setInterval(() => {
      const ws = this._ws;
      if (ws && Date.now() - this._lastFrameAt > 3 * heartbeatMs + 2000) {
        // Do not wait for a closing handshake a dead peer will never answer.
        this._onClose(ws, { code: 4000 });
        ws.close(4000, 'heartbeat timeout');
      }
    }, Math.min(heartbeatMs, 5000));
  }

  _stopWatchdog() {
    clearInterval(this._watchdog);
    this._watchdog = null;
  }

  _sendNow(frame) {
    if (!this._ws || this._ws.readyState !== WebSocket.OPEN) return false;
    this._ws.send(JSON.stringify(frame));
    return true;
  }

  _failPending(message) {
    for (const { reject, timer } of this._pending.values()) {
      clearTimeout(timer);
      reject(new Error(message));
    }
    this._pending.clear();
  }

  _setState(state, reason, retryInMs = 0) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', {
      detail: { state, reason, attempt: this.attempt, retryInMs },
    }));
  }
}
