// QA review page: browses the suggestion log, labels messages, promotes phrasings, charts metrics.
// Customer text is untrusted: it only ever reaches the DOM through textContent (see el()).
"use strict";

const TOKEN_KEY = "assist-qa-token";
// Labels come from the service (/api/qa/meta "vocabulary", defined in assist/core/vocabulary.py).
let ACTIONS = {}, LABELS = {}, RISKS = {}, WARNED = {};
const COLORS = ["#d9480f", "#1971c2", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#e03131",
                "#5c940d", "#6741d9", "#868e96"];

const state = { meta: null, next: null, rows: new Map(), charts: {}, labelling: null };
const $ = (id) => document.getElementById(id);

/** Build an element; strings become text nodes, never markup. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---- auth ----------------------------------------------------------------------------------------

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function takeTokenFromUrl() {
  const url = new URL(location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    url.searchParams.delete("token");  // keep it out of history and screenshots
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
}

class AuthError extends Error {}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${token() || ""}`, "Content-Type": "application/json",
               ...(options.headers || {}) },
  });
  if (response.status === 401 || response.status === 403) {
    throw new AuthError(response.status === 401 ? "令牌无效" : "该令牌没有质检权限");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || body);
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

function askToken(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  $("app").hidden = true;
  $("token-form").hidden = false;
  $("token-error").textContent = message || "";
  $("token-input").focus();
}

async function start() {
  try {
    state.meta = await api("/api/qa/meta");
    ({ FEEDBACK_ACTIONS: ACTIONS, QA_LABELS: LABELS, RISK_LABELS: RISKS, RISK_WARN_LABELS: WARNED } = state.meta.vocabulary);
  } catch (err) {
    askToken(err instanceof AuthError ? err.message : `无法连接服务:${err.message}`);
    return;
  }
  $("token-form").hidden = true;
  $("app").hidden = false;
  $("index-version").textContent = `索引版本 ${state.meta.index_version}`;
  // Promoting rewrites the knowledge folder: admin only (the qa role reads and labels).
  $("label-promote").hidden = state.meta.role !== "admin";
  fillFilterOptions();
  await loadMessages(true);
}

// ---- the log -------------------------------------------------------------------------------------

function fillFilterOptions() {
  const category = $("f-category");
  category.replaceChildren(el("option", { value: "" }, "全部"));
  const stages = [...new Set(state.meta.categories.map((c) => c.split("/")[0]))].sort();
  for (const stage of stages) category.append(el("option", { value: stage }, `${stage}(全部)`));
  for (const c of state.meta.categories) category.append(el("option", { value: c }, c));
  const risk = $("f-risk");
  risk.replaceChildren(el("option", { value: "" }, "全部"));
  for (const type of state.meta.risk_types) risk.append(el("option", { value: type }, RISKS[type] || type));
  const entry = $("label-entry");
  entry.replaceChildren(el("option", { value: "" }, "(无)"));
  for (const e of state.meta.entries) {
    entry.append(el("option", { value: e.id }, `${e.category} · ${e.title} (${e.id})`));
  }
  $("f-max-score").value = state.meta.threshold;
  $("m-threshold").value = state.meta.threshold;
}

function filterParams() {
  const params = new URLSearchParams();
  const range = $("f-range").value;
  if (range === "custom") {
    if ($("f-from").value) params.set("since", String(new Date($("f-from").value).getTime() / 1000));
    if ($("f-to").value) params.set("until", String(new Date($("f-to").value).getTime() / 1000));
  } else if (range) {
    params.set("since", range);
  }
  for (const [id, name] of [["f-agent", "agent"], ["f-conversation", "conversation_id"],
                            ["f-category", "category"], ["f-risk", "risk_type"], ["f-action", "action"]]) {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  }
  if ($("f-none").checked) params.set("no_suggestion", "true");
  if ($("f-low").checked) params.set("max_score", $("f-max-score").value);
  return params;
}

async function loadMessages(fresh) {
  const params = filterParams();
  if (!fresh && state.next) params.set("before", state.next);
  $("log-status").textContent = "加载中…";
  try {
    const started = performance.now();
    const page = await api(`/api/qa/messages?${params}`);
    if (fresh) { $("log-rows").replaceChildren(); state.rows.clear(); }
    for (const row of page.items) {
      state.rows.set(row.id, row);
      $("log-rows").append(renderRow(row));
    }
    state.next = page.next;
    $("more").hidden = !page.next;
    const ms = Math.round(performance.now() - started);
    $("log-status").textContent = state.rows.size
      ? `已显示 ${state.rows.size} 条${page.next ? "(还有更多)" : "(已到底)"} · ${ms} 毫秒`
      : "没有符合条件的消息";
  } catch (err) {
    if (err instanceof AuthError) return askToken(err.message);
    $("log-status").textContent = `查询失败:${err.message}`;
  }
}

function fmtTime(ts) {
  const d = new Date(ts * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function renderSuggestions(row) {
  const scripts = (row.suggestions && row.suggestions.scripts) || [];
  if (!scripts.length) return el("span", { class: "muted" }, "无推荐");
  return el("ol", { class: "suggestions" }, scripts.map((s) => el("li", {},
    el("span", { class: s.score < Number($("f-max-score").value) ? "score low" : "score" }, s.score.toFixed(2)),
    " ", el("b", {}, s.title), " ", el("span", { class: "muted" }, s.id),
    el("div", { class: "reply" }, s.reply))));
}

function renderFeedback(row) {
  if (!row.feedback.length) return el("span", { class: "muted" }, "无操作");
  return row.feedback.map((f) => el("div", { class: `action ${f.action}` },
    el("span", { class: "badge" }, ACTIONS[f.action] || f.action), " ", el("span", { class: "muted" }, f.suggestion_id),
    f.final_text ? el("div", { class: "final" }, f.final_text) : null));
}

function renderRisks(row) {
  if (!row.risks.length) return "";
  return row.risks.map((r) => el("div", { class: `risk ${r.severity}`, title: r.reason },
    (r.severity === "warn" && WARNED[r.type]) || RISKS[r.type] || r.type, r.evidence ? el("div", { class: "evidence" }, r.evidence) : null));
}

function renderLabels(row) {
  if (!row.labels.length) return el("span", { class: "muted" }, "未标注");
  const last = row.labels[row.labels.length - 1];
  return el("div", { class: `label ${last.label}` }, LABELS[last.label] || last.label,
    last.entry_id ? el("div", { class: "muted" }, `→ ${last.entry_id}`) : null,
    last.note ? el("div", { class: "note" }, last.note) : null);
}

function renderRow(row) {
  return el("tr", { "data-id": row.id, "data-risks": row.risk_types.join(" "),
                    "data-actions": row.feedback.map((f) => f.action).join(" ") || "none" },
    el("td", { class: "time" }, fmtTime(row.ts)),
    el("td", {}, el("button", { type: "button", class: "link conv", onclick: () => openConversation(row.conversation_id) },
      row.conversation_id), el("div", { class: "muted" }, row.agent)),
    el("td", { class: "text" }, row.text),
    el("td", {}, renderSuggestions(row)),
    el("td", {}, renderFeedback(row)),
    el("td", {}, renderRisks(row)),
    el("td", { class: "num" }, `${row.latency_ms.toFixed(1)} ms`),
    el("td", { class: "muted version" }, row.index_version),
    el("td", { class: "labels" }, renderLabels(row)),
    el("td", {}, el("button", { type: "button", class: "label-button", onclick: () => openLabel(row.id) }, "标注")));
}

function refreshRow(id) {
  const old = document.querySelector(`#log-rows tr[data-id="${id}"]`);
  if (old) old.replaceWith(renderRow(state.rows.get(id)));
}

async function openConversation(id) {
  $("conversation-id").textContent = id;
  const list = $("conversation-items");
  list.replaceChildren(el("li", { class: "muted" }, "加载中…"));
  $("conversation-dialog").showModal();
  try {
    const rows = await api(`/api/qa/conversations/${encodeURIComponent(id)}`);
    list.replaceChildren(...rows.map((row) => el("li", {},
      el("div", { class: "muted" }, `${fmtTime(row.ts)} · ${row.agent} · ${row.latency_ms.toFixed(1)} ms`),
      el("div", { class: "text" }, row.text), renderSuggestions(row), renderFeedback(row), renderRisks(row))));
  } catch (err) {
    list.replaceChildren(el("li", { class: "error" }, `加载失败:${err.message}`));
  }
}

// ---- labels and the learning loop ----------------------------------------------------------------

function openLabel(id) {
  const row = state.rows.get(id);
  state.labelling = id;
  $("label-text").textContent = row.text;
  $("label-error").textContent = "";
  $("label-note").value = "";
  $("label-entry").value = row.top_id || "";
  document.querySelector('#label-form input[value="right"]').checked = true;
  $("label-dialog").showModal();
}

function chosenLabel() { return document.querySelector('#label-form input[name="label"]:checked').value; }

async function saveLabel() {
  const id = state.labelling;
  try {
    const saved = await api("/api/qa/labels", { method: "POST", body: JSON.stringify({
      message_pk: id, label: chosenLabel(), entry_id: $("label-entry").value || null,
      note: $("label-note").value }) });
    state.rows.get(id).labels.push(saved);
    refreshRow(id);
    $("label-dialog").close();
    $("log-status").textContent = "标注已保存";
  } catch (err) {
    $("label-error").textContent = `保存失败:${err.message}`;
  }
}

async function promote() {
  const entry = $("label-entry").value;
  if (!entry) { $("label-error").textContent = "请先选择要加入的条目"; return; }
  $("label-error").textContent = "正在加入并重建索引…";
  try {
    const done = await api("/api/qa/promote", { method: "POST",
      body: JSON.stringify({ message_pk: state.labelling, entry_id: entry, reindex: true }) });
    const reindex = done.reindex;
    $("label-error").textContent = !done.added ? "该条目已有这句问法"
      : reindex && reindex.ok ? `已加入 ${done.file},索引 ${reindex.index_version} 已生效`
      : `已加入 ${done.file},但重建索引失败:${reindex ? reindex.errors.join(";") : "未重建"}`;
  } catch (err) {
    $("label-error").textContent = `加入失败:${err.message}`;
  }
}

// ---- metrics -------------------------------------------------------------------------------------

const pct = (v) => (v === null || v === undefined ? "-" : `${(v * 100).toFixed(1)}%`);

function chart(id, config) {
  if (state.charts[id]) state.charts[id].destroy();
  config.options = { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options || {}) };
  state.charts[id] = new Chart($(id), config);
}

async function loadMetrics() {
  // No tz_offset_min: days follow the log's own offset (UTC+8 by default), which the daily
  // summaries are kept in; another offset would force the slow raw-row path.
  const params = new URLSearchParams({ since: $("m-range").value, threshold: $("m-threshold").value });
  $("metrics-status").textContent = "计算中…";
  let m;
  try {
    const started = performance.now();
    m = await api(`/api/qa/metrics?${params}`);
    $("metrics-status").textContent = `统计完成 · ${Math.round(performance.now() - started)} 毫秒`;
  } catch (err) {
    if (err instanceof AuthError) return askToken(err.message);
    $("metrics-status").textContent = `统计失败:${err.message}`;
    return;
  }
  const t = m.totals;
  $("kpis").replaceChildren(...[["消息数", t.messages], ["有推荐", t.suggested], ["覆盖率", pct(t.coverage)],
    ["采纳率", pct(t.acceptance_rate)], ["采纳+修改", pct(t.adoption_rate)],
    ["耗时 p50", t.latency_p50 === null ? "-" : `${t.latency_p50} ms`],
    ["耗时 p99", t.latency_p99 === null ? "-" : `${t.latency_p99} ms`]]
    .map(([name, value]) => el("div", { class: "kpi" }, el("span", {}, name), el("b", {}, value))));
  const days = m.days.map((d) => d.day.slice(5));
  const percent = { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } };
  const series = (key) => m.days.map((d) => (d[key] === null ? null : +(d[key] * 100).toFixed(2)));
  chart("chart-acceptance", { type: "line", data: { labels: days, datasets: [
    { label: ACTIONS.accepted, data: series("acceptance_rate"), borderColor: COLORS[1], backgroundColor: COLORS[1] },
    { label: "采纳+修改", data: series("adoption_rate"), borderColor: COLORS[2], backgroundColor: COLORS[2] }] },
    options: { scales: percent } });
  chart("chart-coverage", { type: "line", data: { labels: days, datasets: [
    { label: `得分≥${m.threshold}`, data: series("coverage"), borderColor: COLORS[0], backgroundColor: COLORS[0] }] },
    options: { scales: percent } });
  const riskDays = m.risks.map((r) => r.day.slice(5));
  chart("chart-risks", { type: "bar", data: { labels: riskDays,
    datasets: Object.keys(m.risk_totals).map((type, i) => ({ label: RISKS[type] || type,
      data: m.risks.map((r) => r.counts[type] || 0), backgroundColor: COLORS[i % COLORS.length] })) },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } } });
  chart("chart-latency", { type: "line", data: { labels: days, datasets: [
    { label: "p50", data: m.days.map((d) => d.latency_p50), borderColor: COLORS[5], backgroundColor: COLORS[5] },
    { label: "p99", data: m.days.map((d) => d.latency_p99), borderColor: COLORS[6], backgroundColor: COLORS[6] }] },
    options: { scales: { y: { beginAtZero: true } } } });
  chart("chart-used", { type: "bar", data: { labels: m.most_used.map((u) => `${u.title || u.id}`),
    datasets: [{ label: "推荐次数", data: m.most_used.map((u) => u.shown), backgroundColor: COLORS[1] },
               { label: "采纳", data: m.most_used.map((u) => u.accepted), backgroundColor: COLORS[2] },
               { label: "修改", data: m.most_used.map((u) => u.edited), backgroundColor: COLORS[4] }] },
    options: { indexAxis: "y" } });
  $("edited-table").tBodies[0].replaceChildren(...m.most_edited.map((e) => el("tr", {},
    el("td", {}, e.id), el("td", {}, e.title), el("td", { class: "num" }, e.edits),
    el("td", { class: "num" }, e.mean_distance.toFixed(1)), el("td", { class: "num" }, pct(e.mean_drift)))));
  $("edited-note").textContent = `统计范围内共 ${m.edit_sample} 次修改;偏离度 = 编辑距离 / 较长文本长度`;
  $("never-used").replaceChildren(...(m.never_used.length
    ? m.never_used.map((u) => el("li", {}, `${u.category} · ${u.title} (${u.id})`))
    : [el("li", { class: "muted" }, "无")]));
}

// ---- wiring --------------------------------------------------------------------------------------

function showTab(name) {
  for (const tab of ["log", "metrics"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`${tab}-view`).hidden = tab !== name;
  }
  if (name === "metrics") loadMetrics();
}

document.addEventListener("DOMContentLoaded", () => {
  takeTokenFromUrl();
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    $("token-input").value = "";
    start();
  });
  $("logout").addEventListener("click", () => askToken("已退出"));
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); loadMessages(true); });
  $("filters").addEventListener("reset", () => setTimeout(() => {
    $("custom-range").hidden = true;
    loadMessages(true);
  }));
  $("f-range").addEventListener("change", () => { $("custom-range").hidden = $("f-range").value !== "custom"; });
  $("more").addEventListener("click", () => loadMessages(false));
  $("tab-log").addEventListener("click", () => showTab("log"));
  $("tab-metrics").addEventListener("click", () => showTab("metrics"));
  $("metrics-form").addEventListener("submit", (event) => { event.preventDefault(); loadMetrics(); });
  $("label-save").addEventListener("click", saveLabel);
  $("label-promote").addEventListener("click", promote);
  $("label-cancel").addEventListener("click", () => $("label-dialog").close());
  $("conversation-close").addEventListener("click", () => $("conversation-dialog").close());
  if (token()) start(); else askToken("");
});
