// The history of a chaos run: every event as one JSON line, in the order the
// runner saw it (one process runs every client, so the order is one the
// devices lived). It holds what the checkers need and nothing of the run's
// machinery: the plan, the devices and groups, each app instance's start
// (with what it had persisted), the users' sends, what every instance
// applied and acknowledged, its keys, its resyncs, the kills, the crashes,
// the proxy's faults, whether the devices converged, and what the server's
// store held at the end. judge.ts reads it; so does `--check FILE`.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ClientTransport } from '../client/core/client-core.ts';
import type { ContactItem, MessageItem } from '../server/core/model.ts';
import type { ChaosPlan } from './plan.ts';

export const HISTORY_FORMAT = 'synckey-chaos-history/1';

type Key = Array<[number, number]>;

/** One event. `t` is ms since the run began; `inst` numbers app instances across the run. */
export type HistoryRecord =
  | { t: number; k: 'run'; format: typeof HISTORY_FORMAT; scenario: string; seed: string; plan: ChaosPlan; note: string }
  | { t: number; k: 'device'; device: string; account: string; transport: ClientTransport; deviceId: string }
  | { t: number; k: 'group'; name: string; members: string[] }
  /** The fault phase begins: the plan's times count from here. */
  | { t: number; k: 'begin' }
  | { t: number; k: 'app-start'; device: string; inst: number; inbox: MessageItem[]; key: Key; reinstall?: boolean }
  | { t: number; k: 'app-kill'; device: string; inst: number; torn: boolean }
  | { t: number; k: 'session-replace'; device: string; ghost: number }
  | { t: number; k: 'ghost-stop'; device: string; inst: number }
  | { t: number; k: 'user-send'; device: string; inst: number; to: string; content: string; clientMsgId: string; localId: string }
  | { t: number; k: 'user-remark'; device: string; inst: number; to: string }
  | { t: number; k: 'user-resend'; device: string; inst: number; localId: string }
  | { t: number; k: 'user-skip'; device: string; op: string }
  | { t: number; k: 'logged-in'; device: string; inst: number }
  | { t: number; k: 'applied'; device: string; inst: number; msg: MessageItem }
  | { t: number; k: 'contact'; device: string; inst: number; contact: ContactItem }
  | { t: number; k: 'synckey'; device: string; inst: number; key: Key }
  | { t: number; k: 'acked'; device: string; inst: number; clientMsgId: string; localId: string; msgId: number }
  | { t: number; k: 'send-failed'; device: string; inst: number; clientMsgId: string; localId: string; ret: number; errMsg: string }
  | { t: number; k: 'resync'; device: string; inst: number }
  | { t: number; k: 'session-lost'; device: string; inst: number; ret: number }
  | { t: number; k: 'server-start'; pid: number; httpPort: number; tcpPort: number }
  | { t: number; k: 'server-crash'; pid: number }
  /** The server exited by itself: a crash nobody planned. */
  | { t: number; k: 'server-exit'; pid: number; code: number | null; signal: string | null; stderr: string }
  | { t: number; k: 'fault'; who: string; what: string; detail?: string }
  | { t: number; k: 'heal' }
  | { t: number; k: 'liveness'; converged: boolean; afterMs: number; detail: string }
  /** The server's store after it stopped: each account's retained message log (MsgIds, oldest first). */
  | { t: number; k: 'final'; logs: Record<string, number[]> };

export type RecordKind = HistoryRecord['k'];

/** A record without its time: what callers hand to History.add. */
export type NewRecord = HistoryRecord extends infer R ? (R extends { t: number } ? Omit<R, 't'> : never) : never;

export class History {
  readonly records: HistoryRecord[] = [];
  private readonly t0 = performance.now();
  private readonly listeners: Array<(r: HistoryRecord) => void> = [];

  /** Ms since the run began. */
  now(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  add(r: NewRecord): HistoryRecord {
    const rec = { t: this.now(), ...r } as HistoryRecord;
    this.records.push(rec);
    for (const l of this.listeners) l(rec);
    return rec;
  }

  listen(f: (r: HistoryRecord) => void): void {
    this.listeners.push(f);
  }

  toJsonLines(): string {
    return this.records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  }

  write(file: string): void {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, this.toJsonLines());
  }
}

/** A history file read back; throws with the file and line of anything that is not one. */
export function readHistory(file: string): HistoryRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`--check ${file}: ${(e as Error).message}`);
  }
  return parseHistory(text, file);
}

