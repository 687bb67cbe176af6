// One behaviour suite for every Store (in the style of hono's
// router/common.case.test.ts): each store's test file calls runStoreSuite with
// a factory, and both must pass the same cases, including a fast-check
// property comparing the store after a crash with a plain model that applied
// only the committed transactions.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type {
  Account,
  CategoryId,
  ContactItem,
  DedupRecord,
  Device,
  Group,
  LogItem,
  MessageItem,
  MetaName,
  Remark,
  Session,
  SessionState,
} from '../../server/core/model.ts';
import type { Store } from '../../server/store/store.ts';
import type { Write } from '../../server/store/store-ops.ts';

export interface StoreHarness {
  /** A fresh, empty, open store. */
  store: Store;
  /** Closes the current store cleanly and opens the same data again. */
  reopen: () => Store;
  /** Abandons the current store as a crash would (no commit) and opens what survived. */
  crash: () => Store;
  /** Closes whatever is open and removes its files. */
  cleanup: () => void;
}

// ---------------------------------------------------------------- fixtures

const T0 = 1_700_000_000_000;

export function account(uin: number, over: Partial<Account> = {}): Account {
  return {
    uin,
    userName: `user${uin}`,
    nickName: `Nick ${uin}`,
    passwordHash: `scrypt$16384$8$1$salt${uin}$hash${uin}`,
    createdAt: T0 + uin,
    seq: 0,
    floor: { 1: 0, 2: 0 },
    itemCount: { 1: 0, 2: 0 },
    lastPrunedAt: 0,
    ...over,
  };
}

export function session(sid: string, uin: number, over: Partial<Session> = {}): Session {
  return {
    sid,
    uin,
    deviceId: 'e000000000000001',
    state: 'active',
    skey: `@crypt_${sid}_1`,
    prevSkey: '',
    skeyAt: T0,
    createdAt: T0,
    loginId: '',
    ...over,
  };
}

export function device(uin: number, deviceId: string, over: Partial<Device> = {}): Device {
  return {
    uin,
    deviceId,
    sid: `sid-${uin}-${deviceId}`,
    acked: { 1: 0, 2: 0 },
    createdAt: T0,
    lastSeenAt: T0,
    prevSid: '',
    ...over,
  };
}

export function dedup(uin: number, clientMsgId: string, createdAt: number, msgId = 1000 + createdAt - T0): DedupRecord {
  return { uin, clientMsgId, msgId, localId: `local-${clientMsgId}`, createdAt };
}

export function group(userName: string, members: number[], over: Partial<Group> = {}): Group {
  return { userName, topic: `topic ${userName}`, ownerUin: members[0] ?? 0, members, seq: 0, createdAt: T0, ...over };
}

export function remark(uin: number, target: string, remarkName: string): Remark {
  return { uin, target, remarkName };
}

export function message(uin: number, seq: number, over: Partial<MessageItem> = {}): LogItem {
  const data: MessageItem = {
    MsgId: 5000 + seq,
    NewMsgId: 5000 + seq,
    FromUserName: 'user1',
    ToUserName: `user${uin}`,
    MsgType: 1,
    Content: `hello ${seq}`,
    CreateTime: 1_700_000_000 + seq,
    ClientMsgId: `c${seq}`,
    Status: 3,
    GroupSeq: 0,
    ...over,
  };
  return { uin, category: 1, seq, createdAt: T0 + seq, data };
}

export function contact(uin: number, seq: number, over: Partial<ContactItem> = {}): LogItem {
  const data: ContactItem = {
    UserName: `@@g${seq}`,
    NickName: `group ${seq}`,
    RemarkName: '',
    MemberList: ['user1', `user${uin}`],
    MemberCount: 2,
    ...over,
  };
  return { uin, category: 2, seq, createdAt: T0 + seq, data };
}

/** begin + apply + commit. */
export function commitTx(store: Store, writes: readonly Write[]): void {
  store.begin();
  try {
    store.apply(writes);
  } catch (e) {
    store.rollback();
    throw e;
  }
  store.commit();
}

function seqs(items: readonly LogItem[]): number[] {
  return items.map((i) => i.seq);
}

// ---------------------------------------------------------------- snapshots

/** The keys a snapshot reads: every record of the tests below lives under them. */
interface Universe {
  uins: readonly number[];
  sids: readonly string[];
  deviceIds: readonly string[];
  clientMsgIds: readonly string[];
  groups: readonly string[];
}

const METAS: readonly MetaName[] = ['nextUin', 'nextMsgId', 'nextGroupId'];
const CATS: readonly CategoryId[] = [1, 2];
const ALL = 1_000_000;

/** Everything the store answers for the universe, through every Read kind. */
function snapshot(store: Store, u: Universe): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const uin of u.uins) {
    out[`account ${uin}`] = store.read({ kind: 'account', uin });
    out[`accountByName user${uin}`] = store.read({ kind: 'accountByName', userName: `user${uin}` });
    out[`devicesOf ${uin}`] = store.read({ kind: 'devicesOf', uin });
    for (const deviceId of u.deviceIds) {
      out[`device ${uin} ${deviceId}`] = store.read({ kind: 'device', uin, deviceId });
    }
    for (const clientMsgId of u.clientMsgIds) {
      out[`dedup ${uin} ${clientMsgId}`] = store.read({ kind: 'dedup', uin, clientMsgId });
    }
    out[`groupsOf ${uin}`] = store.read({ kind: 'groupsOf', uin, limit: ALL });
    out[`remarksOf ${uin}`] = store.read({ kind: 'remarksOf', uin, limit: ALL });
    for (const category of CATS) {
      out[`items ${uin} ${category}`] = store.read({ kind: 'items', uin, category, afterSeq: 0, limit: ALL });
    }
  }
  for (const sid of u.sids) out[`session ${sid}`] = store.read({ kind: 'session', sid });
  for (const userName of u.groups) out[`group ${userName}`] = store.read({ kind: 'group', userName });
  for (const name of METAS) out[`meta ${name}`] = store.read({ kind: 'meta', name });
  return out;
}

