import { SmoothedRate } from '../src/jobs/smoothed-rate';
import { blockedBackend } from './support/blocked-query';
import { apiSuite, claimedJob } from './support/api-suite';

/**
 * Progress people can trust: coalesced writes, a percentage that never goes backwards within an
 * attempt nor passes 100, `total: null` as indeterminate (never 0 %), and job figures that agree
 * with their tasks. The flush timer is effectively off: tests flush by hand, deterministically.
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '60000' } });
// The longest PROGRESS_FLUSH_MS still flushes once a minute, and this file can take that long on a
// busy machine (a flush between a report and its check would count twice, or write too early):
// the timer is stopped, and every flush here is one a test asks for.
beforeAll(() => suite.server.services.progress.stop());

const claimed = (type: string) => claimedJob(suite, type);

async function report(...reports: Array<Record<string, unknown>>): Promise<number> {
  const response = await suite.server.gql<{ reportProgress: number }>(
    suite.worker,
    'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
    {
      r: reports,
    },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.reportProgress;
}

interface Seen {
  progress: {
    done: number;
    total: number | null;
    percent: number | null;
    indeterminate: boolean;
    phase: string | null;
    unit: string | null;
    etaSeconds: number | null;
  };
  message: string | null;
  step: string;
  tasks: Array<{ name: string; status: string; done: number; total: number | null; percent: number | null }>;
  taskCounts: { waiting: number; processing: number; completed: number; failed: number };
}

async function seen(id: string): Promise<Seen> {
  const response = await suite.server.gql<{ job: Seen }>(
    suite.admin,
    `query($id: ID!) { job(id: $id) {
      progress { done total percent indeterminate phase unit etaSeconds } message step
      tasks { name status done total percent } taskCounts { waiting processing completed failed } } }`,
    { id },
  );
  return response.data!.job;
}

const flush = () => suite.server.services.progress.flush();

test('many reports between flushes become one write of the last values', async () => {
  const { id, lease } = await claimed('coalesce');
  const before = { ...suite.server.services.progress.stats };
  for (let done = 1; done <= 100; done += 1) expect(await report({ lease, done, total: 100, message: `row ${done}` })).toBe(1);
  await flush();
  expect(suite.server.services.progress.stats.flushes - before.flushes).toBe(1);
  expect(suite.server.services.progress.stats.rowsWritten - before.rowsWritten).toBe(1);
  const job = await seen(id);
  expect(job.progress).toMatchObject({ done: 100, total: 100, percent: 100 });
  expect(job.message).toBe('row 100');
});

test('one call can carry reports for many jobs, and they are written by one statement', async () => {
  const jobs = await Promise.all(Array.from({ length: 20 }, (_, i) => claimed(`many-${i}`)));
  const before = { ...suite.server.services.progress.stats };
  expect(await report(...jobs.map(({ lease }, i) => ({ lease, done: i, total: 100 })))).toBe(20);
  await flush();
  expect(suite.server.services.progress.stats.flushes - before.flushes).toBe(1);
  expect(suite.server.services.progress.stats.rowsWritten - before.rowsWritten).toBe(20);
  expect((await seen(jobs[7]!.id)).progress.done).toBe(7);
});

test('out-of-order reports never move progress backwards', async () => {
  const { id, lease } = await claimed('out-of-order');
  await report({ lease, done: 80, total: 100 });
  await report({ lease, done: 50, total: 100 });
  await flush();
  expect((await seen(id)).progress).toMatchObject({ done: 80, percent: 80 });
  // Late, in a separate flush: the stored percentage still wins.
  await report({ lease, done: 60 });
  await flush();
  expect((await seen(id)).progress).toMatchObject({ done: 80, percent: 80 });
  // Two instances (or a restarted one) do not share memory: the database keeps the greatest percentage.
  suite.server.services.progress.forget(id);
  await report({ lease, done: 10, total: 100 });
  await flush();
  expect((await seen(id)).progress.percent).toBe(80);
});

test('a new phase restarts the count and the percentage with it: the percentage is always that of the figures beside it', async () => {
  const { id, lease } = await claimed('phases');
  await report({ lease, phase: 'scanning', done: 40, total: 100 });
  await flush();
  await report({ lease, phase: 'copying', done: 5, total: 100 });
  await flush();
  expect((await seen(id)).progress).toMatchObject({ phase: 'copying', done: 5, percent: 5 });
});

test('never above 100 %', async () => {
  const { id, lease } = await claimed('overshoot');
  await report({ lease, done: 150, total: 100 });
  await flush();
  expect((await seen(id)).progress).toMatchObject({ done: 150, percent: 100 });
});

test('total: null is indeterminate, not 0 %; the counting phase then gives way to a real percentage', async () => {
  const { id, lease } = await claimed('counting');
  await report({ lease, phase: 'counting', done: 1200, total: null, unit: 'messages' });
  await flush();
  expect((await seen(id)).progress).toMatchObject({ total: null, percent: null, indeterminate: true, phase: 'counting', etaSeconds: null });
  await report({ lease, phase: 'copying', done: 300, total: 1200 });
  await flush();
  expect((await seen(id)).progress).toMatchObject({ total: 1200, percent: 25, indeterminate: false, unit: 'messages' });
});

test('tasks carry their own counts; the job figures are their sums', async () => {
  const { id, lease } = await claimed('tasks');
  await report({
    lease,
    unit: 'rows',
    tasks: [
      { name: 'customers', status: 'COMPLETED', done: 1000, total: 1000 },
      { name: 'orders', status: 'PROCESSING', done: 500, total: 2000 },
      { name: 'payments', status: 'WAITING', done: 0, total: 1000 },
    ],
  });
  await flush();
  let job = await seen(id);
  expect(job.progress).toMatchObject({ done: 1500, total: 4000, percent: 37.5 });
  expect(job.taskCounts).toEqual({ waiting: 1, processing: 1, completed: 1, failed: 0 });
  expect(job.tasks.map((task) => [task.name, task.status, task.percent])).toEqual([
    ['customers', 'COMPLETED', 100],
    ['orders', 'PROCESSING', 25],
    ['payments', 'WAITING', 0],
  ]);
  // A report about one task updates the job from all of them.
  await report({ lease, tasks: [{ name: 'orders', status: 'COMPLETED', done: 2000 }] });
  await flush();
  job = await seen(id);
  expect(job.progress).toMatchObject({ done: 3000, total: 4000, percent: 75 });
  expect(job.taskCounts).toEqual({ waiting: 1, processing: 0, completed: 2, failed: 0 });
  const { rows } = await suite.db.pool.query(
    `SELECT name, started_at IS NOT NULL AS started, finished_at IS NOT NULL AS finished FROM tasks WHERE job_id = $1 ORDER BY position`,
    [id],
  );
  expect(rows).toEqual([
    { name: 'customers', started: true, finished: true },
    { name: 'orders', started: true, finished: true },
    { name: 'payments', started: false, finished: false },
  ]);
  // A task whose total is unknown makes the job indeterminate.
  await report({ lease, tasks: [{ name: 'audit-log', status: 'PROCESSING', done: 10, total: null }] });
  await flush();
  expect((await seen(id)).progress).toMatchObject({ total: null, indeterminate: true });
});

test('milestones, phase and step changes and log lines land in the timeline, in order', async () => {
  const { id, lease } = await claimed('timeline');
  await report({ lease, step: 'PRE', phase: 'build', done: 10, total: 100, log: ['compiling', 'linking'] });
  await flush();
  await report({ lease, step: 'RUN', done: 60, total: 100 });
  await report({ lease, done: 100, total: 100, log: ['done'] });
  await flush();
  const { rows } = await suite.db.pool.query<{ kind: string; message: string; actor_kind: string }>(
    `SELECT kind, message, actor_kind FROM timeline_events WHERE job_id = $1 AND kind IN ('PROGRESS', 'LOG') ORDER BY id`,
    [id],
  );
  expect(rows.map((row) => `${row.kind}: ${row.message}`)).toEqual([
    'PROGRESS: Phase: build',
    'LOG: compiling',
    'LOG: linking',
    'PROGRESS: Step RUN started',
    'LOG: done',
    'PROGRESS: 25 % done',
    'PROGRESS: 50 % done',
    'PROGRESS: 75 % done',
    'PROGRESS: 100 % done',
  ]);
  expect(new Set(rows.map((row) => row.actor_kind))).toEqual(new Set(['WORKER']));
  expect((await seen(id)).step).toBe('RUN');
});

test('a restart starts the percentage again from zero for the new attempt', async () => {
  const { id, lease } = await claimed('restart-progress');
  await report({ lease, done: 90, total: 100 });
  await suite.server.gql(suite.worker, 'mutation($l: String!) { failJob(lease: $l, error: "x") { status } }', { l: lease });
  await suite.server.gql(suite.admin, `mutation { restartJob(id: "${id}") { status } }`);
  const again = await suite.server.gql<{ claimJob: { lease: string } }>(
    suite.worker,
    'mutation { claimJob(workerId: "w", types: ["restart-progress"]) { lease } }',
  );
  await report({ lease: again.data!.claimJob.lease, done: 10, total: 100 });
  await flush();
  expect((await seen(id)).progress).toMatchObject({ done: 10, percent: 10 });
});

test('bad reports are refused whole, with the report and field named', async () => {
  const { lease } = await claimed('bad-reports');
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ lease, done: -1 }, /reports\[0\]\.done/],
    [{ lease, total: Number.MAX_VALUE }, /reports\[0\]\.total/],
    [{ lease, message: 'x'.repeat(1001) }, /reports\[0\]\.message/],
    [{ lease, log: Array.from({ length: 51 }, () => 'line') }, /reports\[0\]\.log/],
    [{ lease, tasks: [{ name: '' }] }, /tasks\[0\]\.name/],
    [{ lease, tasks: [{ name: 't', done: -5 }] }, /tasks\[0\]\.done/],
  ];
  for (const [bad, message] of cases) {
    const response = await suite.server.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', { r: [bad] });
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toMatch(message);
  }
  const tooMany = await suite.server.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
    r: Array.from({ length: 1001 }, () => ({ lease, done: 1 })),
  });
  expect(tooMany.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
});

test('the flush survives a database error and writes everything once it can', async () => {
  const { id, lease } = await claimed('retry-flush');
  await report({ lease, done: 33, total: 100, log: ['before the outage'] });
  const failedBefore = suite.server.services.progress.stats.failedFlushes;
  // Make the flush fail for real: it waits on the row a blocker holds, and its statement is cancelled.
  const blocker = await suite.db.pool.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [id]);
    const flushing = suite.server.services.progress.flush();
    await suite.db.pool.query('SELECT pg_cancel_backend($1)', [await blockedBackend(suite.db.pool, 'jsonb_array_elements($1::jsonb)')]);
    await expect(flushing).rejects.toThrow(/cancel/i);
  } finally {
    await blocker.query('ROLLBACK');
    blocker.release();
  }
  expect(suite.server.services.progress.stats.failedFlushes).toBe(failedBefore + 1);
  expect((await seen(id)).progress.done).toBe(0);
  // The retry writes what the failed flush held, once.
  await flush();
  expect((await seen(id)).progress.done).toBe(33);
  const { rows } = await suite.db.pool.query(
    `SELECT count(*)::int AS n FROM timeline_events WHERE job_id = $1 AND message = 'before the outage'`,
    [id],
  );
  expect(rows[0]).toEqual({ n: 1 });
});

test('the percentage is floored: 999,999 of 1,000,000 is 99.99 % and not yet the 100 % milestone; all of it is 100 %', async () => {
  const { id, lease } = await claimed('floor');
  await report({ lease, done: 999_999, total: 1_000_000 });
  await flush();
  expect((await seen(id)).progress.percent).toBe(99.99);
  const milestones = async () =>
    (
      await suite.db.pool.query<{ message: string }>(
        `SELECT message FROM timeline_events WHERE job_id = $1 AND kind = 'PROGRESS' ORDER BY id`,
        [id],
      )
    ).rows.map((row) => row.message);
  expect(await milestones()).toEqual(['25 % done', '50 % done', '75 % done']);
  await report({ lease, done: 1_000_000 });
  await flush();
  expect((await seen(id)).progress.percent).toBe(100);
  expect(await milestones()).toEqual(['25 % done', '50 % done', '75 % done', '100 % done']);
  // Small exact fractions are not floored below themselves by float error (29/100 is 29 %, not 28.99 %).
  const other = await claimed('floor-exact');
  await report({ lease: other.lease, done: 29, total: 100 });
  await flush();
  expect((await seen(other.id)).progress.percent).toBe(29);
});

test("ending a job writes that job's pending progress only; the others wait for their flush", async () => {
  const ending = await claimed('end-one');
  const running = await claimed('end-other');
  await report({ lease: ending.lease, done: 5, total: 10 }, { lease: running.lease, done: 7, total: 10 });
  const before = suite.server.services.progress.stats.rowsWritten;
  const completed = await suite.server.gql<{ completeJob: { progress: { done: number } } }>(
    suite.worker,
    'mutation($l: String!) { completeJob(lease: $l) { progress { done } } }',
    { l: ending.lease },
  );
  expect(completed.data?.completeJob.progress.done).toBe(5);
  expect(suite.server.services.progress.stats.rowsWritten - before).toBe(1);
  expect((await seen(running.id)).progress.done).toBe(0);
  await flush();
  expect((await seen(running.id)).progress.done).toBe(7);
});

describe('rate and ETA', () => {
  const MINUTE = 60_000;
  const accept = (lease: string, report: Record<string, unknown>, at: number) => {
    const [jobId, token] = lease.split('.') as [string, string];
    suite.server.services.progress.accept([{ jobId, token, actor: 'worker', report: { lease, ...report } }], at);
  };
  async function rate(id: string): Promise<{ ratePerMinute: number | null; etaSeconds: number | null }> {
    const response = await suite.server.gql<{ job: { progress: { ratePerMinute: number | null; etaSeconds: number | null } } }>(
      suite.admin,
      'query($id: ID!) { job(id: $id) { progress { ratePerMinute etaSeconds } } }',
      { id },
    );
    return response.data!.job.progress;
  }

  test('the ETA is what is left at the smoothed rate; a new phase starts with no rate, not the old one', async () => {
    const { id, lease } = await claimed('eta');
    const t0 = Date.now() - 5 * MINUTE;
    accept(lease, { phase: 'copying', done: 0, total: 10_000 }, t0);
    accept(lease, { done: 1000 }, t0 + MINUTE);
    await flush();
    // 1000 a minute, 9000 to go: 9 minutes.
    expect(await rate(id)).toEqual({ ratePerMinute: 1000, etaSeconds: 540 });
    accept(lease, { phase: 'verifying', done: 0, total: 500 }, t0 + MINUTE + 1000);
    await flush();
    expect(await rate(id)).toEqual({ ratePerMinute: null, etaSeconds: null });
    const { rows } = await suite.db.pool.query('SELECT progress_rate FROM jobs WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ progress_rate: null });
  });

  test('with no news, the rate decays from 5 s after it was computed: the ETA grows, then goes', async () => {
    const { id, lease } = await claimed('eta-stall');
    const t0 = Date.now() - 5 * MINUTE;
    accept(lease, { done: 0, total: 10_000 }, t0);
    accept(lease, { done: 1000 }, t0 + MINUTE);
    await flush();
    expect(await rate(id)).toEqual({ ratePerMinute: 1000, etaSeconds: 540 });
    // 11 s without news: 6 s past the grace, one time constant of the smoothing: e^-1 of the rate
    // (a little less for the time the read itself takes on a busy machine).
    const before = Date.now();
    await suite.db.pool.query(`UPDATE jobs SET progress_rate_at = now() - interval '11 seconds' WHERE id = $1`, [id]);
    const decayed = await rate(id);
    const took = Date.now() - before;
    expect(decayed.ratePerMinute).toBeGreaterThan(1000 * Math.exp(-(6_000 + took) / 6_000) - 1);
    expect(decayed.ratePerMinute).toBeLessThan(1000 * Math.exp(-1) + 1);
    expect(decayed.etaSeconds).toBe(Math.round((9000 / decayed.ratePerMinute!) * 60));
    await suite.db.pool.query(`UPDATE jobs SET progress_rate_at = now() - interval '10 minutes' WHERE id = $1`, [id]);
    expect(await rate(id)).toEqual({ ratePerMinute: 0, etaSeconds: null });
  });

  test('a task that processes again starts with no rate, even when it failed and restarted between two flushes', async () => {
    const { id, lease } = await claimed('task-rate');
    const t0 = Date.now() - 5 * MINUTE;
    accept(lease, { tasks: [{ name: 'orders', status: 'PROCESSING', done: 0, total: 6000 }] }, t0);
    accept(lease, { tasks: [{ name: 'orders', done: 600 }] }, t0 + MINUTE);
    await flush();
    const taskRate = async () => (await suite.db.pool.query('SELECT rate_per_minute FROM tasks WHERE job_id = $1', [id])).rows[0];
    expect(await taskRate()).toEqual({ rate_per_minute: 600 });
    // The job's rate is its processing tasks' rates.
    expect((await rate(id)).ratePerMinute).toBe(600);
    accept(lease, { tasks: [{ name: 'orders', status: 'FAILED' }] }, t0 + MINUTE + 1000);
    accept(lease, { tasks: [{ name: 'orders', status: 'PROCESSING', done: 0 }] }, t0 + MINUTE + 2000);
    await flush();
    expect(await taskRate()).toEqual({ rate_per_minute: null });
  });
});

describe('the smoothed rate behind the ETA', () => {
  test('steady progress gives its rate', () => {
    const rate = new SmoothedRate();
    for (let second = 0; second <= 120; second += 5) rate.observe(second * 10, second * 1000);
    expect(rate.perMinute).toBeCloseTo(600, 0);
  });

  test('a change of pace shows within about 20 s; a blip of one report interval moves it less than the blip', () => {
    const rate = new SmoothedRate();
    let t = 0;
    let value = 0;
    for (; t <= 120_000; t += 1000) rate.observe((value += 10), t); // 600 a minute for two minutes
    expect(rate.perMinute).toBeCloseTo(600, 0);
    for (let end = t + 20_000; t <= end; t += 1000) rate.observe((value += 2), t); // five times slower
    expect(rate.perMinute!).toBeLessThan(120 * 1.15);
    for (let end = t + 20_000; t <= end; t += 1000) rate.observe((value += 10), t); // and back
    expect(rate.perMinute!).toBeGreaterThan(600 * 0.95);
    rate.observe((value += 150), (t += 5000)); // one 5 s report interval at triple speed
    expect(rate.perMinute!).toBeLessThan(600 * 2.2);
    for (let i = 0; i < 12; i += 1) rate.observe(value, (t += 5000)); // then a minute of nothing
    expect(rate.perMinute!).toBeLessThan(1);
  });

  test('the first short sample weighs what it covers, not the whole estimate', () => {
    const rate = new SmoothedRate();
    rate.observe(0, 0);
    rate.observe(100, 1000); // a fast first second: 6000 a minute
    expect(rate.perMinute).toBe(6000);
    for (let t = 2000; t <= 6000; t += 1000) rate.observe(100 + (t / 1000 - 1) * 2, t); // then 120 a minute
    // The average since the start (110 in 6 s), not 6000 decaying slowly.
    expect(rate.perMinute).toBeCloseTo((110 / 6) * 60, 0);
    for (let t = 7000; t <= 36_000; t += 1000) rate.observe(110 + (t / 1000 - 6) * 2, t); // 30 s later, it is the new pace
    expect(rate.perMinute!).toBeLessThan(120 * 1.15);
  });

  test('samples closer than a second are merged; a counter that went down starts over', () => {
    const rate = new SmoothedRate();
    rate.observe(0, 0);
    rate.observe(100, 10);
    expect(rate.perMinute).toBeNull();
    rate.observe(100, 2000);
    expect(rate.perMinute).toBeCloseTo(3000, 0);
    rate.observe(5, 3000);
    rate.observe(65, 4000);
    expect(rate.perMinute).toBeGreaterThan(3000);
  });
});
