// What the stages of one `npm run loadtest` share: the options, the log with
// its clock, the phase records, the temporary folder with the server's
// database, the child processes to kill on the way out, and the half-peak
// rates the bare baselines repeat.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PhaseResult } from './phase.ts';
import type { Profile } from './profiles.ts';
import type { PhaseRecord, Transport } from './report.ts';

/** Every server of a run listens here (loopback only). */
export const HOST = '127.0.0.1';

export interface Options {
  profile: Profile;
  out: string;
  k6: boolean;
  inProcess: boolean;
  server?: string;
  tcp?: string;
  serverPid?: number;
  keepDb: boolean;
}

export class RunContext {
  readonly phases: PhaseRecord[] = [];
  readonly t0 = performance.now();
  readonly children = new Set<{ kill: () => void }>();
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'synckey-loadtest-'));
  readonly db = path.join(this.tmp, 'loadtest.db');
  /** Half-peak rates of the SyncKey server per transport: the bare baselines run at the same rates. */
  readonly halfRates = new Map<Transport, number>();
  /** Part of every account name, so that runs against one server do not collide. */
  readonly tag = Date.now().toString(36).slice(-5);

  constructor(readonly o: Options) {}

  log(line: string): void {
    process.stdout.write(`[${((performance.now() - this.t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  }

  /** Seconds since the run began. */
  sec(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Keeps a phase's result in the report and logs its figures. */
  record(r: PhaseResult, transport: PhaseRecord['transport'], stage: PhaseRecord['stage'], startSec: number, extra: Partial<PhaseRecord> = {}): PhaseRecord {
    const rec: PhaseRecord = { ...r, startSec: Math.round(startSec * 100) / 100, transport, stage, ...extra };
    this.phases.push(rec);
    const lat = `p50 ${r.deliveryLatencyMs.p50} ms p99 ${r.deliveryLatencyMs.p99} ms${r.serverCommits ? `, ${r.serverCommits.msgsPerCommit} msgs/commit` : ''}`;
    this.log(
      `  ${r.name}: ${r.sent} sent, ${r.acked} acked, durable ${r.durablePerSec}/s, ${lat}, lost ${r.lost}, dup ${r.duplicated}` +
        `${r.quiesced ? '' : ' (NOT QUIESCED)'}${r.serverCpuPct !== undefined ? `, server CPU ${r.serverCpuPct}%` : ''}, driver CPU ${r.driverCpuPct}%`,
    );
    return rec;
  }

  cleanup(): void {
    for (const c of this.children) c.kill();
    if (!this.o.keepDb) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