// ---------------------------------------------------------------- the model

/** A plain model of a store: what it must answer after the writes it applied. */
interface Model {
  accounts: Map<number, Account>;
  sessions: Map<string, Session>;
  /** `${uin} ${deviceId}`, in insertion order. */
  devices: Map<string, Device>;
  /** `${uin} ${clientMsgId}`. */
  dedups: Map<string, DedupRecord>;
  groups: Map<string, Group>;
  /** Groups of a member in join order. */
  joins: Map<number, string[]>;
  /** `${uin} ${target}`, in insertion order. */
  remarks: Map<string, Remark>;
  /** `${uin} ${category}`: retained items, oldest first. */
  items: Map<string, LogItem[]>;
  /** `${uin} ${category}`: the highest seq ever appended (pruned or not). */
  lastSeq: Map<string, number>;
  meta: Map<MetaName, number>;
}

function emptyModel(): Model {
  return {
    accounts: new Map(),
    sessions: new Map(),
    devices: new Map(),
    dedups: new Map(),
    groups: new Map(),
    joins: new Map(),
    remarks: new Map(),
    items: new Map(),
    lastSeq: new Map(),
    meta: new Map(),
  };
}

function modelApply(m: Model, w: Write): void {
  switch (w.kind) {
    case 'putAccount':
      m.accounts.set(w.account.uin, w.account);
      return;
    case 'putSession':
      m.sessions.set(w.session.sid, w.session);
      return;
    case 'deleteSession':
      m.sessions.delete(w.sid);
      return;
    case 'putDevice':
      m.devices.set(`${w.device.uin} ${w.device.deviceId}`, w.device);
      return;
    case 'putDedup':
      m.dedups.set(`${w.dedup.uin} ${w.dedup.clientMsgId}`, w.dedup);
      return;
    case 'putGroup': {
      const prev = m.groups.get(w.group.userName);
      m.groups.set(w.group.userName, w.group);
      for (const uin of w.group.members) {
        if (prev?.members.includes(uin)) continue;
        m.joins.set(uin, [...(m.joins.get(uin) ?? []), w.group.userName]);
      }
      return;
    }
    case 'putRemark':
      m.remarks.set(`${w.remark.uin} ${w.remark.target}`, w.remark);
      return;
    case 'appendItem': {
      const key = `${w.item.uin} ${w.item.category}`;
      m.items.set(key, [...(m.items.get(key) ?? []), w.item]);
      m.lastSeq.set(key, w.item.seq);
      return;
    }
    case 'pruneItems': {
      const key = `${w.uin} ${w.category}`;
      m.items.set(key, (m.items.get(key) ?? []).filter((i) => i.seq > w.throughSeq));
      return;
    }
    case 'pruneDedup':
      for (const [k, d] of [...m.dedups]) if (d.uin === w.uin && d.createdAt < w.before) m.dedups.delete(k);
      return;
    case 'setMeta':
      m.meta.set(w.name, w.value);
      return;
  }
}

function modelSnapshot(m: Model, u: Universe): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const uin of u.uins) {
    const acc = m.accounts.get(uin);
    out[`account ${uin}`] = acc;
    out[`accountByName user${uin}`] = acc;
    out[`devicesOf ${uin}`] = [...m.devices.values()].filter((d) => d.uin === uin);
    for (const deviceId of u.deviceIds) out[`device ${uin} ${deviceId}`] = m.devices.get(`${uin} ${deviceId}`);
    for (const clientMsgId of u.clientMsgIds) {
      out[`dedup ${uin} ${clientMsgId}`] = m.dedups.get(`${uin} ${clientMsgId}`);
    }
    out[`groupsOf ${uin}`] = (m.joins.get(uin) ?? []).map((n) => m.groups.get(n));
    out[`remarksOf ${uin}`] = [...m.remarks.values()].filter((r) => r.uin === uin);
    for (const category of CATS) out[`items ${uin} ${category}`] = m.items.get(`${uin} ${category}`) ?? [];
  }
  for (const sid of u.sids) out[`session ${sid}`] = m.sessions.get(sid);
  for (const userName of u.groups) out[`group ${userName}`] = m.groups.get(userName);
  for (const name of METAS) out[`meta ${name}`] = m.meta.get(name) ?? 0;
  return out;
}

// Abstract operations: fast-check draws them, `concretize` turns them into
// Writes that are valid in the current (uncommitted) state: appends get the
// next seqs, groups only grow, a dedup record keeps its creation time.
const P_UINS = [1, 2, 3] as const;
const P_SIDS = ['s1', 's2', 's3'] as const;
const P_DEVICES = ['d1', 'd2', 'd3'] as const;
const P_CMIDS = ['c1', 'c2', 'c3', 'c4'] as const;
const P_GROUPS = ['@@g1', '@@g2'] as const;
const P_TARGETS = ['user1', 'user2', '@@g1'] as const;
const P_UNIVERSE: Universe = {
  uins: P_UINS,
  sids: P_SIDS,
  deviceIds: P_DEVICES,
  clientMsgIds: P_CMIDS,
  groups: P_GROUPS,
};

