import { apiSuite, claimedJob } from './support/api-suite';
import { eventually } from './support/eventually';
import { subscribe } from './support/ws-client';

/**
 * A stalled job does not look healthy, and the percentage never contradicts the figures beside
 * it. Each report is flushed before the test goes on (PROGRESS_FLUSH_MS is short so that
 * jobProgress, which pushes at most that often, is prompt); the daemon ticks when told; rows
 * are backdated instead of waiting.
 * STALL_AFTER_MS is 5 s here (60 s by default).
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '50', STALL_AFTER_MS: '5000' }, alerts: false });

const claimed = (type: string) => claimedJob(suite, type);

async function report(...reports: Array<Record<string, unknown>>): Promise<void> {
  const response = await suite.server.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', { r: reports });
  expect(response.errors).toBeUndefined();
  await suite.server.services.progress.flush();
}

interface Progress {
  done: number;
  total: number | null;
  percent: number | null;
  phase: string | null;
  ratePerMinute: number | null;
  etaSeconds: number | null;
  stalledSince: string | null;
}
const PROGRESS = 'done total percent phase ratePerMinute etaSeconds stalledSince';

async function progress(id: string): Promise<Progress> {
  const response = await suite.server.gql<{ job: { progress: Progress } }>(
    suite.admin,
    `query($id: ID!) { job(id: $id) { progress { ${PROGRESS} } } }`,
    { id },
  );
  return response.data!.job.progress;
}

async function progressEvents(id: string): Promise<string[]> {
  const { rows } = await suite.db.pool.query<{ message: string }>(
    `SELECT message FROM timeline_events WHERE job_id = $1 AND kind = 'PROGRESS' ORDER BY id`,
    [id],
  );
  return rows.map((row) => row.message);
}

describe('a stalled job', () => {
  test('heartbeating without progress for STALL_AFTER_MS: stalledSince, pushed to subscribers, in the timeline; cleared when progress resumes', async () => {
    const { id, lease } = await claimed('stall');
    await report({ lease, done: 10, total: 100 });
    const client = suite.client(suite.admin);
    const seen = subscribe<{ jobProgress: { progress: Progress } }>(
      client,
      `subscription($id: ID!) { jobProgress(id: $id) { progress { ${PROGRESS} } } }`,
      { id },
    );
    await seen.until((messages) => messages.length > 0);

    // 1 s without progress: not yet.
    await suite.db.pool.query(`UPDATE jobs SET progress_advanced_at = now() - interval '1 second' WHERE id = $1`, [id]);
    await suite.server.services.daemon.tick();
    expect((await progress(id)).stalledSince).toBeNull();

    // 10 s, the worker still heartbeating (a report that repeats the figures is no progress either).
    await suite.db.pool.query(`UPDATE jobs SET progress_advanced_at = now() - interval '10 seconds' WHERE id = $1`, [id]);
    await report({ lease, done: 10, message: 'still at it' });
    await suite.server.gql(suite.worker, 'mutation($l: String!) { heartbeat(lease: $l) { status } }', { l: lease });
    await suite.server.services.daemon.tick();
    const { rows } = await suite.db.pool.query<{ progress_advanced_at: Date }>('SELECT progress_advanced_at FROM jobs WHERE id = $1', [id]);
    const since = rows[0]!.progress_advanced_at.toISOString();
    expect((await progress(id)).stalledSince).toBe(since);
    await seen.until((messages) => messages.some((message) => message.jobProgress.progress.stalledSince === since));
    expect(await progressEvents(id)).toEqual([expect.stringMatching(/^No progress for 1\d s while the worker heartbeats: stalled$/)]);
    // Once is enough.
    await suite.server.services.daemon.tick();
    expect(await progressEvents(id)).toHaveLength(1);

    await report({ lease, done: 11 });
    expect((await progress(id)).stalledSince).toBeNull();
    await seen.until(
      (messages) => messages.at(-1)?.jobProgress.progress.stalledSince === null && messages.at(-1)?.jobProgress.progress.done === 11,
    );
    expect(await progressEvents(id)).toEqual([
      expect.stringMatching(/stalled$/),
      expect.stringMatching(/^Progress resumed after \d+ s without$/),
    ]);
    seen.stop();
  });

  test('a worker that stopped heartbeating is not "stalled" (the daemon ABENDs it); a trapped one is not either', async () => {
    const silent = await claimed('stall-silent');
    await suite.db.pool.query(
      `UPDATE jobs SET progress_advanced_at = now() - interval '1 minute', heartbeat_at = now() - interval '1 hour' WHERE id = $1`,
      [silent.id],
    );
    const trapped = await claimed('stall-trapped');
    await suite.server.gql(suite.worker, 'mutation($l: String!) { trapJob(lease: $l, error: "x") { status } }', { l: trapped.lease });
    await suite.db.pool.query(`UPDATE jobs SET progress_advanced_at = now() - interval '1 minute' WHERE id = $1`, [trapped.id]);
    await suite.server.services.daemon.tick();
    const { rows } = await suite.db.pool.query<{ progress_stalled_since: Date | null }>(
      'SELECT progress_stalled_since FROM jobs WHERE id = ANY($1::uuid[])',
      [[silent.id, trapped.id]],
    );
    expect(rows).toEqual([{ progress_stalled_since: null }, { progress_stalled_since: null }]);
    // Resumed after a long investigation, the trapped job starts a fresh progress clock.
    await suite.server.gql(suite.admin, 'mutation($id: ID!) { resolveTrap(id: $id, decision: RETRY) { status } }', { id: trapped.id });
    await suite.server.services.daemon.tick();
    expect((await progress(trapped.id)).stalledSince).toBeNull();
  });

  test("a quiet job's rate decays in the database too, so subscribers see the ETA grow", async () => {
    const { id, lease } = await claimed('stall-rate');
    const t0 = Date.now() - 120_000;
    const [jobId, leaseToken] = lease.split('.') as [string, string];
    suite.server.services.progress.accept([{ jobId, token: leaseToken, actor: 'worker', report: { lease, done: 0, total: 10_000 } }], t0);
    suite.server.services.progress.accept([{ jobId, token: leaseToken, actor: 'worker', report: { lease, done: 1000 } }], t0 + 60_000);
    await suite.server.services.progress.flush();
    expect(await progress(id)).toMatchObject({ ratePerMinute: 1000, etaSeconds: 540 });
    const client = suite.client(suite.admin);
    const seen = subscribe<{ jobProgress: { progress: Progress } }>(
      client,
      `subscription($id: ID!) { jobProgress(id: $id) { progress { ${PROGRESS} } } }`,
      { id },
    );
    await seen.until((messages) => messages.length > 0);
    // 11 s without news: 6 s past the grace, one time constant (a little more for the tick's own time).
    const before = Date.now();
    await suite.db.pool.query(`UPDATE jobs SET progress_rate_at = now() - interval '11 seconds' WHERE id = $1`, [id]);
    await suite.server.services.daemon.tick();
    const took = Date.now() - before;
    const stored = await suite.db.pool.query<{ progress_rate: number }>('SELECT progress_rate FROM jobs WHERE id = $1', [id]);
    expect(stored.rows[0]!.progress_rate).toBeGreaterThan(1000 * Math.exp(-(6_000 + took) / 6_000) - 1);
    expect(stored.rows[0]!.progress_rate).toBeLessThan(1000 * Math.exp(-1) + 1);
    // Written again only every 5 s: a tick right after changes nothing (asked at once, not after
    // the waits below, which on a busy machine may take longer than those 5 s).
    await suite.server.services.daemon.tick();
    expect((await suite.db.pool.query('SELECT progress_rate FROM jobs WHERE id = $1', [id])).rows[0]).toEqual(stored.rows[0]);
    const pushed = await seen.until((messages) => (messages.at(-1)?.jobProgress.progress.ratePerMinute ?? 1000) < 400);
    expect(pushed.at(-1)!.jobProgress.progress.etaSeconds).toBeGreaterThan(540 * 2.5);
    // Read again at once, the rate is about the same: the written decay and the read-time one agree.
    const read = (await progress(id)).ratePerMinute!;
    expect(read).toBeLessThanOrEqual(stored.rows[0]!.progress_rate);
    expect(read).toBeGreaterThan(stored.rows[0]!.progress_rate * 0.5);
    // Long quiet: 0, and no ETA.
    await suite.db.pool.query(`UPDATE jobs SET progress_rate_at = now() - interval '5 minutes' WHERE id = $1`, [id]);
    await suite.server.services.daemon.tick();
    await eventually(
      () => progress(id),
      (now) => now.ratePerMinute === 0 && now.etaSeconds === null,
      5_000,
      'the rate to reach 0',
    );
    seen.stop();
  });
});

describe('the percentage is that of the figures beside it', () => {
  test('a recount (a new total) and a new phase start afresh, and the timeline says so', async () => {
    const { id, lease } = await claimed('recount');
    await report({ lease, phase: 'copying', done: 10, total: 10 });
    expect(await progress(id)).toMatchObject({ done: 10, total: 10, percent: 100 });
    await report({ lease, total: 1000 });
    expect(await progress(id)).toMatchObject({ done: 10, total: 1000, percent: 1 });
    await report({ lease, done: 600 });
    await report({ lease, total: 2000 });
    expect(await progress(id)).toMatchObject({ done: 600, total: 2000, percent: 30 });
    await report({ lease, phase: 'verifying', done: 0, total: 1000 });
    expect(await progress(id)).toMatchObject({ phase: 'verifying', done: 0, total: 1000, percent: 0 });
    expect(await progressEvents(id)).toEqual([
      'Phase: copying',
      '25 % done',
      '50 % done',
      '75 % done',
      '100 % done',
      'New total: 1000 (was 10); the percentage starts afresh',
      '25 % done',
      '50 % done',
      'New total: 2000 (was 1000); the percentage starts afresh',
      'Phase: verifying',
    ]);
  });

  test('only late or out-of-order reports of the same phase and total are held back; after any series, percent = floor(100 done / total)', async () => {
    const { id, lease } = await claimed('percent-series');
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (let i = 0; i < 40; i += 1) {
      const roll = random();
      const next: Record<string, unknown> = { lease, done: Math.floor(random() * 1200) };
      if (roll < 0.15) next['total'] = 1 + Math.floor(random() * 1000);
      else if (roll < 0.25) next['phase'] = `phase ${Math.floor(random() * 3)}`;
      if (i === 0) next['total'] = 1000;
      await report(next);
      const shown = await progress(id);
      expect(shown.percent).toBe(Math.min(100, Math.floor((shown.done * 10_000) / shown.total!) / 100));
    }
    // Held back: a late report of the same phase and total does not move done (nor the percentage) back.
    const before = await progress(id);
    await report({ lease, done: 0 });
    expect(await progress(id)).toMatchObject({ done: before.done, percent: before.percent });
  });
});
