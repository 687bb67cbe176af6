// A server for the load tests in a process of its own, so that it has a core
// to itself and its memory is its own: the SyncKey server (startServer on a
// SQLite file) or one of the bare baselines. Both ends live here: the child's
// side runs when this file is the process's entry; the parent's side
// (ServerChild) starts it with an IPC channel:
//
//   child → parent  {type: 'ready', httpPort, tcpPort, port, pid}
//   parent → child  {type: 'sample', gc: boolean}   (run with --expose-gc for gc)
//   child → parent  {type: 'sample', rssBytes, heapUsedBytes, heapTotalBytes, cpuMs, openLinks?, commits?, stalls}
//   parent → child  {type: 'close'}                 → drains, closes, exits 0
//
// `stalls` are the child's event-loop delay and (for the SyncKey server) its
// commit latency since the previous sample, with their HDR histograms, so
// that the parent can merge them into a phase's figures.
//
// The child exits by itself when the parent goes away (the IPC channel closes).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBareHttp, startBareTcpEcho, startBareWsEcho, type BareServer } from '../server/bench/baselines.ts';
import { startServer, type RunningServer } from '../server/transport/server-app.ts';
import { StallMonitor, type EncodedStalls } from '../server/observability/stall-monitor.ts';
import { withFdLimit } from './capacity/fd-limit.ts';
import { pidSample } from './memory.ts';
import type { StallSample } from './sampler.ts';
import { until } from './wait-until.ts';
import { LOAD_CORE_LIMITS, LOAD_NODE_LIMITS, LOAD_TRANSPORT_LIMITS, SETUP_NODE_LIMITS } from './server-limits.ts';
import { closeChild, killChild, runAsEntry } from './child-process.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '..');
/** How long a child may take to say it is ready. */
const READY_TIMEOUT_MS = 30_000;
/** How long the parent waits for a sample's reply. */
const SAMPLE_REPLY_TIMEOUT_MS = 10_000;
/** How long the parent waits for the child to exit after 'close' before killing it. */
/** How long the child waits for its servers to drain before it exits anyway. */
const DRAIN_TIMEOUT_MS = 5000;

type Mode = 'synckey' | 'bare-tcp' | 'bare-ws' | 'bare-http';

export interface SampleReply {
  type: 'sample';
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  cpuMs: number;
  openLinks?: number;
  commits?: number;
  connections?: number;
  stalls: EncodedStalls;
}

export interface ReadyMessage {
  type: 'ready';
  pid: number;
  httpPort: number;
  tcpPort: number;
  /** The bare server's port. */
  port: number;
}

// ------------------------------------------------------------ the child's side

async function childMain(): Promise<void> {
  const { values } = parseArgs({
    strict: true,
    options: {
      mode: { type: 'string', default: 'synckey' },
      host: { type: 'string', default: '127.0.0.1' },
      db: { type: 'string', default: ':memory:' },
      'scrypt-n': { type: 'string', default: '2' },
      'hold-ms': { type: 'string', default: '25000' },
      'heartbeat-sec': { type: 'string', default: '240' },
      synchronous: { type: 'string', default: 'FULL' },
      'storage-thread': { type: 'string', default: 'off' },
      // load: the load test's lifted quotas and address cap (server-limits.ts);
      // default: the server's own anti-abuse limits, which the abuse profile measures.
      limits: { type: 'string', default: 'load' },
    },
  });
  const mode = values.mode as Mode;
  if (!process.send) throw new Error('server-process.ts is started by the load test (ServerChild) with an IPC channel');
  let srv: RunningServer | undefined;
  let bare: BareServer | undefined;
  if (mode === 'synckey') {
    srv = await startServer({
      host: values.host,
      httpPort: 0,
      tcpPort: 0,
      db: values.db,
      scryptN: Number(values['scrypt-n']),
      synchronous: values.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL',
      storageThread: values['storage-thread'] === 'on',
      node: { ...(values.limits === 'default' ? SETUP_NODE_LIMITS : LOAD_NODE_LIMITS), holdMs: Number(values['hold-ms']), heartbeatSec: Number(values['heartbeat-sec']) },
      ...(values.limits === 'default' ? {} : { limits: LOAD_TRANSPORT_LIMITS, core: LOAD_CORE_LIMITS }),
    });
  } else if (mode === 'bare-tcp') bare = await startBareTcpEcho(values.host);
  else if (mode === 'bare-ws') bare = await startBareWsEcho(values.host);
  else if (mode === 'bare-http') bare = await startBareHttp(values.host);
  else throw new Error(`unknown --mode ${mode}`);

  // A bare server has no commits, but its event loop is the floor the server's is read against.
  const monitor = srv?.stalls ?? new StallMonitor();
  const sampled = monitor.openWindow();

  const ready: ReadyMessage = { type: 'ready', pid: process.pid, httpPort: srv?.httpPort ?? 0, tcpPort: srv?.tcpPort ?? 0, port: bare?.port ?? 0 };
  process.send(ready);

  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await Promise.race([Promise.all([srv?.close(), bare?.close()]), new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS))]);
    process.exit(0);
  };
  process.on('message', (m: { type?: string; gc?: boolean }) => {
    if (m.type === 'close') void close();
    else if (m.type === 'sample') {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (m.gc && gc) gc();
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      const st = srv?.stats();
      const reply: SampleReply = {
        type: 'sample',
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        heapTotalBytes: mem.heapTotal,
        cpuMs: (cpu.user + cpu.system) / 1000,
        ...(st ? { openLinks: st.node.openLinks, commits: st.node.commits } : {}),
        ...(bare ? { connections: bare.connections() } : {}),
        stalls: sampled.take(),
      };
      process.send?.(reply);
    }
  });
  process.on('disconnect', () => void close());
  process.on('SIGTERM', () => void close());
  process.on('SIGINT', () => void close());
}