type Op =
  | { op: 'account'; uin: number; nick: string; seq: number; f: [number, number]; c: [number, number] }
  | { op: 'session'; sid: string; uin: number; deviceId: string; state: SessionState; skey: string }
  | { op: 'device'; uin: number; deviceId: string; a: [number, number]; seen: number }
  | { op: 'dedup'; uin: number; clientMsgId: string; msgId: number }
  | { op: 'group'; userName: string; owner: number; join: number; topic: string }
  | { op: 'remark'; uin: number; target: string; name: string }
  | { op: 'append'; uin: number; category: CategoryId; gap: number; text: string }
  | { op: 'pruneItems'; uin: number; category: CategoryId; back: number }
  | { op: 'pruneDedup'; uin: number; back: number }
  | { op: 'meta'; name: MetaName; value: number };

const uinArb = fc.constantFrom(...P_UINS);
const catArb = fc.constantFrom<CategoryId>(1, 2);
const textArb = fc.string({ unit: 'binary', maxLength: 12 });
const natArb = fc.nat({ max: 2 ** 40 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('account' as const),
    uin: uinArb,
    nick: textArb,
    seq: natArb,
    f: fc.tuple(natArb, natArb),
    c: fc.tuple(natArb, natArb),
  }),
  fc.record({
    op: fc.constant('session' as const),
    sid: fc.constantFrom(...P_SIDS),
    uin: uinArb,
    deviceId: fc.constantFrom(...P_DEVICES),
    state: fc.constantFrom<SessionState>('active', 'replaced', 'loggedout'),
    skey: textArb,
  }),
  fc.record({
    op: fc.constant('device' as const),
    uin: uinArb,
    deviceId: fc.constantFrom(...P_DEVICES),
    a: fc.tuple(natArb, natArb),
    seen: natArb,
  }),
  fc.record({
    op: fc.constant('dedup' as const),
    uin: uinArb,
    clientMsgId: fc.constantFrom(...P_CMIDS),
    msgId: natArb,
  }),
  fc.record({
    op: fc.constant('group' as const),
    userName: fc.constantFrom(...P_GROUPS),
    owner: uinArb,
    join: uinArb,
    topic: textArb,
  }),
  fc.record({ op: fc.constant('remark' as const), uin: uinArb, target: fc.constantFrom(...P_TARGETS), name: textArb }),
  fc.record({
    op: fc.constant('append' as const),
    uin: uinArb,
    category: catArb,
    gap: fc.integer({ min: 1, max: 3 }),
    text: textArb,
  }),
  fc.record({
    op: fc.constant('pruneItems' as const),
    uin: uinArb,
    category: catArb,
    back: fc.integer({ min: 0, max: 6 }),
  }),
  fc.record({ op: fc.constant('pruneDedup' as const), uin: uinArb, back: fc.integer({ min: 0, max: 8 }) }),
  fc.record({ op: fc.constant('meta' as const), name: fc.constantFrom(...METAS), value: natArb }),
);

interface TxPlan {
  ops: Op[];
  commit: boolean;
}

const txArb: fc.Arbitrary<TxPlan> = fc.record({ ops: fc.array(opArb, { maxLength: 8 }), commit: fc.boolean() });

function concretize(op: Op, m: Model, now: number): Write {
  switch (op.op) {
    case 'account':
      return {
        kind: 'putAccount',
        account: account(op.uin, {
          nickName: op.nick,
          seq: op.seq,
          floor: { 1: op.f[0], 2: op.f[1] },
          itemCount: { 1: op.c[0], 2: op.c[1] },
          lastPrunedAt: now,
        }),
      };
    case 'session':
      return {
        kind: 'putSession',
        session: session(op.sid, op.uin, { deviceId: op.deviceId, state: op.state, skey: op.skey, skeyAt: now }),
      };
    case 'device':
      return {
        kind: 'putDevice',
        device: device(op.uin, op.deviceId, { acked: { 1: op.a[0], 2: op.a[1] }, lastSeenAt: op.seen }),
      };
    case 'dedup': {
      // A (sender, ClientMsgId) is recorded once; a rewrite keeps its creation time.
      const prev = m.dedups.get(`${op.uin} ${op.clientMsgId}`);
      return { kind: 'putDedup', dedup: dedup(op.uin, op.clientMsgId, prev?.createdAt ?? now, op.msgId) };
    }
    case 'group': {
      const prev = m.groups.get(op.userName);
      if (!prev) {
        const members = op.join === op.owner ? [op.owner] : [op.owner, op.join];
        return { kind: 'putGroup', group: group(op.userName, members, { topic: op.topic, createdAt: now }) };
      }
      // Members only join (v1 has no way to leave a group); every put bumps the group seq.
      const members = prev.members.includes(op.join) ? prev.members : [...prev.members, op.join];
      return { kind: 'putGroup', group: { ...prev, members, topic: op.topic, seq: prev.seq + 1 } };
    }
    case 'remark':
      return { kind: 'putRemark', remark: remark(op.uin, op.target, op.name) };
    case 'append': {
      const seq = (m.lastSeq.get(`${op.uin} ${op.category}`) ?? 0) + op.gap;
      const item =
        op.category === 1
          ? message(op.uin, seq, { Content: op.text })
          : contact(op.uin, seq, { NickName: op.text, MemberList: [op.text, 'user1'] });
      return { kind: 'appendItem', item: { ...item, createdAt: now } };
    }
    case 'pruneItems':
      return {
        kind: 'pruneItems',
        uin: op.uin,
        category: op.category,
        throughSeq: (m.lastSeq.get(`${op.uin} ${op.category}`) ?? 0) - op.back,
      };
    case 'pruneDedup':
      return { kind: 'pruneDedup', uin: op.uin, before: now - op.back };
    case 'meta':
      return { kind: 'setMeta', name: op.name, value: op.value };
  }
}

