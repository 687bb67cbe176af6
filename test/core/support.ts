// A deterministic harness over ServerNode for the core tests: a store
// (memory or SQLite in a temp file) behind a recording wrapper, a seeded
// random source, a hand-driven clock, HTTP calls that return parsed JSON,
// long links that speak real packets, and restart() as a crash.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import type { CoreConfig } from '../../server/core/config.ts';
import type { PasswordHasher, RandomSource } from '../../server/core/deps.ts';
import { PATHS, type Endpoint, type HttpAnswer } from '../../server/node/http-api.ts';
import type { Account, CategoryId, Device as DeviceRecord, Group, LogItem, MessageItem, Remark, Session } from '../../server/core/model.ts';
import type { NodeConfig } from '../../server/node/node-config.ts';
import { scryptHasher } from '../../server/core/password.ts';
import type { BugSet } from '../../server/core/planted-bugs.ts';
import { ServerNode, type ServerAction } from '../../server/node/server-node.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import type { Read, ReadResult, Write } from '../../server/store/store-ops.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op, decodeJsonBody, encodeJsonPacket, encodePacket } from '../../server/wire/packet.ts';
import type { SyncKeyJson } from '../../server/wire/synckey.ts';

export type StoreKind = 'memory' | 'sqlite';
/** Every test file runs its cases on both stores. */
export const STORES: readonly StoreKind[] = ['memory', 'sqlite'];

export const T0 = 1_700_000_000_000;
export const HASHER: PasswordHasher = scryptHasher(2);
export const PASSWORD = 'correct horse';

// ---------------------------------------------------------------- randomness

/** A seeded byte stream (sfc32): same seed, same Sids and Skeys. */
export class SeededRandom implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.next();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  }
}

// ---------------------------------------------------------------- the recording store

export type TimelineEvent =
  | { kind: 'begin' }
  | { kind: 'apply'; writes: number }
  | { kind: 'commit'; n: number }
  | { kind: 'rollback' }
  | { kind: 'respond'; req: number }
  | { kind: 'write'; link: number; op: number }
  | { kind: 'close'; link: number }
  | { kind: 'crash' };

/** Wraps the real store; counts and records every write and commit. The inner store is swapped on a SQLite restart. */
export class RecordingStore implements Store {
  /** Every write applied (also those later rolled back or lost in a crash). */
  readonly writes: Write[] = [];
  commits = 0;
  rollbacks = 0;

  constructor(
    public inner: Store,
    private readonly timeline: TimelineEvent[],
  ) {}

  get kind(): 'memory' | 'sqlite' {
    return this.inner.kind;
  }

  begin(): void {
    this.inner.begin();
    this.timeline.push({ kind: 'begin' });
  }

  read<R extends Read>(r: R): ReadResult[R['kind']] {
    return this.inner.read(r);
  }

  apply(writes: readonly Write[]): void {
    this.inner.apply(writes);
    this.writes.push(...writes);
    this.timeline.push({ kind: 'apply', writes: writes.length });
  }

  commit(): void {
    this.inner.commit();
    this.commits++;
    this.timeline.push({ kind: 'commit', n: this.commits });
  }

  rollback(): void {
    this.inner.rollback();
    this.rollbacks++;
    this.timeline.push({ kind: 'rollback' });
  }

  close(): void {
    this.inner.close();
  }
}

// ---------------------------------------------------------------- clients

/** One logged-in device as a client would keep it. */
export interface Dev {
  userName: string;
  uin: number;
  deviceId: string;
  sid: string;
  skey: string;
  key: SyncKeyJson;
}

export interface Pkt {
  op: number;
  seq: number;
  /** The JSON body, undefined when empty. */
  body: any;
}

export interface SyncCheckResult {
  retcode: string;
  selector: string;
}

/** The client end of a long link: real packets in and out. */
export class LinkClient {
  readonly packets: Pkt[] = [];
  closed = false;
  /** Closed because the server crashed, not because the server said so. */
  lost = false;
  private readonly decoder = new PacketDecoder({ maxBody: 1 << 24 });
  private cursor = 0;

  constructor(
    private readonly h: Harness,
    readonly id: number,
  ) {}

