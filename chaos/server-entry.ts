// The real server as a chaos run's child process: startServer (what
// `npm start` runs, server/main.ts) on the run's SQLite file, with the
// scenario's core and node limits, which main.ts's flags cannot carry. It
// boots, says so, and starts when its parent sends the config (see
// server-config.ts), with the run's planted bugs if it has any; it exits
// when the parent goes away, so no server outlives a run. A SIGKILL from the
// parent is the crash it is there for.
import { startServer, type RunningServer } from '../server/transport/server-app.ts';
import { CONNECTION_LIMITS_LIFTED } from '../server/transport/transport-limits.ts';
import { ADMISSION_LIFTED } from '../server/node/node-config.ts';
import { parseBug } from '../server/core/planted-bugs.ts';
import type { FromServer, StartServer } from './server-config.ts';

function send(m: FromServer): void {
  process.send?.(m);
}

async function start(cfg: StartServer['config']): Promise<RunningServer> {
  return startServer({
    host: '127.0.0.1',
    httpPort: 0,
    tcpPort: 0,
    db: cfg.db,
    scryptN: cfg.scryptN,
    synchronous: cfg.synchronous,
    ...(cfg.core ? { core: cfg.core } : {}),
    ...(cfg.bugs && cfg.bugs.length > 0 ? { bugs: new Set(cfg.bugs.map(parseBug)) } : {}),
    // Every device comes through the proxy, from one loopback address: the per-address caps would measure the proxy.
    node: { ...ADMISSION_LIFTED, ...cfg.node },
    limits: CONNECTION_LIMITS_LIFTED,
  });
}

function main(): void {
  if (!process.send) throw new Error('chaos/server-entry.ts is started by the chaos runner, with an IPC channel');
  let srv: RunningServer | undefined;
  let closing = false;
  const close = (code: number): void => {
    if (closing) return;
    closing = true;
    if (!srv) process.exit(code);
    srv.close().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  process.on('message', (m: StartServer) => {
    if (m?.type !== 'start' || srv || closing) return;
    start(m.config).then(
      (s) => {
        srv = s;
        send({ type: 'ready', pid: process.pid, httpPort: s.httpPort, tcpPort: s.tcpPort });
      },
      (e: unknown) => {
        send({ type: 'failed', message: (e as Error).stack ?? String(e) });
        process.exit(1);
      },
    );
  });
  process.on('SIGTERM', () => close(0));
  process.on('SIGINT', () => close(0));
  process.on('disconnect', () => close(1));
  send({ type: 'booted' });
}

main();
