// A chaos history as the simulator's run picture (sim/picture/run-picture.ts),
// drawn by the same page (sim/picture/picture-html.ts): a lane for the server
// and one per device, every message as arrows, the faults, crashes, kills
// and app lives marked, each device's SyncKey over time, and the violation.
//
// A history is not a trace of envelopes: the server child is not watched,
// so a message's arrows are drawn from what the devices saw. It leaves its
// sender's lane at the user's send and reaches the server lane just before
// the first device heard of its MsgId (an acknowledgement or an
// application: the server had committed it by then); from there an arrow
// goes to the sender's answer and to every application on a device. A send
// committed twice (a planted skip-dedup) leaves one point toward two MsgIds.
// The "events" of the picture are the history's line numbers, so the
// violation's line picks the arrow whose arrival broke it.
import { SERVER_LANE, type PictureArrow, type PictureMark, type PictureViolation, type RunPicture } from '../sim/picture/run-picture.ts';
import type { ClientTransport } from '../client/core/client-core.ts';
import type { HistoryRecord } from './history.ts';
import type { Verdict } from './judge.ts';
import { messageLines, namedMessages } from './named-messages.ts';
import { bugsOf } from './plan.ts';

export interface HistoryPictureOptions {
  /** The line that re-judges the history (or runs its plan again). */
  replay: string;
  /** At most this many arrows (default 4000): those nearest the violation, or the start and the end of a passing run. */
  maxArrows?: number;
}

const DEFAULT_MAX_ARROWS = 4000;
/** Marks per drawn arrow at most, as the simulator's picture keeps them. */
const MARKS_PER_ARROW = 2;

/** One message as the server committed it: its MsgId and ClientMsgId (a volatile sequence may reuse a MsgId). */
interface Committed {
  msgId: number;
  clientMsgId: string;
  /** The first record that shows it: an acknowledgement or an application (0-based index). */
  first: number;
  text: string;
}

type Key = Array<[number, number]>;
const keyText = (k: Key): string => k.map(([a, b]) => `${a}_${b}`).join('|');

/** Up is a device's request, down the server's push or answer: HTTP or its long link, as the legend colours them. */
function kindOf(t: ClientTransport | undefined, dir: 'up' | 'down'): string {
  if (t === 'http') return dir === 'up' ? 'http-req' : 'http-resp';
  return dir === 'up' ? 'link-up' : 'link-down';
}

function markOf(r: HistoryRecord, lanes: ReadonlySet<string>): Omit<PictureMark, 'tMs' | 'event'> | undefined {
  const dev = (lane: string, kind: string, label: string, cls: PictureMark['cls']): Omit<PictureMark, 'tMs' | 'event'> | undefined =>
    lanes.has(lane) ? { lane, kind, label, cls } : undefined;
  switch (r.k) {
    case 'synckey':
      return dev(r.device, 'synckey', keyText(r.key), 'key');
    case 'app-start':
      return dev(r.device, 'app-start', `app-start #${r.inst}${r.reinstall ? ' (new install)' : ''}`, 'app');
    case 'app-kill':
      return dev(r.device, 'app-kill', `app-kill #${r.inst}${r.torn ? ' torn' : ''}`, 'crash');
    case 'session-replace':
      return dev(r.device, 'session-replace', `session-replace (#${r.ghost} a ghost)`, 'app');
    case 'ghost-stop':
      return dev(r.device, 'ghost-stop', `ghost #${r.inst} stopped`, 'app');
    case 'resync':
      return dev(r.device, 'resync', 'resync (1200)', 'fault');
    case 'session-lost':
      return dev(r.device, 'session-lost', `session-lost Ret ${r.ret}`, 'fault');
    case 'send-failed':
      return dev(r.device, 'send-failed', `send-failed Ret ${r.ret}`, 'fault');
    case 'server-start':
      return dev(SERVER_LANE, 'server-restart', `server start pid ${r.pid}`, 'app');
    case 'server-crash':
      return dev(SERVER_LANE, 'server-crash', `SIGKILL pid ${r.pid}`, 'crash');
    case 'server-exit':
      return dev(SERVER_LANE, 'server-exit', `exited by itself (code ${r.code}, signal ${r.signal})`, 'crash');
    case 'fault':
      return dev(r.who === 'world' ? SERVER_LANE : r.who, r.what, r.detail ? `${r.what} ${r.detail}` : r.what, 'fault');
    case 'begin':
      return { lane: SERVER_LANE, kind: 'begin', label: 'the fault phase begins', cls: 'world' };
    case 'heal':
      return { lane: SERVER_LANE, kind: 'heal-all', label: 'heal: faults stop, every app runs', cls: 'world' };
    case 'liveness':
      return { lane: SERVER_LANE, kind: 'liveness', label: r.converged ? `converged ${Math.round(r.afterMs)} ms after healing` : 'not converged', cls: 'world' };
    default:
      return undefined;
  }
}

/** The lane a violation belongs to: its device, else the first device of its account, else the server. */
function violationLane(who: string, lanes: readonly string[]): string {
  if (lanes.includes(who)) return who;
  return lanes.find((l) => l.startsWith(`${who}.`)) ?? SERVER_LANE;
}