  /** Bytes from the server. */
  receive(bytes: Uint8Array): void {
    const { packets, error } = this.decoder.push(Uint8Array.from(bytes));
    if (error) throw error;
    for (const p of packets) this.packets.push({ op: p.op, seq: p.seq, body: decodeJsonBody(p) });
  }

  raw(bytes: Uint8Array): void {
    this.h.node.linkData(this.id, bytes, this.h.now);
    this.h.autoFlushNow();
  }

  send(op: number, seq: number, body?: unknown): void {
    this.raw(body === undefined ? encodePacket(op, seq) : encodeJsonPacket(op, seq, body));
  }

  /** Packets received since the last call. */
  take(): Pkt[] {
    const out = this.packets.slice(this.cursor);
    this.cursor = this.packets.length;
    return out;
  }

  /** The last packet of an op (and seq), if any. */
  last(op: number, seq?: number): Pkt | undefined {
    for (let i = this.packets.length - 1; i >= 0; i--) {
      const p = this.packets[i]!;
      if (p.op === op && (seq === undefined || p.seq === seq)) return p;
    }
    return undefined;
  }

  /** The reply to a request: the one packet with this op and seq. */
  reply(op: number, seq: number): any {
    const all = this.packets.filter((p) => p.op === op && p.seq === seq);
    expect(all.length, `exactly one op ${op} reply to seq ${seq}`).toBe(1);
    return all[0]!.body;
  }

  auth(body: unknown, seq = 1): any {
    this.send(Op.Auth, seq, body);
    return this.reply(Op.AuthReply, seq);
  }

  /** Authenticate by an existing session. */
  resume(d: Dev, seq = 1): any {
    return this.auth({ Uin: d.uin, Sid: d.sid, DeviceID: d.deviceId }, seq);
  }

  sendMsg(msg: unknown, seq: number): any {
    this.send(Op.Send, seq, msg);
    return this.reply(Op.SendReply, seq);
  }

  sync(key: unknown, seq: number): any {
    this.send(Op.Sync, seq, { SyncKey: key });
    return this.reply(Op.SyncReply, seq);
  }

  /** The client hangs up. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.h.node.linkClosed(this.id);
  }
}

// ---------------------------------------------------------------- snapshots

export interface StoreSnapshot {
  meta: Record<string, number>;
  accounts: Array<Account | undefined>;
  devices: DeviceRecord[][];
  items: LogItem[][];
  remarks: Remark[][];
  groupsOf: Group[][];
  groups: Array<Group | undefined>;
  sessions: Array<Session | undefined>;
  dedup: unknown[];
}

// ---------------------------------------------------------------- the harness

export interface HarnessOptions {
  store?: StoreKind;
  core?: Partial<CoreConfig>;
  node?: Partial<NodeConfig>;
  bugs?: BugSet;
  seed?: number;
  /** Flush after every input, as a server draining each event-loop turn would (default true). */
  autoFlush?: boolean;
}

export class Harness {
  now = T0;
  autoFlush: boolean;
  node!: ServerNode;
  readonly store: RecordingStore;
  readonly random: SeededRandom;
  readonly timeline: TimelineEvent[] = [];
  /** Every HTTP answer by request id. */
  readonly answers = new Map<number, HttpAnswer>();
  /** Requests answered more than once (must stay empty). */
  readonly doubleAnswers: number[] = [];
  /** Outputs of a crashed node (must stay empty). */
  readonly ghostOutputs: ServerAction[] = [];
  /** Requests in flight when the server crashed: never answered. */
  readonly lostRequests = new Set<number>();
  readonly links = new Map<number, LinkClient>();
  restarts = 0;

  private generation = 0;
  private nextReq = 1;
  private nextLink = 1;
  private nextDevice = 1;
  private nextClientMsgId = 1;
  private readonly sids = new Set<string>();
  private readonly clientMsgIds = new Set<string>();
  private readonly dir: string | undefined;
  private file = '';

