// The load test's helper processes (the server child, the capacity link
// holders) share how they end and how they start as an entry point: asked
// to close over IPC, killed if they do not exit in time; and their main runs
// only when the file is the process's entry, not when the parent imports it.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

/** How long a child asked to close gets before it is killed. */
const EXIT_TIMEOUT_MS = 10_000;

/** Ask the child to close (IPC `{type: 'close'}`); SIGKILL it if it has not exited in time. */
export async function closeChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.connected) child.send({ type: 'close' });
  const t = setTimeout(() => killChild(child), EXIT_TIMEOUT_MS);
  await exited;
  clearTimeout(t);
}

export function killChild(child: ChildProcess): void {
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** Runs `main` if `self` (a module's own path) is the process's entry; a failure is printed with `label` and exits 1. */
export function runAsEntry(self: string, label: string, main: () => Promise<void>): void {
  if (process.argv[1] === undefined || path.resolve(process.argv[1]) !== self) return;
  main().catch((e: unknown) => {
    process.stderr.write(`${label}: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