export function historyPicture(records: readonly HistoryRecord[], v: Verdict, o: HistoryPictureOptions): RunPicture {
  const head = records[0];
  if (!head || head.k !== 'run') throw new Error('picture: a history begins with its run record');
  const line = (i: number): number => i + 1;
  const transport = new Map<string, ClientTransport>();
  const lanes = [SERVER_LANE];
  const sendOf = new Map<string, number>();
  const committed = new Map<string, Committed>();
  for (const [i, r] of records.entries()) {
    if (r.k === 'device') {
      transport.set(r.device, r.transport);
      lanes.push(r.device);
    } else if (r.k === 'user-send') {
      if (!sendOf.has(r.clientMsgId)) sendOf.set(r.clientMsgId, i);
    } else if (r.k === 'acked' || r.k === 'applied') {
      const msgId = r.k === 'acked' ? r.msgId : r.msg.MsgId;
      const clientMsgId = r.k === 'acked' ? r.clientMsgId : r.msg.ClientMsgId;
      const id = `${msgId}/${clientMsgId}`;
      if (!committed.has(id)) {
        const text = r.k === 'applied' ? `MsgId ${msgId} ${r.msg.FromUserName}→${r.msg.ToUserName} ${clientMsgId}` : `MsgId ${msgId} ${clientMsgId}`;
        committed.set(id, { msgId, clientMsgId, first: i, text });
      }
    }
  }
  const laneSet = new Set(lanes);
  // The server's point of a message: just before its first sighting, in time and in rows.
  const serverAt = (c: Committed): { t: number; event: number } => ({ t: records[c.first]!.t, event: line(c.first) - 0.5 });
  const arrows: PictureArrow[] = [];
  const sentCommitted = new Set<string>();
  for (const c of committed.values()) {
    const s = sendOf.get(c.clientMsgId);
    if (s === undefined) continue;
    const send = records[s] as Extract<HistoryRecord, { k: 'user-send' }>;
    const at = serverAt(c);
    sentCommitted.add(c.clientMsgId);
    arrows.push({ from: send.device, to: SERVER_LANE, sentMs: send.t, sentEvent: line(s), atMs: at.t, event: at.event, kind: kindOf(transport.get(send.device), 'up'), fate: 'arrived', text: `${send.device} sends ${c.clientMsgId} → ${send.to}; committed as MsgId ${c.msgId}` });
  }
  // A send the server never committed (as far as any device heard): lost at its failure, else still in flight at the end.
  const failedAt = new Map<string, number>();
  for (const [i, r] of records.entries()) if (r.k === 'send-failed' && !failedAt.has(r.clientMsgId)) failedAt.set(r.clientMsgId, i);
  const endT = records[records.length - 1]!.t;
  for (const [clientMsgId, s] of sendOf) {
    if (sentCommitted.has(clientMsgId)) continue;
    const send = records[s] as Extract<HistoryRecord, { k: 'user-send' }>;
    const f = failedAt.get(clientMsgId);
    const a: PictureArrow = { from: send.device, to: SERVER_LANE, sentMs: send.t, sentEvent: line(s), atMs: f !== undefined ? records[f]!.t : endT, kind: kindOf(transport.get(send.device), 'up'), fate: f !== undefined ? 'lost' : 'in-flight', text: `${send.device} sends ${clientMsgId} → ${send.to}; never committed as far as any device heard` };
    if (f !== undefined) a.event = line(f);
    arrows.push(a);
  }
  for (const [i, r] of records.entries()) {
    if (r.k !== 'acked' && r.k !== 'applied') continue;
    if (!laneSet.has(r.device)) continue;
    const c = committed.get(r.k === 'acked' ? `${r.msgId}/${r.clientMsgId}` : `${r.msg.MsgId}/${r.msg.ClientMsgId}`)!;
    const at = serverAt(c);
    const text = r.k === 'acked' ? `answer to ${r.device} #${r.inst}: ${r.clientMsgId} is MsgId ${r.msgId}` : `${r.device} #${r.inst} applies ${c.text}`;
    arrows.push({ from: SERVER_LANE, to: r.device, sentMs: at.t, sentEvent: at.event, atMs: r.t, event: line(i), kind: kindOf(transport.get(r.device), 'down'), fate: 'arrived', text });
  }
  const f = v.failure;
  if (f) arrows.push(...neverArrived(records, f, lanes, committed, serverAt, transport));
  arrows.sort((a, b) => a.sentMs - b.sentMs || a.sentEvent - b.sentEvent);

  const max = o.maxArrows ?? DEFAULT_MAX_ARROWS;
  const ws = windows(arrows.map((a) => a.sentMs), max, f?.t);
  let drawn = arrows.filter((a) => within(a.sentMs, ws));
  if (drawn.length > max) drawn = ws.length === 1 ? drawn.slice(drawn.length - max) : drawn.slice(0, max);

  const marks: PictureMark[] = [];
  const keysBefore: Record<string, string> = {};
  const start = ws[0]![0];
  for (const [i, r] of records.entries()) {
    const m = markOf(r, laneSet);
    if (!m) continue;
    if (!within(r.t, ws)) {
      if (m.cls === 'key' && r.t < start) keysBefore[m.lane] = m.label;
      continue;
    }
    marks.push({ ...m, tMs: r.t, event: line(i) });
  }
  const maxMarks = MARKS_PER_ARROW * max;
  const marksLeftOut = Math.max(0, marks.length - maxMarks);
  if (marksLeftOut > 0) marks.splice(...((f ? [0, marksLeftOut] : [maxMarks, marksLeftOut]) as [number, number]));

  const bugs = bugsOf(head.plan);
  const picture: RunPicture = {
    title: `chaos ${head.scenario} seed ${head.seed}${bugs.length ? ` (bugs ${bugs.join(' ')})` : ''}: the real server`,
    replay: o.replay,
    summary:
      `${f ? 'FAILED' : 'passed'}: ${records.length} history lines, ${(endT / 1000).toFixed(1)} s of real time, ` +
      `${v.counts.sends} sends, ${committed.size} messages committed, ${v.counts.applied} applied, ${v.counts.crashes} server crashes, ${v.counts.kills} app kills. ` +
      'The server child is not watched: a message reaches the server lane just before the first device heard of its MsgId. ' +
      `Times are ms of real time since the run began; ${head.note}.`,
    lanes,
    arrows: drawn,
    marks,
    keysBefore,
    omitted: [omittedNote(arrows.length, drawn.length, ws), marksLeftOut ? `${marksLeftOut} marks in the drawn windows left out too (${maxMarks} drawn).` : ''].filter((x) => x).join(' '),
  };
  if (ws.length === 2) picture.gapAfterMs = ws[0]![1];
  if (f) {
    const life = messageLines(records, namedMessages(f.detail, records), f.line, f.who);
    const violation: PictureViolation = {
      guarantee: f.guarantee,
      who: f.who,
      lane: violationLane(f.who, lanes),
      detail: `${f.detail} (history line ${f.line})`,
      event: f.line,
      tMs: f.t,
      recent: life.length > 0 ? ['the message it names, through the run:', ...life, '', `last events of ${f.who} and the server:`, ...f.recent] : f.recent,
    };
    picture.violation = violation;
  }
  return picture;
}