  constructor(readonly options: HarnessOptions = {}) {
    this.autoFlush = options.autoFlush ?? true;
    this.random = new SeededRandom(options.seed ?? 1);
    const kind = options.store ?? 'memory';
    let inner: Store;
    if (kind === 'sqlite') {
      this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-'));
      this.file = path.join(this.dir, 'gen0', 'store.db');
      inner = SqliteStore.open(this.file);
    } else {
      inner = new MemoryStore({ freeze: true });
    }
    this.store = new RecordingStore(inner, this.timeline);
    this.start();
  }

  get kind(): StoreKind {
    return this.store.kind;
  }

  private start(): void {
    const gen = ++this.generation;
    this.node = new ServerNode({
      store: this.store,
      random: this.random,
      hasher: HASHER,
      out: (a) => (gen === this.generation ? this.onAction(a) : this.ghostOutputs.push(a)),
      ...(this.options.core ? { core: this.options.core } : {}),
      ...(this.options.node ? { node: this.options.node } : {}),
      ...(this.options.bugs ? { bugs: this.options.bugs } : {}),
    });
  }

  private onAction(a: ServerAction): void {
    switch (a.kind) {
      case 'respond':
        if (this.answers.has(a.req)) this.doubleAnswers.push(a.req);
        this.answers.set(a.req, a.answer);
        this.timeline.push({ kind: 'respond', req: a.req });
        return;
      case 'write': {
        const l = this.links.get(a.link);
        if (!l) throw new Error(`write to unknown link ${a.link}`);
        if (l.closed) throw new Error(`write to closed link ${a.link}`);
        l.receive(a.bytes);
        this.timeline.push({ kind: 'write', link: a.link, op: l.packets[l.packets.length - 1]?.op ?? -1 });
        return;
      }
      case 'close': {
        const l = this.links.get(a.link);
        if (l) l.closed = true;
        this.timeline.push({ kind: 'close', link: a.link });
        return;
      }
    }
  }

  // ---- time and batches

  /** Move the clock and let the node expire polls and links. */
  advance(ms: number): void {
    this.now += ms;
    this.node.tick(this.now);
    // A tick may start commands (the retention sweep): they commit as the server's would.
    this.autoFlushNow();
  }

  flush(): void {
    this.node.flush(this.now);
  }

  autoFlushNow(): void {
    if (this.autoFlush) this.flush();
  }

  /** Run `f` with flushing off (inputs pile up in one batch), then restore it. */
  batch<T>(f: () => T): T {
    const was = this.autoFlush;
    this.autoFlush = false;
    try {
      return f();
    } finally {
      this.autoFlush = was;
    }
  }

  /**
   * A crash and a restart: the node loses everything volatile, the store keeps
   * what was committed, open connections and requests in flight are gone, and
   * a new node starts on the same store.
   */
  restart(): void {
    this.node.crash();
    this.timeline.push({ kind: 'crash' });
    if (this.store.inner instanceof MemoryStore) {
      this.store.inner.crash();
    } else {
      // The files as they are on disk, uncommitted WAL frames included,
      // opened by a new process; the old connection never commits.
      const dir = this.dir!;
      const copy = path.join(dir, `gen${this.restarts + 1}`, 'store.db');
      fs.mkdirSync(path.dirname(copy), { recursive: true });
      for (const suffix of ['', '-wal']) {
        if (fs.existsSync(this.file + suffix)) fs.copyFileSync(this.file + suffix, copy + suffix);
      }
      this.store.inner.close();
      this.file = copy;
      this.store.inner = SqliteStore.open(copy);
    }
    for (let r = 1; r < this.nextReq; r++) if (!this.answers.has(r)) this.lostRequests.add(r);
    for (const l of this.links.values()) {
      if (!l.closed) {
        l.closed = true;
        l.lost = true;
      }
    }
    this.restarts++;
    this.start();
  }

