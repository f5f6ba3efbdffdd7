/**
 * Fills the database with realistic demo jobs: npm run seed -- [--jobs N] [--reset]
 * Uses DATABASE_URL, or the embedded Postgres when it is unset; applies pending migrations first.
 * Also grants the demo users their roles (alice admin, bob operator, carol viewer, dave own-jobs,
 * erin viewer of acme, worker-1 worker).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { SEED_HISTORY_DAYS, seedDemoGrants, seedJobs } from '../src/demo/seed-jobs';
import { createLogger } from '../src/logger';

const USAGE = 'usage: npm run seed -- [--jobs N] [--reset] [--parallel CONNECTIONS]\n';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        jobs: { type: 'string', default: '10000' },
        reset: { type: 'boolean', default: false },
        parallel: { type: 'string' },
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
      ...(parallel === undefined ? {} : { parallel }),
    });
    const rate = result.seconds > 0 ? Math.round(result.jobs / result.seconds) : result.jobs;
    print(
      `seeded ${result.jobs.toLocaleString('en-US')} jobs in ${result.seconds.toFixed(1)} s ` +
        `(${rate.toLocaleString('en-US')} rows/s); total ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    // The server's daemon applies retention and heartbeat timeouts to these rows like any other.
    if (result.jobs > 0 && config.retentionDays < SEED_HISTORY_DAYS) {
      print(
        `note: the history spans ${SEED_HISTORY_DAYS} days; a server with RETENTION_DAYS=${config.retentionDays} deletes the jobs that ` +
          `finished earlier than that. Start it with RETENTION_DAYS=${SEED_HISTORY_DAYS} to keep them.`,
      );
    }
    if (result.jobs > 0) {
      print('note: no worker heartbeats the seeded RUNNING/TRAPPED/... jobs; the daemon marks them ABENDED after HEARTBEAT_TIMEOUT_MS.');
    }
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`seed failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
