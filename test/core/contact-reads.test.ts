// The store reads behind the contact endpoints (remark, roomsAfter,
// peersAfter, remarkedAfter) and inRoomOf, now that rooms also lose members:
// MemoryStore, SqliteStore and the storage thread's StagedStore (its overlay
// of batches not yet committed, or committed and not yet heard of) answer
// each exactly as a SQLite store that applied every write at once. Pins
// survive a reopen, and a version 4 file gains the pin column.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Group, Remark } from '../../server/core/model.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import { SCHEMA_VERSION } from '../../server/store/sqlite-schema.ts';
import { StagedStore, type SealedBatch } from '../../server/store/staged-store.ts';
import type { Read, Write } from '../../server/store/store-ops.ts';
import { tempDb } from '../e2e/fixture.ts';

const UINS = [1, 2, 3, 4];
const ROOMS = ['@@1', '@@2', '@@3', '@@12'];
const TARGETS = ['u1', 'u2', 'u3', 'u4', 'u9', ...ROOMS];

type Op = { kind: number; a: number; b: number; c: number };

function account(uin: number): Write {
  return { kind: 'putAccount', account: { uin, userName: `u${uin}`, nickName: `n${uin}`, passwordHash: 'h', createdAt: 1, seq: 0, floor: { 1: 0, 2: 0 }, itemCount: { 1: 0, 2: 0 }, lastPrunedAt: 0, lastEvictedAt: 0 } };
}

/** Writes as the core makes them: rooms keep their owner and gain or lose members, remarks and peers are put. */
class Writes {
  private readonly rooms = new Map<string, Group>();

  make(op: Op): Write {
    const uin = UINS[op.a % UINS.length]!;
    switch (op.kind % 3) {
      case 0: {
        const name = ROOMS[op.b % ROOMS.length]!;
        const prev = this.rooms.get(name);
        const owner = prev?.ownerUin ?? uin;
        // Members by the bits of c, the owner always in, in an order that keeps those already in first.
        const wanted = UINS.filter((m) => m === owner || (op.c >> m) & 1);
        const members = [...(prev?.members.filter((m) => wanted.includes(m)) ?? []), ...wanted.filter((m) => !prev?.members.includes(m))];
        const g: Group = { userName: name, topic: `t${op.c % 3}`, ownerUin: owner, members, seq: prev?.seq ?? 0, createdAt: 1 };
        this.rooms.set(name, g);
        return { kind: 'putGroup', group: g };
      }
      case 1: {
        const remark: Remark = { uin, target: TARGETS[op.b % TARGETS.length]!, remarkName: `r${op.c % 4}` };
        if (op.c % 2) remark.pinned = true;
        return { kind: 'putRemark', remark };
      }
      default:
        return { kind: 'putPeer', uin, peer: UINS[op.b % UINS.length]! };
    }
  }
}

function reads(op: Op): Read[] {
  const uin = UINS[op.a % UINS.length]!;
  const limit = 1 + (op.c % 4);
  const after = op.b % 5;
  return [
    { kind: 'remark', uin, target: TARGETS[op.b % TARGETS.length]! },
    { kind: 'roomsAfter', uin, afterId: op.b % 4, limit },
    { kind: 'peersAfter', uin, afterUin: after, limit },
    { kind: 'remarkedAfter', uin, afterUin: after, limit },
    { kind: 'inRoomOf', member: uin, owner: UINS[op.b % UINS.length]! },
    { kind: 'groupsOf', uin, limit },
    { kind: 'remarksOf', uin, limit },
  ];
}

