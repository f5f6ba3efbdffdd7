/**
 * A real worker process for tests: claims jobs with the SDK and reports progress until told
 * otherwise. Behaviour comes from the environment:
 *   JOBWATCH_URL, JOBWATCH_TOKEN, WORKER_ID, WORKER_TYPES (comma-separated),
 *   WORKER_MODE = "hang" (report progress forever: a job to be killed) | "complete" (finish after a few reports).
 * It prints one JSON line per event on stdout: {"event":"claimed","jobId":...,"lease":...}; "aborted"
 * when the SDK aborts a job (cancelled, lease lost), "error" for each error the SDK reports.
 */
import { JobwatchWorker } from '../../src/sdk';

const mode = process.env['WORKER_MODE'] ?? 'hang';
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const worker = new JobwatchWorker({
  url: process.env['JOBWATCH_URL'] as string,
  token: process.env['JOBWATCH_TOKEN'] as string,
  workerId: process.env['WORKER_ID'] ?? `test-worker-${process.pid}`,
  types: (process.env['WORKER_TYPES'] ?? 'import').split(','),
  pollIntervalMs: 50,
  heartbeatIntervalMs: 200,
  progressIntervalMs: 50,
  onError: (error) => say({ event: 'error', message: String(error) }),
  handler: async (job, ctx) => {
    say({ event: 'claimed', jobId: job.id, lease: (ctx as unknown as { lease: string }).lease, pid: process.pid });
    ctx.signal.addEventListener('abort', () => say({ event: 'aborted', jobId: job.id, reason: String(ctx.signal.reason) }), { once: true });
    for (let done = 1; ; done += 1) {
      ctx.progress({ done, total: 1000, unit: 'rows', phase: 'copying' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (done === 5) say({ event: 'reported', jobId: job.id, done });
      if (mode === 'complete' && done >= 10) return 'finished';
      ctx.signal.throwIfAborted();
    }
  },
});
worker.start();
process.on('SIGTERM', () => void worker.stop({ abort: true }).then(() => process.exit(0)));
