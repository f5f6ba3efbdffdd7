/**
 * Demo and benchmark data: realistic jobs generated inside Postgres (the entry point).
 *
 * Rows are produced server-side by `INSERT ... SELECT ... FROM generate_series(lo, hi)` in batches,
 * so a million jobs never cross the wire. Every random choice is a `random()` draw made once per
 * row in the innermost subquery; the outer levels (which `OFFSET 0` keeps from being flattened
 * and recomputed) derive everything else from those draws, so that each row is consistent with
 * its status: a job that never ran has no `started_at`, a finished one has `finished_at` after its
 * start, a worker-held one has a worker, a lease and a fresh heartbeat, and so on.
 *
 * Distributions are skewed on purpose (a few owners and types dominate, most jobs succeeded,
 * creation follows a daily rhythm) so that the list queries meet the data shapes they will meet
 * in production. Tasks and timeline events are written for the most recent ~5% of the jobs only,
 * in the same statement as those jobs, from the same computed values.
 *
 * The modules: job-types.ts and vocabulary.ts (the catalog), sql/ (the statement: catalog
 * parameters, the job's life, its row, tasks, timeline events), indexes.ts (dropped for a load
 * into an empty table, rebuilt after), bulk-load.ts (transactions and parallel lanes),
 * demo-grants.ts (the demo users' roles).
 */
import type { Pool } from 'pg';
import { bulk, defaultParallel, onConnections, seconds } from './bulk-load';
import { dropIndexes, type IndexDefinition, jobIndexes, recreateIndexes } from './indexes';
import { type Batch, batchStatement } from './sql/batch-statement';

export interface SeedOptions {
  /** How many jobs to add. */
  readonly jobs: number;
  /** Empty jobs, tasks and timeline_events first. */
  readonly reset?: boolean;
  readonly log?: (msg: string) => void;
  /** Concurrent connections for loading and for index builds (default: the CPU count, 1 to 4). */
  readonly parallel?: number;
  /** Rows per INSERT statement (default 50,000). */
  readonly batchSize?: number;
  /** Stops after the batches in flight; the indexes are still recreated. */
  readonly signal?: AbortSignal;
  /**
   * How many days back creation times go (default SEED_HISTORY_DAYS). Every seeded job is
   * created, and every finished one finished, within that window: a server whose RETENTION_DAYS
   * is at least this keeps them all (`historyDaysFor` picks the window for a retention).
   */
  readonly historyDays?: number;
}

export interface SeedResult {
  readonly jobs: number;
  readonly seconds: number;
}

/**
 * How far back creation times go unless told: three months of history, for benchmarks (which
 * run their server with a retention long enough to keep it). `npm run seed` uses
 * `historyDaysFor(RETENTION_DAYS)` instead, so that a server with the same settings keeps it.
 */
export const SEED_HISTORY_DAYS = 90;
export const MAX_HISTORY_DAYS = 3650;

/**
 * The history a server with this RETENTION_DAYS keeps: the whole retention window, up to
 * SEED_HISTORY_DAYS, and at least one day (with 0, finished jobs are deleted at once anyway).
 */
export function historyDaysFor(retentionDays: number): number {
  return Math.max(1, Math.min(SEED_HISTORY_DAYS, retentionDays));
}
/** The newest share of the jobs that also get tasks and timeline events. */
const RECENT_SHARE = 0.05;

/**
 * Adds `options.jobs` generated jobs (with tasks and timeline events for the newest ~5%).
 * When the table starts empty, its secondary indexes are dropped for the load and rebuilt
 * afterwards from their own definitions, whatever happens in between.
 */
