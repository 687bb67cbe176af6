// Starting the real server for end-to-end tests: ephemeral loopback ports,
// a SQLite file in a fresh temp dir, a tiny scrypt cost and short timers.
// The tests talk to it only through raw-client/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer, type StartOptions } from '../../server/transport/server-app.ts';

export interface TestServer {
  srv: RunningServer;
  base: string;
  wsUrl: string;
  tcpPort: number;
  db: string;
}

export function tempDb(prefix: string): { dir: string; db: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, db: path.join(dir, 'synckey.db'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export async function startTestServer(db: string, over: StartOptions = {}): Promise<TestServer> {
  const srv = await startServer({
    host: '127.0.0.1',
    httpPort: 0,
    tcpPort: 0,
    db,
    scryptN: 2,
    tickMs: 25,
    closeGraceMs: 300,
    ...over,
    node: { holdMs: 1000, authTimeoutMs: 2000, ...over.node },
  });
  return {
    srv,
    base: `http://127.0.0.1:${srv.httpPort}`,
    wsUrl: `ws://127.0.0.1:${srv.httpPort}/longlink`,
    tcpPort: srv.tcpPort,
    db,
  };
}
