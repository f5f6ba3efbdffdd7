import type { Client } from 'graphql-ws';
import { apiSuite, claimedJob } from './support/api-suite';
import { eventually } from './support/eventually';
import { grant, insertJobs } from './support/fixtures';
import { token, type TestServer } from './support/test-server';
import { rawSocket, subscribe } from './support/ws-client';

/**
 * Subscriptions over real sockets, with two API instances on one database: what a worker
 * reports to one instance reaches subscribers of the other, and nobody hears about a job they
 * may not view.
 */
const ENV = { PROGRESS_FLUSH_MS: '50' };
const suite = apiSuite({
  env: ENV,
  grants: [
    ['admin', 'admin'],
    ['worker', 'worker'],
    ['scoped', 'viewer', 'acme/payments'],
  ],
});
/** A second instance on the same database. */
let b: TestServer;
beforeAll(async () => {
  b = await suite.startServer(ENV);
});

const client = (server: TestServer, bearer: string): Client => suite.client(bearer, server);

const claimed = (server: TestServer, type: string, scope = 'acme/payments/prod') =>
  claimedJob(suite, type, { on: server, seed: { scope } });

const PROGRESS = `subscription($id: ID!) { jobProgress(id: $id) { id status progress { done total percent } updatedAt } }`;
interface ProgressMessage {
  jobProgress: { id: string; status: string; progress: { done: number; total: number | null; percent: number | null } };
}

test('a subscriber on one instance receives the progress a worker reports to the other, snapshot first', async () => {
  const { id, lease } = await claimed(b, 'cross-instance');
  const received = subscribe<ProgressMessage>(client(suite.server, suite.admin), PROGRESS, { id });
  await received.until((messages) => messages.length >= 1);
  expect(received.messages[0]!.jobProgress).toMatchObject({ id, status: 'RUNNING', progress: { done: 0 } });
  for (const done of [10, 40, 70]) {
    await b.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', { r: [{ lease, done, total: 100 }] });
    await received.until((messages) => messages.some((message) => message.jobProgress.progress.done === done));
  }
  await b.gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease });
  await received.until((messages) => messages.at(-1)?.jobProgress.status === 'SUCCEEDED');
  received.stop();
});

test('progress never goes backwards on the wire while reports race through both instances, and the terminal state comes last', async () => {
  const { id, lease } = await claimed(b, 'racing-reports');
  const progress = subscribe<ProgressMessage>(client(suite.server, suite.admin), PROGRESS, { id });
  const updates = subscribe<{ jobUpdated: ProgressMessage['jobProgress'] }>(
    client(b, suite.admin),
    'subscription { jobUpdated(filter: { types: ["racing-reports"] }) { id status progress { done total percent } } }',
  );
  await progress.until((messages) => messages.length >= 1);
  await updates.until((messages) => messages.length >= 1);
  // Two at a time, alternating instances, never waiting for an event: each
  // instance flushes on its own timer, so the flushes interleave and race for the row. Only the
  // database is waited for, so that there are many flushes rather than one.
  // Each pair reversed (2, 1, 4, 3, ...): the lower figure may land after the higher one.
  const order = Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? index + 2 : index));
  let highest = 0;
  for (let index = 0; index < order.length; index += 2) {
    const pair = order.slice(index, index + 2);
    await Promise.all(
      pair.map((done, offset) =>
        (offset === 0 ? suite.server : b).gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
          r: [{ lease, done, total: 40 }],
        }),
      ),
    );
    highest = Math.max(highest, ...pair);
    while ((await suite.db.pool.query('SELECT 1 FROM jobs WHERE id = $1 AND progress_done >= $2', [id, highest])).rowCount === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Half way, both subscribers have shown the figure reached: a state between the first and the
    // last went out whatever the pace (otherwise a busy machine may coalesce everything in between).
    if (highest === 20) {
      await progress.until((messages) => messages.some((message) => message.jobProgress.progress.done === 20));
      await updates.until((messages) => messages.some((message) => message.jobUpdated.progress.done === 20));
    }
  }
  await suite.server.gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease });
  await progress.until((messages) => messages.at(-1)?.jobProgress.status === 'SUCCEEDED');
  await updates.until((messages) => messages.at(-1)?.jobUpdated.status === 'SUCCEEDED');
  for (const sent of [progress.messages.map((message) => message.jobProgress), updates.messages.map((message) => message.jobUpdated)]) {
    const percents = sent.map((job) => job.progress.percent ?? 0);
    expect(percents).toEqual([...percents].sort((x, y) => x - y));
    // Several states went out, not just the first and the last.
    expect(new Set(percents).size).toBeGreaterThan(2);
    expect(sent.filter((job) => job.status === 'SUCCEEDED')).toHaveLength(1);
  }
  progress.stop();
  updates.stop();
});

