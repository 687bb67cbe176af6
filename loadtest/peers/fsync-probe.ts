// The disk under the run's temporary folder, measured in the same run as the
// durable systems that wait on it: 4 KiB appends, each followed by
// fdatasync. A slow or contended disk shows here before it is blamed on a
// server.
import fs from 'node:fs';
import path from 'node:path';

const BLOCK = Buffer.alloc(4096, 120);

export interface FsyncProbe {
  writes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** `writes` appends of 4 KiB, each followed by fdatasync, in a file under `dir` (removed after). Blocks the event loop while it runs: call it between phases. */
export function fsyncProbe(dir: string, writes = 200): FsyncProbe {
  const file = path.join(dir, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const ms: number[] = [];
  try {
    for (let i = 0; i < writes; i++) {
      fs.writeSync(fd, BLOCK);
      const t = performance.now();
      fs.fdatasyncSync(fd);
      ms.push(performance.now() - t);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  ms.sort((a, b) => a - b);
  const at = (q: number): number => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]! * 100) / 100;
  return { writes, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: Math.round(ms[ms.length - 1]! * 100) / 100 };
}
