import type { Client } from 'graphql-ws';
import { grant, insertJobs } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestServer, token, type TestServer } from './support/test-server';
import { subscribe, wsClient } from './support/ws-client';

/**
 * The per-job order key. Subscribers drop a row whose updated_at is older than the last one
 * they got, so updated_at must follow commit order per job, even for a change that waited for
 * a row lock while a change that started later went first.
 */
let db: TestDatabase;
let server: TestServer;
let admin: string;
let worker: string;
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db, { PROGRESS_FLUSH_MS: '20' });
  await grant(db.pool, 'admin', 'admin');
  await grant(db.pool, 'worker', 'worker');
  admin = await token('admin');
  worker = await token('worker');
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await server?.close();
  await db?.drop();
});

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const updatedAt = async (id: string) =>
  (await db.pool.query<{ updated_at: Date }>('SELECT updated_at FROM jobs WHERE id = $1', [id])).rows[0]!.updated_at;

test('a change that waited behind a later-starting progress flush is stamped after it and reaches subscribers', async () => {
  const type = 'order-key';
  // The bulk cancel locks in id order: `first` (held by the test) before `second`.
  const first = '00000000-0000-4000-8000-000000000001';
  const second = 'ffffffff-ffff-4fff-bfff-ffffffffffff';
  await insertJobs(db.pool, [
    { id: first, type, status: 'RUNNING', started_at: new Date() },
    { id: second, type, status: 'PENDING' },
  ]);
  const claim = await server.gql<{ claimJob: { lease: string; job: { id: string } } }>(
    worker,
    'mutation($t: [String!]) { claimJob(workerId: "w", types: $t) { lease job { id } } }',
    { t: [type] },
  );
  expect(claim.data!.claimJob.job.id).toBe(second);
  const lease = claim.data!.claimJob.lease;

  const socket = wsClient(server.url, admin);
  clients.push(socket);
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

  const locker = await db.pool.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [first]);
    // The cancel starts now and waits for `first`; it has not touched `second` yet.
    const cancelling = server.gql<{ cancelJobs: { changed: number } }>(admin, 'mutation($t: [String!]) { cancelJobs(filter: { types: $t }) { changed } }', {
      t: [type],
    });
    await until('the cancel to wait for the row lock', async () => {
      const { rows } = await db.pool.query<{ waiting: number }>(`SELECT count(*)::int AS waiting FROM pg_locks WHERE NOT granted`);
      return rows[0]!.waiting > 0;
    });
    // A progress flush that starts later goes first on `second`.
    await server.gql(worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', { r: [{ lease, done: 7, total: 10 }] });
    await until('the flush', async () => (await db.pool.query('SELECT 1 FROM jobs WHERE id = $1 AND progress_done = 7', [second])).rowCount === 1);
    const flushedAt = await updatedAt(second);
    await progress.until((messages) => messages.some((message) => message.jobProgress.progress.done === 7));
    await updates.until((messages) => messages.some((message) => message.jobUpdated.id === second && message.jobUpdated.progress.done === 7));

    await locker.query('COMMIT');
    expect((await cancelling).data!.cancelJobs.changed).toBe(2);
    expect((await updatedAt(second)).getTime()).toBeGreaterThan(flushedAt.getTime());
  } finally {
    locker.release();
  }
  // The cancel committed last: it is the state subscribers end with.
  await progress.until((messages) => messages.at(-1)?.jobProgress.status === 'CANCELLING');
  await updates.until((messages) => messages.filter((message) => message.jobUpdated.id === second).at(-1)?.jobUpdated.status === 'CANCELLING');
  progress.stop();
  updates.stop();
});