test('jobUpdated: a scoped viewer hears only about jobs in their scope; the first messages are a snapshot', async () => {
  const [before] = await insertJobs(suite.db.pool, [{ type: 'snap', scope: 'acme/payments/prod', name: 'existing' }]);
  const received = subscribe<{ jobUpdated: { id: string; scope: string; status: string } }>(
    client(suite.server, await token('scoped')),
    'subscription { jobUpdated(filter: { types: ["snap", "scoped-check"] }) { id scope status } }',
  );
  await received.until((messages) => messages.some((message) => message.jobUpdated.id === before!.id));
  const created = await b.gql<{ createJob: { id: string } }>(
    suite.admin,
    'mutation { createJob(input: { name: "outside", type: "scoped-check", scope: "globex/shop" }) { id } }',
  );
  const inside = await b.gql<{ createJob: { id: string } }>(
    suite.admin,
    'mutation { createJob(input: { name: "inside", type: "scoped-check", scope: "acme/payments/eu" }) { id } }',
  );
  await received.until((messages) => messages.some((message) => message.jobUpdated.id === inside.data!.createJob.id));
  // The outside job changed before the inside one, in the same batch or an earlier one; a job changed
  // after the inside one was received is in a later batch, and queued behind anything sent before it.
  const marker = await b.gql<{ createJob: { id: string } }>(
    suite.admin,
    'mutation { createJob(input: { name: "inside marker", type: "scoped-check", scope: "acme/payments/eu" }) { id } }',
  );
  await received.until((messages) => messages.some((message) => message.jobUpdated.id === marker.data!.createJob.id));
  expect(received.messages.map((message) => message.jobUpdated.id)).not.toContain(created.data!.createJob.id);
  expect(received.messages.every((message) => message.jobUpdated.scope.startsWith('acme/payments'))).toBe(true);
  received.stop();
});

test('a revoked grant stops the events', async () => {
  await grant(suite.db.pool, 'temp', 'viewer');
  // A second grant that stays: jobs in acme/kept remain visible to temp, so that a job there can
  // show the subscription is still live after the revocation (and that nothing came before it).
  await grant(suite.db.pool, 'temp', 'viewer', 'acme/kept');
  await b.gql(suite.admin, 'mutation { createJob(input: { name: "before", type: "revocation", scope: "acme" }) { id } }');
  const received = subscribe<{ jobUpdated: { id: string; name: string; removed: boolean } }>(
    client(suite.server, await token('temp')),
    'subscription { jobUpdated(filter: { types: ["revocation"] }, snapshot: 1) { id name removed } }',
  );
  // An admin's view of the same jobs on instance A: it hears every change A's hub delivers.
  const adminView = subscribe<{ jobUpdated: { name: string } }>(
    client(suite.server, suite.admin),
    'subscription { jobUpdated(filter: { types: ["revocation"] }, snapshot: 1) { name } }',
  );
  // The snapshot comes once the subscription is live: from then on every change reaches it.
  await received.until((messages) => messages.length >= 1);
  await adminView.until((messages) => messages.length >= 1);
  await b.gql(suite.admin, 'mutation { createJob(input: { name: "seen", type: "revocation", scope: "acme" }) { id } }');
  await received.until((messages) => messages.some((message) => message.jobUpdated.name === 'seen'));
  const grants = await b.gql<{ grants: Array<{ id: string; scope: string | null }> }>(
    suite.admin,
    '{ grants(userId: "temp") { id scope } }',
  );
  await b.gql(suite.admin, `mutation { revokeGrant(id: "${grants.data!.grants.find((entry) => entry.scope === null)!.id}") }`);
  // Instance A reads the permissions version before each event: the revocation counts at once.
  await b.gql(suite.admin, 'mutation { createJob(input: { name: "unseen", type: "revocation", scope: "acme" }) { id } }');
  // Once the admin has it, A's hub has decided "unseen" for temp too (the same batch, or an earlier one).
  await adminView.until((messages) => messages.some((message) => message.jobUpdated.name === 'unseen'));
  // A job temp still sees, changed in a later batch: it is queued behind anything sent to temp before it.
  await b.gql(suite.admin, 'mutation { createJob(input: { name: "still seen", type: "revocation", scope: "acme/kept" }) { id } }');
  await received.until((messages) => messages.some((message) => message.jobUpdated.name === 'still seen'));
  // What was shown is taken back at once (removed), and nothing after the revocation is sent but what temp may still see.
  expect(received.messages.map((message) => [message.jobUpdated.name, message.jobUpdated.removed])).toEqual([
    ['before', false],
    ['seen', false],
    ['before', true],
    ['seen', true],
    ['still seen', false],
  ]);
  received.stop();
  adminView.stop();
});

