/**
 * Fills the database with realistic demo jobs: npm run seed -- [--jobs N] [--reset] [--days D]
 * Uses DATABASE_URL, or the embedded Postgres when it is unset; applies pending migrations first.
 * Also grants the demo users their roles (alice admin, bob operator, carol viewer, dave own-jobs,
 * erin viewer of acme, worker-1 worker).
 *
 * The history spans RETENTION_DAYS (the same setting the server reads; 7 by default, at most
 * 90) unless --days says otherwise, so a server started with the same settings keeps every job.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { seedDemoGrants } from './seed/demo-grants';
import { historyDaysFor, MAX_HISTORY_DAYS, seedJobs } from './seed/seed-jobs';
import { createLogger } from '../src/logger';

const USAGE = 'usage: npm run seed -- [--jobs N] [--reset] [--days DAYS_OF_HISTORY] [--parallel CONNECTIONS]\n';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        jobs: { type: 'string', default: '10000' },
        reset: { type: 'boolean', default: false },
        parallel: { type: 'string' },
        days: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const jobs = Number(values.jobs);
  if (!Number.isSafeInteger(jobs) || jobs < 0) {
    process.stderr.write(`--jobs must be a non-negative integer, got "${values.jobs}"\n${USAGE}`);
    process.exit(2);
  }

  const parallel = values.parallel === undefined ? undefined : Number(values.parallel);
  if (parallel !== undefined && (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > 16)) {
    process.stderr.write(`--parallel must be an integer from 1 to 16, got "${values.parallel}"\n${USAGE}`);
    process.exit(2);
  }

  const config = loadConfig();
  const days = values.days === undefined ? historyDaysFor(config.retentionDays) : Number(values.days);
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_HISTORY_DAYS) {
    process.stderr.write(`--days must be an integer from 1 to ${MAX_HISTORY_DAYS}, got "${values.days}"\n${USAGE}`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  const print = (message: string) => process.stdout.write(`${message}\n`);

  // The first Ctrl-C stops loading but still rebuilds the indexes; a second one exits at once.
  const abort = new AbortController();
  process.on('SIGINT', () => {
    if (abort.signal.aborted) process.exit(130);
    print('interrupted: finishing the batches in flight and restoring the indexes (Ctrl-C again to quit now)');
    abort.abort();
  });

  const started = Date.now();
  const database = await openDatabase(config, log);
  try {
    print(`database: ${database.embedded ? 'embedded Postgres' : 'DATABASE_URL'} (migrations applied)`);
    const grants = await seedDemoGrants(database.pool);
    print(`demo grants: ${grants} added (alice admin, bob operator, carol viewer, dave own-jobs, erin viewer@acme, worker-1 worker)`);
    const result = await seedJobs(database.pool, {
      jobs,
      reset: values.reset,
      log: print,
      signal: abort.signal,
      historyDays: days,
      ...(parallel === undefined ? {} : { parallel }),
    });
    const rate = result.seconds > 0 ? Math.round(result.jobs / result.seconds) : result.jobs;
    print(
      `seeded ${result.jobs.toLocaleString('en-US')} jobs in ${result.seconds.toFixed(1)} s ` +
        `(${rate.toLocaleString('en-US')} rows/s); total ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    // The server's daemon applies retention and heartbeat timeouts to these rows like any other.
    if (result.jobs > 0) {
      print(`history: ${days} days (jobs created and finished since ${new Date(Date.now() - days * 86_400_000).toISOString()})`);
      if (config.retentionDays < days) {
        print(
          `note: a server with RETENTION_DAYS=${config.retentionDays} deletes the finished jobs older than ${config.retentionDays} days ` +
            `at once; start it with RETENTION_DAYS=${days} (or more) to keep them.`,
        );
      }
      print(
        'note: no worker holds the seeded RUNNING, TRAPPED, CANCELLING and ROLLBACK jobs: within HEARTBEAT_TIMEOUT_MS of now ' +
          '(30 s by default) a running server marks them ABENDED. PENDING jobs wait for a worker (npm run demo runs some).',
      );
    }
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`seed failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
