import { LEASES_CHANNEL } from '../src/workers/progress/lease-cache';
import { apiSuite, claimedJob } from './support/api-suite';
import { blockedBackend } from './support/blocked-query';
import type { TestServer } from './support/test-server';

/**
 * Progress and leases with two API instances on one database, as in production behind a load
 * balancer: a worker's reports may reach either, and people act through either. Neither
 * instance's memory may decide a job's figures, and neither may count as accepted a report
 * whose lease the other (or a person, or the daemon) has ended. Flush timers are off: tests
 * flush by hand.
 */
const ENV = { PROGRESS_FLUSH_MS: '60000' };
const suite = apiSuite({ env: ENV, alerts: false });
/** A second instance on the same database. */
let b: TestServer;
beforeAll(async () => {
  b = await suite.startServer(ENV, { alerts: false });
});

const claimed = (on: TestServer, type: string) => claimedJob(suite, type, { on });

async function report(on: TestServer, ...reports: Array<Record<string, unknown>>): Promise<number> {
  const response = await on.gql<{ reportProgress: number }>(
    suite.worker,
    'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
    {
      r: reports,
    },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.reportProgress;
}

async function progress(id: string): Promise<Record<string, unknown>> {
  const response = await suite.server.gql<{ job: { progress: Record<string, unknown>; tasks: Array<Record<string, unknown>> } }>(
    suite.admin,
    'query($id: ID!) { job(id: $id) { progress { done total percent } tasks { name status done total } } }',
    { id },
  );
  return { ...response.data!.job.progress, tasks: response.data!.job.tasks };
}

/**
 * Resolves once `on` has heard that the job's lease or status changed (its lease cache hears it
 * first); `ended`: only the change that ended the attempt (no token left), not an earlier one
 * the relay may still be delivering.
 */
function leaseChangeHeard(on: TestServer, jobId: string, ended = true): Promise<void> {
  return new Promise((resolve) => {
    const off = on.services.listener.on(LEASES_CHANNEL, (payload) => {
      if (!payload.split(',').some((item) => (ended ? item === `${jobId}.` : item.startsWith(jobId)))) return;
      off();
      resolve();
    });
  });
}

describe('job figures come from the database, not from one instance', () => {
  test('a tasks-only report through the other instance sums every task of the job', async () => {
    const { id, lease } = await claimed(suite.server, 'sum-across');
    await report(suite.server, {
      lease,
      tasks: [
        { name: 'customers', status: 'COMPLETED', done: 1000, total: 1000 },
        { name: 'orders', status: 'PROCESSING', done: 500, total: 2000 },
      ],
    });
    await suite.server.services.progress.flush();
    expect(await progress(id)).toMatchObject({ done: 1500, total: 3000, percent: 50 });
    // B has never heard of customers or orders.
    await report(b, { lease, tasks: [{ name: 'payments', status: 'PROCESSING', done: 100, total: 1000 }] });
    await b.services.progress.flush();
    // A new total: the percentage is that of the new figures (no longer the 50 % of 3000).
    expect(await progress(id)).toMatchObject({ done: 1600, total: 4000, percent: 40 });
    // A report that does not name a task's status leaves it as stored, and done only grows.
    await report(b, { lease, tasks: [{ name: 'orders', done: 1500 }] });
    await b.services.progress.flush();
    await report(suite.server, { lease, tasks: [{ name: 'orders', done: 900 }] });
    await suite.server.services.progress.flush();
    const seen = await progress(id);
    expect(seen).toMatchObject({ done: 2600, total: 4000, percent: 65 });
    expect(seen['tasks']).toEqual([
      { name: 'customers', status: 'COMPLETED', done: 1000, total: 1000 },
      { name: 'orders', status: 'PROCESSING', done: 1500, total: 2000 },
      { name: 'payments', status: 'PROCESSING', done: 100, total: 1000 },
    ]);
    // Each quarter is written once per crossing, whichever instance crossed it: 50 % once of 3000, once of 4000.
    const { rows } = await suite.db.pool.query(
      `SELECT message, count(*)::int AS n FROM timeline_events WHERE job_id = $1 AND kind = 'PROGRESS' GROUP BY message ORDER BY message`,
      [id],
    );
    expect(rows).toEqual([
      { message: '25 % done', n: 1 },
      { message: '50 % done', n: 2 },
      { message: 'New total: 4000 (was 3000); the percentage starts afresh', n: 1 },
    ]);
  });

  test("a worker's own figures stay its own when another instance hears only of its tasks", async () => {
    const { id, lease } = await claimed(suite.server, 'own-across');
    await report(suite.server, { lease, done: 10, total: 100, tasks: [{ name: 'schema', status: 'COMPLETED', done: 1, total: 1 }] });
    await suite.server.services.progress.flush();
    await report(b, { lease, tasks: [{ name: 'data', status: 'PROCESSING', done: 5, total: 50 }] });
    await b.services.progress.flush();
    expect(await progress(id)).toMatchObject({ done: 10, total: 100, percent: 10 });
  });

  test('a restarted instance carries on from what is stored', async () => {
    const { id, lease } = await claimed(suite.server, 'restart-instance');
    await report(suite.server, {
      lease,
      tasks: [
        { name: 'one', status: 'COMPLETED', done: 30, total: 30 },
        { name: 'two', status: 'PROCESSING', done: 0, total: 70 },
      ],
    });
    await suite.server.services.progress.flush();
    const restarted = await suite.startServer({ PROGRESS_FLUSH_MS: '60000' }, { alerts: false });
    try {
      await report(restarted, { lease, tasks: [{ name: 'two', done: 20 }] });
      await restarted.services.progress.flush();
    } finally {
      await restarted.close();
    }
    expect(await progress(id)).toMatchObject({ done: 50, total: 100, percent: 50 });
  });

  test("a refused flush of an old attempt keeps the new attempt's progress that arrived meanwhile", async () => {
    const { id, lease: first } = await claimed(suite.server, 'forget-race');
    await report(suite.server, { lease: first, done: 10, total: 100 });
    // Through the other instance the attempt ends and a new one begins.
    await b.gql(suite.worker, 'mutation($l: String!) { failJob(lease: $l, error: "lost the connection") { status } }', { l: first });
    await b.gql(suite.admin, `mutation { restartJob(id: "${id}") { status } }`);
    const second = await b.gql<{ claimJob: { lease: string } }>(
      suite.worker,
      'mutation { claimJob(workerId: "w2", types: ["forget-race"]) { lease } }',
    );
    const lease = second.data!.claimJob.lease;
    // A's flush of the first attempt is held (on a lock of a table it writes) while the second
    // attempt reports to A.
    const blocker = await suite.db.pool.connect();
    let flushing: Promise<void> | undefined;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN SHARE MODE');
      flushing = suite.server.services.progress.flush();
      await blockedBackend(suite.db.pool, 'jsonb_array_elements($1::jsonb)');
      expect(await report(suite.server, { lease, done: 3, total: 100 })).toBe(1);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    await flushing;
    await suite.server.services.progress.flush();
    expect(await progress(id)).toMatchObject({ done: 3, total: 100 });
  });
});

describe('a report from a lease that was ended is refused, not counted', () => {
  async function trapped(type: string) {
    const job = await claimed(suite.server, type);
    expect(await report(suite.server, { lease: job.lease, done: 1, total: 10 })).toBe(1);
    await suite.server.gql(suite.worker, 'mutation($l: String!) { trapJob(lease: $l, error: "disk full") { status } }', { l: job.lease });
    return job;
  }

  test('after resolveTrap(ABORT) on the same instance', async () => {
    const { id, lease } = await trapped('abort-here');
    const heard = leaseChangeHeard(suite.server, id);
    const aborted = await suite.server.gql<{ resolveTrap: { status: string } }>(
      suite.admin,
      `mutation { resolveTrap(id: "${id}", decision: ABORT) { status } }`,
    );
    expect(aborted.data?.resolveTrap.status).toBe('FAILED');
    await heard;
    expect(await report(suite.server, { lease, done: 9 })).toBe(0);
  });

  test('after resolveTrap(ABORT) through the other instance', async () => {
    const { id, lease } = await trapped('abort-there');
    const heard = leaseChangeHeard(suite.server, id);
    await b.gql(suite.admin, `mutation { resolveTrap(id: "${id}", decision: ABORT) { status } }`);
    await heard;
    expect(await report(suite.server, { lease, done: 9 })).toBe(0);
    await suite.server.services.progress.flush();
    // What came before the trap was written when it trapped; the late report never is.
    expect(await progress(id)).toMatchObject({ done: 1 });
  });

  test('after a cancel the other instance ended (CANCELLING is still held; CANCELLED is not)', async () => {
    const { id, lease } = await claimed(suite.server, 'cancel-there');
    expect(await report(suite.server, { lease, done: 1, total: 10 })).toBe(1);
    await b.gql(suite.admin, `mutation { cancelJob(id: "${id}") { status } }`);
    expect(await report(suite.server, { lease, done: 2 })).toBe(1);
    await suite.db.pool.query(`UPDATE jobs SET cancel_requested_at = now() - interval '1 day' WHERE id = $1`, [id]);
    const heard = leaseChangeHeard(suite.server, id);
    expect(await b.services.daemon.tick()).toMatchObject({ cancelled: 1 });
    await heard;
    expect(await report(suite.server, { lease, done: 3 })).toBe(0);
  });

  test('a status change that keeps the lease (TRAPPED back to RUNNING) keeps it usable', async () => {
    const { id, lease } = await trapped('keep-entry');
    const heard = leaseChangeHeard(suite.server, id, false);
    await b.gql(suite.admin, `mutation { resolveTrap(id: "${id}", decision: RETRY) { status } }`);
    await heard;
    // RUNNING again under the same lease: still accepted.
    expect(await report(suite.server, { lease, done: 5 })).toBe(1);
  });
});
