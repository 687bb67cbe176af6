// Runs sweep jobs on N worker threads. A job's result depends only on the job,
// never on which worker ran it or when; results come back in job order.
import { Worker } from 'node:worker_threads';
import type { Job, JobResult, SweepSettings } from './sweep-job.ts';

type Reply = { ok: true; value: JobResult } | { ok: false; job: Job; error: string };

export async function runPool(jobs: Job[], settings: SweepSettings, workers: number, onResult: (r: JobResult) => void): Promise<JobResult[]> {
  const results = new Array<JobResult | undefined>(jobs.length);
  let next = 0;
  const position = new Map(jobs.map((j, i) => [j.index, i]));
  const n = Math.max(1, Math.min(workers, jobs.length));
  await Promise.all(
    Array.from({ length: n }, () => {
      const w = new Worker(new URL('./sweep-worker.mjs', import.meta.url), { workerData: settings });
      return new Promise<void>((resolve, reject) => {
        const feed = (): void => {
          if (next < jobs.length) w.postMessage(jobs[next++]);
          else {
            w.postMessage(null);
            void w.terminate().then(() => resolve());
          }
        };
        w.on('message', (m: Reply) => {
          if (!m.ok) {
            reject(new Error(`worker failed on ${m.job.scenario} seed ${m.job.seed}:\n${m.error}`));
            void w.terminate();
            return;
          }
          results[position.get(m.value.job.index)!] = m.value;
          onResult(m.value);
          feed();
        });
        w.on('error', reject);
        feed();
      });
    }),
  );
  return results as JobResult[];
}
