/**
 * A demo worker process: `node dist/scripts/demo/worker.js`, started by `npm run demo` (see
 * workers.ts). It is an ordinary Jobwatch worker built on the SDK, configured through the
 * environment: DEMO_API_URL, DEMO_WORKER_TOKEN (a token of `demo-worker`, which holds the
 * `worker` role), DEMO_WORKER_ID, DEMO_TYPES (comma-separated) and DEMO_CONCURRENCY.
 */
import { JobAbortedError, JobwatchError, JobwatchWorker } from '../../src/sdk';
import { HANDLERS } from './handlers';
import { JOB_TYPES, type DemoJobType } from './job-types';
import { errorText, say, seconds } from './util';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`demo worker: ${name} is not set (this process is started by npm run demo)\n`);
    process.exit(2);
  }
  return value;
}

const url = required('DEMO_API_URL');
const token = required('DEMO_WORKER_TOKEN');
const workerId = required('DEMO_WORKER_ID');
const types = required('DEMO_TYPES')
  .split(',')
  .filter((type): type is DemoJobType => (JOB_TYPES as readonly string[]).includes(type));
const concurrency = Number(process.env['DEMO_CONCURRENCY'] ?? '2');
const tag = workerId.replace(/^demo-/, '');
let stopping = false;

const worker = new JobwatchWorker({
  url,
  token,
  workerId,
  types,
  concurrency,
  pollIntervalMs: 1_000,
  // Well under the demo's HEARTBEAT_TIMEOUT_MS (10 s); also how soon a cancel or a trap decision is heard.
  heartbeatIntervalMs: 2_000,
  progressIntervalMs: 500,
  handler: async (job, ctx) => {
    const handler = HANDLERS[job.type as DemoJobType];
    if (handler === undefined) throw new Error(`This worker does not know job type "${job.type}"`);
    const started = Date.now();
    const attempt = job.attempt > 1 ? ` (attempt ${job.attempt})` : '';
    say(tag, `claimed ${job.type} "${job.name}"${attempt}`, 'cyan');
    try {
      const message = await handler(job, ctx);
      say(tag, `finished "${job.name}" in ${seconds(Date.now() - started)}`, 'green');
      return message;
    } catch (error) {
      if (error instanceof JobAbortedError) {
        say(tag, `stopped "${job.name}": ${error.reason}`, 'yellow');
      } else {
        say(tag, `"${job.name}" failed: ${errorText(error)}`, 'red');
      }
      throw error;
    }
  },
  onError: (error, job) => {
    const code = error instanceof JobwatchError ? ` (${error.code})` : '';
    say(tag, `worker error${job === undefined ? '' : ` on "${job.name}"`}${code}: ${errorText(error)}`, 'yellow');
  },
});

async function stop(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Running jobs are aborted ("worker-stopping") and reported as failed: nothing is left RUNNING.
  say(tag, `stopping (${why})`);
  const timer = setTimeout(() => process.exit(1), 10_000);
  try {
    await worker.stop({ abort: true });
  } finally {
    clearTimeout(timer);
    process.exit(0);
  }
}

process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
// The demo's main process went away (even if it was killed): do not linger as an orphan.
process.on('disconnect', () => void stop('the demo process is gone'));

worker.start();
say(tag, `worker ${workerId} (pid ${process.pid}) runs ${types.join(', ')} with concurrency ${concurrency}`);
