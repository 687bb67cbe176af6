// A sweep worker: runs the jobs it is sent, one at a time, and posts each result.
import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type Job, type SweepSettings } from './sweep-job.ts';
import { threadCpuClock } from './thread-cpu.ts';

const settings = workerData as SweepSettings;
const port = parentPort!;
const cpu = threadCpuClock();
port.on('message', (job: Job | null) => {
  if (job === null) return port.close();
  try {
    port.postMessage({ ok: true, value: runJob(job, settings, () => performance.now(), cpu) });
  } catch (e) {
    port.postMessage({ ok: false, job, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
