// The reference model of the core model test: the server as the model sees
// it (committed, and with the open batch), what each client device learned
// from its answers, and the small helpers the commands share.
import type fc from 'fast-check';
import type { Harness } from '../harness/core-harness.ts';

export const NAMES = ['ann', 'bob', 'cat'] as const;
export const SLOTS = 2;
export const SYNC_LIMIT = 3;

export type Cat = 1 | 2;
export type Key = { 1: number; 2: number };

interface Item {
  seq: number;
  cat: Cat;
  msgId: number;
}

/** The server as the model sees it; one copy for what is committed, one with the open batch. */
export interface ServerModel {
  accounts: Map<string, { uin: number; seq: number; items: Item[] }>;
  nextUin: number;
  nextMsgId: number;
  nextGroupId: number;
  /** Chat room name → member names in join order. */
  groups: Map<string, string[]>;
  /**
   * Device (account#slot) → its current session (a login number), the one
   * before, the deleted ones it still remembers (oldest first), and its
   * acknowledged position.
   */
  devices: Map<string, { session: number; prev?: number; retired: number[]; acked: Key }>;
  /**
   * Login number → the device's active session, the one before it (replaced:
   * 1101), an older one the server deleted but the device remembers (still
   * 1101), or one it no longer remembers (unknown: 1100).
   */
  sessions: Map<number, 'active' | 'replaced' | 'deleted' | 'forgotten'>;
  /** (account, ClientMsgId) → MsgID. */
  dedup: Map<string, number>;
  /** (device, ClientLoginId) → the login number it made. */
  logins: Map<string, number>;
}

/** What a client device knows: only what answers told it (never rolled back by a crash). */
export interface ClientDev {
  account: string;
  deviceId: string;
  session?: { n: number; sid: string; skey: string };
  key: Key;
  olderKeys: Key[];
  /** Sessions of this device that a newer login replaced. */
  stale: Array<{ n: number; sid: string; skey: string }>;
  /** The ClientLoginIds of its login attempts, oldest first (a retry repeats one). */
  loginIds: string[];
}

export interface Pending {
  req: number;
  what: string;
  check: (body: any) => void;
}

export class Model {
  server: ServerModel = emptyServer();
  committed: ServerModel = emptyServer();
  clients = new Map<string, ClientDev>();
  /** ClientMsgIds each account's devices have used (answered or not): what a retry repeats. */
  cmids = new Map<string, string[]>();
  /** Chat rooms a client learned of. */
  rooms: string[] = [];
  pending: Pending[] = [];
  batch = false;
  logins = 0;
  nextCmid = 0;
  nextLoginId = 0;
}

function emptyServer(): ServerModel {
  return {
    accounts: new Map(),
    nextUin: 0,
    nextMsgId: 0,
    nextGroupId: 0,
    groups: new Map(),
    devices: new Map(),
    sessions: new Map(),
    dedup: new Map(),
    logins: new Map(),
  };
}

export const devKey = (account: string, slot: number): string => `${account}#${slot}`;
export const deviceIdOf = (account: string, slot: number): string => `${account}-dev${slot}`;
export const keyJson = (k: Key) => ({ Count: 2, List: [{ Key: 1, Val: k[1] }, { Key: 2, Val: k[2] }] });
export const keyOf = (json: { List: Array<{ Key: number; Val: number }> }): Key => ({
  1: json.List.find((p) => p.Key === 1)?.Val ?? 0,
  2: json.List.find((p) => p.Key === 2)?.Val ?? 0,
});

export function append(s: ServerModel, account: string, cat: Cat, msgId = 0): void {
  const a = s.accounts.get(account)!;
  a.seq++;
  a.items.push({ seq: a.seq, cat, msgId });
}

/** An authenticated command's session: 1101 if a newer login replaced it (deleted or not), 1100 once forgotten, else undefined. */
export function sessionRet(m: Model, c: ClientDev, n = c.session!.n): number | undefined {
  const state = m.server.sessions.get(n);
  return state === 'active' ? undefined : state === 'forgotten' ? 1100 : 1101;
}

export function base(c: ClientDev, s = c.session!): Record<string, unknown> {
  return { Uin: m0uin(c), Sid: s.sid, Skey: s.skey, DeviceID: c.deviceId };
}

// The client knows its Uin from its login answer; every login of the account answers the same one.
export const uins = new WeakMap<ClientDev, number>();
function m0uin(c: ClientDev): number {
  return uins.get(c)!;
}

/** The devices that know a session, in a fixed order; a command picks one by index. */
function readyDevices(m: Model): ClientDev[] {
  return [...m.clients.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([, c]) => (c.session ? [c] : []));
}

export function pick(m: Model, who: number): ClientDev | undefined {
  const all = readyDevices(m);
  return all.length > 0 ? all[who % all.length] : undefined;
}

export const slotOf = (c: ClientDev): string => c.deviceId.replace(/^.*-dev/, '');

export type Cmd = fc.Command<Model, Harness>;
