// The command runner when the store fails (issue 11, finding 8): a command
// whose writes fail is undone alone (a savepoint per command) and its batch
// commits without it; a commit that fails, even after the database rolled
// back on its own, answers every command of the batch with Ret 1 once, and
// the runner goes on serving with a new transaction.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { account, message } from '../store/suite/fixtures.ts';
import type { Plan } from '../../server/core/plan.ts';
import { CommandRunner } from '../../server/node/command-runner.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import type { Step, Write } from '../../server/store/store-ops.ts';
import { ForwardingStore } from '../../server/store/forwarding-store.ts';

const SERVER_ERROR = { BaseResponse: { Ret: 1, ErrMsg: 'internal error' } };

/** A store whose next commit fails; `rolledBack`: the database had rolled the transaction back by then. */
class FailingCommitStore extends ForwardingStore {
  failNext: 'no' | 'rolledBack' | 'stillOpen' = 'no';

  override commit(): void {
    const how = this.failNext;
    this.failNext = 'no';
    if (how === 'no') return this.inner.commit();
    if (how === 'rolledBack') {
      this.inner.rollback();
      throw new Error('disk I/O error (the transaction was rolled back)');
    }
    throw new Error('database is locked');
  }
}

/** A command that writes `writes` and answers `reply`. */
function* command(writes: Write[], reply: unknown): Step<Plan> {
  yield* [];
  return { writes, reply, effects: [] };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function open(kind: 'memory' | 'sqlite'): Store {
  if (kind === 'memory') return new MemoryStore({ freeze: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-test-'));
  dirs.push(dir);
  return SqliteStore.open(path.join(dir, 'store.db'));
}

describe.each(['memory', 'sqlite'] as const)('the command runner when writes or commits fail (%s)', (kind) => {
  it('a command whose writes fail answers Ret 1 alone; the rest of its batch commits', () => {
    const store = open(kind);
    const runner = new CommandRunner(store);
    const answers: unknown[] = [];
    runner.submit(command([{ kind: 'putAccount', account: account(1) }, { kind: 'appendItem', item: message(1, 5) }], 'first'), (r) => answers.push(r));
    // Out of order after seq 5: the store throws part-way through this command's writes.
    runner.submit(command([{ kind: 'putAccount', account: account(2) }, { kind: 'appendItem', item: message(1, 3) }], 'bad'), (r) => answers.push(r));
    runner.submit(command([{ kind: 'putAccount', account: account(3) }], 'third'), (r) => answers.push(r));
    runner.flush();
    expect(answers).toEqual(['first', SERVER_ERROR, 'third']);
    expect(runner.stats).toMatchObject({ commands: 3, commits: 1, failures: 1 });
    expect(store.read({ kind: 'account', uin: 1 })).toEqual(account(1));
    expect(store.read({ kind: 'account', uin: 2 })).toBeUndefined();
    expect(store.read({ kind: 'account', uin: 3 })).toEqual(account(3));
    expect(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }).map((i) => i.seq)).toEqual([5]);
    store.close();
  });

  it.each(['rolledBack', 'stillOpen'] as const)('a failed commit (%s) answers the whole batch with Ret 1, once, and the runner goes on', (how) => {
    const store = new FailingCommitStore(open(kind));
    const runner = new CommandRunner(store);
    const answers: unknown[] = [];
    for (const uin of [1, 2, 3]) runner.submit(command([{ kind: 'putAccount', account: account(uin) }], `ok ${uin}`), (r) => answers.push(r));
    store.failNext = how;
    expect(() => runner.flush()).not.toThrow();
    expect(answers).toEqual([SERVER_ERROR, SERVER_ERROR, SERVER_ERROR]);
    expect(runner.hasWork).toBe(false);
    for (const uin of [1, 2, 3]) expect(store.read({ kind: 'account', uin })).toBeUndefined();

    runner.submit(command([{ kind: 'putAccount', account: account(4) }], 'after'), (r) => answers.push(r));
    runner.flush();
    expect(answers).toEqual([SERVER_ERROR, SERVER_ERROR, SERVER_ERROR, 'after']);
    expect(store.read({ kind: 'account', uin: 4 })).toEqual(account(4));
    store.close();
  });
});