describe('contact reads', () => {
  const tmp = tempDb('contact-reads');
  afterAll(() => tmp.cleanup());
  let run = 0;

  it('memory, SQLite and the staged store answer alike, rooms losing members included', () => {
    const opArb = fc.record({ kind: fc.nat(99), a: fc.nat(20), b: fc.nat(20), c: fc.nat(1000) });
    fc.assert(
      fc.property(fc.array(fc.record({ op: opArb, what: fc.nat(9) }), { minLength: 1, maxLength: 80 }), (steps) => {
        const file = path.join(tmp.dir, `run-${run++}.db`);
        const writer = SqliteStore.open(file, { exclusive: false, synchronous: 'NORMAL' });
        const staged = new StagedStore(file);
        const reference = SqliteStore.open(':memory:');
        const memory = new MemoryStore({ freeze: true });
        const maker = new Writes();
        const sealed: SealedBatch[] = [];
        let committed = 0;
        const both = (writes: Write[]): void => {
          staged.stage(writes);
          for (const s of [reference, memory]) {
            s.begin();
            s.apply(writes);
            s.commit();
          }
        };
        const check = (op: Op): void => {
          for (const r of reads(op)) {
            const want = reference.read(r);
            expect(memory.read(r), `memory ${JSON.stringify(r)}`).toEqual(want);
            expect(staged.read(r), `staged ${JSON.stringify(r)}`).toEqual(want);
          }
        };
        try {
          both(UINS.map(account));
          for (const { op, what } of steps) {
            if (what < 5) both([maker.make(op)]);
            else if (what === 5) {
              const b = staged.seal();
              if (b) sealed.push(b);
            } else if (what === 6 && sealed.length > 0) {
              writer.begin();
              for (const b of sealed.splice(0, 1 + (op.a % sealed.length))) {
                writer.apply(b.writes);
                committed = b.id;
              }
              writer.commit();
            } else if (what === 7 && committed > 0) staged.committed(committed);
            else check(op);
          }
          for (let i = 0; i < 40; i++) check({ kind: 0, a: i, b: i * 3, c: i * 7 });
        } finally {
          staged.close();
          writer.close();
          reference.close();
        }
      }),
      { numRuns: 60, seed: 20260113 },
    );
  });

  it('the staged store: a member removed in a batch not yet committed is out of the room at once', () => {
    const file = path.join(tmp.dir, 'removed.db');
    const writer = SqliteStore.open(file, { exclusive: false, synchronous: 'NORMAL' });
    const staged = new StagedStore(file);
    const room = (members: number[]): Write => ({ kind: 'putGroup', group: { userName: '@@1', topic: '', ownerUin: 1, members, seq: 0, createdAt: 1 } });
    try {
      staged.stage([...UINS.map(account), room([1, 2])]);
      const first = staged.seal()!;
      writer.begin();
      writer.apply(first.writes);
      writer.commit();
      staged.committed(first.id);
      expect(staged.read({ kind: 'inRoomOf', member: 2, owner: 1 })).toBe(true);
      staged.stage([room([1])]);
      expect(staged.read({ kind: 'inRoomOf', member: 2, owner: 1 })).toBe(false);
      expect(staged.read({ kind: 'roomsAfter', uin: 2, afterId: 0, limit: 5 })).toEqual([]);
      expect(staged.read({ kind: 'groupsOf', uin: 2, limit: 5 })).toEqual([]);
      // Sealed and committed, not yet heard of: the same.
      const second = staged.seal()!;
      writer.begin();
      writer.apply(second.writes);
      writer.commit();
      expect(staged.read({ kind: 'inRoomOf', member: 2, owner: 1 })).toBe(false);
      staged.committed(second.id);
      expect(staged.read({ kind: 'inRoomOf', member: 2, owner: 1 })).toBe(false);
      expect(staged.read({ kind: 'inRoomOf', member: 1, owner: 1 })).toBe(true);
    } finally {
      staged.close();
      writer.close();
    }
  });

  it('reads rooms by numeric id (@@12 after @@3), users by uin, and keeps a pin through a reopen', () => {
    const file = path.join(tmp.dir, 'order.db');
    const s = SqliteStore.open(file);
    s.begin();
    s.apply([
      ...UINS.map(account),
      { kind: 'putGroup', group: { userName: '@@12', topic: '', ownerUin: 1, members: [1], seq: 0, createdAt: 1 } },
      { kind: 'putGroup', group: { userName: '@@3', topic: '', ownerUin: 1, members: [1], seq: 0, createdAt: 1 } },
      { kind: 'putRemark', remark: { uin: 1, target: 'u4', remarkName: 'four', pinned: true } },
      { kind: 'putRemark', remark: { uin: 1, target: 'u2', remarkName: 'two' } },
      { kind: 'putPeer', uin: 1, peer: 3 },
    ]);
    s.commit();
    s.close();
    const again = SqliteStore.open(file);
    expect(again.read({ kind: 'roomsAfter', uin: 1, afterId: 0, limit: 5 }).map((g) => g.userName)).toEqual(['@@3', '@@12']);
    expect(again.read({ kind: 'roomsAfter', uin: 1, afterId: 3, limit: 5 }).map((g) => g.userName)).toEqual(['@@12']);
    expect(again.read({ kind: 'remarkedAfter', uin: 1, afterUin: 0, limit: 5 }).map((r) => [r.uin, r.remark.remarkName, r.remark.pinned])).toEqual([[2, 'two', undefined], [4, 'four', true]]);
    expect(again.read({ kind: 'remark', uin: 1, target: 'u4' })).toEqual({ uin: 1, target: 'u4', remarkName: 'four', pinned: true });
    expect(again.read({ kind: 'peersAfter', uin: 1, afterUin: 0, limit: 5 })).toEqual([3]);
    again.close();
  });

  it('a version 4 file gains the pin column, keeping its remarks', () => {
    const file = path.join(tmp.dir, 'v4.db');
    const s = SqliteStore.open(file);
    s.begin();
    s.apply([account(1), account(2), { kind: 'putRemark', remark: { uin: 1, target: 'u2', remarkName: 'old' } }]);
    s.commit();
    s.close();
    const db = new Database(file);
    db.exec('ALTER TABLE remarks DROP COLUMN pinned');
    db.pragma('user_version = 4');
    db.close();
    const again = SqliteStore.open(file);
    expect(again.pragma('user_version')).toBe(SCHEMA_VERSION);
    expect(again.read({ kind: 'remark', uin: 1, target: 'u2' })).toEqual({ uin: 1, target: 'u2', remarkName: 'old' });
    again.begin();
    again.apply([{ kind: 'putRemark', remark: { uin: 1, target: 'u2', remarkName: 'old', pinned: true } }]);
    again.commit();
    expect(again.read({ kind: 'remark', uin: 1, target: 'u2' })?.pinned).toBe(true);
    again.close();
  });
});
