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
import { Harness } from '../harness/core-harness.ts';
import { STORES, type StoreKind } from '../harness/crash-store.ts';
import { commands } from './command-mix.ts';
import { Login, Register } from './commands/accounts.ts';
import { flush } from './model-checks.ts';
import { Model, SYNC_LIMIT, type Cmd } from './reference-model.ts';

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