test('the socket closes with 4403 when the token expires', async () => {
  // Seconds in a token are whole: 4 leaves over 3 s for the socket to open and the init to be
  // acknowledged before it expires, even on a busy machine (2 left as little as 1 s).
  const shortLived = await token('admin', { ttlSeconds: 4 });
  const socket = rawSocket(suite.server.url);
  await socket.opened;
  socket.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${shortLived}` } }));
  const closed = await socket.closed;
  expect(closed.code).toBe(4403);
  expect(closed.reason).toMatch(/expired/);
  expect(socket.messages[0]).toEqual({ type: 'connection_ack' });
});

test.each([
  ['no token', {}],
  ['a malformed token', { authorization: 'Bearer nope' }],
  ['a forged token', { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.c2lnbmF0dXJl' }],
])('connection_init with %s closes with 4403', async (_label, payload) => {
  const socket = rawSocket(suite.server.url);
  await socket.opened;
  socket.socket.send(JSON.stringify({ type: 'connection_init', payload }));
  expect((await socket.closed).code).toBe(4403);
});

test('only the graphql-transport-ws subprotocol is spoken', async () => {
  // Offering only the legacy subprotocol: the handshake itself is refused.
  const legacy = rawSocket(suite.server.url, 'graphql-ws');
  await expect(legacy.opened).rejects.toThrow(/no subprotocol/);
  // Offering none: the connection opens and is closed at once with 4406.
  const none = rawSocket(suite.server.url, '');
  expect((await none.closed).code).toBe(4406);
});

test('a client that never sends connection_init is closed (4408)', async () => {
  const slow = await suite.startServer({}, { connectionInitTimeoutMs: 300 });
  try {
    const socket = rawSocket(slow.url);
    await socket.opened;
    const closed = await socket.closed;
    expect(closed.code).toBe(4408);
  } finally {
    await slow.close();
  }
  // A server of its own with a 300 ms init timeout (the default's 5 s would only make the test wait).
}, 30_000);

test('errors over the socket carry the same codes as over HTTP', async () => {
  const viewer = client(suite.server, await token('scoped'));
  const [hidden] = await insertJobs(suite.db.pool, [{ scope: 'globex/x' }]);
  const notFound = subscribe(viewer, PROGRESS, { id: hidden!.id });
  await notFound.until(() => notFound.errors.length > 0 || notFound.completed);
  expect(notFound.errors[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  const badId = subscribe(viewer, PROGRESS, { id: 'nope' });
  await badId.until(() => badId.errors.length > 0);
  expect(badId.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  const invalid = subscribe(viewer, 'subscription { jobProgress(id: "x") { nope } }');
  await invalid.until(() => invalid.errors.length > 0);
  expect(
    (invalid.errors[0] as Array<{ extensions: { code: string } }>)[0]?.extensions.code ??
      (invalid.errors[0] as { extensions: { code: string } }).extensions?.code,
  ).toBe('BAD_USER_INPUT');
  const query = subscribe<{ me: { id: string } }>(viewer, '{ me { id } }');
  await query.until((messages) => messages.length === 1);
  expect(query.messages[0]).toEqual({ me: { id: 'scoped' } });
});

test('too many subscriptions on one connection are refused with RATE_LIMITED', async () => {
  const busy = client(suite.server, suite.admin);
  const [job] = await insertJobs(suite.db.pool, [{ type: 'limits' }]);
  const subscriptions = Array.from({ length: 101 }, () => subscribe(busy, PROGRESS, { id: job!.id }));
  const last = subscriptions[100]!;
  await last.until(() => last.errors.length > 0);
  expect(JSON.stringify(last.errors)).toContain('RATE_LIMITED');
  for (const subscription of subscriptions) subscription.stop();
});

test('a message larger than the limit closes the socket (1009), without a stack trace on stderr', async () => {
  const printed = jest.spyOn(console, 'error');
  try {
    const socket = rawSocket(suite.server.url);
    await socket.opened;
    socket.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${suite.admin}` } }));
    // The oversized message comes on an acknowledged connection (waited for, not slept for).
    await eventually(() => socket.messages.some((message) => message['type'] === 'connection_ack'), Boolean, 10_000, 'the ack');
    socket.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ me { id } } # ${'x'.repeat(70_000)}` } }));
    expect((await socket.closed).code).toBe(1009);
    // graphql-ws prints socket errors with console.error; a client's oversized frame is not the server's error.
    expect(printed).not.toHaveBeenCalled();
  } finally {
    printed.mockRestore();
  }
});

