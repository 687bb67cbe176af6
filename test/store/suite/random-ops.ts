// Abstract operations: fast-check draws them, `concretize` turns them into
// Writes that are valid in the current (uncommitted) state: appends get the
// next seqs, groups only grow, a dedup record keeps its creation time.
import fc from 'fast-check';
import type { CategoryId, MetaName, SessionState } from '../../../server/core/model.ts';
import type { Write } from '../../../server/store/store-ops.ts';
import { account, contact, dedup, device, group, message, remark, session } from './fixtures.ts';
import type { Model } from './reference-model.ts';
import { METAS, type Universe } from './snapshot.ts';

const P_UINS = [1, 2, 3] as const;
const P_SIDS = ['s1', 's2', 's3'] as const;
const P_DEVICES = ['d1', 'd2', 'd3'] as const;
const P_CMIDS = ['c1', 'c2', 'c3', 'c4'] as const;
const P_GROUPS = ['@@g1', '@@g2'] as const;
const P_TARGETS = ['user1', 'user2', '@@g1'] as const;
export const P_UNIVERSE: Universe = {
  uins: P_UINS,
  sids: P_SIDS,
  deviceIds: P_DEVICES,
  clientMsgIds: P_CMIDS,
  groups: P_GROUPS,
};

export type Op =
  | { op: 'account'; uin: number; nick: string; seq: number; f: [number, number]; c: [number, number] }
  | { op: 'session'; sid: string; uin: number; deviceId: string; state: SessionState; skey: string }
  | { op: 'device'; uin: number; deviceId: string; a: [number, number]; seen: number; retired: string[] }
  | { op: 'deleteDevice'; uin: number; deviceId: string }
  | { op: 'peer'; uin: number; peer: number }
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

export const opArb: fc.Arbitrary<Op> = fc.oneof(
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
    retired: fc.array(fc.constantFrom('a1', 'zz9', '1b2c3d4e5f6g'), { maxLength: 3 }),
  }),
  fc.record({ op: fc.constant('deleteDevice' as const), uin: uinArb, deviceId: fc.constantFrom(...P_DEVICES) }),
  fc.record({ op: fc.constant('peer' as const), uin: uinArb, peer: uinArb }),
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

export const txArb: fc.Arbitrary<TxPlan> = fc.record({ ops: fc.array(opArb, { maxLength: 8 }), commit: fc.boolean() });

export function concretize(op: Op, m: Model, now: number): Write {
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
        device: device(op.uin, op.deviceId, { acked: { 1: op.a[0], 2: op.a[1] }, lastSeenAt: op.seen, retiredSids: op.retired }),
      };
    case 'deleteDevice':
      return { kind: 'deleteDevice', uin: op.uin, deviceId: op.deviceId };
    case 'peer':
      return { kind: 'putPeer', uin: op.uin, peer: op.peer };
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
