// A power cut under synchronous NORMAL (docs/protocol.md section 9.2): the
// memory store's model of it (the last unsynced commits undone, newest
// first), and the fence that every store runs when it opens after such a
// stop, so that no identity a lost commit handed out is handed out again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FENCE_GAP, fenceIdentities } from '../../server/store/identity-fence.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import type { Write } from '../../server/store/store-ops.ts';
import { account, group, message } from './suite/fixtures.ts';

function commit(store: Store, writes: Write[]): void {
  store.begin();
  store.apply(writes);
  store.commit();
}

function counters(store: Store): number[] {
  return [store.read({ kind: 'meta', name: 'nextUin' }), store.read({ kind: 'meta', name: 'nextMsgId' }), store.read({ kind: 'meta', name: 'nextGroupId' })];
}

/** Two accounts in a room, three messages, every counter set. */
function seed(store: Store): void {
  commit(store, [
    { kind: 'putAccount', account: account(1, { seq: 3 }) },
    { kind: 'putAccount', account: account(2, { seq: 1 }) },
    { kind: 'putGroup', group: group('@@g1', [1, 2], { seq: 7 }) },
    { kind: 'appendItem', item: message(1, 1) },
    { kind: 'appendItem', item: message(1, 2) },
    { kind: 'appendItem', item: message(1, 3) },
    { kind: 'setMeta', name: 'nextUin', value: 2 },
    { kind: 'setMeta', name: 'nextMsgId', value: 40 },
    { kind: 'setMeta', name: 'nextGroupId', value: 1 },
  ]);
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'power-loss-'));
  dirs.push(dir);
  return path.join(dir, 'store.db');
}

