// `npm run loadtest -- --profile smoke` as CI runs it: the server in a child
// process on a temporary database, every transport driven through the
// reference client on real sockets, the bare baselines, a report folder; and
// nothing acknowledged is lost or applied twice.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../loadtest/report.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the smoke load test', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loadtest-smoke-'));
  const out = path.join(dir, 'report');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs every transport and the baselines, loses nothing, duplicates nothing, and writes a report folder', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'loadtest/cli.ts'), '--profile', 'smoke', '--out', out], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (c) => (log += c));
    child.stderr.on('data', (c) => (log += c));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, log).toBe(0);

    for (const f of ['report.json', 'summary.md', 'chart.svg']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    const r = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
    expect(r.passed, log).toBe(true);
    expect(r.totals).toEqual({ lost: 0, duplicated: 0, mismatched: 0 });
    const server = r.phases.filter((p) => p.kind === 'synckey');
    // Peak and half-peak on each transport, and the mixed stage.
    expect(server.map((p) => `${p.transport} ${p.stage}`).sort()).toEqual(
      ['http half-peak', 'http peak', 'mixed mixed', 'tcp half-peak', 'tcp peak', 'ws half-peak', 'ws peak'].sort(),
    );
    for (const p of server) {
      expect(p.acked, p.name).toBeGreaterThan(0);
      expect(p.durable, p.name).toBe(p.acked);
      expect(p.deliveryLatencyMs.count, p.name).toBeGreaterThan(0);
      expect(p.memory.length, p.name).toBeGreaterThan(0);
    }
    expect(r.phases.filter((p) => p.kind.startsWith('bare-'))).toHaveLength(6);
    const md = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(md).toMatch(/\*\*PASSED\*\*/);
    expect(md).toMatch(/\| TCP \| 8 \|/);
    const svg = fs.readFileSync(path.join(out, 'chart.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toMatch(/<polyline /);
  }, 90_000);
});
