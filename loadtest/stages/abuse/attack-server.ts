// The server one attack runs against: a fresh child process on a database of
// its own (so that no attack inherits another's data or memory), with the
// attack's password-hash cost. Its memory is read from /proc, which needs
// nothing from a server whose event loop an attack may have stalled; the
// heap (after a full GC) comes over IPC before and after. With --server the
// one running server takes every attack; --in-process runs it here.
import path from 'node:path';
import { startServer } from '../../../server/transport/server-app.ts';
import { pidSample, selfSample } from '../../memory.ts';
import { HOST, type RunContext } from '../../run-context.ts';
import { startSyncKey } from '../../server-under-test.ts';
import { ServerChild } from '../../server-process.ts';
import type { ServerSample, Target } from '../../target.ts';

export interface AttackServer {
  /** `sample` of the target reads /proc only (never waits on the server). */
  target: Target;
  /** Memory and heap over IPC; `gc` runs a full GC first. */
  sample: (gc: boolean) => Promise<ServerSample | undefined>;
  /** Whether the process still exists (an external server without --server-pid: assumed). */
  alive: () => boolean;
  close: () => Promise<void>;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startAttackServer(run: RunContext, attack: string, scryptN: number): Promise<AttackServer> {
  const p = run.o.profile.server;
  if (run.o.server) {
    const s = await startSyncKey(run);
    const pid = run.o.serverPid;
    return { target: s.target, sample: (gc) => s.sample(gc), alive: () => (pid ? processExists(pid) : true), close: s.close };
  }
  const db = path.join(run.tmp, `abuse-${attack}.db`);
  if (run.o.inProcess) {
    const srv = await startServer({ host: HOST, httpPort: 0, tcpPort: 0, db, scryptN, synchronous: p.synchronous, storageThread: p.storageThread === true, node: { holdMs: p.holdMs, heartbeatSec: p.heartbeatSec } });
    const sample = async (gc: boolean): Promise<ServerSample> => {
      const g = (globalThis as { gc?: () => void }).gc;
      if (gc && g) g();
      return { ...selfSample(), openLinks: srv.stats().node.openLinks };
    };
    return {
      target: { server: `http://${HOST}:${srv.httpPort}`, tcp: `${HOST}:${srv.tcpPort}`, sample: () => sample(false) },
      sample,
      alive: () => true,
      close: () => srv.close(),
    };
  }
  const c = await ServerChild.start([
    '--mode',
    'synckey',
    '--host',
    HOST,
    '--db',
    db,
    '--scrypt-n',
    String(scryptN),
    '--hold-ms',
    String(p.holdMs),
    '--heartbeat-sec',
    String(p.heartbeatSec),
    '--synchronous',
    p.synchronous,
    '--storage-thread',
    p.storageThread === true ? 'on' : 'off',
    '--limits',
    'default',
  ]);
  run.children.add(c);
  const pid = c.pid;
  return {
    target: { server: `http://${HOST}:${c.ready.httpPort}`, tcp: `${HOST}:${c.ready.tcpPort}`, sample: async () => pidSample(pid) },
    sample: (gc) => c.sample(gc),
    alive: () => processExists(pid),
    close: async () => {
      await c.close();
      run.children.delete(c);
    },
  };
}
