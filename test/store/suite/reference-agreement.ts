// Every read kind against the reference: random batches of every write kind
// (rooms that gain and lose members, pins, media, appends out of order,
// names already taken) go to the store under test and to a MemoryStore, some
// committed, some rolled back, some failing part-way; both must accept or
// refuse each apply alike, and answer every read alike after it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CategoryId, Group } from '../../../server/core/model.ts';
import { asAsync, type AsyncStore } from '../../../server/store/async-store.ts';
import { MemoryStore } from '../../../server/store/memory-store.ts';
import type { Read, Write } from '../../../server/store/store-ops.ts';
import type { SuiteContext } from './harness.ts';
import { media } from './media-records.ts';

const UINS = [1, 2, 3];
const NAMES = ['user1', 'user2', 'user3', 'user9'];
const ROOMS = ['@@1', '@@2', '@@12'];
const TARGETS = [...NAMES, ...ROOMS];
const MEDIA = ['@media_a', '@media_b', '@media_c'];

type Step = { op: number; a: number; b: number; c: number };
const stepArb = fc.record({ op: fc.nat(99), a: fc.nat(30), b: fc.nat(30), c: fc.nat(1000) });
const txArb = fc.record({ steps: fc.array(stepArb, { minLength: 1, maxLength: 6 }), split: fc.nat(5), end: fc.nat(9) });

/**
 * The cases of WriteMaker.make, weighted: rooms, remarks, appends and media
 * (the writes whose reads are joins or scans) come up most, so that a few
 * runs already see rooms lose members and logs hold media.
 */
const KINDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 9, 9, 10, 11, 12, 13, 14, 14, 15];

const pick = <T,>(xs: readonly T[], n: number): T => xs[n % xs.length]!;

/** Writes as the core makes them, mostly: appends usually after the log's end, rooms keeping their owner. */
class WriteMaker {
  private readonly lastSeq = new Map<string, number>();
  private readonly rooms = new Map<string, Group>();
  private clock = 1000;

  make(s: Step): Write {
    const uin = pick(UINS, s.a);
    const now = ++this.clock;
    switch (KINDS[s.op % KINDS.length]) {
      case 0:
        // The name may belong to another account already: both stores must refuse that apply.
        return { kind: 'putAccount', account: { uin, userName: pick(NAMES, s.a + (s.b % 5 === 0 ? 1 : 0)), nickName: `n${s.c % 5}\u0000`, passwordHash: 'h', createdAt: 1, seq: s.c, floor: { 1: s.b, 2: 0 }, itemCount: { 1: s.c % 9, 2: 1 }, lastPrunedAt: now, lastEvictedAt: 0 } };
      case 1:
        return { kind: 'putSession', session: { sid: `s${s.b % 4}`, uin, deviceId: `d${s.c % 2}`, state: pick(['active', 'replaced', 'loggedout'] as const, s.c), skey: `k${s.c}`, prevSkey: '', skeyAt: now, createdAt: now, loginId: `l${s.b}` } };
      case 2:
        return { kind: 'deleteSession', sid: `s${s.b % 4}` };
      case 3:
        return { kind: 'putDevice', device: { uin, deviceId: `d${s.b % 3}`, sid: `s${s.c % 4}`, prevSid: '', retiredSids: s.c % 3 ? [] : ['r1', 'r2'], acked: { 1: s.c % 7, 2: 0 }, createdAt: now, lastSeenAt: now } };
      case 4:
        return { kind: 'deleteDevice', uin, deviceId: `d${s.b % 3}` };
      case 5:
        return { kind: 'putPeer', uin, peer: pick(UINS, s.b) };
      case 6:
        return { kind: 'putDedup', dedup: { uin, clientMsgId: `c${s.b % 4}`, msgId: s.c, localId: `l${s.c}`, createdAt: now } };
      case 7:
        return { kind: 'pruneDedup', uin, before: now - (s.b % 8) };
      case 8: {
        const name = pick(ROOMS, s.b);
        const prev = this.rooms.get(name);
        const owner = prev?.ownerUin ?? uin;
        // Members by the bits of c, the owner always in; those already in keep their order.
        const wanted = UINS.filter((m) => m === owner || (s.c >> m) & 1);
        const members = [...(prev?.members.filter((m) => wanted.includes(m)) ?? []), ...wanted.filter((m) => !prev?.members.includes(m))];
        const g: Group = { userName: name, topic: `t${s.c % 3}`, ownerUin: owner, members, seq: (prev?.seq ?? 0) + 1, createdAt: prev?.createdAt ?? now };
        this.rooms.set(name, g);
        return { kind: 'putGroup', group: g };
      }
      case 9:
        return { kind: 'putRemark', remark: { uin, target: pick(TARGETS, s.b), remarkName: `r${s.c % 3}`, ...(s.c % 2 ? { pinned: true as const } : {}) } };
      case 10:
      case 11:
      case 12: {
        const category = ((s.b % 2) + 1) as CategoryId;
        const key = `${uin}:${category}`;
        const last = this.lastSeq.get(key) ?? 0;
        // Now and then behind the log's end: both stores must refuse that apply.
        const seq = s.c % 11 === 0 ? Math.max(1, last) : last + 1 + (s.c % 3);
        this.lastSeq.set(key, Math.max(last, seq));
        const data =
          category === 1
            ? { MsgId: 100 + (s.c % 20), NewMsgId: seq, FromUserName: 'user1', ToUserName: 'user2', MsgType: 3, Content: `m${seq}`, CreateTime: now, ClientMsgId: `x${seq}`, Status: 3, GroupSeq: 0, ...(s.c % 4 === 0 ? { MediaId: pick(MEDIA, s.c) } : {}) }
            : { UserName: `user${seq}`, NickName: 'n', RemarkName: '', MemberList: [], MemberCount: 0 };
        return { kind: 'appendItem', item: { uin, category, seq, createdAt: now, data } as never };
      }
      case 13: {
        const category = ((s.b % 2) + 1) as CategoryId;
        const last = this.lastSeq.get(`${uin}:${category}`) ?? 0;
        return { kind: 'pruneItems', uin, category, throughSeq: Math.max(0, last - (s.c % 4)) };
      }
      case 14:
        // A MediaId or (owner, ClientMediaId) may be taken: both stores must refuse that apply.
        return { kind: 'putMedia', media: { ...media(pick(MEDIA, s.c), uin, `cm${s.b % 3}`, 10 + s.c), createdAt: now } };
      default:
        return { kind: 'setMeta', name: pick(['nextUin', 'nextMsgId', 'nextGroupId'] as const, s.b), value: s.c };
    }
  }
}

