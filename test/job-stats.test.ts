import type { JobStatus } from '../src/jobs/job-status';
import { insertJobs, type JobSeed } from './support/fixtures';
import { random } from './support/random';
import { token, type GraphQLResponse } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * jobTypeStats(type) and Job.slowerThanUsual over fixture jobs with known durations. The
 * expected numbers are computed here, with Postgres's percentile_cont definition (linear
 * interpolation between the two nearest ranks), not read back from the code.
 */

let euViewer: string;
let nobody: string;

const suite = apiSuite({
  grants: [
    ['admin', 'admin'],
    ['eu-viewer', 'viewer', 'acme/eu'],
  ],
});
beforeAll(async () => {
  euViewer = await token('eu-viewer');
  nobody = await token('nobody');
});

const SECOND = 1000;
const DAY = 86_400_000;
const code = (response: Pick<GraphQLResponse, 'errors'>) => response.errors?.[0]?.extensions?.['code'];

interface Stats {
  type: string;
  count: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  p50Duration: number | null;
  p95Duration: number | null;
}

const stats = (bearer: string | undefined, type: string) =>
  suite.server.gql<{ jobTypeStats: Stats }>(
    bearer,
    'query($type: String!) { jobTypeStats(type: $type) { type count succeeded failed successRate p50Duration p95Duration } }',
    { type },
  );