export function parseHistory(text: string, where = 'history'): HistoryRecord[] {
  const out: HistoryRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where} line ${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (typeof r !== 'object' || r === null || typeof (r as { t?: unknown }).t !== 'number' || typeof (r as { k?: unknown }).k !== 'string') {
      throw new Error(`${where} line ${i + 1}: a record needs a number t and a string k`);
    }
    out.push(r as HistoryRecord);
  }
  const head = out[0];
  if (!head || head.k !== 'run' || head.format !== HISTORY_FORMAT) throw new Error(`${where}: not a chaos history (its first line must be the run record, format ${HISTORY_FORMAT})`);
  return out;
}

/** One line a person reads: time, who, what. */
export function describeRecord(r: HistoryRecord): string {
  const t = `${(r.t / 1000).toFixed(3).padStart(8)} s`;
  const key = (k: Key): string => k.map(([a, b]) => `${a}_${b}`).join('|');
  switch (r.k) {
    case 'run':
      return `${t} run ${r.scenario} seed ${r.seed}`;
    case 'device':
      return `${t} ${r.device} ${r.transport} (${r.deviceId})`;
    case 'group':
      return `${t} group ${r.name}: ${r.members.join(' ')}`;
    case 'begin':
      return `${t} the fault phase begins (the plan's times count from here)`;
    case 'app-start':
      return `${t} ${r.device} app-start #${r.inst}${r.reinstall ? ' (new install)' : ''} inbox ${r.inbox.length} key ${key(r.key)}`;
    case 'app-kill':
      return `${t} ${r.device} app-kill #${r.inst}${r.torn ? ' torn' : ''}`;
    case 'session-replace':
      return `${t} ${r.device} session-replace: #${r.ghost} runs on as a ghost`;
    case 'ghost-stop':
      return `${t} ${r.device} ghost #${r.inst} stopped`;
    case 'user-send':
      return `${t} ${r.device} #${r.inst} user-send ${r.clientMsgId} → ${r.to} (${r.content.length} chars)`;
    case 'user-remark':
      return `${t} ${r.device} #${r.inst} user-remark → ${r.to}`;
    case 'user-resend':
      return `${t} ${r.device} #${r.inst} user-resend ${r.localId}`;
    case 'user-skip':
      return `${t} ${r.device} user-skip ${r.op}: app not running`;
    case 'logged-in':
      return `${t} ${r.device} #${r.inst} logged-in`;
    case 'applied':
      return `${t} ${r.device} #${r.inst} applied MsgId ${r.msg.MsgId} ${r.msg.FromUserName}→${r.msg.ToUserName} ${r.msg.ClientMsgId}`;
    case 'contact':
      return `${t} ${r.device} #${r.inst} contact ${r.contact.UserName}`;
    case 'synckey':
      return `${t} ${r.device} #${r.inst} synckey ${key(r.key)}`;
    case 'acked':
      return `${t} ${r.device} #${r.inst} acked ${r.clientMsgId} MsgId ${r.msgId}`;
    case 'send-failed':
      return `${t} ${r.device} #${r.inst} send-failed ${r.clientMsgId} Ret ${r.ret} ${r.errMsg}`;
    case 'resync':
      return `${t} ${r.device} #${r.inst} resync (1200)`;
    case 'session-lost':
      return `${t} ${r.device} #${r.inst} session-lost Ret ${r.ret}`;
    case 'server-start':
      return `${t} server start pid ${r.pid} http ${r.httpPort} tcp ${r.tcpPort}`;
    case 'server-crash':
      return `${t} server SIGKILL pid ${r.pid}`;
    case 'server-exit':
      return `${t} server pid ${r.pid} exited by itself (code ${r.code}, signal ${r.signal})`;
    case 'fault':
      return `${t} ${r.who} ${r.what}${r.detail ? ` ${r.detail}` : ''}`;
    case 'heal':
      return `${t} heal: faults stop, every app runs, failed sends are resent`;
    case 'liveness':
      return `${t} liveness: ${r.converged ? `converged ${Math.round(r.afterMs)} ms after healing` : `not converged: ${r.detail}`}`;
    case 'final':
      return `${t} final: the store's logs of ${Object.keys(r.logs).length} accounts`;
  }
}

/** Does the record concern this device (or the server, which concerns everyone)? */
export function concerns(r: HistoryRecord, who: string): boolean {
  if ('device' in r) return r.device === who;
  if (r.k === 'fault') return r.who === who || r.who === 'server';
  return r.k === 'server-start' || r.k === 'server-crash' || r.k === 'server-exit' || r.k === 'heal' || r.k === 'begin';
}
