// The demo console at /agent: type as the buyer, watch the sidebar, insert and send a reply.
// Everything the page shows from input goes through textContent, like the sidebar itself.

import '../assist-sidebar.js';
import { insertInto } from '../src/insert.js';

const TOKEN_KEY = 'assist-token';
const CONVERSATION_KEY = 'assist-conversation';
const MIME_TYPES = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', pdf: 'application/pdf',
  zip: 'application/zip', rar: 'application/vnd.rar', apk: 'application/vnd.android.package-archive',
  exe: 'application/x-msdownload', doc: 'application/msword', txt: 'text/plain', mp4: 'video/mp4',
};

const $ = (selector) => document.querySelector(selector);
const sidebar = $('#sidebar');
const reply = $('#reply');
let lastBuyerMessageId = null;
let lastInserted = null;

function randomId(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function note(selector, message, isError = false) {
  const el = $(selector);
  el.textContent = message;
  el.classList.toggle('error', isError);
}

function bubble(who, text, fileName = '') {
  const el = document.createElement('div');
  el.className = `bubble ${who}`;
  const label = document.createElement('span');
  label.className = 'who';
  label.textContent = who === 'buyer' ? '买家' : '客服';
  el.append(label, document.createTextNode(text));
  if (fileName) {
    const file = document.createElement('span');
    file.className = 'file';
    file.textContent = `附件：${fileName}`;
    el.append(file);
  }
  const chat = $('#chat');
  chat.append(el);
  chat.scrollTop = chat.scrollHeight;
}

function readContext() {
  const context = {};
  document.querySelectorAll('[data-context]').forEach((input) => { context[input.dataset.context] = input.value; });
  return context;
}

// ?token= wins (then leaves the address bar, so it is not bookmarked or shared by accident);
// otherwise the token typed earlier in this tab.
function initialToken() {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const query = params.toString();
    history.replaceState(null, '', location.pathname + (query ? `?${query}` : '') + location.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

function initialConversation() {
  const fromUrl = new URLSearchParams(location.search).get('conversation');
  const conversation = fromUrl || sessionStorage.getItem(CONVERSATION_KEY) || randomId('demo');
  sessionStorage.setItem(CONVERSATION_KEY, conversation);
  return conversation;
}

async function sendOverHttp(text, attachments, messageId) {
  const response = await fetch('/api/suggest', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sidebar.token}` },
    body: JSON.stringify({ text, attachments, conversation_id: sidebar.conversation, message_id: messageId }),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(typeof body.detail === 'string' ? body.detail : `HTTP ${response.status}`);
  }
}

async function sendBuyer(event) {
  event.preventDefault();
  const text = $('#buyer-text').value;
  const fileName = $('#buyer-file').value.trim();
  if (!text.trim() && !fileName) return;
  const extension = fileName.split('.').pop().toLowerCase();
  const attachments = fileName ? [{ name: fileName, mime: MIME_TYPES[extension] || '', size: 0 }] : [];
  const messageId = randomId('m');
  lastBuyerMessageId = messageId;
  bubble('buyer', text, fileName);
  $('#buyer-text').value = '';
  $('#buyer-file').value = '';
  try {
    if ($('#send-mode').value === 'http') await sendOverHttp(text, attachments, messageId);
    else await sidebar.sendCustomerMessage({ text, attachments, messageId });
    note('#compose-note', '');
  } catch (err) {
    note('#compose-note', `发送失败：${err.message}`, true);
  }
}

function sendReply(event) {
  event.preventDefault();
  const text = reply.value.trim();
  if (!text) return;
  bubble('agent', text);
  const outcome = sidebar.reportSent(lastBuyerMessageId, text);
  note('#reply-note', outcome === 'edited' ? '已发送（已记录修改后的回复）' : '已发送');
  reply.value = '';
  lastInserted = null;
}

function connect() {
  const token = $('#token').value.trim();
  const conversation = $('#conversation').value.trim() || randomId('demo');
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(CONVERSATION_KEY, conversation);
  sidebar.conversation = conversation;
  sidebar.token = token;
  if (sidebar.state === 'closed' && token) sidebar.reconnect();
  if (!token) note('#compose-note', '请填写令牌（dev 模式下 assist serve 启动时会打印）', true);
}

sidebar.addEventListener('assist-insert', (event) => {
  if (insertInto(reply, event.detail.text, lastInserted)) {
    lastInserted = event.detail.text;
    event.preventDefault(); // tells the sidebar the reply box took it (no clipboard fallback)
  }
});

document.querySelectorAll('[data-context]').forEach((input) => {
  input.addEventListener('input', () => { sidebar.context = readContext(); });
});
$('#compose').addEventListener('submit', sendBuyer);
$('#reply-form').addEventListener('submit', sendReply);
reply.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) sendReply(event);
});
$('#save-token').addEventListener('click', connect);

$('#token').value = initialToken();
$('#conversation').value = initialConversation();
sidebar.context = readContext();
connect();
