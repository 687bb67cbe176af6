// A picture of one run as plain data: lanes (the server, then each device),
// arrows (a message from its sender's lane at its send time to the receiver's
// lane at its arrival), marks on lanes (faults, crashes, SyncKeys), and the
// violation if the run failed. A long run has tens of thousands of messages;
// a picture keeps at most `maxArrows` of them (those just before the
// violation, or the first and last of a passing run) and says what it left
// out, so the file stays a few MB.
import type { RunResult } from '../run.ts';
import type { MessageFate, PictureRecorder, RecordedMark } from './picture-recorder.ts';

export const SERVER_LANE = 'server';

export interface PictureArrow {
  from: string;
  to: string;
  sentMs: number;
  /** The trace line that sent it: rows follow the events, so what one event sends leaves from one point. */
  sentEvent: number;
  atMs: number;
  kind: string;
  fate: MessageFate;
  /** The trace line of its arrival; the violation's own line is highlighted. */
  event?: number;
  text: string;
}

export interface PictureMark {
  lane: string;
  tMs: number;
  event: number;
  kind: string;
  /** What to print beside the mark (a SyncKey, a partition's direction). */
  label: string;
  /** How it is drawn. */
  cls: 'key' | 'crash' | 'fault' | 'app' | 'world';
}

export interface PictureViolation {
  guarantee: string;
  who: string;
  /** The lane it is drawn on: the device, an account's first device, or the server. */
  lane: string;
  detail: string;
  event: number;
  tMs: number;
  recent: string[];
}

export interface RunPicture {
  title: string;
  replay: string;
  summary: string;
  lanes: string[];
  arrows: PictureArrow[];
  marks: PictureMark[];
  /** Each device's SyncKey when the drawn window opens (its earlier keys are left out). */
  keysBefore: Record<string, string>;
  violation?: PictureViolation;
  /** What was left out, for a person: empty when everything is drawn. */
  omitted: string;
  /** A long passing run is drawn as its start and its end: the start ends here. */
  gapAfterMs?: number;
}

export interface PictureOptions {
  title: string;
  /** The command that replays the run. */
  replay: string;
  /** At most this many arrows (default DEFAULT_MAX_ARROWS). */
  maxArrows?: number;
}

export const DEFAULT_MAX_ARROWS = 4000;
/** Marks drawn per arrow at most: a window of a few thousand messages rarely holds more, but a quiet stretch full of faults could. */
const MARKS_PER_ARROW = 2;

const CRASHES = new Set(['server-crash', 'app-kill']);
const APP_LIFE = new Set(['app-start', 'server-restart', 'ghost-login', 'session-replace']);

function markClass(kind: string, who: string): PictureMark['cls'] {
  if (kind === 'synckey') return 'key';
  if (who === 'world') return 'world';
  if (CRASHES.has(kind)) return 'crash';
  if (APP_LIFE.has(kind)) return 'app';
  return 'fault';
}

