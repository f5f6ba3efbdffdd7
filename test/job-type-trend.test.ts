import { SqlParams } from '../src/db/sql-params';
import { trendStatement } from '../src/jobs/stats/job-type-trend';
import { insertJobs, type JobSeed } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { token, type GraphQLResponse } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * jobTypeTrend against figures computed by hand from a handful of runs with chosen times, for
 * an admin and for a viewer of one scope; the window's limits; and its plan at 30,000 jobs.
 */

const tokens: Record<string, string> = {};

const at = (time: string) => new Date(`2026-03-01T${time}Z`);

const suite = apiSuite({
  daemon: false,
  alerts: false,
  grants: [
    ['admin', 'admin'],
    ['acme-viewer', 'viewer', 'acme'],
  ],
});
beforeAll(async () => {
  for (const user of ['admin', 'acme-viewer']) tokens[user] = await token(user);
  const run = (
    status: NonNullable<JobSeed['status']>,
    started: string | null,
    finished: string,
    extra: Partial<JobSeed> = {},
  ): JobSeed => ({
    type: 'etl',
    scope: 'acme/prod',
    status,
    created_at: at('00:00:00'),
    started_at: started === null ? null : at(started),
    finished_at: at(finished),
    ...extra,
  });
  await insertJobs(suite.db.pool, [
    // 10:00 to 11:00: five runs, durations 10, 20, 30 and 100 s; a cancel before it started has none.
    run('SUCCEEDED', '10:00:00', '10:00:10'),
    run('SUCCEEDED', '10:05:00', '10:05:20'),
    run('FAILED', '10:10:00', '10:10:30'),
    run('ABENDED', '10:20:00', '10:21:40'),
    run('CANCELLED', null, '10:30:00'),
    // Just before the hourly window below (in the daily one, whose first bucket is the whole day).
    run('SUCCEEDED', '09:59:00', '09:59:59.999'),
    // 11:00 to 12:00: nothing. 12:00 sharp belongs to 12:00 to 13:00 (60 s).
    run('SUCCEEDED', '11:59:00', '12:00:00'),
    // 13:00 to 14:00: a run in another scope (40 s): the admin counts it, the acme viewer does not.
    run('SUCCEEDED', '13:00:00', '13:00:40', { scope: 'globex/prod' }),
    // Another type, and a job still running: never counted.
    run('FAILED', '10:00:00', '10:00:05', { type: 'other' }),
    { type: 'etl', scope: 'acme/prod', status: 'RUNNING', created_at: at('10:00:00'), started_at: at('10:00:00') },
    // The next day, one second before midnight (5 s).
    {
      ...run('SUCCEEDED', '00:00:00', '00:00:00'),
      started_at: new Date('2026-03-02T23:59:54Z'),
      finished_at: new Date('2026-03-02T23:59:59Z'),
    },
  ]);
});

interface Point {
  start: string;
  runs: number;
  succeeded: number;
  failed: number;
  p50Seconds: number | null;
  p95Seconds: number | null;
}
const TREND = `query($type: String!, $bucket: TrendBucket!, $from: DateTime!, $to: DateTime) {
  jobTypeTrend(type: $type, bucket: $bucket, from: $from, to: $to) { start runs succeeded failed p50Seconds p95Seconds }
}`;

async function trend(user: string, variables: Record<string, unknown>): Promise<GraphQLResponse<{ jobTypeTrend: Point[] }>> {
  return suite.server.gql<{ jobTypeTrend: Point[] }>(tokens[user], TREND, { type: 'etl', ...variables });
}

const empty = (start: string): Point => ({ start, runs: 0, succeeded: 0, failed: 0, p50Seconds: null, p95Seconds: null });

test('hourly, as an admin: from is aligned down to its hour, empty hours are points too', async () => {
  const response = await trend('admin', { bucket: 'HOUR', from: '2026-03-01T10:30:00Z', to: '2026-03-01T14:00:00Z' });
  expect(response.errors).toBeUndefined();
  expect(response.data?.jobTypeTrend).toEqual([
    // p50 of 10, 20, 30, 100 = (20 + 30) / 2; p95 = 30 + 0.85 * (100 - 30) (linear interpolation at 0.95 * 3 = 2.85).
    { start: '2026-03-01T10:00:00.000Z', runs: 5, succeeded: 2, failed: 2, p50Seconds: 25, p95Seconds: 89.5 },
    empty('2026-03-01T11:00:00.000Z'),
    { start: '2026-03-01T12:00:00.000Z', runs: 1, succeeded: 1, failed: 0, p50Seconds: 60, p95Seconds: 60 },
    { start: '2026-03-01T13:00:00.000Z', runs: 1, succeeded: 1, failed: 0, p50Seconds: 40, p95Seconds: 40 },
  ]);
});

test('hourly, as a viewer of acme only: the run in globex is not there', async () => {
  const response = await trend('acme-viewer', { bucket: 'HOUR', from: '2026-03-01T10:00:00Z', to: '2026-03-01T14:00:00Z' });
  expect(response.data?.jobTypeTrend.map((point) => point.runs)).toEqual([5, 0, 1, 0]);
});

