/**
 * The benchmarks' databases: one per bench on the server of DATABASE_URL (`jw_bench_list` unless
 * named; created through that admin connection when missing, or recreated when fresh), or the
 * embedded Postgres under `.data/bench`. Migrations are applied by openDatabase; bench:list's
 * data is seeded once and reused by later runs; the other benches insert the jobs they measure.
 */
import { Client, type Pool, type PoolClient } from 'pg';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config';
import { openDatabase, type OpenDatabase } from '../../src/db/database';
import { seedJobs } from '../../scripts/seed/seed-jobs';

export const BENCH_DATABASE = 'jw_bench_list';
const EMBEDDED_DATA_DIR = '.data/bench';

export async function openBenchDatabase(log: Logger, name = BENCH_DATABASE, options: { fresh?: boolean } = {}): Promise<OpenDatabase> {
  const config = loadConfig();
  if (config.databaseUrl === undefined) {
    // The embedded Postgres holds one database: benchmarks that want a fresh one empty it.
    const database = await openDatabase({ ...config, databaseUrl: undefined, dataDir: EMBEDDED_DATA_DIR }, log);
    if (options.fresh === true) await database.pool.query('TRUNCATE jobs, tasks, timeline_events, job_attempts');
    return database;
  }
  const admin = new Client({ connectionString: config.databaseUrl });
  await admin.connect();
  try {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
    if (options.fresh === true) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(config.databaseUrl);
  url.pathname = `/${name}`;
  return openDatabase({ ...config, databaseUrl: url.toString() }, log);
}

/**
 * Makes sure `jobs` holds at least `wanted` rows: nothing to do when it does, otherwise a fresh
 * seed of exactly `wanted` (from empty, so the fast path with the indexes dropped applies).
 * Then VACUUM (ANALYZE), so that hint bits and the visibility map are set before measuring.
 */
export async function ensureSeeded(database: OpenDatabase, wanted: number, print: (line: string) => void): Promise<void> {
  const { rows } = await database.pool.query<{ count: string }>('SELECT count(*) AS count FROM jobs');
  const present = Number(rows[0]?.count ?? 0);
  if (present >= wanted) {
    print(`jobs already holds ${present.toLocaleString('en-US')} rows (>= ${wanted.toLocaleString('en-US')}): not seeding`);
  } else {
    print(
      `jobs holds ${present.toLocaleString('en-US')} rows (< ${wanted.toLocaleString('en-US')}): ` +
        `seeding ${wanted.toLocaleString('en-US')} jobs from scratch`,
    );
    const result = await seedJobs(database.pool, { jobs: wanted, reset: true, log: (line) => print(`  seed: ${line}`) });
    print(`seeded ${result.jobs.toLocaleString('en-US')} jobs in ${result.seconds.toFixed(1)} s`);
  }
  const started = Date.now();
  const client = await database.pool.connect();
  try {
    await client.query('SET statement_timeout = 0');
    await client.query('VACUUM (ANALYZE) jobs');
    await client.query('RESET statement_timeout');
  } finally {
    client.release();
  }
  print(`VACUUM (ANALYZE) jobs: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The benchmark users' grants (idempotent). */
export async function grantBenchUsers(database: OpenDatabase, grants: ReadonlyArray<readonly [string, string, string | null]>) {
  for (const [user, role, scope] of grants) {
    await database.pool.query(
      `INSERT INTO grants (user_id, role_name, scope, granted_by) VALUES ($1, $2, $3, 'bench')
       ON CONFLICT (user_id, role_name, (coalesce(scope, ''))) DO NOTHING`,
      [user, role, scope],
    );
  }
}

/** `count` PENDING jobs named `${name} 1..count`, of `type` in `scope`, owned by bench-owner. */
export async function insertPendingJobs(
  db: Pick<Pool | PoolClient, 'query'>,
  count: number,
  job: { readonly name: string; readonly type: string; readonly scope: string },
): Promise<void> {
  await db.query(
    `INSERT INTO jobs (name, type, scope, owner_id, status)
     SELECT $4::text || ' ' || i, $2, $3, 'bench-owner', 'PENDING' FROM generate_series(1, $1) AS i`,
    [count, job.type, job.scope, job.name],
  );
}
