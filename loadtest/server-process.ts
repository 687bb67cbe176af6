// A server for the load tests in a process of its own, so that it has a core
// to itself and its memory is its own: the SyncKey server (startServer on a
// SQLite file) or one of the bare baselines. Started by loadtest/run.ts with
// an IPC channel:
//
//   child → parent  {type: 'ready', httpPort, tcpPort, port, pid}
//   parent → child  {type: 'sample', gc: boolean}   (run with --expose-gc for gc)
//   child → parent  {type: 'sample', rssBytes, heapUsedBytes, heapTotalBytes, cpuMs, openLinks?, commits?}
//   parent → child  {type: 'close'}                 → drains, closes, exits 0
//
// It exits by itself when the parent goes away (the IPC channel closes).
import { parseArgs } from 'node:util';
import { startBareHttp, startBareTcpEcho, startBareWsEcho, type BareServer } from '../server/bench/baselines.ts';
import { startServer, type RunningServer } from '../server/transport/server-app.ts';

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
}

export interface ReadyMessage {
  type: 'ready';
  pid: number;
  httpPort: number;
  tcpPort: number;
  /** The bare server's port. */
  port: number;
}

async function main(): Promise<void> {
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
    },
  });
  const mode = values.mode as Mode;
  if (!process.send) throw new Error('server-process.ts is started by loadtest/run.ts with an IPC channel');
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
      node: { holdMs: Number(values['hold-ms']), heartbeatSec: Number(values['heartbeat-sec']) },
    });
  } else if (mode === 'bare-tcp') bare = await startBareTcpEcho(values.host);
  else if (mode === 'bare-ws') bare = await startBareWsEcho(values.host);
  else if (mode === 'bare-http') bare = await startBareHttp(values.host);
  else throw new Error(`unknown --mode ${mode}`);

  const ready: ReadyMessage = { type: 'ready', pid: process.pid, httpPort: srv?.httpPort ?? 0, tcpPort: srv?.tcpPort ?? 0, port: bare?.port ?? 0 };
  process.send(ready);

  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await Promise.race([Promise.all([srv?.close(), bare?.close()]), new Promise((r) => setTimeout(r, 5000))]);
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
      };
      process.send?.(reply);
    }
  });
  process.on('disconnect', () => void close());
  process.on('SIGTERM', () => void close());
  process.on('SIGINT', () => void close());
}

main().catch((e: unknown) => {
  process.stderr.write(`server-process: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