/** At most this many messages a violation says are missing are drawn as lost on their way to its device. */
const MAX_MISSING = 8;

/**
 * The messages a violation names that its device never applied (a loss, a
 * device that did not converge): each an arrow from the server that ends,
 * lost, at the violation on the device's lane.
 */
function neverArrived(
  records: readonly HistoryRecord[],
  f: NonNullable<Verdict['failure']>,
  lanes: readonly string[],
  committed: ReadonlyMap<string, Committed>,
  serverAt: (c: Committed) => { t: number; event: number },
  transport: ReadonlyMap<string, ClientTransport>,
): PictureArrow[] {
  if (!lanes.includes(f.who)) return [];
  const named = namedMessages(f.detail, records);
  const applied = new Set<number>();
  for (const r of records.slice(0, f.line)) if (r.k === 'applied' && r.device === f.who) applied.add(r.msg.MsgId);
  const out: PictureArrow[] = [];
  for (const c of committed.values()) {
    if (out.length >= MAX_MISSING) break;
    if (!named.msgIds.has(c.msgId) || applied.has(c.msgId)) continue;
    const at = serverAt(c);
    out.push({ from: SERVER_LANE, to: f.who, sentMs: at.t, sentEvent: at.event, atMs: f.t, event: f.line, kind: kindOf(transport.get(f.who), 'down'), fate: 'lost', text: `${c.text} never reached ${f.who}` });
  }
  return out;
}

/**
 * The time windows drawn (`sends` in order): everything; or the last `max`
 * sends up to the violation (a history goes on past it, to its end); or a
 * passing run's first and last halves.
 */
function windows(sends: readonly number[], max: number, violationT: number | undefined): Array<[number, number]> {
  if (sends.length <= max) return [[-Infinity, Infinity]];
  if (violationT !== undefined) {
    const before = sends.filter((t) => t <= violationT);
    return [[before.length > max ? before[before.length - max]! : -Infinity, violationT]];
  }
  const half = Math.floor(max / 2);
  return [
    [-Infinity, sends[half - 1]!],
    [sends[sends.length - (max - half)]!, Infinity],
  ];
}

const within = (t: number, ws: ReadonlyArray<[number, number]>): boolean => ws.some(([a, b]) => t >= a && t <= b);

function omittedNote(total: number, drawn: number, ws: ReadonlyArray<[number, number]>): string {
  if (drawn >= total) return '';
  const ms = (t: number): string => `${t.toFixed(1)} ms`;
  if (ws.length === 1) return `${drawn} of ${total} arrows drawn: those leaving from ${ms(ws[0]![0])} up to the violation at ${ms(ws[0]![1])}; the others and their marks are left out.`;
  return `${drawn} of ${total} arrows drawn: those leaving up to ${ms(ws[0]![1])} and from ${ms(ws[1]![0])} on; the ones between and their marks are left out.`;
}
