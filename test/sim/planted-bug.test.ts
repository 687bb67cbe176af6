// The checkers have teeth: a planted bug fails the run, and the printed
// replay line reproduces the failure exactly.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/index.ts';
import { runScenario } from '../../sim/run.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('planted bugs are caught', () => {
  it('skip-dedup breaks exactly-once on flaky-wifi, and the run replays identically', () => {
    const s = scenarioByName('flaky-wifi');
    const bugs = new Set(['skip-dedup'] as const);
    const seed = ['1', '2', '3', '4', '5'].find((x) => !runScenario(s, x, { bugs }).ok);
    expect(seed, 'skip-dedup caught within seeds 1..5').toBeDefined();
    const a = runScenario(s, seed!, { bugs });
    const b = runScenario(s, seed!, { bugs });
    expect(a.failure?.guarantee).toBe('exactly-once');
    expect(b.failure).toEqual(a.failure);
    expect(b.traceHash).toBe(a.traceHash);
    // Without the bug the same seed passes.
    expect(runScenario(s, seed!).ok).toBe(true);
  });

  it('group-order-per-member breaks order on calm', () => {
    const r = runScenario(scenarioByName('calm'), '1', { bugs: new Set(['group-order-per-member']) });
    expect(r.failure?.guarantee).toBe('order');
  });

  it('the CLI prints one line that replays a failure, and exits 1', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', '--scenario', 'calm', '--seed', '1', '--bug', 'group-order-per-member'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAIL calm seed 1: order at u\d\.d\d, event \d+/);
    expect(run.stdout).toContain('replay: npm run sim -- --scenario calm --seed 1 --bug group-order-per-member');
    expect(run.stdout).toContain('last events:');
  });

  it('the CLI rejects a bad flag with the help and exit 2', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', '--seeds', 'many'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--seeds takes a whole number');
    expect(run.stderr).toContain('npm run sim -- --scenario NAME --seed N');
  });
});
