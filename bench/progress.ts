/**
 * npm run bench:progress [-- --jobs 2000 --duration 20 --connections 8]
 *
 * 2,000 running jobs; workers report progress for all of them as fast as the API answers, in
 * batches, through GraphQL (as the SDK does). Prints the reports accepted per second, the
 * Postgres commits per second during the run and reports per commit, the HOT-update ratio of
 * the jobs table, and checks that the last report of every job is in the database. Figures,
 * never assertions; the targets are printed beside them.
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import pino from 'pino';
import { findFreePort } from '../src/util/free-port';
import { openBenchDatabase } from './lib/bench-db';
import { startChild, stopAll, waitForHttp } from './lib/processes';

const SECRET = 'bench-progress-secret-0123456789abcdef';
const TARGETS = { reportsPerSecond: 20_000, reportsPerCommit: 20, hotRatio: 0.95 };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { jobs: { type: 'string', default: '2000' }, duration: { type: 'string', default: '20' }, connections: { type: 'string', default: '8' } },
  });
  const jobCount = Number(values.jobs);
  const seconds = Number(values.duration);
  const connections = Number(values.connections);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const log = pino({ level: 'warn' });

  const database = await openBenchDatabase(log, 'jw_bench_progress', { fresh: true });
  const pool = database.pool;
  print(`bench:progress  node ${process.version}, ${jobCount} jobs, ${connections} connections, ${seconds} s`);
  await pool.query(`INSERT INTO grants (user_id, role_name) VALUES ('bench-worker', 'worker') ON CONFLICT DO NOTHING`);
  await pool.query(
    `INSERT INTO jobs (name, type, scope, owner_id, status)
     SELECT 'Bench job ' || i, 'bench', 'bench/progress', 'bench-owner', 'PENDING' FROM generate_series(1, $1) AS i`,
    [jobCount],
  );
  await pool.query('VACUUM (ANALYZE) jobs');

  const port = await findFreePort();
  const api = startChild('api', ['dist/src/main.js'], {
    ...process.env,
    DATABASE_URL: database.url,
    PORT: String(port),
    JWT_SECRET: SECRET,
    SECRETS_KEY: '11'.repeat(32),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PROGRESS_FLUSH_MS: '200',
    WORKER_RATE_LIMIT_PER_SECOND: '1000000',
    WORKER_RATE_LIMIT_BURST: '1000000',
    // The daemon must not end the jobs while they are measured.
    HEARTBEAT_TIMEOUT_MS: '86400000',
    DAEMON_INTERVAL_MS: '3600000',
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  await waitForHttp(`http://127.0.0.1:${port}/readyz`, api);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-worker')
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(SECRET));
  const call = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    if (body.errors !== undefined) throw new Error(JSON.stringify(body.errors).slice(0, 500));
    return body.data as T;
  };

  // Claim every job, as workers would.
  const leases: string[] = [];
  while (leases.length < jobCount) {
    const claimed = await Promise.all(
      Array.from({ length: 20 }, () =>
        call<{ claimJob: { lease: string } | null }>('mutation { claimJob(workerId: "bench", types: ["bench"]) { lease } }', {}),
      ),
    );
    const got = claimed.flatMap((data) => (data.claimJob === null ? [] : [data.claimJob.lease]));
    if (got.length === 0) break;
    leases.push(...got);
  }
  print(`claimed ${leases.length} jobs`);

  // Each connection owns a share of the jobs and reports for all of them in one call, again and again.
  const shares = Array.from({ length: connections }, (_, index) => leases.filter((_, i) => i % connections === index));
  const lastDone = new Map<string, number>();
  const REPORT = 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }';
  // A short warm-up fills the lease cache and the JIT.
  await Promise.all(shares.map((share) => call(REPORT, { r: share.map((lease) => ({ lease, done: 0, total: 1_000_000, unit: 'rows' })) })));

  const stats = await snapshot(pool, database.url);
  const started = Date.now();
  const deadline = started + seconds * 1000;
  let accepted = 0;
  let sent = 0;
  let calls = 0;
  await Promise.all(
    shares.map(async (share) => {
      for (let round = 1; Date.now() < deadline; round += 1) {
        const reports = share.map((lease) => ({ lease, done: round, total: 1_000_000 }));
        const data = await call<{ reportProgress: number }>(REPORT, { r: reports });
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
  print(`commits             ${commits.toLocaleString('en-US')} in the database during the run (${(commits / elapsed).toFixed(1)} /s, every statement counted)`);
  print(`reports per commit  ${(accepted / Math.max(commits, 1)).toFixed(0)}`);
  print(`jobs row updates    ${updates.toLocaleString('en-US')}, of which HOT ${hot.toLocaleString('en-US')} (${((hot / Math.max(updates, 1)) * 100).toFixed(1)} %)`);
  print(`last report stored  ${lastDone.size - missing.length} of ${lastDone.size} jobs`);
  print('');
  print('Targets');
  const check = (ok: boolean, text: string) => print(`  ${ok ? 'PASS' : 'MISS'}  ${text}`);
  check(reportsPerSecond >= TARGETS.reportsPerSecond, `>= ${TARGETS.reportsPerSecond.toLocaleString('en-US')} reports/s accepted: ${Math.round(reportsPerSecond).toLocaleString('en-US')}`);
  check(accepted / Math.max(commits, 1) >= TARGETS.reportsPerCommit, `>= ${TARGETS.reportsPerCommit} reports per commit: ${(accepted / Math.max(commits, 1)).toFixed(0)}`);
  check(hot / Math.max(updates, 1) >= TARGETS.hotRatio, `HOT ratio >= ${TARGETS.hotRatio * 100} %: ${((hot / Math.max(updates, 1)) * 100).toFixed(1)} %`);
  check(missing.length === 0, `the last report of every job is in the database: ${missing.length} missing`);
  await database.close();
}

/** Cumulative counters; Postgres publishes backends' statistics with a delay, so wait until they settle. */
async function snapshot(pool: import('pg').Pool, _url: string): Promise<{ commits: number; updates: number; hot: number }> {
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

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench:progress failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => void stopAll());
