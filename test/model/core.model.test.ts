// Model-based tests of the server core: fast-check drives random sequences of
// commands (register, login and its retries, sends and their retries, group
// rooms and sends, syncs with the current or an older key or a replaced
// session, batches, flushes, crashes with a batch open) against ServerNode on
// each store, and against a plain model: per account the log of sequence
// values and MsgIds in order, per device the acknowledged position, the
// dedup map. Every answer is checked against the model when it arrives (at
// the batch's commit), and after every commit and crash the store's logs and
// acknowledged positions must equal the model's. A failure prints
// fast-check's seed and replayPath.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlantedBug } from '../../server/core/planted-bugs.ts';
import { Harness, PASSWORD, STORES, type StoreKind } from '../core/support.ts';

const NAMES = ['ann', 'bob', 'cat'] as const;
const SLOTS = 2;
const SYNC_LIMIT = 3;

type Cat = 1 | 2;
type Key = { 1: number; 2: number };

interface Item {
  seq: number;
  cat: Cat;
  msgId: number;
}

/** The server as the model sees it; one copy for what is committed, one with the open batch. */
interface ServerModel {
  accounts: Map<string, { uin: number; seq: number; items: Item[] }>;
  nextUin: number;
  nextMsgId: number;
  nextGroupId: number;
  /** Chat room name → member names in join order. */
  groups: Map<string, string[]>;
  /** Device (account#slot) → its current session (a login number) and acknowledged position. */
  devices: Map<string, { session: number; prev?: number; acked: Key }>;
  /**
   * Login number → the device's active session, the one before it (replaced:
   * 1101), or an older one the server deleted (unknown: 1100).
   */
  sessions: Map<number, 'active' | 'replaced' | 'deleted'>;
  /** (account, ClientMsgId) → MsgID. */
  dedup: Map<string, number>;
  /** (device, ClientLoginId) → the login number it made. */
  logins: Map<string, number>;
}

