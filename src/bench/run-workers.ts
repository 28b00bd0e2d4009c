// Runs jobs in worker processes: all spawned, all ready, then all told to go at once, so
// parallel workers overlap from their first operation.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Job, JobResult } from './jobs.js';
import { stop, track } from './procs.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

type Reply = { type: 'ready' } | { type: 'result'; result: JobResult } | { type: 'error'; error: string };

/** runJobs runs each job in its own process, together, and returns their results in order. */
export async function runJobs(jobs: Job[], timeoutMs: number): Promise<JobResult[]> {
  const workers = jobs.map(() => track(fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
  // 'close' (not 'exit'): it comes after the IPC channel has delivered every message, while
  // 'exit' can overtake a reply sent just before the worker ended.
  const next = (w: ChildProcess): Promise<Reply> => new Promise((resolve, reject) => {
    const onClose = (code: number | null): void => reject(new Error(`bench worker exited (${code}) without a reply`));
    w.once('close', onClose);
    w.once('message', (m: Reply) => { w.off('close', onClose); resolve(m); });
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const work = (async () => {
      const ready = workers.map((w, i) => { const r = next(w); w.send({ type: 'job', job: jobs[i] }); return r; });
      await Promise.all(ready);
      const done = workers.map((w) => { const r = next(w); w.send({ type: 'go' }); return r; });
      return (await Promise.all(done)).map((r) => {
        if (r.type === 'error') throw new Error(`bench worker: ${r.error}`);
        if (r.type !== 'result') throw new Error('bench worker: unexpected reply');
        return r.result;
      });
    })();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bench workers (${jobs[0]?.kind}) did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    await Promise.all(workers.map((w) => stop(w, 2000)));
  }
}

export async function runJob(job: Job, timeoutMs: number): Promise<JobResult> {
  const [r] = await runJobs([job], timeoutMs);
  return r!;
}

/** aggregate adds up parallel results: total ops and bytes over the span from first start to last end. */
export function aggregate(results: JobResult[]): JobResult {
  const startMs = Math.min(...results.map((r) => r.startMs));
  const endMs = Math.max(...results.map((r) => r.endMs));
  return {
    ops: results.reduce((s, r) => s + r.ops, 0),
    bytes: results.reduce((s, r) => s + r.bytes, 0),
    seconds: Math.max((endMs - startMs) / 1000, ...results.map((r) => r.seconds)),
    startMs, endMs, extra: {},
  };
}