  dispose(): void {
    this.store.close();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- HTTP

  /** Hand the node a raw HTTP request; returns its id. */
  request(method: string, url: string, body = ''): number {
    const req = this.nextReq++;
    this.node.httpRequest(req, method, url, body, this.now);
    this.autoFlushNow();
    return req;
  }

  /** POST a JSON body to an endpoint (a string body goes as is). */
  post(endpoint: Endpoint, body: unknown): number {
    this.noteBody(body);
    return this.request('POST', PATHS[endpoint], typeof body === 'string' ? body : JSON.stringify(body));
  }

  answer(req: number): HttpAnswer | undefined {
    return this.answers.get(req);
  }

  /** The parsed JSON answer of a request, which must have been answered. */
  json(req: number): any {
    const a = this.answers.get(req);
    if (!a) throw new Error(`request ${req} has no answer yet`);
    expect(a.contentType).toMatch(/^application\/json/);
    return JSON.parse(a.body);
  }

  /** POST and return the parsed answer. */
  call(endpoint: Endpoint, body: unknown): any {
    return this.json(this.post(endpoint, body));
  }

  // ---- accounts and sessions

  register(userName: string, password = PASSWORD, nickName?: string): number {
    const r = this.call('register', { UserName: userName, Password: password, ...(nickName ? { NickName: nickName } : {}) });
    expect(r.BaseResponse, `register ${userName}`).toEqual({ Ret: 0, ErrMsg: '' });
    return r.Uin as number;
  }

  newDeviceId(): string {
    return `e${String(100_000_000_000_000 + this.nextDevice++).slice(0, 15)}`;
  }

  manualauth(userName: string, deviceId: string, password = PASSWORD): any {
    return this.call('manualauth', { UserName: userName, Password: password, DeviceID: deviceId });
  }

  /** A device login that must succeed. */
  login(userName: string, deviceId = this.newDeviceId(), password = PASSWORD): Dev {
    const r = this.manualauth(userName, deviceId, password);
    expect(r.BaseResponse, `login ${userName}`).toEqual({ Ret: 0, ErrMsg: '' });
    this.sids.add(r.Sid);
    return { userName, uin: r.Uin, deviceId, sid: r.Sid, skey: r.Skey, key: r.SyncKey };
  }

  /** Register and log in one device. */
  user(userName: string): Dev {
    this.register(userName);
    return this.login(userName);
  }

  base(d: Dev): { Uin: number; Sid: string; Skey: string; DeviceID: string } {
    return { Uin: d.uin, Sid: d.sid, Skey: d.skey, DeviceID: d.deviceId };
  }

  init(d: Dev): any {
    const r = this.call('webwxinit', { BaseRequest: this.base(d) });
    if (r.BaseResponse.Ret === 0) {
      d.key = r.SyncKey;
      d.skey = r.SKey;
    }
    return r;
  }

  logout(d: Dev): any {
    return this.call('webwxlogout', { BaseRequest: this.base(d) });
  }

  // ---- sync

  /** webwxsync with the device's key (or another); on success the device adopts the new key and Skey. */
  sync(d: Dev, key: unknown = d.key): any {
    const r = this.call('webwxsync', { BaseRequest: this.base(d), SyncKey: key, rr: -1 });
    if (r.BaseResponse.Ret === 0) {
      d.key = r.SyncKey;
      d.skey = r.SKey;
    }
    return r;
  }

  /** Sync until ContinueFlag is 0; every page's items, in order. */
  drain(d: Dev, maxPages = 1000): { messages: any[]; contacts: any[]; pages: number } {
    const messages: any[] = [];
    const contacts: any[] = [];
    for (let pages = 1; pages <= maxPages; pages++) {
      const r = this.sync(d);
      expect(r.BaseResponse).toEqual({ Ret: 0, ErrMsg: '' });
      messages.push(...r.AddMsgList);
      contacts.push(...r.ModContactList);
      if (r.ContinueFlag === 0) return { messages, contacts, pages };
    }
    throw new Error(`still ContinueFlag 1 after ${maxPages} pages`);
  }

  // ---- sending, groups, contacts

  newClientMsgId(): string {
    return String(1_000_000 + this.nextClientMsgId++);
  }

  msg(d: Dev, to: string, content: string, clientMsgId = this.newClientMsgId()): Record<string, unknown> {
    return { ClientMsgId: clientMsgId, LocalID: clientMsgId, FromUserName: d.userName, ToUserName: to, Type: 1, Content: content };
  }

  sendMsg(d: Dev, msg: unknown): any {
    return this.call('webwxsendmsg', { BaseRequest: this.base(d), Msg: msg, Scene: 0 });
  }

  /** Submit a send without waiting for its answer; returns the request id. */
  sendReq(d: Dev, to: string, content: string, clientMsgId?: string): number {
    return this.post('webwxsendmsg', { BaseRequest: this.base(d), Msg: this.msg(d, to, content, clientMsgId), Scene: 0 });
  }

  /** Send a text; returns the reply. */
  send(d: Dev, to: string, content: string, clientMsgId?: string): any {
    return this.sendMsg(d, this.msg(d, to, content, clientMsgId));
  }

  /** A send that must succeed; returns its MsgID. */
  sendOk(d: Dev, to: string, content: string, clientMsgId?: string): number {
    const r = this.send(d, to, content, clientMsgId);
    expect(r.BaseResponse, `send ${content}`).toEqual({ Ret: 0, ErrMsg: '' });
    return r.MsgID as number;
  }

  createRoom(d: Dev, members: string[], topic = 'room'): any {
    return this.call('webwxcreatechatroom', {
      BaseRequest: this.base(d),
      MemberCount: members.length,
      MemberList: members.map((UserName) => ({ UserName })),
      Topic: topic,
    });
  }

  oplog(d: Dev, target: string, remarkName: string): any {
    return this.call('webwxoplog', { BaseRequest: this.base(d), CmdId: 2, UserName: target, RemarkName: remarkName });
  }

  // ---- synccheck

  syncCheckUrl(d: Dev, key: SyncKeyJson | string = d.key, over: Record<string, string | undefined> = {}): string {
    const synckey = typeof key === 'string' ? key : key.List.map((p) => `${p.Key}_${p.Val}`).join('|');
    const q: Record<string, string | undefined> = {
      r: String(this.now),
      sid: d.sid,
      uin: String(d.uin),
      skey: d.skey,
      deviceid: d.deviceId,
      synckey,
      _: String(this.now),
      ...over,
    };
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, v);
    return `${PATHS.synccheck}?${params.toString()}`;
  }

