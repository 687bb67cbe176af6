// Starts the real server as a child process (chaos/server-entry.ts), kills it
// with SIGKILL at a crash, starts it again on the same database, and stops
// it with SIGTERM (a drain) at the end. A spare child is booted ahead of
// need, its modules loaded and no database open, so that a restart takes
// the downtime the plan says rather than the seconds a cold start takes on
// a loaded machine. Every child is killed when this process exits, however
// it exits; each also exits by itself when this process goes away (its IPC
// channel closes). A server that exits unasked is reported: the server must
// never crash on input.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromServer, ServerEntryConfig, ServerReady, StartServer } from './server-config.ts';

const ENTRY = fileURLToPath(new URL('./server-entry.ts', import.meta.url));
const ROOT = path.resolve(path.dirname(ENTRY), '..');
/** A loaded machine compiles the server with tsx before it is ready: generous. */
const READY_TIMEOUT_MS = 60_000;
/** How long a drain may take before the child is killed. */
const STOP_TIMEOUT_MS = 10_000;
/** The tail of the child's stderr kept for a report. */
const STDERR_KEEP = 4_000;

const live = new Set<ChildProcess>();
let exitHooked = false;

/** Kill every server child still running: on exit, and from a signal handler. */
export function killAllServers(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killAllServers);
}

export interface UnplannedExit {
  pid: number;
  code: number | null;
  signal: string | null;
  stderr: string;
}

/** One child: booted (modules loaded, waiting), then perhaps started. */
class Child {
  readonly process: ChildProcess;
  readonly booted: Promise<void>;
  readonly exited: Promise<void>;
  stderr = '';
  private readonly waiting: Array<(m: FromServer) => void> = [];

  constructor() {
    const c = spawn(process.execPath, ['--import', 'tsx', ENTRY], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.process = c;
    live.add(c);
    c.stderr?.setEncoding('utf8');
    c.stderr?.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-STDERR_KEEP);
    });
    c.on('message', (m: FromServer) => {
      for (const w of this.waiting.splice(0)) w(m);
    });
    this.exited = new Promise((resolve) => {
      c.on('exit', () => {
        live.delete(c);
        resolve();
      });
    });
    this.booted = this.next('booted').then(() => undefined);
    // A spare nobody waits on must not fail the process with an unhandled rejection.
    this.booted.catch(() => {});
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async start(config: ServerEntryConfig): Promise<ServerReady> {
    await this.booted;
    const ready = this.next('ready');
    const m: StartServer = { type: 'start', config };
    this.process.send(m);
    return (await ready) as ServerReady;
  }

  /** The next message of this type; rejects on a 'failed', an exit or the timeout. */
  private next(type: FromServer['type']): Promise<FromServer> {
    return new Promise((resolve, reject) => {
      const tail = (): string => (this.stderr.trim() ? `:\n${this.stderr.trim()}` : '');
      const timer = setTimeout(() => reject(new Error(`server: no '${type}' within ${READY_TIMEOUT_MS / 1000} s${tail()}`)), READY_TIMEOUT_MS);
      const wait = (m: FromServer): void => {
        if (m.type === 'failed') {
          clearTimeout(timer);
          return reject(new Error(`server: cannot start: ${m.message}`));
        }
        if (m.type !== type) return void this.waiting.push(wait);
        clearTimeout(timer);
        resolve(m);
      };
      this.waiting.push(wait);
      this.process.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server: exited (${code}) before '${type}'${tail()}`));
      });
    });
  }
}

export class ServerSupervisor {
  private child: Child | undefined;
  private spare: Child | undefined;
  private ready: ServerReady | undefined;
  private expectingExit = false;
  private stopped = false;

  constructor(
    private readonly cfg: ServerEntryConfig,
    private readonly onUnplannedExit: (e: UnplannedExit) => void = () => {},
  ) {
    hookExit();
  }

  /** The server's ports while it runs and has said it is ready. */
  get ports(): ServerReady | undefined {
    return this.ready;
  }

  get up(): boolean {
    return this.ready !== undefined;
  }

  async start(): Promise<ServerReady> {
    if (this.child) throw new Error('server: already running');
    if (this.stopped) throw new Error('server: stopped for good');
    const child = this.spare && this.spare.running ? this.spare : new Child();
    this.spare = undefined;
    this.child = child;
    this.expectingExit = false;
    void child.exited.then(() => {
      if (this.child !== child) return;
      this.child = undefined;
      const was = this.ready;
      this.ready = undefined;
      if (!this.expectingExit && was) {
        this.onUnplannedExit({ pid: was.pid, code: child.process.exitCode, signal: child.process.signalCode, stderr: child.stderr.trim() });
      }
    });
    let ready: ServerReady;
    try {
      ready = await child.start(this.cfg);
    } catch (e) {
      this.child = undefined;
      child.process.kill('SIGKILL');
      throw e;
    }
    this.ready = ready;
    // The next restart's process boots now, while this one serves.
    if (!this.stopped) this.spare = new Child();
    return ready;
  }

  /** A crash: SIGKILL, nothing drained; resolves with the pid once the process is gone. */
  async crash(): Promise<number | undefined> {
    const child = this.child;
    if (!child) return undefined;
    const pid = this.ready?.pid ?? child.process.pid;
    this.expectingExit = true;
    this.ready = undefined;
    child.process.kill('SIGKILL');
    await child.exited;
    return pid;
  }

  /** A clean stop: SIGTERM drains and closes the store (SIGKILL if it takes too long); the spare goes too. */
  async stop(): Promise<void> {
    this.stopped = true;
    const spare = this.spare;
    this.spare = undefined;
    if (spare) {
      spare.process.kill('SIGKILL');
      await spare.exited;
    }
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    this.ready = undefined;
    child.process.kill('SIGTERM');
    const t = setTimeout(() => child.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await child.exited;
    clearTimeout(t);
  }
}