test('jobTimeline replays after a given event, then streams new ones, and ends after deletion', async () => {
  const created = await suite.server.gql<{ createJob: { id: string } }>(
    suite.admin,
    'mutation { createJob(input: { name: "timeline", type: "timeline-sub", scope: "acme", start: false }) { id } }',
  );
  const id = created.data!.createJob.id;
  await suite.server.gql(suite.admin, `mutation { startJob(id: "${id}") { status } }`);
  const received = subscribe<{ jobTimeline: { id: string; kind: string } }>(
    client(suite.server, suite.admin),
    'subscription($id: ID!) { jobTimeline(id: $id, after: "0") { id kind } }',
    { id },
  );
  await received.until((messages) => messages.length >= 2);
  await b.gql(suite.admin, `mutation { cancelJob(id: "${id}") { status } }`);
  await b.gql(suite.admin, `mutation { deleteJob(id: "${id}") }`);
  await received.until((messages) => messages.at(-1)?.jobTimeline.kind === 'DELETED');
  expect(received.messages.map((message) => message.jobTimeline.kind)).toEqual(['CREATED', 'SUBMITTED', 'CANCELLED', 'DELETED']);
  await received.until(() => received.completed);
});

// The deterministic version, where the listener cannot come back before the writes are done
// (so only the resync can deliver them), is in realtime-catchup.test.ts.
test('after pg_terminate_backend on the listener, events resume and the terminal state is delivered', async () => {
  const { id, lease } = await claimed(b, 'listener-kill');
  const received = subscribe<ProgressMessage>(client(suite.server, suite.admin), PROGRESS, { id });
  await received.until((messages) => messages.length >= 1);
  // Kill every listener connection (both instances), then finish the job while they are down.
  await suite.db.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'jobwatch-listener' AND datname = current_database()`,
  );
  await b.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', { r: [{ lease, done: 5, total: 10 }] });
  await b.gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease });
  await received.until((messages) => messages.at(-1)?.jobProgress.status === 'SUCCEEDED', 15_000);
  // And it goes on working afterwards.
  const next = await claimed(b, 'listener-kill-after');
  const again = subscribe<ProgressMessage>(client(suite.server, suite.admin), PROGRESS, { id: next.id });
  await again.until((messages) => messages.length >= 1);
  await b.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
    r: [{ lease: next.lease, done: 3, total: 10 }],
  });
  await again.until((messages) => messages.some((message) => message.jobProgress.progress.done === 3));
  received.stop();
  again.stop();
}, 30_000);
