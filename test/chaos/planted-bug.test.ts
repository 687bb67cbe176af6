// A chaos run has teeth: the planted bug skip-dedup in the real server child
// fails the run with a readable exactly-once violation, and the same plan
// without the bug passes. It fails by the plan, not by luck: the proxy hands
// the server a second copy of every HTTP request of the fault phase, so every
// send reaches the server twice and a server that does not deduplicate by
// ClientMsgId stores it twice. No timing is asserted; the bounds are generous.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calm } from '../../scenarios/calm.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import { checkHistory } from '../../chaos/check-history.ts';
import { readHistory } from '../../chaos/history.ts';
import { judge } from '../../chaos/judge.ts';
import { makePlan } from '../../chaos/plan.ts';
import { verdictLines } from '../../chaos/report.ts';
import { runChaos, type ChaosRunResult } from '../../chaos/runner.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

/** Two accounts, one web (HTTP) device each, a few sends a second, every request duplicated. */
const SCENARIO: Scenario = {
  ...calm,
  workload: { ...calm.workload, accounts: 2, devicesPerAccount: [1, 1], transports: { http: 1, tcp: 0, ws: 0 }, groups: 0, sendsPerSecond: 3, groupSendFraction: 0, remarkFraction: 0, burst: { everyMs: 0, size: 0 } },
  faults: { ...calm.faults, duplicateProbability: 1 },
  node: { holdMs: 2_000, heartbeatSec: 3 },
};
const SEED = '1';
const OPTIONS = { durationMs: 4_000, livenessBoundMs: 30_000 };

const run = promisify(execFile);

/** The CLI's exit code and output (it exits 1 when a run fails). */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'chaos/cli.ts', ...args], { cwd: REPO, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

describe('a planted bug in a chaos run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-bug-'));
  const file = path.join(dir, 'skip-dedup.jsonl');
  let buggy: ChaosRunResult;
  let clean: ChaosRunResult;
  let badBug: Awaited<ReturnType<typeof cli>>;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Both runs (and the CLI) at once: the machine's time goes to one wait, and none depends on another.
  beforeAll(async () => {
    [buggy, clean, badBug] = await Promise.all([
      runChaos({ scenario: SCENARIO, seed: SEED, ...OPTIONS, bugs: ['skip-dedup'], historyFile: file }),
      runChaos({ scenario: SCENARIO, seed: SEED, ...OPTIONS }),
      cli(['--scenario', 'calm', '--bug', 'no-such-bug']),
    ]);
  }, 120_000);

  it('plans sends in the fault phase, and records the bug in the plan', () => {
    const plan = makePlan(SCENARIO, SEED, { ...OPTIONS, bugs: ['skip-dedup'] });
    expect(plan.spec.ops.filter((o) => o.kind === 'send').length).toBeGreaterThan(2);
    expect(plan.bugs).toEqual(['skip-dedup']);
    expect(makePlan(SCENARIO, SEED, OPTIONS).bugs).toBeUndefined();
  });

  it('skip-dedup fails with an exactly-once violation that names the message, its device and how to re-judge it', () => {
    const f = buggy.verdict.failure;
    expect(f?.guarantee, f ? `${f.guarantee}: ${f.detail}` : 'passed').toBe('exactly-once');
    expect(f!.detail).toMatch(/^ClientMsgId \S+ of u[01] has two MsgIDs: \d+ and \d+$/);
    expect(buggy.proxy.duplicated).toBeGreaterThan(0);
    const text = verdictLines(buggy.verdict, buggy.history.records).join('\n');
    expect(text).toMatch(/violated: exactly-once at u[01]\.d0 \(t=[\d.]+ s, history line \d+\)/);
    expect(text).toMatch(/the message it names, through the run:\n.* user-send /);
    // Written: the history (with the bug in its run record), the plan for the simulator with the bug, the picture beside.
    expect(buggy.historyFile).toBe(file);
    const records = readHistory(file);
    expect(records[0]!.k === 'run' && records[0]!.plan.bugs).toEqual(['skip-dedup']);
    expect(judge(records)).toEqual(buggy.verdict);
    expect(JSON.parse(fs.readFileSync(buggy.specFile!, 'utf8'))).toMatchObject({ format: 'synckey-replay/1', bugs: ['skip-dedup'], spec: buggy.plan.spec });
    expect(buggy.htmlFile).toBe(path.join(dir, 'skip-dedup.html'));
    expect(fs.readFileSync(buggy.htmlFile!, 'utf8')).toContain(`exactly-once violated at ${f!.who}`);
  });

  it('the same plan without the bug passes, duplicates and all', () => {
    const f = clean.verdict.failure;
    expect(f, f ? `${f.guarantee} at ${f.who}: ${f.detail}\n${f.recent.join('\n')}` : '').toBeUndefined();
    expect(clean.plan.spec).toEqual(buggy.plan.spec);
    expect(clean.proxy.duplicated).toBeGreaterThan(0);
    expect(clean.verdict.counts.acked).toBeGreaterThan(2);
    expect(clean.historyFile).toBeUndefined();
  });

  it('--check re-judges the history with its bug and draws it with --html', () => {
    const html = path.join(dir, 'again.html');
    const check = checkHistory(file, html);
    const text = check.lines.join('\n');
    expect(check.code).toBe(1);
    expect(text).toContain('with planted bug skip-dedup');
    expect(text).toContain('planted bugs: skip-dedup (in the server)');
    expect(text).toContain(`violated: exactly-once at ${buggy.verdict.failure!.who}`);
    expect(text).toContain(`npm run sim -- --replay ${buggy.specFile}`);
    expect(text).toContain(`picture: ${html}`);
    expect(fs.readFileSync(html, 'utf8')).toContain(`npm run chaos -- --check ${file}`);
  });

  it('the CLI takes a bug it knows only', () => {
    expect(badBug.code, badBug.stderr).toBe(2);
    expect(badBug.stderr).toContain("unknown planted bug 'no-such-bug'");
  });
});
