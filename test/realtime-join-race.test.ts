import type { PoolClient } from 'pg';
import { apiSuite } from './support/api-suite';
import { blockedBackend } from './support/blocked-query';
import { eventually } from './support/eventually';
import { insertJobs } from './support/fixtures';
import { postGraphQL } from './support/test-server';
import { subscribe, type Received } from './support/ws-client';

/**
 * A subscriber that arrives while the hub is deciding a batch for the others. The hub reads
 * the abilities of the users it has before it hands the batch out; one who subscribed during
 * that read is not among them. Their snapshot was read after they joined, so it already holds
 * the batch: they must be left alone, not judged without an ability (a snapshot's job taken back
 * as removed, a jobProgress subscription ended at once). The read is held open for real, by a
 * lock on the grants table that the hub's ability load waits behind.
 */
const suite = apiSuite({
  // Each test its own users: an ability loaded by one test is never what the next one relies on.
  users: ['watcher-list', 'joiner-list', 'watcher-one', 'joiner-one'],
  grants: [
    ['admin', 'admin'],
    ['watcher-list', 'viewer'],
    ['joiner-list', 'viewer'],
    ['watcher-one', 'viewer'],
    ['joiner-one', 'viewer'],
  ],
});

interface Update {
  jobUpdated: { id: string; removed: boolean; progress: { done: number } };
}
interface Progress {
  jobProgress: { id: string; progress: { done: number } };
}

/** Touches a job the way a worker's report does: its updated_at moves, so subscribers hear of it. */
async function touch(id: string, done: number): Promise<void> {
  await suite.db.pool.query('UPDATE jobs SET progress_done = $2, updated_at = clock_timestamp() WHERE id = $1', [id, done]);
}

/**
 * Takes the grants table, drops the watcher's ability from the instance's cache and changes
 * `jobId`: the hub reads the changed row and waits behind the lock for the watcher's ability.
 * The joiner's ability is cached first (one read of theirs), so that their own subscription does
 * not wait behind the lock too. The watcher's is dropped only once the lock is held: anything
 * that loads it from then on waits, the hub's batch included, whatever else runs meanwhile (a
 * version moved by a grant left a window in which another load could cache it again, and the
 * hub then had nothing to wait for: seen once in a full CI run). Answers the connection holding
 * the lock once the hub is seen waiting behind it.
 */
async function holdTheHubMidBatch(jobId: string, watcher: string, joiner: string): Promise<PoolClient> {
  const read = await postGraphQL(suite.server.url, suite.tokens[joiner], '{ jobs(first: 1) { totalCount } }');
  expect(read.errors).toBeUndefined();
  const locker = await suite.db.pool.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE grants IN ACCESS EXCLUSIVE MODE');
    suite.server.services.permissions.invalidate(watcher);
    await touch(jobId, 2);
    // The hub's load of the watcher's grants (PermissionStore.load).
    await blockedBackend(suite.db.pool, 'FROM grants g JOIN roles r');
    return locker;
  } catch (error) {
    await release(locker);
    throw error;
  }
}

/** Every subscription of the test closed on the server: the next test counts from nothing. */
async function allClosed(): Promise<void> {
  await eventually(
    () => suite.server.services.hub.subscriberCount,
    (count) => count === 0,
    10_000,
    'the subscriptions to close',
  );
}

async function release(locker: PoolClient): Promise<void> {
  await locker.query('ROLLBACK');
  locker.release();
}

/**
 * A job and a watcher's jobUpdated view of it that has seen everything on its way before: its
 * snapshot showed 0, and the change to 1 comes through the hub after anything sent earlier.
 */
async function watchedJob(type: string, watcherUser: string) {
  const [job] = await insertJobs(suite.db.pool, [{ name: 'raced', type }]);
  const filter = `subscription { jobUpdated(filter: { types: ["${type}"] }, snapshot: 5) { id removed progress { done } } }`;
  const watcher = subscribe<Update>(suite.client(suite.tokens[watcherUser]!), filter);
  await watcher.until((messages) => messages.length >= 1);
  await touch(job!.id, 1);
  await watcher.until((messages) => messages.some((message) => message.jobUpdated.progress.done === 1));
  return { id: job!.id, filter, watcher };
}

/** Subscribes the joiner (`join`) while the hub is held mid-batch, and lets the batch go once it has joined. */
async function joinMidBatch<T>(jobId: string, watcherUser: string, joinerUser: string, join: () => Received<T>): Promise<Received<T>> {
  const locker = await holdTheHubMidBatch(jobId, watcherUser, joinerUser);
  const before = suite.server.services.hub.subscriberCount;
  const joiner = join();
  try {
    await eventually(
      () => suite.server.services.hub.subscriberCount,
      (count) => count === before + 1,
      10_000,
      'the joiner to subscribe',
    );
  } finally {
    await release(locker);
  }
  return joiner;
}

test('a jobUpdated subscriber that joins while a batch is decided keeps its snapshot', async () => {
  const { id, filter, watcher } = await watchedJob('join-race-list', 'watcher-list');
  const joiner = await joinMidBatch(id, 'watcher-list', 'joiner-list', () =>
    subscribe<Update>(suite.client(suite.tokens['joiner-list']!), filter),
  );
  await watcher.until((messages) => messages.some((message) => message.jobUpdated.progress.done === 2));
  await touch(id, 3);
  await joiner.until((messages) => messages.some((message) => message.jobUpdated.progress.done === 3));
  expect(joiner.messages.map((message) => message.jobUpdated.removed)).not.toContain(true);
  expect(joiner.messages[0]!.jobUpdated).toMatchObject({ id, removed: false });
  joiner.stop();
  watcher.stop();
  await allClosed();
});

test('a jobProgress subscriber that joins while a batch is decided is not ended', async () => {
  const { id, watcher } = await watchedJob('join-race-one', 'watcher-one');
  const joiner = await joinMidBatch(id, 'watcher-one', 'joiner-one', () =>
    subscribe<Progress>(
      suite.client(suite.tokens['joiner-one']!),
      'subscription($id: ID!) { jobProgress(id: $id) { id progress { done } } }',
      {
        id,
      },
    ),
  );
  await joiner.until((messages) => messages.length >= 1);
  await touch(id, 3);
  await joiner.until((messages) => messages.some((message) => message.jobProgress.progress.done === 3));
  expect(joiner.completed).toBe(false);
  joiner.stop();
  watcher.stop();
  await allClosed();
});
