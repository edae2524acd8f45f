// The sidebar's stylesheet (constant text, applied inside the shadow root).
// Cards have fixed slots and clamped text so an update never changes the panel's height.

export const CSS = `
:host {
  display: block;
  box-sizing: border-box;
  min-width: 280px;
  height: 100%;
  font-family: system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
  font-size: 14px;
  line-height: 1.5;
  color: #1f2328;
  --red: #c62828; --red-bg: #fdecea;
  --amber: #8a5300; --amber-bg: #fff4d6; --amber-line: #f0b429;
  --blue: #0b57d0; --line: #d8dee4; --muted: #59636e; --bg: #f6f8fa;
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: border-box; }
.panel {
  display: flex; flex-direction: column; gap: 8px; height: 100%;
  padding: 10px; background: #fff; border-left: 1px solid var(--line);
  overflow-x: hidden; overflow-y: auto; overflow-wrap: anywhere; word-break: break-word;
}
header { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
h2 { margin: 0; font-size: 16px; font-weight: 600; }
.status { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; color: var(--muted);
  white-space: nowrap; }
.status .dot { width: 8px; height: 8px; border-radius: 50%; background: #8c959f; flex: none; }
.status[data-state="open"] .dot { background: #1a7f37; }
.status[data-state="open"] { color: #1a7f37; }
.status[data-state="connecting"] .dot, .status[data-state="reconnecting"] .dot { background: #d4a72c; }
.status[data-state="closed"] .dot { background: var(--red); }
.status[data-state="closed"] { color: var(--red); }
.status-detail { font-size: 12px; color: var(--muted); min-height: 22px; display: flex; gap: 8px;
  align-items: center; flex-wrap: wrap; }
.status-detail button { min-height: 22px; padding: 0 8px; font-size: 12px; }
.meta { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12px; color: var(--muted);
  min-height: 18px; }
.message { background: var(--bg); border-radius: 6px; padding: 6px 8px; min-height: calc(3em + 12px); }
.message .who { font-size: 12px; color: var(--muted); margin-right: 4px; }
.message .quote { margin: 0; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
  overflow: hidden; white-space: pre-wrap; }
.message .placeholder { color: var(--muted); margin: 0; }
.risks { display: flex; flex-direction: column; gap: 6px; }
.risks:empty { display: none; }
.risk { border-radius: 6px; padding: 8px 10px; border: 1px solid; border-left-width: 5px; }
.risk.block { background: var(--red-bg); border-color: var(--red); color: #5f1212; }
.risk.warn { background: var(--amber-bg); border-color: var(--amber-line); color: #4d3000; }
.risk.info { background: #f1f6fe; border-color: #b6cdf5; color: #1d3a66; }
.risk.dismissed { opacity: 0.6; }
.risk.compact { padding: 6px 10px; }
.risk.compact summary { cursor: pointer; list-style: none; }
.risk.compact summary::-webkit-details-marker { display: none; }
.risk.compact summary .risk-head::after { content: '▸'; margin-left: auto; opacity: 0.7; }
.risk.compact[open] summary .risk-head::after { content: '▾'; }
.risk.compact .reason { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.risk.compact[open] .reason { display: block; }
.risk-head { display: flex; align-items: center; gap: 6px; }
.badge { font-size: 12px; font-weight: 600; padding: 0 6px; border-radius: 4px; color: #fff; flex: none; }
.risk.block .badge { background: var(--red); }
.risk.warn .badge { background: var(--amber); }
.risk.info .badge { background: #4a6fa5; }
.risk p { margin: 4px 0 0; }
.risk .evidence { display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
.risk .label { font-size: 12px; opacity: 0.85; }
.risk code { font-family: ui-monospace, monospace; font-size: 12px; background: rgba(255,255,255,0.7);
  padding: 0 3px; border-radius: 3px; user-select: all; }
.cards ol { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px; height: 128px;
  display: flex; flex-direction: column; gap: 4px; background: #fff; }
.card.inserted { border-color: #1a7f37; box-shadow: inset 3px 0 0 #1a7f37; }
.card.dismissed { opacity: 0.55; }
.card.empty { border-style: dashed; color: var(--muted); justify-content: center; align-items: center;
  background: var(--bg); }
.card-head { display: flex; align-items: center; gap: 6px; min-width: 0; font-size: 12px; }
.key { font-family: inherit; font-size: 11px; border: 1px solid var(--line); border-radius: 3px;
  padding: 0 4px; color: var(--muted); background: var(--bg); flex: none; }
.category { color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  min-width: 0; flex: 1 1 auto; font-size: 12px; }
.confidence { display: inline-flex; align-items: center; gap: 4px; flex: none; font-variant-numeric: tabular-nums; }
.confidence .bar { width: 36px; height: 5px; border-radius: 3px; background: #e5e9ee; overflow: hidden; }
.confidence .bar span { display: block; height: 100%; background: #8c959f; }
.confidence.high .bar span { background: #1a7f37; }
.confidence.mid .bar span { background: #d4a72c; }
.reply { margin: 0; flex: 1 1 auto; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical;
  overflow: hidden; white-space: pre-wrap; }
.var { background: #e8f1ff; border-radius: 3px; padding: 0 2px; }
.var.missing { background: #fff4d6; border-bottom: 1px dashed var(--amber); }
.actions { display: flex; gap: 6px; flex-wrap: wrap; }
button { font: inherit; font-size: 13px; border-radius: 5px; border: 1px solid var(--line); background: #fff;
  color: #1f2328; padding: 2px 10px; min-height: 28px; cursor: pointer; }
button.insert { background: var(--blue); border-color: var(--blue); color: #fff; }
button:hover:not([disabled]) { filter: brightness(0.95); }
button[disabled] { cursor: default; opacity: 0.7; }
button:focus-visible, summary:focus-visible, .panel:focus-visible {
  outline: 3px solid #0969da; outline-offset: 2px; }
.risk.block button.insert { background: var(--red); border-color: var(--red); }
.risk.warn button.insert { background: var(--amber); border-color: var(--amber); }
.policies { border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; }
.policies summary { cursor: pointer; font-size: 13px; color: var(--muted); padding: 2px 0; }
.policies ul { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.policy p { margin: 2px 0 0; font-size: 13px; white-space: pre-wrap; }
.policy-head { display: flex; gap: 6px; align-items: baseline; }
.hint { margin: 0; font-size: 12px; color: var(--muted); }
.toast { min-height: 20px; font-size: 12px; color: #1a7f37; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
`;