describe('the identity fence', () => {
  it.each(['memory', 'sqlite'] as const)('moves every counter, account sequence and room sequence past what lost commits can have handed out (%s)', (kind) => {
    const store: Store = kind === 'memory' ? new MemoryStore({ freeze: true }) : SqliteStore.open(':memory:');
    seed(store);
    fenceIdentities(store);
    expect(counters(store)).toEqual([2 + FENCE_GAP, 40 + FENCE_GAP, 1 + FENCE_GAP]);
    expect(store.read({ kind: 'account', uin: 1 })).toEqual(account(1, { seq: 3 + FENCE_GAP }));
    expect(store.read({ kind: 'account', uin: 2 })).toEqual(account(2, { seq: 1 + FENCE_GAP }));
    expect(store.read({ kind: 'group', userName: '@@g1' })).toEqual(group('@@g1', [1, 2], { seq: 7 + FENCE_GAP }));
    // The log itself is untouched: a device's key anywhere up to the fence is accepted and reads what follows.
    expect(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([message(1, 1), message(1, 2), message(1, 3)]);
    expect(store.read({ kind: 'groupsOf', uin: 2, limit: 10 }).map((g) => g.userName)).toEqual(['@@g1']);
    store.close();
  });
});

describe('the memory store under synchronous NORMAL', () => {
  it('a power cut undoes the last unsynced commits, newest first, and says what they wrote', () => {
    const m = new MemoryStore({ freeze: true });
    seed(m);
    m.keepUnsynced(2);
    const second: Write[] = [{ kind: 'appendItem', item: message(1, 4) }, { kind: 'putAccount', account: account(1, { seq: 4 }) }, { kind: 'setMeta', name: 'nextMsgId', value: 41 }];
    const third: Write[] = [{ kind: 'appendItem', item: message(1, 5) }, { kind: 'putAccount', account: account(1, { seq: 5 }) }, { kind: 'setMeta', name: 'nextMsgId', value: 42 }];
    const fourth: Write[] = [{ kind: 'putAccount', account: account(3) }, { kind: 'setMeta', name: 'nextUin', value: 3 }];
    commit(m, second);
    commit(m, third);
    commit(m, fourth);
    m.crash();
    // Only two commits were still unsynced: the second reached the disk.
    expect(m.powerLoss(3)).toEqual([third, fourth]);
    expect(m.read({ kind: 'account', uin: 1 })).toEqual(account(1, { seq: 4 }));
    expect(m.read({ kind: 'account', uin: 3 })).toBeUndefined();
    expect(m.read({ kind: 'accountsAfter', afterUin: 0, limit: 10 }).map((a) => a.uin)).toEqual([1, 2]);
    expect(m.read({ kind: 'items', uin: 1, category: 1, afterSeq: 3, limit: 10 })).toEqual([message(1, 4)]);
    expect(counters(m)).toEqual([2, 41, 1]);
    // Reopened, it fences before anything is handed out: MsgId 42 and seq 5 went to devices, never again.
    m.reopen();
    expect(counters(m)).toEqual([2 + FENCE_GAP, 41 + FENCE_GAP, 1 + FENCE_GAP]);
    expect(m.read({ kind: 'account', uin: 1 })!.seq).toBe(4 + FENCE_GAP);
  });

  it('keeps pruned items until no unsynced commit may need them back', () => {
    const m = new MemoryStore();
    m.keepUnsynced(2);
    const items: Write[] = [];
    for (let seq = 1; seq <= 3000; seq++) items.push({ kind: 'appendItem', item: message(1, seq) });
    commit(m, [{ kind: 'putAccount', account: account(1, { seq: 3000 }) }, ...items]);
    // Enough pruned for the log to compact at a commit, were it not for the power cut that may take this one back.
    commit(m, [{ kind: 'pruneItems', uin: 1, category: 1, throughSeq: 2500 }]);
    expect(m.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 1 })).toEqual([message(1, 2501)]);
    m.crash();
    expect(m.powerLoss(1)).toHaveLength(1);
    const back = m.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 5000 });
    expect(back).toHaveLength(3000);
    expect(back[0]).toEqual(message(1, 1));
  });

  it('a crash loses no commit and fences on reopen; under FULL a crash does not fence', () => {
    const normal = new MemoryStore();
    seed(normal);
    normal.keepUnsynced(4);
    normal.crash();
    normal.reopen();
    expect(counters(normal)).toEqual([2 + FENCE_GAP, 40 + FENCE_GAP, 1 + FENCE_GAP]);
    // The fence itself is synced: a power cut right after takes nothing of it back.
    normal.crash();
    expect(normal.powerLoss(4)).toEqual([]);
    const full = new MemoryStore();
    seed(full);
    full.crash();
    full.reopen();
    expect(counters(full)).toEqual([2, 40, 1]);
  });
});

describe('SqliteStore under synchronous NORMAL', () => {
  it('an open after a connection that never closed fences; an open after a clean close does not', () => {
    const file = tempFile();
    const first = SqliteStore.open(file, { synchronous: 'NORMAL', exclusive: false });
    seed(first);
    // The first connection is never closed: its process died with it, perhaps in a power cut.
    const second = SqliteStore.open(file, { synchronous: 'NORMAL', exclusive: false });
    expect(counters(second)).toEqual([2 + FENCE_GAP, 40 + FENCE_GAP, 1 + FENCE_GAP]);
    expect(second.read({ kind: 'account', uin: 1 })!.seq).toBe(3 + FENCE_GAP);
    second.close();
    const third = SqliteStore.open(file, { synchronous: 'NORMAL', exclusive: false });
    expect(counters(third)).toEqual([2 + FENCE_GAP, 40 + FENCE_GAP, 1 + FENCE_GAP]);
    expect(third.pragma('synchronous')).toBe(1);
    third.close();
    first.close();
  });

  it('under FULL an open neither fences nor marks the file', () => {
    const file = tempFile();
    const first = SqliteStore.open(file, { exclusive: false });
    seed(first);
    const second = SqliteStore.open(file, { synchronous: 'NORMAL', exclusive: false });
    expect(counters(second)).toEqual([2, 40, 1]);
    second.close();
    first.close();
  });
});
