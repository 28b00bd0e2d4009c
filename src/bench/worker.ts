// A benchmark worker process: receives one job over IPC, says `ready`, waits for `go` (so
// parallel workers start together), runs the job and sends its result back.
import { runJob, type Job } from './jobs.js';

type Message = { type: 'job'; job: Job } | { type: 'go' };

let job: Job | undefined;

process.on('message', (m: Message) => {
  if (m.type === 'job') {
    job = m.job;
    process.send?.({ type: 'ready' });
    return;
  }
  if (!job) return;
  try {
    const result = runJob(job);
    process.send?.({ type: 'result', result }, () => process.disconnect());
  } catch (err) {
    process.exitCode = 1;
    process.send?.({ type: 'error', error: err instanceof Error ? err.message : String(err) }, () => process.disconnect());
  }
});
