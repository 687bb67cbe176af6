// The open-files limit of the capacity profile's processes. Node cannot
// change its own rlimits, so a child that needs more descriptors than the
// driver has is started through `sh -c 'ulimit -n N; exec node ...'`: the
// shell raises the limit (soft and hard; raising the hard one needs
// CAP_SYS_RESOURCE, which root usually has and some containers drop), and
// falls back to the soft limit = the hard one, which anyone may do. What a
// child really got is read back from /proc/<pid>/limits, so the report says
// what held, not what was asked.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface FdLimits {
  soft: number;
  hard: number;
}

/** Both open-files limits of a process (`self` or a pid), from /proc; undefined off Linux. */
export function procFdLimits(pid: number | 'self' = 'self'): FdLimits | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (!m) return undefined;
    const n = (s: string): number => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
    return { soft: n(m[1]!), hard: n(m[2]!) };
  } catch {
    return undefined;
  }
}

/** What a child asking for `want` descriptors will get here, and one line saying why. */
export interface FdPlan {
  want: number;
  /** The soft limit a child started with withFdLimit(want, ...) gets. */
  limit: number;
  how: string;
}

/** Tries `ulimit -n want` in a throwaway shell, the way withFdLimit will, to know the outcome before the run. */
export function planFdLimit(want: number): FdPlan {
  const own = procFdLimits();
  if (!own) return { want, limit: want, how: 'open-files limit unknown (no /proc): asking for it and hoping' };
  if (own.soft >= want) return { want, limit: own.soft, how: `open-files limit ${own.soft} already suffices` };
  const probe = spawnSync('sh', ['-c', `ulimit -n ${want}`], { stdio: 'ignore' });
  if (probe.status === 0) return { want, limit: want, how: `children started under \`ulimit -n ${want}\` (raised from ${own.soft}/${own.hard})` };
  const uid = process.getuid?.();
  const who = uid === 0 ? 'root here lacks CAP_SYS_RESOURCE' : 'not root';
  return {
    want,
    limit: own.hard,
    how:
      `hard open-files limit ${own.hard} < ${want} and cannot be raised (${who}): each process is capped at ${own.hard}; ` +
      `raise it outside (\`ulimit -Hn ${want}\` as root with CAP_SYS_RESOURCE, \`prlimit --nofile=${want}\`, systemd LimitNOFILE, docker --ulimit nofile=${want})`,
  };
}

/**
 * The command and arguments that run `cmd args` with an open-files limit of
 * at least `n`, or as near as allowed (soft raised to the hard limit).
 * `$0 "$@"` passes the arguments through the shell untouched.
 */
export function withFdLimit(n: number, cmd: string, args: readonly string[]): { cmd: string; args: string[] } {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`open-files limit must be a positive integer, got ${n}`);
  // Never lowered (a child asking for fewer than it has keeps its limits); raised to n, else to the hard limit.
  const raise = `[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge ${n} ] || ulimit -n ${n} 2>/dev/null || ulimit -n "$(ulimit -Hn)"`;
  return { cmd: 'sh', args: ['-c', `${raise}; exec "$0" "$@"`, cmd, ...args] };
}
