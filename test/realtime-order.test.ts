import { eventually } from './support/eventually';
import { insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { subscribe } from './support/ws-client';

/**
 * The per-job order key. Subscribers drop a row whose updated_at is older than the last one
 * they got, so updated_at must follow commit order per job, even for a change that waited for
 * a row lock while a change that started later went first.
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '20' } });

const updatedAt = async (id: string) =>
  (await suite.db.pool.query<{ updated_at: Date }>('SELECT updated_at FROM jobs WHERE id = $1', [id])).rows[0]!.updated_at;

test('a change that waited behind a later-starting progress flush is stamped after it and reaches subscribers', async () => {
  const type = 'order-key';
  // The bulk cancel locks in id order: `first` (held by the test) before `second`.
  const first = '00000000-0000-4000-8000-000000000001';
  const second = 'ffffffff-ffff-4fff-bfff-ffffffffffff';
  await insertJobs(suite.db.pool, [
    { id: first, type, status: 'RUNNING', started_at: new Date() },
    { id: second, type, status: 'PENDING' },
  ]);
  const claim = await suite.server.gql<{ claimJob: { lease: string; job: { id: string } } }>(
    suite.worker,
    'mutation($t: [String!]) { claimJob(workerId: "w", types: $t) { lease job { id } } }',
    { t: [type] },
  );
  expect(claim.data!.claimJob.job.id).toBe(second);
  const lease = claim.data!.claimJob.lease;

  const socket = suite.client(suite.admin);
  const progress = subscribe<{ jobProgress: { status: string; progress: { done: number } } }>(
    socket,
    'subscription($id: ID!) { jobProgress(id: $id) { status progress { done } } }',
    { id: second },
  );
  const updates = subscribe<{ jobUpdated: { id: string; status: string; progress: { done: number } } }>(
    socket,
    'subscription($t: [String!]) { jobUpdated(filter: { types: $t }) { id status progress { done } } }',
    { t: [type] },
  );
  await progress.until((messages) => messages.length >= 1);
  await updates.until((messages) => messages.some((message) => message.jobUpdated.id === second));

  const locker = await suite.db.pool.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [first]);
    // The cancel starts now and waits for `first`; it has not touched `second` yet.
    const cancelling = suite.server.gql<{ cancelJobs: { changed: number } }>(
      suite.admin,
      'mutation($t: [String!]) { cancelJobs(filter: { types: $t }) { changed } }',
      {
        t: [type],
      },
    );
    await eventually(
      async () =>
        // This database's backends only: other test files wait for locks in theirs at the same time.
        (
          await suite.db.pool.query<{ waiting: number }>(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )
        ).rows[0]!.waiting,
      (waiting) => waiting > 0,
      10_000,
      'the cancel to wait for the row lock',
    );
    // A progress flush that starts later goes first on `second`.
    await suite.server.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
      r: [{ lease, done: 7, total: 10 }],
    });
    await eventually(
      async () => (await suite.db.pool.query('SELECT 1 FROM jobs WHERE id = $1 AND progress_done = 7', [second])).rowCount,
      (count) => count === 1,
      10_000,
      'the flush',
    );
    const flushedAt = await updatedAt(second);
    await progress.until((messages) => messages.some((message) => message.jobProgress.progress.done === 7));
    await updates.until((messages) =>
      messages.some((message) => message.jobUpdated.id === second && message.jobUpdated.progress.done === 7),
    );

    await locker.query('COMMIT');
    expect((await cancelling).data!.cancelJobs.changed).toBe(2);
    expect((await updatedAt(second)).getTime()).toBeGreaterThan(flushedAt.getTime());
  } finally {
    locker.release();
  }
  // The cancel committed last: it is the state subscribers end with.
  await progress.until((messages) => messages.at(-1)?.jobProgress.status === 'CANCELLING');
  await updates.until(
    (messages) => messages.filter((message) => message.jobUpdated.id === second).at(-1)?.jobUpdated.status === 'CANCELLING',
  );
  progress.stop();
  updates.stop();
});
