import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { contextFor, type Context } from '../src/app/context';
import { findVisibleJob } from '../src/jobs/sql/find-job';
import { JobFeed } from '../src/realtime/job-feed';
import { quietEmitter } from '../src/realtime/quiet-emitter';
import { WebSocket } from 'ws';
import { apiSuite } from './support/api-suite';
import { insertJobs } from './support/fixtures';
import { subscribe } from './support/ws-client';

/**
 * What a subscriber does not hold once it is set up. Thousands are held at once, for hours, on
 * jobs that may not change: a jobProgress subscriber kept its snapshot's row (its strings and
 * six dates), and every connection its upgrade request and its token (bench:subscriptions,
 * heap snapshots).
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const suite = apiSuite();

test('a single-job feed lets its snapshot row go once it is sent, and still orders what comes after', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ status: 'RUNNING' }]);
  const ctx = await contextFor(
    suite.server.services,
    { id: 'admin', name: null, expiresAt: Date.now() / 1000 + 3600 },
    'feed-test',
    suite.server.services.log,
  );
  const feed = new JobFeed(ctx, true, 0, () => undefined);
  // In a function of its own: a block in this one would leave the row in its suspended frame.
  const held = await sendSnapshot(feed, ctx, job!.id);
  // The feed is alive (a subscriber is still held), the row it sent is not.
  await eventuallyCollected(held);

  // What it kept is enough: an older version is dropped, a newer one goes out.
  const current = (await findVisibleJob(ctx, job!.id))!;
  feed.deliver({ row: { ...current, updated_at: new Date(current.updated_at.getTime() - 1_000) } });
  const newer = { ...current, updated_at: new Date(current.updated_at.getTime() + 1_000), progress_done: 7 };
  feed.deliver({ row: newer });
  const next = await feed.next();
  expect(next.value?.row).toBe(newer);
  await feed.return();
});

async function sendSnapshot(feed: JobFeed, ctx: Context, id: string): Promise<WeakRef<object>> {
  const row = await findVisibleJob(ctx, id);
  expect(row).toBeDefined();
  feed.start([row!]);
  const first = await feed.next();
  expect(first.done).toBe(false);
  expect(first.value?.row).toBe(row);
  return new WeakRef(row!);
}

test('a WebSocket connection lets its upgrade request go once it is accepted', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ status: 'RUNNING' }]);
  const upgrade = await upgradeOfOneSubscriber(job!.id);
  await eventuallyCollected(upgrade.request);
  upgrade.stop();
});

test("a socket's messages reach graphql-ws as text: its handler of a subscribe message, which waits for the whole subscription, holds no Buffer", () => {
  const socket = new WebSocket(null as unknown as string, undefined, {}); // a server's side of a socket, before ws gives it a connection
  socket.emit = quietEmitter(suite.server.services.log);
  const received: unknown[] = [];
  socket.on('message', (data) => received.push(data));
  socket.emit('message', Buffer.from('{"id":"1","type":"subscribe"}'), false);
  expect(received).toEqual(['{"id":"1","type":"subscribe"}']);
});

/** Subscribes one client, waits for its first message, and answers a weak reference to the request its socket was upgraded from. */
async function upgradeOfOneSubscriber(jobId: string): Promise<{ request: WeakRef<object>; stop: () => void }> {
  let request: WeakRef<object> | undefined;
  const seen = (req: object) => {
    request = new WeakRef(req);
  };
  suite.server.httpServer.once('upgrade', seen);
  const subscriber = subscribe<{ jobProgress: { id: string } }>(
    suite.client(suite.admin),
    'subscription($id: ID!) { jobProgress(id: $id) { id } }',
    { id: jobId },
  );
  await subscriber.until((messages) => messages.length >= 1);
  expect(request).toBeDefined();
  return { request: request!, stop: () => subscriber.stop() };
}

/** Collects until `ref` is cleared; a few rounds, as V8 may need more than one collection to free an object. */
async function eventuallyCollected(ref: WeakRef<object>): Promise<void> {
  for (let round = 0; round < 10 && ref.deref() !== undefined; round += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  expect(ref.deref()).toBeUndefined();
}