/** What a client device knows: only what answers told it (never rolled back by a crash). */
interface ClientDev {
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

interface Pending {
  req: number;
  what: string;
  check: (body: any) => void;
}

class Model {
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

const devKey = (account: string, slot: number): string => `${account}#${slot}`;
const deviceIdOf = (account: string, slot: number): string => `${account}-dev${slot}`;
const keyJson = (k: Key) => ({ Count: 2, List: [{ Key: 1, Val: k[1] }, { Key: 2, Val: k[2] }] });
const keyOf = (json: { List: Array<{ Key: number; Val: number }> }): Key => ({
  1: json.List.find((p) => p.Key === 1)?.Val ?? 0,
  2: json.List.find((p) => p.Key === 2)?.Val ?? 0,
});

function append(s: ServerModel, account: string, cat: Cat, msgId = 0): void {
  const a = s.accounts.get(account)!;
  a.seq++;
  a.items.push({ seq: a.seq, cat, msgId });
}

/** After a command is submitted: in auto mode commit and check at once; in a batch, at the next flush. */
function settle(m: Model, h: Harness): void {
  if (!m.batch) flush(m, h);
}

function flush(m: Model, h: Harness): void {
  h.flush();
  const pending = m.pending;
  m.pending = [];
  for (const p of pending) {
    const a = h.answer(p.req);
    expect(a, `${p.what}: answered at the commit`).toBeDefined();
    p.check(JSON.parse(a!.body));
  }
  m.committed = structuredClone(m.server);
  compareStore(m, h);
}

/** The store holds exactly the model's committed logs and acknowledged positions. */
function compareStore(m: Model, h: Harness): void {
  for (const [name, a] of m.committed.accounts) {
    for (const cat of [1, 2] as const) {
      const real = h.items(a.uin, cat).map((i) => (i.category === 1 ? [i.seq, i.data.MsgId] : [i.seq, 0]));
      const want = a.items.filter((i) => i.cat === cat).map((i) => [i.seq, i.msgId]);
      expect(real, `${name}'s log ${cat} (seq, MsgId)`).toEqual(want);
    }
    const acc = h.account(a.uin)!;
    expect(acc.seq, `${name}'s sequence`).toBe(a.seq);
  }
  for (const [key, d] of m.committed.devices) {
    const [account, slot] = key.split('#') as [string, string];
    const real = h.store.read({ kind: 'device', uin: m.committed.accounts.get(account)!.uin, deviceId: deviceIdOf(account, Number(slot)) });
    expect(real?.acked, `${key}'s acknowledged position`).toEqual(d.acked);
  }
}

function expectRet(body: any, ret: number, what: string): void {
  expect(body.BaseResponse?.Ret, `${what}: Ret (${body.BaseResponse?.ErrMsg ?? ''})`).toBe(ret);
}

/** An authenticated command's session: 1101 if a newer login replaced it, 1100 once deleted, else undefined. */
function sessionRet(m: Model, c: ClientDev, n = c.session!.n): number | undefined {
  const state = m.server.sessions.get(n);
  return state === 'active' ? undefined : state === 'replaced' ? 1101 : 1100;
}

function base(c: ClientDev, s = c.session!): Record<string, unknown> {
  return { Uin: m0uin(c), Sid: s.sid, Skey: s.skey, DeviceID: c.deviceId };
}

// The client knows its Uin from its login answer; every login of the account answers the same one.
const uins = new WeakMap<ClientDev, number>();
function m0uin(c: ClientDev): number {
  return uins.get(c)!;
}

// ---------------------------------------------------------------- commands

type Cmd = fc.Command<Model, Harness>;

class Register implements Cmd {
  constructor(readonly name: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, h: Harness): void {
    const s = m.server;
    const taken = s.accounts.has(this.name);
    const uin = s.nextUin + 1;
    if (!taken) {
      s.nextUin = uin;
      s.accounts.set(this.name, { uin, seq: 0, items: [] });
    }
    const req = h.post('register', { UserName: this.name, Password: PASSWORD });
    m.pending.push({
      req,
      what: this.toString(),
      check: (b) => {
        expectRet(b, taken ? 1104 : 0, this.toString());
        if (!taken) expect(b.Uin).toBe(uin);
      },
    });
    settle(m, h);
  }
  toString(): string {
    return `register(${this.name})`;
  }
}

class Login implements Cmd {
  constructor(
    readonly name: string,
    readonly slot: number,
    /** Repeat one of the device's ClientLoginIds, counted back from the last (a retried, or a late duplicate, login). */
    readonly retry: number | undefined,
  ) {}
  check(m: Model): boolean {
    return this.retry === undefined || (m.clients.get(devKey(this.name, this.slot))?.loginIds.length ?? 0) > 0;
  }
  run(m: Model, h: Harness): void {
    const key = devKey(this.name, this.slot);
    let c = m.clients.get(key);
    if (!c) m.clients.set(key, (c = { account: this.name, deviceId: deviceIdOf(this.name, this.slot), key: { 1: 0, 2: 0 }, olderKeys: [], stale: [], loginIds: [] }));
    const client = c;
    const ids = client.loginIds;
    if (this.retry === undefined) ids.push(`${client.deviceId}-L${++m.nextLoginId}`);
    const loginId = this.retry === undefined ? ids[ids.length - 1]! : ids[ids.length - 1 - (this.retry % ids.length)]!;
    const s = m.server;
    const account = s.accounts.get(this.name);
    let expected: { ret: number; n?: number; acked?: Key; uin?: number };
    if (!account) {
      expected = { ret: 1103 };
    } else {
      const dev = s.devices.get(key);
      const made = s.logins.get(`${key}\u0000${loginId}`);
      if (made !== undefined && dev && made === dev.session && s.sessions.get(made) === 'active') {
        expected = { ret: 0, n: made, acked: { ...dev.acked }, uin: account.uin };
      } else if (made !== undefined && s.sessions.get(made) !== 'active') {
        expected = { ret: 1101 };
      } else {
        const n = ++m.logins;
        if (dev) s.sessions.set(dev.session, 'replaced');
        if (dev?.prev !== undefined) s.sessions.set(dev.prev, 'deleted');
        s.sessions.set(n, 'active');
        s.logins.set(`${key}\u0000${loginId}`, n);
        const acked = dev ? dev.acked : { 1: 0, 2: 0 };
        s.devices.set(key, dev ? { session: n, prev: dev.session, acked } : { session: n, acked });
        expected = { ret: 0, n, acked: { ...acked }, uin: account.uin };
      }
    }
    const req = h.post('manualauth', { UserName: this.name, Password: PASSWORD, DeviceID: client.deviceId, ClientLoginId: loginId });
    m.pending.push({
      req,
      what: this.toString(),
      check: (b) => {
        expectRet(b, expected.ret, this.toString());
        if (expected.ret !== 0) return;
        expect(keyOf(b.SyncKey), `${this} answers the acknowledged position`).toEqual(expected.acked);
        expect(b.Uin).toBe(expected.uin);
        uins.set(client, b.Uin);
        if (client.session && client.session.n === expected.n) {
          expect(b.Sid, `${this} gets the session that login made`).toBe(client.session.sid);
          return;
        }
        if (client.session) client.stale.push({ n: client.session.n, sid: client.session.sid, skey: client.session.skey });
        client.session = { n: expected.n!, sid: b.Sid, skey: b.Skey };
        // A new session starts from the answered key, as a client that merges by maximum does.
        client.key = { 1: Math.max(client.key[1], expected.acked![1]), 2: Math.max(client.key[2], expected.acked![2]) };
      },
    });
    settle(m, h);
  }
  toString(): string {
    return `login(${this.name}#${this.slot}${this.retry !== undefined ? `, retry ${this.retry}` : ''})`;
  }
}

/** The devices that know a session, in a fixed order; a command picks one by index. */
function readyDevices(m: Model): ClientDev[] {
  return [...m.clients.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([, c]) => (c.session ? [c] : []));
}

function pick(m: Model, who: number): ClientDev | undefined {
  const all = readyDevices(m);
  return all.length > 0 ? all[who % all.length] : undefined;
}

const slotOf = (c: ClientDev): string => c.deviceId.replace(/^.*-dev/, '');

class Send implements Cmd {
  constructor(
    /** Which ready device sends (an index, wrapping). */
    readonly who: number,
    /** A user name, or a chat room (index into the rooms the clients know). */
    readonly to: { user: string } | { room: number },
    /** Repeat a ClientMsgId the account used before (index), or a new one. */
    readonly retry: number | undefined,
  ) {}
  private name = '';
  private slot = '';
  check(m: Model): boolean {
    const c = pick(m, this.who);
    if (!c) return false;
    if ('room' in this.to && m.rooms.length === 0) return false;
    return this.retry === undefined || (m.cmids.get(c.account)?.length ?? 0) > 0;
  }
  run(m: Model, h: Harness): void {
    const c = pick(m, this.who)!;
    this.name = c.account;
    this.slot = slotOf(c);
    const used = m.cmids.get(this.name) ?? [];
    m.cmids.set(this.name, used);
    let cmid: string;
    if (this.retry !== undefined) cmid = used[this.retry % used.length]!;
    else used.push((cmid = `c${++m.nextCmid}`));
    const to = 'user' in this.to ? this.to.user : m.rooms[this.to.room % m.rooms.length]!;
    const s = m.server;
    let expected: { ret: number; msgId?: number };
    const dedupKey = `${this.name}\u0000${cmid}`;
    const replaced = sessionRet(m, c);
    if (replaced) expected = { ret: replaced };
    else if (s.dedup.has(dedupKey)) expected = { ret: 0, msgId: s.dedup.get(dedupKey)! };
    else if (to.startsWith('@@')) {
      const members = s.groups.get(to);
      if (!members) expected = { ret: 1106 };
      else if (!members.includes(this.name)) expected = { ret: 1107 };
      else {
        const msgId = ++s.nextMsgId;
        for (const a of members) append(s, a, 1, msgId);
        s.dedup.set(dedupKey, msgId);
        expected = { ret: 0, msgId };
      }
    } else if (!s.accounts.has(to)) {
      expected = { ret: 1106 };
    } else {
      const msgId = ++s.nextMsgId;
      for (const a of new Set([this.name, to])) append(s, a, 1, msgId);
      s.dedup.set(dedupKey, msgId);
      expected = { ret: 0, msgId };
    }
    const req = h.post('webwxsendmsg', {
      BaseRequest: base(c),
      Msg: { ClientMsgId: cmid, LocalID: cmid, FromUserName: this.name, ToUserName: to, Type: 1, Content: `${cmid} to ${to}` },
      Scene: 0,
    });
    m.pending.push({
      req,
      what: `${this} (${cmid})`,
      check: (b) => {
        expectRet(b, expected.ret, `${this} (${cmid})`);
        if (expected.ret === 0) {
          expect(b.MsgID, `${this} (${cmid}): one MsgID per ClientMsgId`).toBe(expected.msgId);
          expect(b.LocalID).toBe(cmid);
        }
      },
    });
    settle(m, h);
  }
  toString(): string {
    const to = 'user' in this.to ? this.to.user : `room ${this.to.room}`;
    return `send(${this.name}#${this.slot} → ${to}${this.retry !== undefined ? `, retry ${this.retry}` : ''})`;
  }
}

class CreateRoom implements Cmd {
  constructor(
    readonly who: number,
    readonly members: string[],
  ) {}
  private name = '';
  private slot = '';
  check(m: Model): boolean {
    return pick(m, this.who) !== undefined;
  }
  run(m: Model, h: Harness): void {
    const c = pick(m, this.who)!;
    this.name = c.account;
    this.slot = slotOf(c);
    const s = m.server;
    const members = [this.name];
    for (const x of this.members) if (!members.includes(x)) members.push(x);
    let expected: { ret: number; room?: string };
    const replaced = sessionRet(m, c);
    if (replaced) expected = { ret: replaced };
    else if (members.slice(1).some((x) => !s.accounts.has(x))) expected = { ret: 1106 };
    else if (members.length < 2) expected = { ret: 1102 };
    else {
      const room = `@@${++s.nextGroupId}`;
      s.groups.set(room, members);
      for (const a of members) append(s, a, 2);
      expected = { ret: 0, room };
    }
    const req = h.post('webwxcreatechatroom', {
      BaseRequest: base(c),
      MemberCount: this.members.length,
      MemberList: this.members.map((UserName) => ({ UserName })),
      Topic: 'room',
    });
    m.pending.push({
      req,
      what: this.toString(),
      check: (b) => {
        expectRet(b, expected.ret, this.toString());
        if (expected.ret !== 0) return;
        expect(b.ChatRoomName).toBe(expected.room);
        m.rooms.push(b.ChatRoomName);
      },
    });
    settle(m, h);
  }
  toString(): string {
    return `createRoom(${this.name}#${this.slot}: ${this.members.join(', ')})`;
  }
}

class Sync implements Cmd {
  constructor(
    readonly who: number,
    /** Present the current key, an older one the device held (index), or use a replaced session. */
    readonly present: { current: true } | { older: number } | { staleSession: number },
  ) {}
  private name = '';
  private slot = '';
  check(m: Model): boolean {
    const c = pick(m, this.who);
    if (!c) return false;
    if ('older' in this.present) return c.olderKeys.length > 0;
    if ('staleSession' in this.present) return c.stale.length > 0;
    return true;
  }
  run(m: Model, h: Harness): void {
    const c = pick(m, this.who)!;
    this.name = c.account;
    this.slot = slotOf(c);
    const p = this.present;
    const key = 'older' in p ? c.olderKeys[p.older % c.olderKeys.length]! : c.key;
    const session = 'staleSession' in p ? c.stale[p.staleSession % c.stale.length]! : c.session!;
    const s = m.server;
    let expected: { ret: number; msgIds?: number[]; contacts?: number; key?: Key; more?: boolean };
    const replaced = sessionRet(m, c, session.n);
    if (replaced) expected = { ret: replaced };
    else {
      const a = s.accounts.get(this.name)!;
      let remaining = SYNC_LIMIT;
      let more = false;
      const msgIds: number[] = [];
      let contacts = 0;
      const newKey: Key = { 1: 0, 2: 0 };
      for (const cat of [1, 2] as const) {
        const after = a.items.filter((i) => i.cat === cat && i.seq > key[cat]);
        const taken = after.slice(0, remaining);
        if (after.length > taken.length) more = true;
        remaining -= taken.length;
        newKey[cat] = taken.length > 0 ? taken[taken.length - 1]!.seq : key[cat];
        for (const i of taken) if (cat === 1) msgIds.push(i.msgId);
        contacts += cat === 2 ? taken.length : 0;
      }
      const dev = s.devices.get(devKey(this.name, Number(this.slot)))!;
      dev.acked = { 1: Math.max(dev.acked[1], key[1]), 2: Math.max(dev.acked[2], key[2]) };
      expected = { ret: 0, msgIds, contacts, key: newKey, more };
    }
    const req = h.post('webwxsync', { BaseRequest: base(c, session), SyncKey: keyJson(key), rr: -1 });
    const current = 'current' in p;
    m.pending.push({
      req,
      what: this.toString(),
      check: (b) => {
        expectRet(b, expected.ret, this.toString());
        if (expected.ret !== 0) return;
        expect(b.AddMsgList.map((x: { MsgId: number }) => x.MsgId), `${this}: the messages after the key, in order`).toEqual(expected.msgIds);
        expect(b.ModContactCount).toBe(expected.contacts);
        expect(keyOf(b.SyncKey), `${this}: the new key`).toEqual(expected.key);
        expect(b.ContinueFlag).toBe(expected.more ? 1 : 0);
        if (current && (expected.key![1] !== c.key[1] || expected.key![2] !== c.key[2])) {
          c.olderKeys.push(c.key);
          c.key = expected.key!;
        }
      },
    });
    settle(m, h);
  }
  toString(): string {
    const p = this.present;
    return `sync(${this.name}#${this.slot}, ${'current' in p ? 'current key' : 'older' in p ? `older key ${p.older}` : `replaced session ${p.staleSession}`})`;
  }
}

class Batch implements Cmd {
  constructor(readonly on: boolean) {}
  check(m: Model): boolean {
    return m.batch !== this.on;
  }
  run(m: Model, h: Harness): void {
    m.batch = this.on;
    if (!this.on) flush(m, h);
  }
  toString(): string {
    return this.on ? 'batch on' : 'batch off (flush)';
  }
}

class Flush implements Cmd {
  check(m: Model): boolean {
    return m.batch;
  }
  run(m: Model, h: Harness): void {
    flush(m, h);
  }
  toString(): string {
    return 'flush';
  }
}

class Restart implements Cmd {
  check(): boolean {
    return true;
  }
  run(m: Model, h: Harness): void {
    h.restart();
    // The open batch is lost: nothing of it was answered, nothing of it is stored.
    for (const p of m.pending) expect(h.answer(p.req), `${p.what} was in the lost batch: never answered`).toBeUndefined();
    m.pending = [];
    m.server = structuredClone(m.committed);
    compareStore(m, h);
  }
  toString(): string {
    return 'restart (crash)';
  }
}

const name = fc.constantFrom(...NAMES);
const slot = fc.nat({ max: SLOTS - 1 });
const who = fc.nat({ max: 11 });
const send = fc
  .tuple(who, fc.oneof(name.map((user) => ({ user })), fc.nat({ max: 3 }).map((room) => ({ room }))), fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max: 20 }) }))
  .map(([w, to, retry]) => new Send(w, to, retry));