// ---------------------------------------------------------------- the suite

export function runStoreSuite(name: string, make: () => StoreHarness): void {
  describe(`Store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(() => {
      h = make();
      store = h.store;
    });
    afterEach(() => {
      h.cleanup();
    });

    describe('empty store', () => {
      it('answers every read kind with nothing', () => {
        expect(store.read({ kind: 'account', uin: 1 })).toBeUndefined();
        expect(store.read({ kind: 'accountByName', userName: 'user1' })).toBeUndefined();
        expect(store.read({ kind: 'session', sid: 's1' })).toBeUndefined();
        expect(store.read({ kind: 'device', uin: 1, deviceId: 'd1' })).toBeUndefined();
        expect(store.read({ kind: 'devicesOf', uin: 1 })).toEqual([]);
        expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c1' })).toBeUndefined();
        expect(store.read({ kind: 'group', userName: '@@g1' })).toBeUndefined();
        expect(store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([]);
        expect(store.read({ kind: 'remarksOf', uin: 1, limit: 10 })).toEqual([]);
        expect(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([]);
      });

      it('meta defaults to 0', () => {
        for (const name of METAS) expect(store.read({ kind: 'meta', name })).toBe(0);
      });
    });

    describe('records round-trip exactly', () => {
      it('accountsAfter: uin order from a cursor, limited', () => {
        commitTx(store, [3, 1, 7, 2, 5].map((uin) => ({ kind: 'putAccount' as const, account: account(uin) })));
        const uins = (after: number, limit: number): number[] => store.read({ kind: 'accountsAfter', afterUin: after, limit }).map((a) => a.uin);
        expect(uins(0, 10)).toEqual([1, 2, 3, 5, 7]);
        expect(uins(0, 2)).toEqual([1, 2]);
        expect(uins(2, 2)).toEqual([3, 5]);
        expect(uins(5, 10)).toEqual([7]);
        expect(uins(7, 10)).toEqual([]);
        expect(store.read({ kind: 'accountsAfter', afterUin: 2, limit: 1 })[0]).toEqual(account(3));
      });

      it('accounts, by uin and by name', () => {
        const a = account(7, {
          nickName: 'Zoë 🐼 "quoted"',
          seq: 2 ** 40,
          floor: { 1: 3, 2: 4 },
          itemCount: { 1: 5, 2: 6 },
          lastPrunedAt: T0 + 99,
        });
        const b = account(4_294_967_295, { userName: 'max_uin-1' });
        commitTx(store, [
          { kind: 'putAccount', account: a },
          { kind: 'putAccount', account: b },
        ]);
        expect(store.read({ kind: 'account', uin: 7 })).toEqual(a);
        expect(store.read({ kind: 'accountByName', userName: 'user7' })).toEqual(a);
        expect(store.read({ kind: 'account', uin: 4_294_967_295 })).toEqual(b);
        expect(store.read({ kind: 'accountByName', userName: 'max_uin-1' })).toEqual(b);
        expect(store.read({ kind: 'accountByName', userName: 'USER7' })).toBeUndefined();
        expect(store.read({ kind: 'account', uin: 8 })).toBeUndefined();
      });

      it('a second put replaces the account', () => {
        commitTx(store, [{ kind: 'putAccount', account: account(1) }]);
        const next = account(1, { seq: 10, floor: { 1: 2, 2: 0 }, itemCount: { 1: 8, 2: 1 }, lastPrunedAt: T0 + 5 });
        commitTx(store, [{ kind: 'putAccount', account: next }]);
        expect(store.read({ kind: 'account', uin: 1 })).toEqual(next);
        expect(store.read({ kind: 'accountByName', userName: 'user1' })).toEqual(next);
      });

      it('sessions', () => {
        const s = session('a'.repeat(32), 1, { state: 'replaced', prevSkey: '@crypt_old', skeyAt: T0 + 1 });
        commitTx(store, [{ kind: 'putSession', session: s }]);
        expect(store.read({ kind: 'session', sid: s.sid })).toEqual(s);
        const out = { ...s, state: 'loggedout' as const, skey: '@crypt_new', prevSkey: s.skey };
        commitTx(store, [{ kind: 'putSession', session: out }]);
        expect(store.read({ kind: 'session', sid: s.sid })).toEqual(out);
        expect(store.read({ kind: 'session', sid: 'other' })).toBeUndefined();
        // Deleting forgets it; a rollback of a delete brings it back.
        store.begin();
        store.apply([{ kind: 'deleteSession', sid: s.sid }]);
        expect(store.read({ kind: 'session', sid: s.sid })).toBeUndefined();
        store.rollback();
        expect(store.read({ kind: 'session', sid: s.sid })).toEqual(out);
        commitTx(store, [{ kind: 'deleteSession', sid: s.sid }, { kind: 'deleteSession', sid: 'never-there' }]);
        expect(store.read({ kind: 'session', sid: s.sid })).toBeUndefined();
      });

      it('devices, and devicesOf in insertion order', () => {
        const d2 = device(1, 'd2');
        const d1 = device(1, 'd1', { acked: { 1: 17, 2: 3 } });
        const d3 = device(1, 'd3', { sid: '' });
        const other = device(2, 'd1');
        commitTx(store, [
          { kind: 'putDevice', device: d2 },
          { kind: 'putDevice', device: d1 },
          { kind: 'putDevice', device: other },
          { kind: 'putDevice', device: d3 },
        ]);
        expect(store.read({ kind: 'device', uin: 1, deviceId: 'd1' })).toEqual(d1);
        expect(store.read({ kind: 'device', uin: 2, deviceId: 'd1' })).toEqual(other);
        expect(store.read({ kind: 'device', uin: 2, deviceId: 'd2' })).toBeUndefined();
        expect(store.read({ kind: 'devicesOf', uin: 1 })).toEqual([d2, d1, d3]);
        expect(store.read({ kind: 'devicesOf', uin: 2 })).toEqual([other]);
        // An update keeps the device's place.
        const d2b = { ...d2, acked: { 1: 40, 2: 41 }, lastSeenAt: T0 + 40 };
        commitTx(store, [{ kind: 'putDevice', device: d2b }]);
        expect(store.read({ kind: 'devicesOf', uin: 1 })).toEqual([d2b, d1, d3]);
      });

      it('dedup records, per sender', () => {
        const r = dedup(1, 'client-1', T0 + 1);
        commitTx(store, [{ kind: 'putDedup', dedup: r }]);
        expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'client-1' })).toEqual(r);
        expect(store.read({ kind: 'dedup', uin: 2, clientMsgId: 'client-1' })).toBeUndefined();
        expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'client-2' })).toBeUndefined();
      });

      it('groups, and groupsOf in join order', () => {
        const g2 = group('@@2', [1, 2]);
        const g1 = group('@@1', [3, 1]);
        const g3 = group('@@3', [2, 3]);
        commitTx(store, [
          { kind: 'putGroup', group: g2 },
          { kind: 'putGroup', group: g1 },
        ]);
        commitTx(store, [{ kind: 'putGroup', group: g3 }]);
        expect(store.read({ kind: 'group', userName: '@@1' })).toEqual(g1);
        expect(store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([g2, g1]);
        expect(store.read({ kind: 'groupsOf', uin: 2, limit: 10 })).toEqual([g2, g3]);
        expect(store.read({ kind: 'groupsOf', uin: 3, limit: 10 })).toEqual([g1, g3]);
        expect(store.read({ kind: 'groupsOf', uin: 3, limit: 1 })).toEqual([g1]);
        expect(store.read({ kind: 'groupsOf', uin: 4, limit: 10 })).toEqual([]);
      });

      it('a group update keeps join order; a later joiner gets it last', () => {
        const g1 = group('@@1', [1, 2]);
        const g2 = group('@@2', [1, 3]);
        commitTx(store, [
          { kind: 'putGroup', group: g1 },
          { kind: 'putGroup', group: g2 },
        ]);
        const g1b = { ...g1, seq: 5, topic: 'renamed', members: [1, 2, 3] };
        commitTx(store, [{ kind: 'putGroup', group: g1b }]);
        expect(store.read({ kind: 'group', userName: '@@1' })).toEqual(g1b);
        expect(store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([g1b, g2]);
        expect(store.read({ kind: 'groupsOf', uin: 3, limit: 10 })).toEqual([g2, g1b]);
        // A seq bump with the same members changes nothing else.
        const g1c = { ...g1b, seq: 6 };
        commitTx(store, [{ kind: 'putGroup', group: g1c }]);
        expect(store.read({ kind: 'groupsOf', uin: 3, limit: 10 })).toEqual([g2, g1c]);
      });

      it('remarks in insertion order; an update keeps its place', () => {
        const rb = remark(1, 'user2', 'Bob');
        const ra = remark(1, 'user3', 'Alice');
        const rg = remark(1, '@@9', 'Family 家');
        commitTx(store, [
          { kind: 'putRemark', remark: rb },
          { kind: 'putRemark', remark: ra },
          { kind: 'putRemark', remark: remark(2, 'user1', 'Me') },
          { kind: 'putRemark', remark: rg },
        ]);
        expect(store.read({ kind: 'remarksOf', uin: 1, limit: 10 })).toEqual([rb, ra, rg]);
        expect(store.read({ kind: 'remarksOf', uin: 1, limit: 2 })).toEqual([rb, ra]);
        const rb2 = remark(1, 'user2', 'Robert');
        commitTx(store, [{ kind: 'putRemark', remark: rb2 }]);
        expect(store.read({ kind: 'remarksOf', uin: 1, limit: 10 })).toEqual([rb2, ra, rg]);
        expect(store.read({ kind: 'remarksOf', uin: 2, limit: 10 })).toEqual([remark(2, 'user1', 'Me')]);
      });

      it('meta counters', () => {
        commitTx(store, [
          { kind: 'setMeta', name: 'nextUin', value: 100_000 },
          { kind: 'setMeta', name: 'nextMsgId', value: 2 ** 50 },
        ]);
        commitTx(store, [{ kind: 'setMeta', name: 'nextUin', value: 100_001 }]);
        expect(store.read({ kind: 'meta', name: 'nextUin' })).toBe(100_001);
        expect(store.read({ kind: 'meta', name: 'nextMsgId' })).toBe(2 ** 50);
        expect(store.read({ kind: 'meta', name: 'nextGroupId' })).toBe(0);
      });
    });

    describe('items', () => {
      it('message and contact items round-trip with their data', () => {
        const m = message(1, 1, { Content: 'line1\nline2 \u0000 \u2028 😀 <b>&amp;</b>', MsgType: 10000 });
        const c = contact(1, 2, { MemberList: ['user1', 'user2', 'user3'], MemberCount: 3, RemarkName: 'Fam' });
        commitTx(store, [
          { kind: 'appendItem', item: m },
          { kind: 'appendItem', item: c },
        ]);
        expect(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([m]);
        expect(store.read({ kind: 'items', uin: 1, category: 2, afterSeq: 0, limit: 10 })).toEqual([c]);
        expect(store.read({ kind: 'items', uin: 2, category: 1, afterSeq: 0, limit: 10 })).toEqual([]);
      });

      it('pages with afterSeq and limit, oldest first', () => {
        // Sequences need not be consecutive; categories share the account's generator.
        const msgSeqs = [1, 2, 4, 7, 8, 10, 11];
        commitTx(store, [
          ...msgSeqs.map((s): Write => ({ kind: 'appendItem', item: message(1, s) })),
          ...[3, 5, 6, 9].map((s): Write => ({ kind: 'appendItem', item: contact(1, s) })),
        ]);
        const page = (afterSeq: number, limit: number) =>
          seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq, limit }));
        expect(page(0, 3)).toEqual([1, 2, 4]);
        expect(page(4, 3)).toEqual([7, 8, 10]);
        expect(page(10, 3)).toEqual([11]);
        expect(page(11, 3)).toEqual([]);
        expect(page(3, 1)).toEqual([4]);
        expect(page(5, 100)).toEqual([7, 8, 10, 11]);
        expect(page(0, 0)).toEqual([]);
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 2, afterSeq: 0, limit: 100 }))).toEqual([3, 5, 6, 9]);
        // Paging to the end visits every item once, in order.
        const seen: number[] = [];
        for (let after = 0; ; ) {
          const got = page(after, 2);
          if (got.length === 0) break;
          seen.push(...got);
          after = got[got.length - 1]!;
        }
        expect(seen).toEqual(msgSeqs);
      });

      it('pruneItems deletes through a seq for one (uin, category)', () => {
        commitTx(store, [
          ...[1, 2, 3, 4, 5].map((s): Write => ({ kind: 'appendItem', item: message(1, s) })),
          ...[1, 2, 3].map((s): Write => ({ kind: 'appendItem', item: message(2, s) })),
          { kind: 'appendItem', item: contact(1, 6) },
        ]);
        commitTx(store, [{ kind: 'pruneItems', uin: 1, category: 1, throughSeq: 3 }]);
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([4, 5]);
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 4, limit: 10 }))).toEqual([5]);
        expect(seqs(store.read({ kind: 'items', uin: 2, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1, 2, 3]);
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 2, afterSeq: 0, limit: 10 }))).toEqual([6]);
        // Pruning is idempotent, and appending continues after it.
        commitTx(store, [
          { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 3 },
          { kind: 'pruneItems', uin: 9, category: 1, throughSeq: 3 },
          { kind: 'appendItem', item: message(1, 7) },
        ]);
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([4, 5, 7]);
        commitTx(store, [{ kind: 'pruneItems', uin: 1, category: 1, throughSeq: 100 }]);
        expect(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([]);
      });

      it('appending out of order is an error', () => {
        commitTx(store, [
          { kind: 'appendItem', item: message(1, 5) },
          { kind: 'appendItem', item: message(2, 1) },
          { kind: 'appendItem', item: contact(1, 1) },
        ]);
        store.begin();
        expect(() => store.apply([{ kind: 'appendItem', item: message(1, 5) }])).toThrow(/out of order/);
        expect(() => store.apply([{ kind: 'appendItem', item: message(1, 3) }])).toThrow(/out of order/);
        store.rollback();
        // Other logs are independent; the log itself still accepts the next seq.
        commitTx(store, [{ kind: 'appendItem', item: message(1, 6) }]);
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([5, 6]);
      });
    });

    describe('dedup pruning', () => {
      it('pruneDedup drops one sender’s records created before the time', () => {
        const rs = [1, 2, 3, 4].map((i) => dedup(1, `c${i}`, T0 + i * 10));
        const other = dedup(2, 'c1', T0);
        commitTx(store, [
          ...rs.map((d): Write => ({ kind: 'putDedup', dedup: d })),
          { kind: 'putDedup', dedup: other },
        ]);
        commitTx(store, [{ kind: 'pruneDedup', uin: 1, before: T0 + 30 }]);
        expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c1' })).toBeUndefined();
        expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c2' })).toBeUndefined();
        // `before` is exclusive.
        expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c3' })).toEqual(rs[2]);
        expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c4' })).toEqual(rs[3]);
        expect(store.read({ kind: 'dedup', uin: 2, clientMsgId: 'c1' })).toEqual(other);
        // A pruned id can be recorded again.
        const again = dedup(1, 'c1', T0 + 50);
        commitTx(store, [
          { kind: 'putDedup', dedup: again },
          { kind: 'pruneDedup', uin: 7, before: T0 + 1000 },
        ]);
        expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c1' })).toEqual(again);
        commitTx(store, [{ kind: 'pruneDedup', uin: 1, before: T0 + 1000 }]);
        for (const id of ['c1', 'c2', 'c3', 'c4']) {
          expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: id })).toBeUndefined();
        }
        expect(store.read({ kind: 'dedup', uin: 2, clientMsgId: 'c1' })).toEqual(other);
      });
    });

    describe('transactions', () => {
      it('reads inside a transaction see its earlier writes', () => {
        store.begin();
        store.apply([
          { kind: 'putAccount', account: account(1) },
          { kind: 'setMeta', name: 'nextUin', value: 2 },
          { kind: 'appendItem', item: message(1, 1) },
          { kind: 'putGroup', group: group('@@1', [1]) },
        ]);
        expect(store.read({ kind: 'account', uin: 1 })).toEqual(account(1));
        expect(store.read({ kind: 'accountByName', userName: 'user1' })).toEqual(account(1));
        expect(store.read({ kind: 'meta', name: 'nextUin' })).toBe(2);
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1]);
        expect(store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([group('@@1', [1])]);
        store.apply([
          { kind: 'appendItem', item: message(1, 2) },
          { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 1 },
        ]);
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([2]);
        store.commit();
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([2]);
      });

      it('rollback discards every kind of write and restores replaced records', () => {
        const u: Universe = {
          uins: [1, 2],
          sids: ['s1', 's2'],
          deviceIds: ['d1', 'd2'],
          clientMsgIds: ['c1', 'c2'],
          groups: ['@@1', '@@2'],
        };
        commitTx(store, [
          { kind: 'putAccount', account: account(1) },
          { kind: 'putSession', session: session('s1', 1) },
          { kind: 'putDevice', device: device(1, 'd1') },
          { kind: 'putDedup', dedup: dedup(1, 'c1', T0) },
          { kind: 'putGroup', group: group('@@1', [1, 2]) },
          { kind: 'putRemark', remark: remark(1, 'user2', 'Bob') },
          { kind: 'appendItem', item: message(1, 1) },
          { kind: 'appendItem', item: message(1, 2) },
          { kind: 'setMeta', name: 'nextUin', value: 3 },
        ]);
        const before = snapshot(store, u);
        store.begin();
        store.apply([
          { kind: 'putAccount', account: account(1, { seq: 9 }) },
          { kind: 'putAccount', account: account(2) },
          { kind: 'putSession', session: session('s1', 1, { state: 'replaced' }) },
          { kind: 'putSession', session: session('s2', 2) },
          { kind: 'putDevice', device: device(1, 'd1', { acked: { 1: 2, 2: 0 } }) },
          { kind: 'putDevice', device: device(1, 'd2') },
          { kind: 'putDedup', dedup: dedup(1, 'c2', T0 + 5) },
          { kind: 'pruneDedup', uin: 1, before: T0 + 1 },
          { kind: 'putGroup', group: group('@@1', [1, 2], { seq: 1 }) },
          { kind: 'putGroup', group: group('@@2', [2, 1]) },
          { kind: 'putRemark', remark: remark(1, 'user2', 'Robert') },
          { kind: 'putRemark', remark: remark(1, '@@1', 'Team') },
          { kind: 'appendItem', item: message(1, 3) },
          { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 2 },
          { kind: 'appendItem', item: contact(2, 1) },
          { kind: 'setMeta', name: 'nextUin', value: 4 },
          { kind: 'setMeta', name: 'nextGroupId', value: 3 },
        ]);
        expect(snapshot(store, u)).not.toEqual(before);
        store.rollback();
        expect(snapshot(store, u)).toEqual(before);
        // The store works normally afterwards, and nothing of the rollback returns.
        commitTx(store, [{ kind: 'appendItem', item: message(1, 3) }]);
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1, 2, 3]);
        store = h.reopen();
        expect(store.read({ kind: 'account', uin: 2 })).toBeUndefined();
        expect(store.read({ kind: 'meta', name: 'nextGroupId' })).toBe(0);
      });

      it('guards the transaction protocol', () => {
        expect(() => store.apply([{ kind: 'setMeta', name: 'nextUin', value: 1 }])).toThrow();
        expect(() => store.commit()).toThrow();
        expect(() => store.rollback()).toThrow();
        store.begin();
        expect(() => store.begin()).toThrow();
        store.apply([{ kind: 'setMeta', name: 'nextUin', value: 1 }]);
        store.commit();
        expect(store.read({ kind: 'meta', name: 'nextUin' })).toBe(1);
      });

      it('counts commits', () => {
        const counted = store as Store & { commits?: number };
        const start = counted.commits ?? 0;
        commitTx(store, [{ kind: 'setMeta', name: 'nextUin', value: 1 }]);
        store.begin();
        store.rollback();
        commitTx(store, []);
        expect(counted.commits).toBe(start + 2);
      });

      it('a closed store refuses reads', () => {
        store.close();
        expect(() => store.read({ kind: 'meta', name: 'nextUin' })).toThrow();
      });

      it('close rolls back an open transaction', () => {
        commitTx(store, [{ kind: 'setMeta', name: 'nextUin', value: 1 }]);
        store.begin();
        store.apply([{ kind: 'setMeta', name: 'nextUin', value: 2 }]);
        store = h.reopen();
        expect(store.read({ kind: 'meta', name: 'nextUin' })).toBe(1);
      });
    });

    describe('durability', () => {
      const u: Universe = {
        uins: [1, 2, 3],
        sids: ['s1', 's2'],
        deviceIds: ['d1', 'd2'],
        clientMsgIds: ['c1', 'c2', 'c3'],
        groups: ['@@1', '@@2'],
      };

      function fill(s: Store): void {
        commitTx(s, [
          { kind: 'putAccount', account: account(1) },
          { kind: 'putAccount', account: account(2, { seq: 4, floor: { 1: 1, 2: 0 }, itemCount: { 1: 2, 2: 1 } }) },
          { kind: 'putSession', session: session('s1', 1) },
          { kind: 'putDevice', device: device(1, 'd2') },
          { kind: 'putDevice', device: device(1, 'd1') },
          { kind: 'putDedup', dedup: dedup(1, 'c1', T0) },
          { kind: 'putDedup', dedup: dedup(1, 'c2', T0 + 1) },
          { kind: 'putGroup', group: group('@@2', [2, 1]) },
          { kind: 'putGroup', group: group('@@1', [1, 2, 3], { seq: 3 }) },
          { kind: 'putRemark', remark: remark(1, 'user3', 'Carol') },
          { kind: 'putRemark', remark: remark(1, 'user2', 'Bob') },
          { kind: 'setMeta', name: 'nextUin', value: 4 },
          { kind: 'setMeta', name: 'nextGroupId', value: 3 },
        ]);
        commitTx(s, [
          { kind: 'appendItem', item: message(1, 1) },
          { kind: 'appendItem', item: message(1, 2) },
          { kind: 'appendItem', item: contact(1, 3) },
          { kind: 'appendItem', item: message(2, 1) },
          { kind: 'appendItem', item: message(2, 3) },
          { kind: 'pruneItems', uin: 2, category: 1, throughSeq: 1 },
          { kind: 'pruneDedup', uin: 1, before: T0 + 1 },
        ]);
      }

      it('commit then reopen keeps everything', () => {
        fill(store);
        const committed = snapshot(store, u);
        expect(committed['devicesOf 1']).toEqual([device(1, 'd2'), device(1, 'd1')]);
        store = h.reopen();
        expect(snapshot(store, u)).toEqual(committed);
        store = h.reopen();
        expect(snapshot(store, u)).toEqual(committed);
      });

      it('a crash keeps what was committed and loses exactly the open transaction', () => {
        fill(store);
        const committed = snapshot(store, u);
        store.begin();
        store.apply([
          { kind: 'putAccount', account: account(3) },
          { kind: 'putAccount', account: account(1, { seq: 50 }) },
          { kind: 'putSession', session: session('s2', 3) },
          { kind: 'putDevice', device: device(3, 'd1') },
          { kind: 'putDedup', dedup: dedup(1, 'c3', T0 + 9) },
          { kind: 'pruneDedup', uin: 1, before: T0 + 100 },
          { kind: 'putGroup', group: group('@@1', [1, 2, 3], { seq: 4 }) },
          { kind: 'putRemark', remark: remark(1, 'user2', 'Robert') },
          { kind: 'appendItem', item: message(1, 4) },
          { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 2 },
          { kind: 'setMeta', name: 'nextUin', value: 5 },
        ]);
        store = h.crash();
        expect(snapshot(store, u)).toEqual(committed);
        // The recovered store takes new transactions and keeps them.
        commitTx(store, [{ kind: 'appendItem', item: message(1, 4) }]);
        store = h.reopen();
        expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1, 2, 4]);
      });

      it('a crash between transactions loses nothing', () => {
        fill(store);
        const committed = snapshot(store, u);
        store = h.crash();
        expect(snapshot(store, u)).toEqual(committed);
      });

      it('500 appends in 50 transactions survive a reopen, in order', () => {
        let seq = 0;
        const expected: LogItem[] = [];
        for (let t = 0; t < 50; t++) {
          const writes: Write[] = [];
          for (let i = 0; i < 10; i++) {
            seq += 1 + (i % 3);
            const item = i % 4 === 3 ? contact(1, seq) : message(1, seq, { Content: `tx ${t} item ${i}` });
            writes.push({ kind: 'appendItem', item });
            expected.push(item);
          }
          writes.push({ kind: 'putAccount', account: account(1, { seq }) });
          commitTx(store, writes);
        }
        store = h.reopen();
        for (const category of CATS) {
          const got = store.read({ kind: 'items', uin: 1, category, afterSeq: 0, limit: 1000 });
          expect(got).toEqual(expected.filter((i) => i.category === category));
        }
        expect(store.read({ kind: 'account', uin: 1 })?.seq).toBe(seq);
      });
    });

    describe('property', () => {
      it('after random transactions and a crash, the store equals a model of the committed ones', () => {
        fc.assert(
          fc.property(fc.array(txArb, { maxLength: 10 }), fc.array(opArb, { maxLength: 8 }), (txs, open) => {
            const run = make();
            let s = run.store;
            try {
              let model = emptyModel();
              let now = T0;
              const exec = (ops: readonly Op[], work: Model): void => {
                for (const op of ops) {
                  const w = concretize(op, work, (now += 1));
                  modelApply(work, w);
                  s.apply([w]);
                }
              };
              for (const tx of txs) {
                const work = structuredClone(model);
                s.begin();
                exec(tx.ops, work);
                expect(snapshot(s, P_UNIVERSE)).toEqual(modelSnapshot(work, P_UNIVERSE));
                if (tx.commit) {
                  s.commit();
                  model = work;
                } else {
                  s.rollback();
                }
                expect(snapshot(s, P_UNIVERSE)).toEqual(modelSnapshot(model, P_UNIVERSE));
              }
              s.begin();
              exec(open, structuredClone(model));
              s = run.crash();
              expect(snapshot(s, P_UNIVERSE)).toEqual(modelSnapshot(model, P_UNIVERSE));
            } finally {
              run.cleanup();
            }
          }),
          { numRuns: 100 },
        );
      });
    });
  });
}
