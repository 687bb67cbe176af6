// The script inlined into a run's picture (picture-html.ts): it reads the
// picture's JSON and draws it as SVG, one column per lane and one row per
// event of the trace that sends, receives or marks something (a Lamport
// diagram: the rows keep the order of events, not their spacing, so a burst
// of messages within a millisecond stays readable). A message still in
// flight at the end has no arrival event: it lands after every event of its time.
// Zoom and the device filter redraw it. Plain ES2017 in a string, no
// template literals or backslashes inside, so it goes into the page as is.
export const PICTURE_SCRIPT = `
(function () {
  'use strict';
  var P = JSON.parse(document.getElementById('picture-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var view = document.getElementById('view');
  var LANE_W = 140, ROW_H = 14, TOP = 34, LEFT = 78, NAME_EVERY_PX = 700;
  var zoom = 1;
  var hidden = {};
  var showKeys = true;

  function el(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function kindClass(kind) {
    if (kind.indexOf('http') === 0) return 'http';
    if (kind === 'link-up' || kind === 'link-down') return 'link';
    return 'ctl';
  }
  function ms(t) { return t.toFixed(1) + ' ms'; }
  function markerFor(a, culprit) {
    if (culprit || a.fate === 'dropped' || a.fate === 'lost') return 'ah-red';
    if (a.fate === 'in-flight') return 'ah-grey';
    return 'ah-' + kindClass(a.kind);
  }

  function draw() {
    var lanes = P.lanes.filter(function (l) { return !hidden[l]; });
    var laneW = LANE_W * Math.max(zoom, 0.5);
    var rowH = ROW_H * zoom;
    var laneX = {};
    lanes.forEach(function (l, i) { laneX[l] = LEFT + (i + 0.5) * laneW; });
    var arrows = P.arrows.filter(function (a) { return laneX[a.from] !== undefined && laneX[a.to] !== undefined; });
    var marks = P.marks.filter(function (m) { return laneX[m.lane] !== undefined && (showKeys || m.cls !== 'key'); });
    var v = P.violation;
    // Row keys: [time, event]; an arrival with no event sorts after its time's events.
    var keys = [];
    function sentKey(a) { return [a.sentMs, a.sentEvent]; }
    function atKey(a) { return a.fate === 'dropped' ? sentKey(a) : [a.atMs, a.event === undefined ? Infinity : a.event]; }
    arrows.forEach(function (a) { keys.push(sentKey(a), atKey(a)); });
    marks.forEach(function (m) { keys.push([m.tMs, m.event]); });
    if (v) keys.push([v.tMs, v.event]);
    keys.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    var rows = [];
    var rank = new Map();
    keys.forEach(function (k) { var s = k[0] + ':' + k[1]; if (!rank.has(s)) { rank.set(s, rows.length); rows.push(k[0]); } });
    function y(k) { return TOP + 16 + rank.get(k[0] + ':' + k[1]) * rowH; }
    var width = LEFT + lanes.length * laneW + 20;
    var height = TOP + 40 + rows.length * rowH;

    var svg = el('svg', { xmlns: NS, width: width, height: height, id: 'picture' });
    var defs = el('defs', {}, svg);
    [['ah-http', '#1f6fd1'], ['ah-link', '#2e8b57'], ['ah-ctl', '#777'], ['ah-red', '#d93025'], ['ah-grey', '#aaa']].forEach(function (m) {
      var mk = el('marker', { id: m[0], viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
      el('path', { d: 'M0,0 L10,5 L0,10 z', fill: m[1] }, mk);
    });

    // Lanes: a header, a line down the whole run, and the name again every so often.
    lanes.forEach(function (l) {
      var g = el('g', { 'class': 'lane' + (l === 'server' ? ' server' : ''), 'data-lane': l }, svg);
      el('rect', { x: laneX[l] - laneW / 2 + 4, y: 4, width: laneW - 8, height: TOP - 10, rx: 4 }, g);
      el('text', { x: laneX[l], y: TOP - 12, 'text-anchor': 'middle' }, g, l);
      el('line', { x1: laneX[l], y1: TOP, x2: laneX[l], y2: height - 10 }, g);
      for (var py = TOP + NAME_EVERY_PX; py < height - 40; py += NAME_EVERY_PX) {
        el('text', { x: laneX[l] + 3, y: py, 'class': 'tick' }, g, l);
      }
      if (P.keysBefore[l] !== undefined) el('text', { x: laneX[l] + 4, y: TOP + 8, 'class': 'tick' }, g, 'key before: ' + P.keysBefore[l]);
    });

    // The time of every few rows, on the left.
    var every = Math.max(1, Math.ceil(40 / rowH));
    var ticks = el('g', {}, svg);
    for (var i = 0, lastRow = -Infinity, lastT = NaN; i < rows.length; i++) {
      if (rows[i] === lastT || i - lastRow < every) continue;
      el('text', { x: 4, y: TOP + 20 + i * rowH, 'class': 'tick' }, ticks, ms(rows[i]));
      lastRow = i;
      lastT = rows[i];
    }

    // The gap between the two windows of a long passing run.
    if (P.gapAfterMs !== undefined) {
      var after = rows.findIndex(function (t) { return t > P.gapAfterMs; });
      if (after > 0) {
        var gy = TOP + 16 + (after - 0.5) * rowH;
        var gg = el('g', { 'class': 'gap' }, svg);
        el('line', { x1: LEFT, y1: gy, x2: width - 10, y2: gy }, gg);
        el('text', { x: LEFT + 4, y: gy - 3 }, gg, 'messages left out here (see the note above)');
      }
    }

    // Messages: from the sender's lane at its send time to the receiver's at its arrival.
    var ga = el('g', { id: 'arrows' }, svg);
    arrows.forEach(function (a) {
      var x1 = laneX[a.from], y1 = y(sentKey(a)), x2 = laneX[a.to], y2 = y(atKey(a));
      // A dropped message goes a short way toward its receiver, never as far as the next lane.
      if (a.fate === 'dropped') { x2 = x1 + (x2 > x1 ? 1 : -1) * laneW * 0.4; y2 = y1 + rowH / 2; }
      var culprit = v !== undefined && a.event === v.event;
      var cls = 'arrow ' + kindClass(a.kind) + ' ' + a.fate + (culprit ? ' culprit' : '');
      var line = el('line', { x1: x1, y1: y1, x2: x2, y2: y2, 'class': cls, 'marker-end': 'url(#' + markerFor(a, culprit) + ')' }, ga);
      el('title', {}, line, a.text + '; sent ' + ms(a.sentMs) + (a.fate === 'dropped' ? ', dropped' : ', due ' + ms(a.atMs) + ', ' + a.fate) + (a.event !== undefined ? ' (event ' + a.event + ')' : ''));
      if (a.fate === 'dropped' || a.fate === 'lost') {
        el('path', { d: 'M' + (x2 - 4) + ',' + (y2 - 4) + ' l8,8 m0,-8 l-8,8', 'class': 'x' }, ga);
      }
    });

    // Marks on lanes: SyncKeys as text, faults and crashes as shapes with a label.
    var gm = el('g', { id: 'marks' }, svg);
    marks.forEach(function (m) {
      var x = laneX[m.lane], my = y([m.tMs, m.event]);
      var g = el('g', { 'class': 'mark ' + m.cls }, gm);
      el('title', {}, g, m.kind + ' ' + m.lane + ' at ' + ms(m.tMs) + ' (event ' + m.event + '): ' + m.label);
      if (m.cls === 'key') {
        el('circle', { cx: x, cy: my, r: 2.5 }, g);
        el('text', { x: x + 5, y: my + 3 }, g, m.label);
      } else if (m.cls === 'crash') {
        el('rect', { x: x - laneW / 2 + 6, y: my - 2, width: laneW - 12, height: 4 }, g);
        el('text', { x: x - laneW / 2 + 6, y: my - 4 }, g, m.label);
      } else if (m.cls === 'world') {
        el('line', { x1: LEFT, y1: my, x2: width - 10, y2: my }, g);
        el('text', { x: LEFT + 4, y: my - 3 }, g, m.label);
      } else {
        el('path', { d: 'M' + x + ',' + (my - 5) + ' l5,5 l-5,5 l-5,-5 z' }, g);
        el('text', { x: x + 7, y: my + 3 }, g, m.label);
      }
    });

    // The violation: a band across every lane at its time, a dot on its lane, what broke.
    if (v) {
      var vy = y([v.tMs, v.event]);
      var gv = el('g', { 'class': 'violation-marker', id: 'violation-marker', 'data-lane': v.lane }, svg);
      el('rect', { x: LEFT, y: vy - rowH / 2, width: width - LEFT - 10, height: Math.max(rowH, 6) }, gv);
      el('line', { x1: LEFT, y1: vy, x2: width - 10, y2: vy }, gv);
      var vx = laneX[v.lane] !== undefined ? laneX[v.lane] : LEFT + 10;
      el('circle', { cx: vx, cy: vy, r: 7, id: 'violation-dot' }, gv);
      el('text', { x: vx + 10, y: vy - 9 }, gv, v.guarantee + ' violated at ' + v.who + ' (event ' + v.event + ')');
      el('title', {}, gv, v.detail + ' | replay: ' + P.replay);
    }

    view.replaceChildren(svg);
  }

  function showViolation() {
    var dot = document.getElementById('violation-dot');
    if (dot) dot.scrollIntoView({ block: 'center', inline: 'nearest' });
  }
  function setZoom(z) {
    zoom = Math.min(4, Math.max(0.15, z));
    draw();
  }

  document.getElementById('zoom-in').addEventListener('click', function () { setZoom(zoom * 1.25); });
  document.getElementById('zoom-out').addEventListener('click', function () { setZoom(zoom / 1.25); });
  document.getElementById('zoom-reset').addEventListener('click', function () { setZoom(1); });
  view.addEventListener('wheel', function (e) {
    if (!e.ctrlKey) return;
    e.preventDefault();
    setZoom(zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });
  document.getElementById('show-keys').addEventListener('change', function (e) { showKeys = e.target.checked; draw(); });
  document.querySelectorAll('.lane-filter').forEach(function (box) {
    box.addEventListener('change', function () { hidden[box.value] = !box.checked; draw(); });
  });
  document.getElementById('all-lanes').addEventListener('click', function () {
    hidden = {};
    document.querySelectorAll('.lane-filter').forEach(function (box) { box.checked = true; });
    draw();
  });
  var go = document.getElementById('goto-violation');
  if (go) go.addEventListener('click', showViolation);

  draw();
  showViolation();
})();
`;
