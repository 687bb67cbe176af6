// Reading a server process's memory and CPU: in-process through
// process.memoryUsage(), another process through /proc/<pid>/status (VmRSS)
// and /proc/<pid>/stat (utime + stime). Linux only for the latter; on other
// systems the /proc readers return undefined.
import fs from 'node:fs';

export interface ProcSample {
  /** Resident set size, bytes. */
  rssBytes: number;
  /** V8 heap in use and reserved, bytes; only when the process reports it (in-process or over IPC). */
  heapUsedBytes?: number;
  heapTotalBytes?: number;
  /** User + system CPU time consumed so far, ms. */
  cpuMs?: number;
}

/** VmRSS of a process in bytes, or undefined if it cannot be read. */
export function procRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel's clock ticks per second for /proc/<pid>/stat: 100 on every Linux we run on. */
const CLK_TCK = 100;

/** utime + stime of a process in ms, or undefined. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its ')' are plain.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return Number.isFinite(utime + stime) ? ((utime + stime) * 1000) / CLK_TCK : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process (Linux), or undefined. */
export function procFdCount(pid: number): number | undefined {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

export function selfSample(): ProcSample {
  const m = process.memoryUsage();
  const c = process.cpuUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, cpuMs: (c.user + c.system) / 1000 };
}

/** Another process, from /proc. */
export function pidSample(pid: number): ProcSample | undefined {
  const rss = procRssBytes(pid);
  if (rss === undefined) return undefined;
  const cpu = procCpuMs(pid);
  return { rssBytes: rss, ...(cpu !== undefined ? { cpuMs: cpu } : {}) };
}

/** The soft limit on open files of this process (Linux), or undefined. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