export async function seedJobs(pool: Pool, options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? (() => undefined);
  const total = Math.floor(options.jobs);
  if (!Number.isSafeInteger(total) || total < 0) throw new Error(`jobs must be a non-negative integer, got ${options.jobs}`);
  const parallel = Math.max(1, Math.floor(options.parallel ?? defaultParallel()));
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 50_000));
  const historyDays = options.historyDays ?? SEED_HISTORY_DAYS;
  if (!Number.isInteger(historyDays) || historyDays < 1 || historyDays > MAX_HISTORY_DAYS) {
    throw new Error(`historyDays must be an integer from 1 to ${MAX_HISTORY_DAYS}, got ${options.historyDays}`);
  }
  const started = Date.now();

  if (options.reset === true) {
    const phase = Date.now();
    await pool.query('TRUNCATE jobs, tasks, timeline_events, job_attempts');
    log(`truncated jobs, tasks and timeline_events: ${seconds(phase)} s`);
  }
  if (total === 0) return { jobs: 0, seconds: (Date.now() - started) / 1000 };

  const empty = (await pool.query('SELECT NOT EXISTS (SELECT 1 FROM jobs) AS empty')).rows[0]?.empty === true;
  let dropped: IndexDefinition[] = [];
  if (empty) {
    const phase = Date.now();
    const indexes = await jobIndexes(pool);
    if (indexes.length > 0) {
      await dropIndexes(pool, indexes);
      dropped = indexes;
    }
    log(`jobs is empty: dropped ${dropped.length} secondary indexes for the load: ${seconds(phase)} s`);
  } else {
    log('jobs already holds rows: loading with its indexes in place (slower)');
  }

  let loadError: unknown;
  let recreateError: unknown;
  try {
    const phase = Date.now();
    const recentFrom = total - Math.max(1, Math.ceil(total * RECENT_SHARE)) + 1;
    const batches: Batch[] = [];
    for (const [from, to, recent] of [
      [1, recentFrom - 1, false],
      [recentFrom, total, true],
    ] as const) {
      for (let lo = from; lo <= to; lo += batchSize) batches.push({ lo, hi: Math.min(to, lo + batchSize - 1), recent });
    }
    // The newest rows (with tasks and events) go first: they take longest per row.
    batches.sort((a, b) => Number(b.recent) - Number(a.recent));
    const now = Date.now() / 1000;
    let loaded = 0;
    await onConnections(
      pool,
      parallel,
      batches,
      async (client, batch) => {
        const statement = batchStatement(batch, total, now, historyDays);
        await bulk(client, { jit: 'off', work_mem: '64MB' }, () => client.query(statement.text, statement.values));
        loaded += batch.hi - batch.lo + 1;
        log(`  ${loaded.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} jobs (${seconds(phase)} s)`);
      },
      options.signal,
    );
    if (options.signal?.aborted === true) throw new Error(`interrupted after ${loaded} of ${total} jobs`);
    const counts = await pool.query<{ tasks: string; events: string }>(
      `SELECT (SELECT count(*) FROM tasks) AS tasks, (SELECT count(*) FROM timeline_events) AS events`,
    );
    log(
      `loaded ${total.toLocaleString('en-US')} jobs on ${parallel} connections in ${seconds(phase)} s ` +
        `(tables now hold ${Number(counts.rows[0]?.tasks).toLocaleString('en-US')} tasks, ` +
        `${Number(counts.rows[0]?.events).toLocaleString('en-US')} timeline events)`,
    );
  } catch (error) {
    loadError = error;
  } finally {
    if (dropped.length > 0) {
      const phase = Date.now();
      try {
        await recreateIndexes(pool, dropped, parallel, log);
        log(`recreated ${dropped.length} indexes: ${seconds(phase)} s`);
      } catch (error) {
        log(`could not recreate every index; create the missing ones by hand:\n${dropped.map((i) => `  ${i.definition};`).join('\n')}`);
        recreateError = error;
      }
    }
  }
  // The load's own error first: a failed index rebuild after it is only a consequence.
  /* eslint-disable @typescript-eslint/only-throw-error -- rethrown as caught */
  if (loadError !== undefined) throw loadError;
  if (recreateError !== undefined) throw recreateError;
  /* eslint-enable @typescript-eslint/only-throw-error */

  const phase = Date.now();
  const client = await pool.connect();
  try {
    await bulk(client, {}, () => client.query('ANALYZE jobs, tasks, timeline_events'));
  } finally {
    client.release();
  }
  log(`analyzed: ${seconds(phase)} s`);
  return { jobs: total, seconds: (Date.now() - started) / 1000 };
}