const sync = fc
  .tuple(
    who,
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({ current: true as const }) },
      { weight: 1, arbitrary: fc.nat({ max: 5 }).map((older) => ({ older })) },
      { weight: 1, arbitrary: fc.nat({ max: 3 }).map((staleSession) => ({ staleSession })) },
    ),
  )
  .map(([w, present]) => new Sync(w, present));
// Sends and syncs are listed more than once: fc.commands picks each entry alike.
const COMMANDS = [
  send,
  send,
  send,
  sync,
  sync,
  name.map((n) => new Register(n)),
  fc.tuple(name, slot, fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max: 3 }) })).map(([n, s, r]) => new Login(n, s, r)),
  fc.tuple(who, fc.subarray([...NAMES])).map(([w, members]) => new CreateRoom(w, members)),
  fc.boolean().map((on) => new Batch(on)),
  fc.constant(new Flush()),
  fc.constant(new Restart()),
];

function runCommands(store: StoreKind, cmds: Iterable<Cmd>, bugs: readonly PlantedBug[] = []): void {
  const h = new Harness({ store, autoFlush: false, core: { syncLimit: SYNC_LIMIT }, bugs: new Set(bugs) });
  try {
    const m = new Model();
    // Two of the three users exist and have a device logged in; the commands do the rest.
    const start = (): { model: Model; real: Harness } => {
      for (const c of [new Register('ann'), new Register('bob'), new Login('ann', 0, undefined), new Login('bob', 0, undefined)]) c.run(m, h);
      return { model: m, real: h };
    };
    fc.modelRun(start, cmds);
    // The end: commit what is open; everything is answered as the model says.
    flush(m, h);
    expect(h.doubleAnswers, 'requests answered twice').toEqual([]);
    expect(h.ghostOutputs, 'outputs of a crashed node').toEqual([]);
  } finally {
    h.dispose();
  }
}

const commands = fc.commands(COMMANDS, { maxCommands: 80, size: 'max' });
const RUNS: Record<StoreKind, number> = { memory: 200, sqlite: 40 };

describe.each(STORES)('the core against a model (%s store)', (store) => {
  it('register, login, send, group, sync, batch, flush and crash agree with the model', () => {
    fc.assert(
      fc.property(commands, (cmds) => runCommands(store, cmds)),
      { numRuns: RUNS[store], seed: 20_261_126 },
    );
  });
});

// The model has teeth: each planted core bug it can see (no retention, no synccheck here) fails it.
describe('the model catches planted bugs', () => {
  const bugs: PlantedBug[] = ['skip-dedup', 'ack-on-fetch', 'volatile-seq', 'answer-before-commit', 'group-order-per-member', 'continue-off-by-one'];
  it.each(bugs)('%s', (bug) => {
    const details = fc.check(fc.property(commands, (cmds) => runCommands('memory', cmds, [bug])), { numRuns: 300, seed: 20_261_126 });
    expect(details.failed, `${bug} goes unnoticed`).toBe(true);
  });
});
