// SqliteStore when undoing itself fails: a ROLLBACK or a ROLLBACK TO that
// throws (an I/O error while undoing) must still leave the record cache
// empty, and a command's writes that cannot be undone alone must take the
// whole transaction with them, so that no part of a failed command commits
// and no rolled-back record is answered from the cache later.
import { describe, expect, it } from 'vitest';
import type { SqliteStatements } from '../../server/store/sqlite-statements.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import { account, message } from './suite/fixtures.ts';

/** Makes one of the store's prepared statements throw after (or instead of) running. */
function breakStatement(store: SqliteStore, name: 'rollback' | 'rollbackToSavepoint', runFirst: boolean): void {
  const st = (store as unknown as { st: SqliteStatements }).st;
  const real = st[name];
  st[name] = {
    run: () => {
      if (runFirst) real.run();
      throw new Error('disk I/O error');
    },
  } as unknown as typeof real;
}

describe('SqliteStore when an undo fails', () => {
  it('a ROLLBACK that throws still empties the cache of the records it undid', () => {
    const store = SqliteStore.open(':memory:');
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(1) }]);
    // Read through the cache: the account is there now.
    expect(store.read({ kind: 'account', uin: 1 })).toEqual(account(1));
    breakStatement(store, 'rollback', true);
    expect(() => store.rollback()).toThrow('disk I/O error');
    expect(store.inTransaction).toBe(false);
    expect(store.read({ kind: 'account', uin: 1 })).toBeUndefined();
  });

  it('writes that cannot be undone alone take the transaction with them, and the cache forgets them', () => {
    const store = SqliteStore.open(':memory:');
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(1, { seq: 5 }) }, { kind: 'appendItem', item: message(1, 5) }]);
    store.commit();
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(2) }]);
    breakStatement(store, 'rollbackToSavepoint', false);
    // Out of order after seq 5: the append throws after the account was written (and cached).
    expect(() => store.apply([{ kind: 'putAccount', account: account(3) }, { kind: 'appendItem', item: message(1, 4) }])).toThrow(/out of order/);
    expect(store.inTransaction).toBe(false);
    expect(store.read({ kind: 'account', uin: 3 })).toBeUndefined();
    expect(store.read({ kind: 'account', uin: 2 })).toBeUndefined();
    expect(store.read({ kind: 'account', uin: 1 })).toEqual(account(1, { seq: 5 }));
  });
});