  /** Start a synccheck; returns the request id (it may be held). */
  synccheck(d: Dev, key: SyncKeyJson | string = d.key, over: Record<string, string | undefined> = {}): number {
    return this.request('GET', this.syncCheckUrl(d, key, over));
  }

  /** The synccheck answer of a request, or undefined while it is held. */
  syncCheckResult(req: number): SyncCheckResult | undefined {
    const a = this.answers.get(req);
    if (!a) return undefined;
    expect(a.contentType).toMatch(/^text\/javascript/);
    const m = /^window\.synccheck=\{retcode:"(\d+)",selector:"(\d+)"\}$/.exec(a.body);
    if (!m) throw new Error(`not a synccheck answer: ${a.body}`);
    return { retcode: m[1]!, selector: m[2]! };
  }

  // ---- long links

  openLink(transport: 'tcp' | 'ws' = 'tcp'): LinkClient {
    const l = new LinkClient(this, this.nextLink++);
    this.links.set(l.id, l);
    this.node.linkOpened(l.id, transport, this.now);
    return l;
  }

  /** A long link authenticated by the device's session. */
  link(d: Dev): LinkClient {
    const l = this.openLink();
    const r = l.resume(d);
    expect(r.BaseResponse).toEqual({ Ret: 0, ErrMsg: '' });
    return l;
  }

  // ---- the store as data

  private noteBody(body: unknown): void {
    if (typeof body !== 'object' || body === null) return;
    const msg = (body as Record<string, unknown>)['Msg'];
    const id = typeof msg === 'object' && msg !== null ? (msg as Record<string, unknown>)['ClientMsgId'] : undefined;
    if (typeof id === 'string' || typeof id === 'number') this.clientMsgIds.add(String(id));
  }