/** percentile_cont(p) WITHIN GROUP (ORDER BY x): linear interpolation at p * (n - 1). */
function percentileCont(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

/** One run: how it ended, how long it ran (null: it never started), how old, where. */
interface Run {
  status: JobStatus;
  seconds: number | null;
  daysAgo?: number;
  scope?: string;
}

const ENDED: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED', 'ABENDED'];

function seedOf(type: string, run: Run, index: number): JobSeed {
  const created = Date.now() - (run.daysAgo ?? 1) * DAY - index * SECOND;
  const finished = ENDED.includes(run.status) ? created + 3600 * SECOND : null;
  const started = run.seconds === null ? null : (finished ?? Date.now()) - Math.round(run.seconds * 1000);
  return {
    type,
    status: run.status,
    scope: run.scope ?? 'acme/eu/prod',
    created_at: new Date(created),
    started_at: started === null ? null : new Date(started),
    finished_at: finished === null ? null : new Date(finished),
  };
}

async function insertRuns(type: string, runs: readonly Run[]): Promise<string[]> {
  const jobs = await insertJobs(
    suite.db.pool,
    runs.map((run, index) => seedOf(type, run, index)),
  );
  return jobs.map((job) => job.id);
}

/** What jobTypeStats should answer for these runs (the ones it counts). */
function expected(type: string, runs: readonly Run[]): Stats {
  const counted = runs.filter((run) => ENDED.includes(run.status));
  const succeeded = counted.filter((run) => run.status === 'SUCCEEDED').length;
  const durations = counted.filter((run) => run.seconds !== null).map((run) => Math.round(run.seconds! * 1000) / 1000);
  return {
    type,
    count: counted.length,
    succeeded,
    failed: counted.filter((run) => ['FAILED', 'ABENDED', 'EXPIRED'].includes(run.status)).length,
    successRate: counted.length === 0 ? null : succeeded / counted.length,
    p50Duration: percentileCont(durations, 0.5),
    p95Duration: percentileCont(durations, 0.95),
  };
}

function expectStats(actual: Stats | undefined, wanted: Stats): void {
  expect(actual).toBeDefined();
  const { p50Duration, p95Duration, successRate, ...exact } = wanted;
  expect({ type: actual!.type, count: actual!.count, succeeded: actual!.succeeded, failed: actual!.failed }).toEqual(exact);
  for (const [field, value] of [
    ['successRate', successRate],
    ['p50Duration', p50Duration],
    ['p95Duration', p95Duration],
  ] as const) {
    if (value === null) expect([field, actual![field]]).toEqual([field, null]);
    else expect([field, actual![field]]).toEqual([field, expect.closeTo(value, 2)]);
  }
}

describe('jobTypeStats', () => {
  const rand = random(20_251_123);
  const seconds = () => (1 + rand.int(600_000)) / 1000;
  const scope = () => (rand.next() < 0.5 ? 'acme/eu/prod' : 'acme/us/prod');
  // The runs that count, of every ending, in two scopes; some never started (no duration).
  const counted: Run[] = [
    ...Array.from({ length: 30 }, () => ({ status: 'SUCCEEDED' as const, seconds: seconds(), scope: scope() })),
    ...Array.from({ length: 7 }, () => ({ status: 'FAILED' as const, seconds: seconds(), scope: scope() })),
    ...Array.from({ length: 3 }, () => ({ status: 'ABENDED' as const, seconds: seconds(), scope: scope() })),
    { status: 'EXPIRED', seconds: null, scope: 'acme/eu/prod' },
    { status: 'EXPIRED', seconds: null, scope: 'acme/us/prod' },
    { status: 'CANCELLED', seconds: 42.5, scope: 'acme/eu/prod' },
    { status: 'CANCELLED', seconds: null, scope: 'acme/us/prod' },
    { status: 'REJECTED', seconds: null, scope: 'acme/eu/prod' },
    // Created 29 days ago: still within the window.
    { status: 'SUCCEEDED', seconds: 7.25, daysAgo: 29, scope: 'acme/eu/prod' },
  ];
  // Runs that do not count: not finished, or created more than 30 days ago.
  const ignored: Run[] = [
    { status: 'RUNNING', seconds: 100_000 },
    { status: 'TRAPPED', seconds: 100_000 },
    { status: 'PENDING', seconds: null },
    { status: 'CREATED', seconds: null },
    { status: 'SUCCEEDED', seconds: 99_999, daysAgo: 31 },
    { status: 'FAILED', seconds: 99_999, daysAgo: 45 },
  ];

  beforeAll(async () => {
    await insertRuns('stats-main', [...counted, ...ignored]);
    await insertRuns('stats-other', [
      { status: 'FAILED', seconds: 5 },
      { status: 'SUCCEEDED', seconds: 50_000 },
    ]);
  });

  test('count, succeeded, failed, successRate, p50 and p95 over the finished runs of the last 30 days', async () => {
    const response = await stats(suite.admin, 'stats-main');
    expect(response.errors).toBeUndefined();
    const wanted = expected('stats-main', counted);
    expect(wanted).toMatchObject({ count: 46, succeeded: 31, failed: 12 });
    expectStats(response.data?.jobTypeStats, wanted);
  });

  test('a type whose runs never started has counts but no durations', async () => {
    await insertRuns('stats-never-started', [
      { status: 'EXPIRED', seconds: null },
      { status: 'EXPIRED', seconds: null },
      { status: 'REJECTED', seconds: null },
    ]);
    expect((await stats(suite.admin, 'stats-never-started')).data?.jobTypeStats).toEqual({
      type: 'stats-never-started',
      count: 3,
      succeeded: 0,
      failed: 2,
      successRate: 0,
      p50Duration: null,
      p95Duration: null,
    });
  });

  test('at most the last 1000 runs count', async () => {
    // The 5 oldest runs (created and finished first) failed and ran long; the 1000 newest succeeded.
    const recent: Run[] = Array.from({ length: 1000 }, (_, i) => ({ status: 'SUCCEEDED', seconds: 10 + (i % 10) }));
    const oldest: Run[] = Array.from({ length: 5 }, () => ({ status: 'FAILED', seconds: 5000, daysAgo: 3 }));
    await insertRuns('stats-many', [...recent, ...oldest]);
    const response = await stats(suite.admin, 'stats-many');
    expectStats(response.data?.jobTypeStats, expected('stats-many', recent));
    expect(response.data?.jobTypeStats).toMatchObject({ count: 1000, succeeded: 1000, failed: 0, successRate: 1 });
  });

  test('an unknown type has count 0 and nulls', async () => {
    expect((await stats(suite.admin, 'never-seen-type')).data?.jobTypeStats).toEqual({
      type: 'never-seen-type',
      count: 0,
      succeeded: 0,
      failed: 0,
      successRate: null,
      p50Duration: null,
      p95Duration: null,
    });
  });

  test('a string that is not a job type is BAD_USER_INPUT; no token is UNAUTHENTICATED', async () => {
    for (const bad of ['bad type!', '', ' stats-main', 'x'.repeat(101), "stats'; --", 'a/b']) {
      expect([bad, code(await stats(suite.admin, bad))]).toEqual([bad, 'BAD_USER_INPUT']);
    }
    expect(code(await stats(undefined, 'stats-main'))).toBe('UNAUTHENTICATED');
  });

  test('a viewer gets the stats of the jobs they can see, and a user who sees nothing gets none', async () => {
    const visible = counted.filter((run) => run.scope === 'acme/eu/prod');
    const wanted = expected('stats-main', visible);
    const all = expected('stats-main', counted);
    expect(wanted.count).toBeGreaterThan(0);
    expect(wanted.count).toBeLessThan(all.count);
    expect(wanted.p95Duration).not.toBe(all.p95Duration);
    expectStats((await stats(euViewer, 'stats-main')).data?.jobTypeStats, wanted);
    expect((await stats(nobody, 'stats-main')).data?.jobTypeStats).toEqual({
      type: 'stats-main',
      count: 0,
      succeeded: 0,
      failed: 0,
      successRate: null,
      p50Duration: null,
      p95Duration: null,
    });
  });
});

describe('slowerThanUsual', () => {
  // 20 runs of 10, 20, ... 200 s: p95 = 190 + 0.05 × 10 = 190.5 s.
  const history: Run[] = Array.from({ length: 20 }, (_, i) => ({ status: 'SUCCEEDED', seconds: 10 * (i + 1) }));
  const p95 = percentileCont(
    history.map((run) => run.seconds!),
    0.95,
  )!;

  test('a running job past its type p95 is flagged; one under it, non-running jobs and types without history are not', async () => {
    expect(p95).toBeCloseTo(190.5, 6);
    await insertRuns('slow-type', history);
    await insertRuns('slow-never-ran', [{ status: 'EXPIRED', seconds: null }]);
    // Running times grow while the test runs (a dozen requests below, on a busy machine maybe
    // seconds): "just under" keeps a minute's room before it would cross the p95.
    const [slow, justOver, justUnder, quick] = await insertRuns('slow-type', [
      { status: 'RUNNING', seconds: 1000 },
      { status: 'RUNNING', seconds: p95 + 15 },
      { status: 'RUNNING', seconds: p95 - 60 },
      { status: 'RUNNING', seconds: 5 },
    ]);
    const notRunning = await insertRuns(
      'slow-type',
      (['TRAPPED', 'TRAP_PAUSED', 'CANCELLING', 'ROLLBACK'] as const).map((status) => ({ status, seconds: 5000 })),
    );
    const [queued] = await insertRuns('slow-type', [{ status: 'PENDING', seconds: null }]);
    // A finished run that took long: part of the history, and not running.
    const [longFinished] = await insertRuns('slow-type-finished', [
      { status: 'SUCCEEDED', seconds: 10 },
      { status: 'SUCCEEDED', seconds: 5000 },
    ]).then((ids) => ids.slice(1));
    const [newType] = await insertRuns('slow-new-type', [{ status: 'RUNNING', seconds: 100_000 }]);
    const [neverRan] = await insertRuns('slow-never-ran', [{ status: 'RUNNING', seconds: 100_000 }]);

    const want = new Map<string, boolean>([
      [slow!, true],
      [justOver!, true],
      [justUnder!, false],
      [quick!, false],
      ...notRunning.map((id) => [id, false] as [string, boolean]),
      [queued!, false],
      [longFinished!, false],
      [newType!, false],
      [neverRan!, false],
    ]);
    // One job at a time, and a whole page at once (the flag is batched per type).
    for (const [id, flag] of want) {
      const response = await suite.server.gql<{ job: { slowerThanUsual: boolean; status: string } }>(
        suite.admin,
        `query { job(id: "${id}") { status slowerThanUsual } }`,
      );
      expect(response.errors).toBeUndefined();
      expect([id, response.data?.job.status, response.data?.job.slowerThanUsual]).toEqual([id, expect.any(String), flag]);
    }
    const page = await suite.server.gql<{ jobs: { nodes: Array<{ id: string; slowerThanUsual: boolean }> } }>(
      suite.admin,
      `query { jobs(filter: { types: ["slow-type", "slow-type-finished", "slow-new-type", "slow-never-ran"] }, first: 100) { nodes { id slowerThanUsual } } }`,
    );
    expect(page.errors).toBeUndefined();
    const flags = new Map(page.data!.jobs.nodes.map((node) => [node.id, node.slowerThanUsual]));
    for (const [id, flag] of want) expect([id, flags.get(id)]).toEqual([id, flag]);
    // Only the two slow running jobs in the whole page.
    expect(
      [...flags.entries()]
        .filter(([, flag]) => flag)
        .map(([id]) => id)
        .sort(),
    ).toEqual([slow!, justOver!].sort());
  });
});
