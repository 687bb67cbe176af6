// The SQLite store's write-through cache never answers what the database
// would not: after writes, after a rollback, across a reopen.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordCache } from '../../server/store/record-cache.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import { account, session } from './suite/fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function open(): { store: SqliteStore; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'record-cache-'));
  dirs.push(dir);
  const file = path.join(dir, 'db.sqlite');
  return { store: SqliteStore.open(file), file };
}

describe('SqliteStore record cache', () => {
  it('a counters-only account update (the narrow path) is durable', () => {
    const { store, file } = open();
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(1, { userName: 'ann', seq: 1 }) }]);
    store.commit();
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(1, { userName: 'ann', seq: 5, floor: { 1: 2, 2: 0 }, itemCount: { 1: 3, 2: 0 }, lastPrunedAt: 9 }) }]);
    store.commit();
    store.close();
    const again = SqliteStore.open(file);
    expect(again.read({ kind: 'account', uin: 1 })).toEqual(account(1, { userName: 'ann', seq: 5, floor: { 1: 2, 2: 0 }, itemCount: { 1: 3, 2: 0 }, lastPrunedAt: 9 }));
    again.close();
  });

  it('a rollback forgets cached writes: reads go back to the committed record', () => {
    const { store } = open();
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(1, { userName: 'ann', seq: 1 }) }]);
    store.commit();
    expect(store.read({ kind: 'account', uin: 1 })?.seq).toBe(1);
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(1, { userName: 'ann', seq: 9 }) }, { kind: 'setMeta', name: 'nextMsgId', value: 7 }]);
    expect(store.read({ kind: 'account', uin: 1 })?.seq).toBe(9);
    expect(store.read({ kind: 'meta', name: 'nextMsgId' })).toBe(7);
    store.rollback();
    expect(store.read({ kind: 'account', uin: 1 })?.seq).toBe(1);
    expect(store.read({ kind: 'accountByName', userName: 'ann' })?.seq).toBe(1);
    expect(store.read({ kind: 'meta', name: 'nextMsgId' })).toBe(0);
    store.close();
  });

  it('a rename drops the old name; sessions and devices read back what was written', () => {
    const { store, file } = open();
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(2, { userName: 'bea' }) }, { kind: 'putSession', session: session('s1', 2) }]);
    store.commit();
    expect(store.read({ kind: 'accountByName', userName: 'bea' })?.uin).toBe(2);
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(2, { userName: 'bee' }) }, { kind: 'putSession', session: session('s1', 2, { state: 'replaced' }) }]);
    store.commit();
    expect(store.read({ kind: 'accountByName', userName: 'bea' })).toBeUndefined();
    expect(store.read({ kind: 'accountByName', userName: 'bee' })?.uin).toBe(2);
    expect(store.read({ kind: 'session', sid: 's1' })?.state).toBe('replaced');
    store.close();
    const again = SqliteStore.open(file);
    expect(again.read({ kind: 'session', sid: 's1' })?.state).toBe('replaced');
    expect(again.read({ kind: 'accountByName', userName: 'bee' })?.uin).toBe(2);
    again.close();
  });

  it('is bounded: past maxEntries a kind is emptied, and reads fall through to the database', () => {
    const c = new RecordCache(3);
    for (let i = 1; i <= 3; i++) c.putAccount(account(i, { userName: `u${i}` }));
    expect(c.account(3)?.uin).toBe(3);
    c.putAccount(account(4, { userName: 'u4' }));
    expect(c.account(1)).toBeUndefined();
    expect(c.account(4)?.uin).toBe(4);
  });
});