  /** Every record reachable through the store's reads, for before/after comparisons. */
  snapshot(): StoreSnapshot {
    const s = this.store;
    const meta = {
      nextUin: s.read({ kind: 'meta', name: 'nextUin' }),
      nextMsgId: s.read({ kind: 'meta', name: 'nextMsgId' }),
      nextGroupId: s.read({ kind: 'meta', name: 'nextGroupId' }),
    };
    const uins: number[] = [];
    for (let u = 1; u <= meta.nextUin + 1; u++) uins.push(u);
    const devices = uins.map((uin) => s.read({ kind: 'devicesOf', uin }));
    const sids = new Set(this.sids);
    for (const ds of devices) for (const d of ds) if (d.sid) sids.add(d.sid);
    const groups: Array<Group | undefined> = [];
    for (let g = 1; g <= meta.nextGroupId + 1; g++) groups.push(s.read({ kind: 'group', userName: `@@${g}` }));
    const cats: CategoryId[] = [1, 2];
    return {
      meta,
      accounts: uins.map((uin) => s.read({ kind: 'account', uin })),
      devices,
      items: uins.flatMap((uin) => cats.map((category) => s.read({ kind: 'items', uin, category, afterSeq: 0, limit: 1e9 }))),
      remarks: uins.map((uin) => s.read({ kind: 'remarksOf', uin, limit: 1e9 })),
      groupsOf: uins.map((uin) => s.read({ kind: 'groupsOf', uin, limit: 1e9 })),
      groups,
      sessions: [...sids].sort().map((sid) => s.read({ kind: 'session', sid })),
      dedup: uins.flatMap((uin) => [...this.clientMsgIds].sort().flatMap((clientMsgId) => s.read({ kind: 'dedup', uin, clientMsgId }) ?? [])),
    };
  }

  /** Writes applied since a mark (`store.writes.length`). */
  writesSince(mark: number): Write[] {
    return this.store.writes.slice(mark);
  }

  /**
   * Run bad input: it must write nothing and leave every record as it was.
   * Returns what `f` returned.
   */
  unchanged<T>(f: () => T): T {
    const before = this.snapshot();
    const mark = this.store.writes.length;
    const result = f();
    this.flush();
    expect(this.writesSince(mark), 'writes of a rejected request').toEqual([]);
    expect(this.snapshot(), 'store after a rejected request').toEqual(before);
    return result;
  }

  /** Items of one account's log (what is retained). */
  items(uin: number, category: CategoryId): LogItem[] {
    return this.store.read({ kind: 'items', uin, category, afterSeq: 0, limit: 1e9 });
  }

  /** The messages retained in an account's log. */
  messages(uin: number): MessageItem[] {
    return this.items(uin, 1).flatMap((i) => (i.category === 1 ? [i.data] : []));
  }

  deviceRecord(d: Dev): DeviceRecord | undefined {
    return this.store.read({ kind: 'device', uin: d.uin, deviceId: d.deviceId });
  }

  account(uin: number): Account | undefined {
    return this.store.read({ kind: 'account', uin });
  }
}

// ---------------------------------------------------------------- helpers

/** A harness per test, checked and cleaned up after it. */
export function useHarness(): (o?: HarnessOptions) => Harness {
  const made: Harness[] = [];
  afterEach(() => {
    const all = made.splice(0);
    try {
      for (const h of all) {
        expect(h.doubleAnswers, 'requests answered twice').toEqual([]);
        expect(h.ghostOutputs, 'outputs of a crashed node').toEqual([]);
      }
    } finally {
      for (const h of all) h.dispose();
    }
  });
  return (o = {}) => {
    const h = new Harness(o);
    made.push(h);
    return h;
  };
}

export const OK = { Ret: 0, ErrMsg: '' };

/** Val of a key in a SyncKey, 0 when absent. */
export function keyVal(k: SyncKeyJson, key: number): number {
  return k.List.find((p) => p.Key === key)?.Val ?? 0;
}

/** Every pair of b is at least a's. */
export function expectKeyNotBehind(later: SyncKeyJson, earlier: SyncKeyJson): void {
  for (const p of earlier.List) expect(keyVal(later, p.Key), `SyncKey ${p.Key} went back`).toBeGreaterThanOrEqual(p.Val);
}

export function syncKey(pairs: Record<number, number>): SyncKeyJson {
  const List = Object.entries(pairs).map(([k, v]) => ({ Key: Number(k), Val: v }));
  return { Count: List.length, List };
}
