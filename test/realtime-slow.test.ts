import { eventually } from './support/eventually';
import { grant, insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { token } from './support/test-server';
import { rawSocket, subscribe } from './support/ws-client';

/**
 * A client that stops reading. Its socket's buffers fill up, the server's sends wait, and
 * newer states of the job replace the ones queued for it (coalescing): when it reads again it
 * gets fewer messages, and the last one is the terminal state. A grant revoked while states
 * were queued stops them: permissions are checked when a message is about to be sent.
 */
// The stalled sockets here stop reading for as long as the steps take; the slow-reader guard
// (slow-readers.test.ts) would close them after WS_SLOW_READER_MS (10 s by default), which a busy
// machine can reach. This file is about coalescing and permissions, so the guard waits an hour.
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '20', WS_SLOW_READER_MS: '3600000' } });
const SUBSCRIPTIONS = 50;
/** A large job config makes each message big: a few of them fill any socket buffer. */
const CONFIG = { blob: 'x'.repeat(200_000) };

interface ProgressMessage {
  jobProgress: { status: string; progress: { done: number } };
}

async function claimedBigJob(type: string) {
  const [job] = await insertJobs(suite.db.pool, [{ type }]);
  await suite.db.pool.query('UPDATE jobs SET config = $2 WHERE id = $1', [job!.id, JSON.stringify(CONFIG)]);
  const response = await suite.server.gql<{ claimJob: { lease: string } }>(
    suite.worker,
    'mutation($t: [String!]) { claimJob(workerId: "w", types: $t) { lease } }',
    { t: [type] },
  );
  return { id: job!.id, lease: response.data!.claimJob.lease };
}

/**
 * A raw socket that reads its connection_ack and then stops reading, with SUBSCRIPTIONS
 * jobProgress subscriptions of the job (each message carries the big config).
 */
async function stalledSubscriber(bearer: string, jobId: string) {
  const raw = rawSocket(suite.server.url);
  await raw.opened;
  raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }));
  await eventually(() => raw.messages.some((message) => message['type'] === 'connection_ack'), Boolean, 10_000, 'the ack');
  raw.socket.pause();
  const before = suite.server.services.hub.subscriberCount;
  for (let id = 1; id <= SUBSCRIPTIONS; id += 1) {
    raw.socket.send(
      JSON.stringify({
        id: String(id),
        type: 'subscribe',
        payload: { query: 'subscription($id: ID!) { jobProgress(id: $id) { status progress { done } config } }', variables: { id: jobId } },
      }),
    );
  }
  await eventually(
    () => suite.server.services.hub.subscriberCount,
    (count) => count >= before + SUBSCRIPTIONS,
    10_000,
    'the subscriptions',
  );
  const byId = () => {
    const result = new Map<string, { messages: ProgressMessage[]; completed: boolean }>();
    for (const message of raw.messages) {
      const id = message['id'] as string | undefined;
      if (id === undefined) continue;
      const entry = result.get(id) ?? { messages: [], completed: false };
      if (message['type'] === 'next') entry.messages.push((message['payload'] as { data: ProgressMessage }).data);
      if (message['type'] === 'complete') entry.completed = true;
      result.set(id, entry);
    }
    return result;
  };
  return { raw, byId };
}

/** A normal subscriber of the job, reading as fast as it can. */
function watch(jobId: string) {
  return subscribe<ProgressMessage>(
    suite.client(suite.admin),
    'subscription($id: ID!) { jobProgress(id: $id) { status progress { done } } }',
    { id: jobId },
  );
}

/** Reports `done` and waits until a normal subscriber of the job has it: each is its own event. */
async function step(lease: string, observer: ReturnType<typeof subscribe<ProgressMessage>>, done: number) {
  await suite.server.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
    r: [{ lease, done, total: 100 }],
  });
  await observer.until((messages) => messages.some((message) => message.jobProgress.progress.done === done));
}

test('a client that stops reading gets coalesced states when it reads again, and the terminal state last', async () => {
  const job = await claimedBigJob('slow-terminal');
  const observer = watch(job.id);
  await observer.until((messages) => messages.length >= 1);
  const slow = await stalledSubscriber(suite.admin, job.id);
  for (let done = 10; done <= 80; done += 10) await step(job.lease, observer, done);
  await suite.server.gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: job.lease });
  await observer.until((messages) => messages.at(-1)?.jobProgress.status === 'SUCCEEDED');

  slow.raw.socket.resume();
  await eventually(
    () => {
      const byId = slow.byId();
      return byId.size === SUBSCRIPTIONS && [...byId.values()].every((entry) => entry.messages.at(-1)?.jobProgress.status === 'SUCCEEDED');
    },
    Boolean,
    30_000,
    'every subscription to reach SUCCEEDED',
  );
  for (const { messages } of slow.byId().values()) {
    const done = messages.map((message) => message.jobProgress.progress.done);
    expect(done).toEqual([...done].sort((x, y) => x - y));
    // Snapshot, 8 progress states, the terminal one: 10 if nothing had been coalesced.
    expect(messages.length).toBeLessThan(10);
    expect(messages[0]!.jobProgress.status).toBe('RUNNING');
  }
  slow.raw.socket.close();
  observer.stop();
}, 60_000);

test('states queued for a slow client are not sent once its grant is revoked', async () => {
  await grant(suite.db.pool, 'slowpoke', 'viewer');
  const job = await claimedBigJob('slow-revoked');
  const observer = watch(job.id);
  await observer.until((messages) => messages.length >= 1);
  const slow = await stalledSubscriber(await token('slowpoke'), job.id);
  for (let done = 10; done <= 60; done += 10) await step(job.lease, observer, done);
  // Queued for every subscription of the stalled socket, decided while the grant still held.
  await step(job.lease, observer, 99);
  const grants = await suite.server.gql<{ grants: Array<{ id: string }> }>(suite.admin, '{ grants(userId: "slowpoke") { id } }');
  await suite.server.gql(suite.admin, `mutation { revokeGrant(id: "${grants.data!.grants[0]!.id}") }`);

  slow.raw.socket.resume();
  await eventually(
    () => {
      const byId = slow.byId();
      return byId.size === SUBSCRIPTIONS && [...byId.values()].every((entry) => entry.completed);
    },
    Boolean,
    30_000,
    'every subscription to end',
  );
  const sent = [...slow.byId().values()].flatMap((entry) => entry.messages.map((message) => message.jobProgress.progress.done));
  expect(sent).not.toContain(99);
  slow.raw.socket.close();
  observer.stop();
}, 60_000);