test('daily: the first day holds all its eight runs (from is aligned down to midnight), the second the one before midnight', async () => {
  const response = await trend('admin', { bucket: 'DAY', from: '2026-03-01T10:30:00Z', to: '2026-03-03T00:00:00Z' });
  expect(response.errors).toBeUndefined();
  expect(response.data?.jobTypeTrend).toEqual([
    // Durations 10, 20, 30, 40, 59.999, 60, 100 (the cancel has none): p50 = the 4th, 40; p95 at 0.95 * 6 = 5.7: 60 + 0.7 * 40.
    { start: '2026-03-01T00:00:00.000Z', runs: 8, succeeded: 5, failed: 2, p50Seconds: 40, p95Seconds: 88 },
    { start: '2026-03-02T00:00:00.000Z', runs: 1, succeeded: 1, failed: 0, p50Seconds: 5, p95Seconds: 5 },
  ]);
});

test('the window: at most 400 buckets, to after from, a job type; to defaults to now', async () => {
  const day = 86_400_000;
  const today = () => Math.floor(Date.now() / day) * day;
  /**
   * Daily buckets from `daysBack` days before today (UTC), up to the server's now. Asked again
   * if midnight passed while it was asked: the server's day would then not be the test's.
   */
  const fromDaysBack = async (daysBack: number) => {
    for (;;) {
      const midnight = today();
      const response = await trend('admin', { bucket: 'DAY', from: new Date(midnight - daysBack * day).toISOString() });
      if (today() === midnight) return { midnight, response };
    }
  };
  const { midnight, response: fourHundred } = await fromDaysBack(399);
  expect(fourHundred.errors).toBeUndefined();
  expect(fourHundred.data?.jobTypeTrend).toHaveLength(400);
  expect(fourHundred.data?.jobTypeTrend.at(-1)?.start).toBe(new Date(midnight).toISOString());
  const tooMany = (await fromDaysBack(400)).response;
  expect([tooMany.errors?.[0]?.extensions?.['code'], tooMany.errors?.[0]?.message]).toEqual([
    'BAD_USER_INPUT',
    expect.stringMatching(/401 buckets.*at most 400/),
  ]);
  for (const [variables, message] of [
    [{ bucket: 'HOUR', from: '2026-03-01T00:00:00Z', to: '2026-03-17T17:00:00Z' }, /401 buckets/],
    [{ bucket: 'HOUR', from: '2026-03-01T10:00:00Z', to: '2026-03-01T10:00:00Z' }, /after/],
    [{ bucket: 'HOUR', from: '2026-03-01T10:00:00Z', to: '2026-03-01T10:00:00Z', type: 'not a type!' }, /type/],
  ] as const) {
    const refused = await trend('admin', variables);
    expect([refused.errors?.[0]?.extensions?.['code'], refused.errors?.[0]?.message]).toEqual([
      'BAD_USER_INPUT',
      expect.stringMatching(message),
    ]);
  }
  const bucket = await trend('admin', { bucket: 'WEEK', from: '2026-03-01T10:00:00Z' });
  expect(bucket.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
});

describe('at 30,000 jobs', () => {
  let big: TestDatabase;
  beforeAll(async () => {
    big = await createTestDatabase();
    // 20 types over 60 days, mostly finished; deterministic.
    await big.pool.query(`
      INSERT INTO jobs (name, type, scope, owner_id, status, created_at, started_at, finished_at)
      SELECT 'job ' || n, 'type-' || (n % 20), 'acme/' || (n % 3), 'user-' || (n % 40),
             CASE WHEN n % 10 = 0 THEN 'RUNNING' WHEN n % 7 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END,
             created, created + interval '1 minute',
             CASE WHEN n % 10 = 0 THEN NULL ELSE created + interval '1 minute' + (n % 600) * interval '1 second' END
        FROM generate_series(1, 30000) AS n
        CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01' + n * interval '172.8 seconds' AS created) c`);
    await big.pool.query('ANALYZE jobs');
  });
  afterAll(async () => {
    await big?.drop();
  });

  test.each([
    ['a week by the hour', 'HOUR', '2026-02-01T00:00:00Z', '2026-02-08T00:00:00Z'],
    ['the whole table by the day', 'DAY', '2025-12-01T00:00:00Z', '2026-03-31T00:00:00Z'],
    // When the window holds every run of the type, the (type, created_at) index is as good: still only the type's rows.
  ])('%s: one range of an index led by type, no scan of the table', async (_label, bucket, from, to) => {
    const statement = trendStatement('type-3', bucket as 'HOUR' | 'DAY', new Date(from), new Date(to), new SqlParams(), 'TRUE');
    const { rows } = await big.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement.text}`, statement.values);
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toMatch(
      bucket === 'HOUR'
        ? /(Index (Only )?Scan using|Bitmap Index Scan on) jobs_type_finished_idx/
        : /(Index (Only )?Scan using|Bitmap Index Scan on) jobs_type_(finished|created)_idx/,
    );
    expect(plan).not.toMatch(/Seq Scan on jobs/);
    // And it counts what a plain count says.
    const answer = await big.pool.query<{ runs: number }>(statement.text, statement.values);
    const {
      rows: [plain],
    } = await big.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE type = 'type-3' AND finished_at >= $1 AND finished_at < $2`,
      [from, to],
    );
    expect(answer.rows.reduce((sum, row) => sum + row.runs, 0)).toBe(plain?.n);
  });
});
