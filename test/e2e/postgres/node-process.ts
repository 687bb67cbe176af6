// A server node in a process of its own, as `npm start -- --store URL` runs
// it: started with its flags, ready once it prints its ready line, stopped
// with SIGTERM (it drains and exits 0).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAIN = path.join(ROOT, 'server/main.ts');
const READY_TIMEOUT_MS = 30_000;

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly http: string;
  readonly tcpPort: number;
  /** What the node reported as its database. */
  readonly db: string;
  stderr(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

export async function startNodeProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<NodeProcess> {
  // DATABASE_URL of the test's own environment must not pick the database: the flags do.
  const { DATABASE_URL: _ignored, ...base } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...base, ...env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const t0 = Date.now();
  for (;;) {
    const m = /^ready http=(\S+) ws=\S+ tcp=\S+:(\d+) db=(\S+)\n/.exec(out);
    if (m) {
      return {
        child,
        http: m[1]!,
        tcpPort: Number(m[2]),
        db: m[3]!,
        stderr: () => err,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exit;
        },
      };
    }
    if (Date.now() - t0 > READY_TIMEOUT_MS || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the node did not start: ${out} ${err.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
