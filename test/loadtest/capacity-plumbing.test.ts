// The capacity profile's plumbing that runs without a server: a child
// started through withFdLimit gets the limit it asked for (or the hard one,
// never less than it had), the arguments pass through the shell untouched,
// and the holders split the links and take loopback source addresses.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { planFdLimit, procFdLimits, withFdLimit } from '../../loadtest/capacity/fd-limit.ts';
import { holdersFor, sourceAddress } from '../../loadtest/capacity/holder-fleet.ts';

describe('capacity plumbing', () => {
  it('starts a child under the planned open-files limit, arguments untouched', () => {
    const own = procFdLimits();
    if (!own) return; // not Linux: nothing to read back
    const want = Math.min(own.hard, own.soft + 100);
    const plan = planFdLimit(want);
    expect(plan.limit).toBeGreaterThanOrEqual(Math.min(want, own.hard));
    const run = withFdLimit(want, process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', 'a b', '$HOME', '"q"']);
    const child = spawnSync(run.cmd, run.args, { encoding: 'utf8' });
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual(['a b', '$HOME', '"q"']);
    const ask = withFdLimit(want, 'sh', ['-c', 'ulimit -n']);
    const limit = spawnSync(ask.cmd, ask.args, { encoding: 'utf8' });
    expect(Number(limit.stdout.trim())).toBeGreaterThanOrEqual(Math.min(want, own.hard));
    // A limit that cannot be had falls back to the hard one and says why.
    const tooMany = planFdLimit(own.hard + 1_000_000);
    if (tooMany.limit === own.hard) expect(tooMany.how).toMatch(/cannot be raised/);
  });

  it('splits links over holders and gives each its own loopback address', () => {
    expect(holdersFor(50_000, 12_500)).toBe(4);
    expect(holdersFor(50_001, 12_500)).toBe(5);
    expect(holdersFor(0, 12_500)).toBe(1);
    expect(sourceAddress(0)).toBe('127.0.0.2');
    expect(sourceAddress(3)).toBe('127.0.0.5');
    expect(() => sourceAddress(253)).toThrow(RangeError);
  });
});
