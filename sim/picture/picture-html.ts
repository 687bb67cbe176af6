// A run's picture as one self-contained HTML file: the page, its styles, the
// picture's data as inline JSON, and the inline script that draws it
// (picture-script.ts). Nothing is fetched: no fonts, no scripts, no network,
// so the file can be mailed, attached to an issue or opened offline.
import type { RunPicture } from './run-picture.ts';
import { PICTURE_SCRIPT } from './picture-script.ts';

/** Text for HTML element content and attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside a <script> element: `<` escaped, so no text in it can close the element. */
function inlineJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header { padding: 8px 16px; background: #fff; border-bottom: 1px solid #ddd; }
h1 { font-size: 16px; margin: 0 0 4px; }
code, pre { font: 12px/1.35 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.summary { color: #444; }
.replay code { background: #f0f0f0; padding: 1px 4px; border-radius: 3px; user-select: all; }
.violation-banner { margin-top: 6px; padding: 6px 10px; background: #fdecea; border: 1px solid #e0685d; border-radius: 4px; }
.violation-banner b { color: #b3261e; }
.violation-banner pre { margin: 4px 0 0; max-height: 6em; overflow: auto; }
.violation-banner summary { cursor: pointer; color: #444; }
.omitted { color: #8a5a00; margin-top: 4px; }
.controls { margin-top: 6px; display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; }
.controls button { font: inherit; padding: 1px 8px; }
.controls label { white-space: nowrap; }
.legend span { margin-right: 10px; white-space: nowrap; }
.legend i { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 3px; }
#view { overflow: auto; }
svg { display: block; }
.lane line { stroke: #999; stroke-width: 1; }
.lane text { font-weight: 600; }
.lane rect { fill: #f0f4fa; }
.lane.server rect { fill: #f3f0fa; }
.tick { fill: #888; font-size: 10px; }
.arrow { stroke-width: 1.2; fill: none; }
.arrow.http { stroke: #1f6fd1; }
.arrow.link { stroke: #2e8b57; }
.arrow.ctl { stroke: #777; }
.arrow.dropped, .arrow.lost { stroke: #d93025; stroke-dasharray: 4 3; }
.arrow.in-flight { stroke: #aaa; stroke-dasharray: 2 3; }
.arrow.culprit { stroke: #d93025; stroke-width: 3; }
.arrow:hover { stroke-width: 3; }
.x { stroke: #d93025; stroke-width: 2; }
.mark text { font-size: 10px; }
.mark.key text { fill: #5b3fa0; font-family: ui-monospace, Menlo, Consolas, monospace; }
.mark.key circle { fill: #5b3fa0; }
.mark.crash rect { fill: #d93025; }
.mark.crash text { fill: #b3261e; font-weight: 600; }
.mark.fault path { fill: #e8a200; }
.mark.fault text { fill: #8a5a00; }
.mark.app path { fill: #2e8b57; }
.mark.app text { fill: #23693f; }
.mark.world line { stroke: #2e8b57; stroke-dasharray: 6 4; }
.mark.world text { fill: #23693f; font-weight: 600; }
.violation-marker line { stroke: #d93025; stroke-width: 2; }
.violation-marker rect { fill: rgba(217, 48, 37, 0.12); }
.violation-marker circle { fill: #d93025; }
.violation-marker text { fill: #b3261e; font-weight: 700; }
.gap line { stroke: #8a5a00; stroke-dasharray: 2 6; }
.gap text { fill: #8a5a00; }
`;

function legend(): string {
  const item = (color: string, text: string, dash = false): string =>
    `<span><i style="background:${dash ? `repeating-linear-gradient(90deg,${color} 0 4px,transparent 4px 7px)` : color}"></i>${escapeHtml(text)}</span>`;
  return [
    item('#1f6fd1', 'HTTP'),
    item('#2e8b57', 'long link bytes'),
    item('#777', 'connect / close / cut'),
    item('#d93025', 'dropped or lost', true),
    item('#aaa', 'in flight at the end', true),
    item('#5b3fa0', 'SyncKey'),
    item('#e8a200', 'fault'),
    item('#d93025', 'crash / kill'),
  ].join('');
}

export function pictureHtml(p: RunPicture): string {
  const v = p.violation;
  const banner = v
    ? `<div class="violation-banner" id="violation"><b>${escapeHtml(v.guarantee)} violated at ${escapeHtml(v.who)}</b>, event ${v.event}, t=${v.tMs.toFixed(1)} ms: ${escapeHtml(v.detail)}
<button type="button" id="goto-violation">show</button>
<details><summary>last events of ${escapeHtml(v.who)} and the server</summary><pre>${escapeHtml(v.recent.join('\n'))}</pre></details></div>`
    : '';
  const omitted = p.omitted ? `<div class="omitted">${escapeHtml(p.omitted)}</div>` : '';
  const devices = p.lanes
    .slice(1)
    .map((d) => `<label><input type="checkbox" class="lane-filter" value="${escapeHtml(d)}" checked> ${escapeHtml(d)}</label>`)
    .join(' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(p.title)}</h1>
<div class="summary">${escapeHtml(p.summary)}</div>
<div class="replay">replay: <code>${escapeHtml(p.replay)}</code></div>
${banner}
${omitted}
<div class="controls">
<span>zoom <button type="button" id="zoom-out" title="zoom out (ctrl + wheel)">−</button> <button type="button" id="zoom-in" title="zoom in (ctrl + wheel)">+</button> <button type="button" id="zoom-reset">1:1</button></span>
<label><input type="checkbox" id="show-keys" checked> SyncKeys</label>
<span>devices: <button type="button" id="all-lanes">all</button> ${devices}</span>
</div>
<div class="controls legend">${legend()}</div>
</header>
<div id="view"></div>
<script type="application/json" id="picture-data">${inlineJson(p)}</script>
<script>${PICTURE_SCRIPT}</script>
</body>
</html>
`;
}