// ------------------------------------------------------------ the parent's side

/** A server process started by the load test; `args` are the child's (--mode, --host, --db, ...). */
export class ServerChild {
  readonly #child: ChildProcess;
  readonly #waiting: Array<(r: SampleReply) => void> = [];
  readonly #exited: Promise<number | null>;
  ready!: ReadyMessage;

  private constructor(args: string[], fdLimit: number | undefined) {
    const node = [process.execPath, '--expose-gc', ...(process.env['SYNCKEY_SERVER_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['SYNCKEY_SERVER_CPU_PROF']] : []), '--import', 'tsx', SELF, ...args];
    // The capacity profile needs more descriptors than the driver's own limit: started through a shell that raises it.
    const run = fdLimit === undefined ? { cmd: node[0]!, args: node.slice(1) } : withFdLimit(fdLimit, node[0]!, node.slice(1));
    this.#child = spawn(run.cmd, run.args, {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#exited = new Promise((resolve) => this.#child.on('exit', (code) => resolve(code)));
    this.#child.on('message', (m: SampleReply | ReadyMessage) => {
      if (m.type === 'ready') this.ready = m;
      else if (m.type === 'sample') this.#waiting.shift()?.(m);
    });
  }

  /** `fdLimit`: start the child under this open-files limit, or as near as allowed (capacity/fd-limit.ts). */
  static async start(args: string[], fdLimit?: number): Promise<ServerChild> {
    const c = new ServerChild(args, fdLimit);
    const exited = c.#exited.then((code) => {
      throw new Error(`the server process exited (${code}) before it was ready`);
    });
    await Promise.race([until(() => c.ready !== undefined, READY_TIMEOUT_MS, () => 'the server process to be ready'), exited]);
    return c;
  }

  get pid(): number {
    return this.ready.pid;
  }

  /** /proc's VmRSS and CPU, with the heap and the server's counters over IPC; `gc` runs a full GC first. */
  async sample(gc = false): Promise<StallSample | undefined> {
    if (this.#child.exitCode !== null || !this.#child.connected) return undefined;
    const reply = new Promise<SampleReply>((resolve) => this.#waiting.push(resolve));
    this.#child.send({ type: 'sample', gc });
    const r = await Promise.race([reply, new Promise<undefined>((res) => setTimeout(() => res(undefined), SAMPLE_REPLY_TIMEOUT_MS))]);
    if (!r) return undefined;
    const proc = pidSample(this.pid);
    return {
      rssBytes: proc?.rssBytes ?? r.rssBytes,
      heapUsedBytes: r.heapUsedBytes,
      heapTotalBytes: r.heapTotalBytes,
      cpuMs: proc?.cpuMs ?? r.cpuMs,
      ...(r.openLinks !== undefined ? { openLinks: r.openLinks } : {}),
      ...(r.commits !== undefined ? { commits: r.commits } : {}),
      stalls: r.stalls,
    };
  }

  close(): Promise<void> {
    return closeChild(this.#child, this.#exited);
  }

  kill(): void {
    killChild(this.#child);
  }
}

// Only as the process's entry (its parent's spawn); the parent imports this file for the class above.
runAsEntry(SELF, 'server-process', childMain);
