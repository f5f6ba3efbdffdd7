/**
 * npm run bench:progress [-- --jobs 2000 --duration 20 --connections 8 --sequenced]
 *
 * With --sequenced every report carries its lease's next sequence number (as the SDK sends
 * them): a call then answers once its reports are stored, so each connection waits for a flush
 * (up to PROGRESS_FLUSH_MS) per call; the call latency is printed in both modes.
 *
 * 2,000 running jobs; workers report progress for all of them as fast as the API answers, in
 * batches, through GraphQL (as the SDK does). Prints the reports accepted per second, the
 * Postgres commits per second during the run and reports per commit, the HOT-update ratio of
 * the jobs table, and checks that the last report of every job is in the database. Figures,
 * never assertions; the targets are printed beside them.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import pino from 'pino';
import { API_NODE_FLAGS, apiEnv, signToken, startServer, UNTHROTTLED_WORKERS_ENV } from './support/api-process';
import { grantBenchUsers, insertPendingJobs, openBenchDatabase } from './support/bench-db';
import { claimJobs, postGraphql } from './support/graphql-client';
import { benchOptions, integerOption } from './support/options';
import { check, print, runBench } from './support/output';
import { stopAll } from './support/processes';

const SECRET = randomBytes(32).toString('hex');
const TARGETS = { reportsPerSecond: 20_000, reportsPerCommit: 20, hotRatio: 0.95 };

async function main(): Promise<void> {
  const values = benchOptions({
    jobs: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '8' },
    sequenced: { type: 'boolean', default: false },
  });
  const jobCount = integerOption('jobs', values.jobs, 1);
  const seconds = integerOption('duration', values.duration, 1);
  const connections = integerOption('connections', values.connections, 1);
  const log = pino({ level: 'warn' });

  const database = await openBenchDatabase(log, 'jw_bench_progress', { fresh: true });
  const pool = database.pool;
  const sequenced = values.sequenced;
  print(
    `bench:progress  node ${process.version}, ${jobCount} jobs, ${connections} connections, ${seconds} s, ${sequenced ? 'sequenced (durable)' : 'unsequenced'} reports`,
  );
  await grantBenchUsers(database, [['bench-worker', 'worker', null]]);
  await insertPendingJobs(pool, jobCount, { name: 'Bench job', type: 'bench', scope: 'bench/progress' });
  await pool.query('VACUUM (ANALYZE) jobs');

  const { child: api, base } = await startServer('api', [...API_NODE_FLAGS, 'dist/src/main.js'], {
    ...process.env,
    ...apiEnv(database.url, SECRET),
    PROGRESS_FLUSH_MS: '200',
    ...UNTHROTTLED_WORKERS_ENV,
  });
  const url = `${base}/graphql`;
  const authorization = `Bearer ${await signToken(SECRET, 'bench-worker', '2h')}`;
  const call = <T>(query: string, variables: Record<string, unknown>): Promise<T> => postGraphql<T>(url, authorization, query, variables);

  // Claim every job, as workers would.
  const leases = (await claimJobs(url, authorization, jobCount, 'bench', 'bench')).map((claim) => claim.lease);
  print(`claimed ${leases.length} jobs`);

  // Each connection owns a share of the jobs and reports for all of them in one call, again and again.
  const shares = Array.from({ length: connections }, (_, index) => leases.filter((_, i) => i % connections === index));
  const lastDone = new Map<string, number>();
  const REPORT = 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }';
  // A short warm-up fills the lease cache and the JIT.
  const sequences = new Map<string, number>();
  const numbered = (lease: string) => {
    if (!sequenced) return {};
    const next = (sequences.get(lease) ?? 0) + 1;
    sequences.set(lease, next);
    return { sequence: next };
  };
  await Promise.all(
    shares.map((share) =>
      call(REPORT, { r: share.map((lease) => ({ lease, ...numbered(lease), done: 0, total: 1_000_000, unit: 'rows' })) }),
    ),
  );
  const latencies: number[] = [];

  const stats = await snapshot(pool, database.url);
  const started = Date.now();
  const deadline = started + seconds * 1000;
  let accepted = 0;
  let sent = 0;
  let calls = 0;
  await Promise.all(
    shares.map(async (share) => {
      for (let round = 1; Date.now() < deadline; round += 1) {
        const reports = share.map((lease) => ({ lease, ...numbered(lease), done: round, total: 1_000_000 }));
        const sentAt = performance.now();
        const data = await call<{ reportProgress: number }>(REPORT, { r: reports });
        latencies.push(performance.now() - sentAt);
        accepted += data.reportProgress;
        sent += reports.length;
        calls += 1;
        for (const lease of share) lastDone.set(lease, round);
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  // Stopping the API flushes what it holds: then everything accepted must be in the database.
  await api.stop();
  const after = await snapshot(pool, database.url);

  const { rows } = await pool.query<{ id: string; progress_done: number }>(`SELECT id, progress_done FROM jobs WHERE type = 'bench'`);
  const stored = new Map(rows.map((row) => [row.id, row.progress_done]));
  const missing = [...lastDone].filter(([lease, done]) => stored.get(lease.split('.')[0] as string) !== done);
  const commits = after.commits - stats.commits;
  const updates = after.updates - stats.updates;
  const hot = after.hot - stats.hot;
  const reportsPerSecond = accepted / elapsed;

  print('');
  print(`run: ${elapsed.toFixed(1)} s, ${calls} calls of ${Math.round(sent / Math.max(calls, 1))} reports`);
  print(`reports sent        ${sent.toLocaleString('en-US')}`);
  print(`reports accepted    ${accepted.toLocaleString('en-US')}  (${Math.round(reportsPerSecond).toLocaleString('en-US')} /s)`);
  print(
    `commits             ${commits.toLocaleString('en-US')} in the database during the run (${(commits / elapsed).toFixed(1)} /s, every statement counted)`,
  );
  print(`reports per commit  ${(accepted / Math.max(commits, 1)).toFixed(0)}`);
  latencies.sort((x, y) => x - y);
  const quantile = (q: number) => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(0);
  print(
    `call latency        p50 ${quantile(0.5)} ms, p99 ${quantile(0.99)} ms${sequenced ? ' (answered once stored)' : ' (answered once taken into memory)'}`,
  );
  print(
    `jobs row updates    ${updates.toLocaleString('en-US')}, of which HOT ${hot.toLocaleString('en-US')} (${((hot / Math.max(updates, 1)) * 100).toFixed(1)} %)`,
  );
  print(`last report stored  ${lastDone.size - missing.length} of ${lastDone.size} jobs`);
  print('');
  print('Targets');
  check(
    reportsPerSecond >= TARGETS.reportsPerSecond,
    `>= ${TARGETS.reportsPerSecond.toLocaleString('en-US')} reports/s accepted: ${Math.round(reportsPerSecond).toLocaleString('en-US')}`,
  );
  check(
    accepted / Math.max(commits, 1) >= TARGETS.reportsPerCommit,
    `>= ${TARGETS.reportsPerCommit} reports per commit: ${(accepted / Math.max(commits, 1)).toFixed(0)}`,
  );
  check(
    hot / Math.max(updates, 1) >= TARGETS.hotRatio,
    `HOT ratio >= ${TARGETS.hotRatio * 100} %: ${((hot / Math.max(updates, 1)) * 100).toFixed(1)} %`,
  );
  check(missing.length === 0, `the last report of every job is in the database: ${missing.length} missing`);
  await database.close();
}

/** Cumulative counters; Postgres publishes backends' statistics with a delay, so wait until they settle. */
async function snapshot(pool: Pool, _url: string): Promise<{ commits: number; updates: number; hot: number }> {
  let previous = '';
  for (let i = 0; i < 20; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 600));
    const { rows } = await pool.query<{ commits: string; updates: string; hot: string }>(
      `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
              n_tup_upd AS updates, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'jobs'`,
    );
    const row = rows[0] as { commits: string; updates: string; hot: string };
    const key = `${row.updates}/${row.hot}`;
    if (key === previous) return { commits: Number(row.commits), updates: Number(row.updates), hot: Number(row.hot) };
    previous = key;
  }
  throw new Error('statistics did not settle');
}

runBench('bench:progress', main, stopAll);