/** Every read kind over the small universe the writes use. */
function allReads(): Read[] {
  const reads: Read[] = [{ kind: 'accountsAfter', afterUin: 0, limit: 10 }, { kind: 'accountsAfter', afterUin: 1, limit: 1 }];
  for (const name of NAMES) reads.push({ kind: 'accountByName', userName: name });
  for (const s of [0, 1, 2, 3]) reads.push({ kind: 'session', sid: `s${s}` });
  for (const room of ROOMS) reads.push({ kind: 'group', userName: room });
  for (const m of MEDIA) reads.push({ kind: 'media', mediaId: m });
  for (const name of ['nextUin', 'nextMsgId', 'nextGroupId'] as const) reads.push({ kind: 'meta', name });
  for (const uin of UINS) {
    reads.push(
      { kind: 'account', uin },
      { kind: 'devicesOf', uin },
      { kind: 'groupsOf', uin, limit: 10 },
      { kind: 'groupsOf', uin, limit: 1 },
      { kind: 'remarksOf', uin, limit: 10 },
      { kind: 'roomsAfter', uin, afterId: 0, limit: 10 },
      { kind: 'roomsAfter', uin, afterId: 1, limit: 1 },
      { kind: 'peersAfter', uin, afterUin: 0, limit: 10 },
      { kind: 'peersAfter', uin, afterUin: 1, limit: 1 },
      { kind: 'remarkedAfter', uin, afterUin: 0, limit: 10 },
      { kind: 'remarkedAfter', uin, afterUin: 1, limit: 1 },
      { kind: 'mediaBytes', uin },
      { kind: 'logMedia', uin, msgId: 100 + uin },
      { kind: 'logHasMedia', uin, mediaId: MEDIA[uin % MEDIA.length]! },
      { kind: 'items', uin, category: 1, afterSeq: 0, limit: 100 },
      { kind: 'items', uin, category: 2, afterSeq: 2, limit: 2 },
    );
    for (const d of [0, 1, 2]) reads.push({ kind: 'device', uin, deviceId: `d${d}` });
    for (const c of [0, 1, 2, 3]) reads.push({ kind: 'dedup', uin, clientMsgId: `c${c}` });
    for (const t of TARGETS) reads.push({ kind: 'remark', uin, target: t });
    for (const cm of [0, 1, 2]) reads.push({ kind: 'mediaByClient', uin, clientMediaId: `cm${cm}` });
    for (const other of UINS) reads.push({ kind: 'peers', a: uin, b: other }, { kind: 'inRoomOf', member: uin, owner: other });
  }
  return reads;
}

const READS = allReads();

/** Every read's answer, keyed by the read (a failure names the reads that differ). */
async function answers(store: AsyncStore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const r of READS) out[JSON.stringify(r)] = await store.read(r);
  return out;
}

/** Resolves to 'ok' or 'refused': whether the store took the apply. */
async function outcome(p: Promise<void>): Promise<'ok' | 'refused'> {
  try {
    await p;
    return 'ok';
  } catch {
    return 'refused';
  }
}

export function referenceAgreementCases(ctx: SuiteContext): void {
  describe('agrees with the reference store', () => {
    const name = 'every read kind answers as MemoryStore does, after every kind of write, rollback and refused apply';
    (ctx.isReference ? it.skip : it)(ctx.isReference ? `${name} (this store is the reference)` : name, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(txArb, { minLength: 1, maxLength: 8 }), async (txs) => {
          const h = await ctx.make();
          const store = h.store;
          const ref = asAsync(new MemoryStore({ freeze: true }));
          const maker = new WriteMaker();
          try {
            for (const tx of txs) {
              const writes = tx.steps.map((s) => maker.make(s));
              // One transaction, its writes in two applies: a refused one leaves the other.
              const cut = tx.split % (writes.length + 1);
              await store.begin();
              await ref.begin();
              for (const part of [writes.slice(0, cut), writes.slice(cut)]) {
                const [got, want] = [await outcome(store.apply(part)), await outcome(ref.apply(part))];
                expect(got, JSON.stringify(part)).toBe(want);
              }
              // Reads inside the transaction see it.
              expect(await answers(store)).toEqual(await answers(ref));
              if (tx.end < 3) {
                await store.rollback();
                await ref.rollback();
              } else {
                await store.commit();
                await ref.commit();
              }
              expect(await answers(store)).toEqual(await answers(ref));
            }
          } finally {
            await h.cleanup();
            await ref.close();
          }
        }),
        { numRuns: ctx.agreementRuns, endOnFailure: !ctx.shrink },
      );
    });
  });
}