/** A SyncKey note's detail is `#instance 1_4|2_0`: the lane shows the key. */
function markLabel(m: RecordedMark): string {
  if (m.kind === 'synckey') return (m.detail ?? '').replace(/^#\d+ /, '');
  return m.detail === undefined ? m.kind : `${m.kind} ${m.detail}`;
}

/** The lane a violation belongs to: its device, else the first device of its account, else the server. */
function violationLane(who: string, lanes: readonly string[]): string {
  if (lanes.includes(who)) return who;
  return lanes.find((l) => l.startsWith(`${who}.`)) ?? SERVER_LANE;
}

/** The time windows drawn: everything, the last `max` sends up to the violation, or the first and last halves. */
function windows(sends: readonly number[], max: number, failed: boolean): Array<[number, number]> {
  if (sends.length <= max) return [[-Infinity, Infinity]];
  if (failed) return [[sends[sends.length - max]!, Infinity]];
  const half = Math.floor(max / 2);
  return [
    [-Infinity, sends[half - 1]!],
    [sends[sends.length - (max - half)]!, Infinity],
  ];
}

const within = (t: number, ws: ReadonlyArray<[number, number]>): boolean => ws.some(([a, b]) => t >= a && t <= b);

export function buildPicture(rec: PictureRecorder, result: RunResult, o: PictureOptions): RunPicture {
  const lanes = [SERVER_LANE, ...rec.devices];
  const max = o.maxArrows ?? DEFAULT_MAX_ARROWS;
  const sends = rec.messages.map((m) => m.sentMs).sort((a, b) => a - b);
  const ws = windows(sends, max, !result.ok);
  let arrows: PictureArrow[] = [];
  for (const m of rec.messages) {
    if (!within(m.sentMs, ws)) continue;
    const a: PictureArrow = {
      from: m.dir === 'up' ? m.device : SERVER_LANE,
      to: m.dir === 'up' ? SERVER_LANE : m.device,
      sentMs: m.sentMs,
      sentEvent: m.sentEvent,
      atMs: m.atMs,
      kind: m.kind,
      fate: m.fate,
      text: m.text,
    };
    if (m.event !== undefined) a.event = m.event;
    arrows.push(a);
  }
  // Equal send times can straddle a window's edge: the cap is a cap.
  if (arrows.length > max) arrows = ws.length === 1 ? arrows.slice(arrows.length - max) : arrows.slice(0, max);
  const marks: PictureMark[] = [];
  const keysBefore: Record<string, string> = {};
  const start = ws[0]![0];
  for (const m of rec.marks) {
    if (!within(m.tMs, ws)) {
      if (m.kind === 'synckey' && m.tMs < start) keysBefore[m.who] = markLabel(m);
      continue;
    }
    const lane = m.who === 'world' ? SERVER_LANE : m.who;
    if (!lanes.includes(lane)) continue;
    marks.push({ lane, tMs: m.tMs, event: m.event, kind: m.kind, label: markLabel(m), cls: markClass(m.kind, m.who) });
  }
  const maxMarks = MARKS_PER_ARROW * max;
  const marksLeftOut = Math.max(0, marks.length - maxMarks);
  // The same rule as for the arrows: the marks nearest the violation, else the first ones.
  if (marksLeftOut > 0) marks.splice(...(result.ok ? [maxMarks, marksLeftOut] : [0, marksLeftOut]) as [number, number]);
  const picture: RunPicture = {
    title: o.title,
    replay: o.replay,
    summary:
      `${result.ok ? 'passed' : 'FAILED'}: ${result.events} events, ${(result.simMs / 1000).toFixed(1)} s simulated, ` +
      `${rec.messages.length} messages, trace ${result.traceHash}`,
    lanes,
    arrows,
    marks,
    keysBefore,
    omitted: [omittedNote(rec.messages.length, arrows.length, ws), marksLeftOut ? `${marksLeftOut} marks in the drawn windows left out too (${maxMarks} drawn).` : '']
      .filter((x) => x)
      .join(' '),
  };
  if (ws.length === 2) picture.gapAfterMs = ws[0]![1];
  const f = result.failure;
  if (f) {
    picture.violation = { guarantee: f.guarantee, who: f.who, lane: violationLane(f.who, lanes), detail: f.detail, event: f.event, tMs: f.simMs, recent: f.recent };
  }
  return picture;
}

function omittedNote(total: number, drawn: number, ws: ReadonlyArray<[number, number]>): string {
  if (drawn >= total) return '';
  const ms = (t: number): string => `${t.toFixed(1)} ms`;
  if (ws.length === 1) return `${drawn} of ${total} messages drawn: those sent from ${ms(ws[0]![0])} on, up to the violation; earlier ones and their marks are left out.`;
  return `${drawn} of ${total} messages drawn: those sent up to ${ms(ws[0]![1])} and from ${ms(ws[1]![0])} on; the ones between and their marks are left out.`;
}
