// The SyncKey server a run drives, one of three ways: a child process on a
// temporary SQLite database (the default: a core and a heap of its own), in
// the driver's process (--in-process), or one already running (--server,
// --tcp, optionally --server-pid to sample its memory from /proc).
import { startServer, type RunningServer } from '../server/transport/server-app.ts';
import { pidSample, selfSample } from './memory.ts';
import { HOST, type RunContext } from './run-context.ts';
import { procFdLimits } from './capacity/fd-limit.ts';
import { ServerChild } from './server-process.ts';
import type { ServerSample, Target } from './target.ts';
import { LOAD_CORE_LIMITS, LOAD_NODE_LIMITS, LOAD_TRANSPORT_LIMITS } from './server-limits.ts';

export interface SyncKeyServer {
  target: Target;
  sample: (gc?: boolean) => Promise<ServerSample | undefined>;
  close: () => Promise<void>;
  kill: () => void;
  /** The server process's open-files limit, when it can be read (/proc). */
  fdLimit?: number;
  /** The server's process, when known (its limits and memory are read from /proc). */
  pid?: number;
}

/** `fdLimit`: the open-files limit a server child is started under (the capacity profile); in-process and external servers keep theirs. */
export async function startSyncKey(run: RunContext, fdLimit?: number): Promise<SyncKeyServer> {
  const p = run.o.profile;
  if (run.o.server) {
    const pid = run.o.serverPid;
    return {
      target: { server: run.o.server, tcp: run.o.tcp!, ...(pid ? { sample: async () => pidSample(pid) } : {}) },
      sample: async () => (pid ? pidSample(pid) : undefined),
      close: async () => {},
      kill: () => {},
      ...fdLimitOf(pid),
      ...(pid ? { pid } : {}),
    };
  }
  if (run.o.inProcess) {
    const srv: RunningServer = await startServer({
      host: HOST,
      httpPort: 0,
      tcpPort: 0,
      db: run.db,
      scryptN: p.server.scryptN,
      synchronous: p.server.synchronous,
      storageThread: p.server.storageThread === true,
      node: { ...LOAD_NODE_LIMITS, holdMs: p.server.holdMs, heartbeatSec: p.server.heartbeatSec },
      limits: LOAD_TRANSPORT_LIMITS,
      core: LOAD_CORE_LIMITS,
    });
    const stalls = srv.stalls.openWindow();
    const sample = async (gc = false): Promise<ServerSample> => {
      const g = (globalThis as { gc?: () => void }).gc;
      if (gc && g) g();
      return { ...selfSample(), openLinks: srv.stats().node.openLinks, stalls: stalls.take() };
    };
    return {
      target: { server: `http://${HOST}:${srv.httpPort}`, tcp: `${HOST}:${srv.tcpPort}`, sample },
      sample,
      close: () => srv.close(),
      kill: () => {},
      ...fdLimitOf('self'),
      pid: process.pid,
    };
  }
  const c = await ServerChild.start([
    '--mode',
    'synckey',
    '--host',
    HOST,
    '--db',
    run.db,
    '--scrypt-n',
    String(p.server.scryptN),
    '--hold-ms',
    String(p.server.holdMs),
    '--heartbeat-sec',
    String(p.server.heartbeatSec),
    '--synchronous',
    p.server.synchronous,
    '--storage-thread',
    p.server.storageThread === true ? 'on' : 'off',
  ], fdLimit);
  run.children.add(c);
  const sample = (gc = false): Promise<ServerSample | undefined> => c.sample(gc);
  return {
    target: { server: `http://${HOST}:${c.ready.httpPort}`, tcp: `${HOST}:${c.ready.tcpPort}`, sample: () => sample(false) },
    sample,
    close: async () => {
      await c.close();
      run.children.delete(c);
    },
    kill: () => c.kill(),
    ...fdLimitOf(c.pid),
    pid: c.pid,
  };
}

function fdLimitOf(pid: number | 'self' | undefined): { fdLimit?: number } {
  const l = pid === undefined ? undefined : procFdLimits(pid);
  return l ? { fdLimit: l.soft } : {};
}
