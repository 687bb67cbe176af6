// `--k6`: runs both k6 scripts (loadtest/k6/web.js and longlink.js) against
// the SyncKey server when a k6 binary is on PATH; their JSON summaries land
// in the report folder. Without k6 the report says so.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { K6Report } from '../report.ts';
import type { RunContext } from '../run-context.ts';
import type { SyncKeyServer } from '../server-under-test.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPTS = ['web.js', 'longlink.js'];
/** Seconds after the sends within which a delivery is on time; later ones count as late. */
const DRAIN_SEC = 5;
/** Seconds the receivers listen past the drain to tell a late message from a missing one (a clean run ends before). */
const LATE_SEC = 10;
/** A script still running after this long is killed. */
const SCRIPT_TIMEOUT_MS = 4 * 60_000;

function findOnPath(bin: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function k6Stage(run: RunContext, srv: SyncKeyServer, outDir: string): Promise<K6Report> {
  const k6 = findOnPath('k6');
  if (!k6) return { ran: false, why: 'no k6 binary on PATH (install k6 to run loadtest/k6/*.js)', scripts: [] };
  const k = run.o.profile.k6;
  const scripts: K6Report['scripts'] = [];
  for (const script of SCRIPTS) {
    const summary = path.join(outDir, `k6-${script.replace('.js', '')}.json`);
    const t0 = performance.now();
    run.log(`k6 run loadtest/k6/${script} (${k.vus} VUs, ${k.duration})`);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        k6,
        [
          'run',
          '--quiet',
          '-e',
          `BASE_URL=${srv.target.server}`,
          '-e',
          `VUS=${k.vus}`,
          '-e',
          `DURATION=${k.duration}`,
          '-e',
          `SEND_RATE=${k.sendRate}`,
          '-e',
          `SUMMARY_OUT=${summary}`,
          '-e',
          `DRAIN=${DRAIN_SEC}`,
          '-e',
          `LATE=${LATE_SEC}`,
          '-e',
          `RUN_TAG=${run.tag}${script[0]}`,
          path.join(ROOT, 'loadtest/k6', script),
        ],
        { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
      );
      const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
      child.on('error', () => resolve(null));
    });
    scripts.push({ script: `loadtest/k6/${script}`, exitCode: code, ...(fs.existsSync(summary) ? { summaryFile: path.basename(summary) } : {}), ms: performance.now() - t0 });
  }
  return { ran: true, scripts };
}
