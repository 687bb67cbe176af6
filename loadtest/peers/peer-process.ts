// A peer server (redis-server, nats-server) as a child process of the run:
// found on PATH, started on a folder of its own under the run's temporary
// folder and a free loopback port, sampled from /proc like the SyncKey
// server, stopped with SIGTERM (SIGKILL if it lingers).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { assertLoopback } from '../loopback.ts';
import { pidSample } from '../memory.ts';
import type { ServerSample } from '../target.ts';
import { until } from '../wait-until.ts';

/** How long a peer may take to accept connections. */
const READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 50;
/** How long a peer may take to exit after SIGTERM before it is killed. */
const EXIT_TIMEOUT_MS = 5_000;
/** The last lines of a peer's output kept for an error message. */
const LOG_TAIL_BYTES = 4_000;

/** The executable `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A loopback port nothing listens on now (the kernel's choice; a peer takes it right after). */
export async function freePort(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host, resolve);
  });
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface PeerProcess {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  sample: () => Promise<ServerSample | undefined>;
  /** SIGTERM, then SIGKILL after a while. */
  stop: () => Promise<void>;
  kill: () => void;
}

export interface PeerStart {
  /** The executable's path. */
  bin: string;
  /** Its arguments, given the port and its data folder. */
  args: (port: number, dir: string) => string[];
  host: string;
  /** A folder of the run's own; the peer's data folder goes under it. */
  under: string;
  name: string;
}

/** Starts the peer and resolves once it accepts TCP connections on its port. */
export async function startPeerProcess(s: PeerStart): Promise<PeerProcess> {
  assertLoopback(s.host);
  const dir = fs.mkdtempSync(path.join(s.under, `${s.name}-`));
  const port = await freePort(s.host);
  const child: ChildProcess = spawn(s.bin, s.args(port, dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (c: Buffer): void => {
    tail = (tail + c.toString('utf8')).slice(-LOG_TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  let up = false;
  let givenUp = false;
  const poll = async (): Promise<void> => {
    while (!up && !exited && !givenUp) {
      up = await accepts(s.host, port);
      if (!up) await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  };
  const polling = poll();
  try {
    await until(() => up || exited, READY_TIMEOUT_MS, () => `${s.name} to accept connections on ${s.host}:${port}`);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    givenUp = true;
    await polling;
  }
  if (exited) throw new Error(`${s.name} exited before it accepted connections:\n${tail}`);
  const pid = child.pid!;
  const kill = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  // A peer is not a Node child with an IPC channel that notices its parent die: kill it on any exit of the run, a crash included.
  process.once('exit', kill);
  void exit.then(() => process.removeListener('exit', kill));
  return {
    host: s.host,
    port,
    dir,
    pid,
    sample: async () => pidSample(pid),
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, EXIT_TIMEOUT_MS);
      await exit;
      clearTimeout(timer);
    },
    kill,
  };
}
