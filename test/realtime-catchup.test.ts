import { apiSuite, claimedJob } from './support/api-suite';
import { eventually } from './support/eventually';
import type { TestServer } from './support/test-server';
import { subscribe, type Received } from './support/ws-client';

/**
 * Catch-up after the LISTEN connection is lost. Instance A reaches Postgres through a proxy
 * that, once A's listener backend is terminated, refuses A's new connections: A cannot listen
 * again until the test lets it, so everything written through instance B meanwhile can only
 * reach A's subscribers by the resync after the reconnect, never live.
 */
/** Instance A, the suite's server, reaches Postgres through the proxy. */
const suite = apiSuite({ faultProxy: true, env: { PROGRESS_FLUSH_MS: '20' } });
let a: TestServer;
/** Instance B, straight to Postgres. */
let b: TestServer;
let admin: string;
let worker: string;

beforeAll(async () => {
  a = suite.server;
  b = await suite.startServer({ PROGRESS_FLUSH_MS: '20' });
  admin = suite.admin;
  worker = suite.worker;
});

function subscribeOnA<T>(query: string, variables: Record<string, unknown>): Received<T> {
  return subscribe<T>(suite.client(admin, a), query, variables);
}

const claimed = (type: string) => claimedJob(suite, type, { on: b });

/** Terminates A's LISTEN backend while A may not connect again; resolves once A knows it lost it. */
async function cutListenerOfA(): Promise<void> {
  await suite.proxy.refuseNew();
  const { rowCount } = await suite.db.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = 'jobwatch-listener' AND datname = current_database() AND client_port = ANY($1::int[])`,
    [suite.proxy.upstreamPorts()],
  );
  expect(rowCount).toBe(1);
  await eventually(
    () => a.services.listener.connected,
    (connected) => !connected,
    15_000,
    'A to notice the loss of its listener',
  );
}

/** `timeoutMs`: a resync's work grows with what changed meanwhile (tens of thousands of rows take a while on a busy machine). */
async function letAListenAgain(timeoutMs = 15_000): Promise<void> {
  const resyncs = a.services.hub.stats.resyncs;
  await suite.proxy.up();
  await eventually(
    () => a.services.hub.stats.resyncs,
    (count) => count > resyncs,
    timeoutMs,
    'A to resynchronise',
  );
}

interface JobMessage {
  id: string;
  status: string;
  removed: boolean;
  progress: { done: number };
}

test('jobProgress, jobUpdated and jobTimeline get what was written while the listener was down, terminal states included', async () => {
  const job = await claimed('catch-up');
  const deleted = await b.gql<{ createJob: { id: string } }>(
    admin,
    'mutation { createJob(input: { name: "doomed", type: "catch-up", scope: "acme", start: false }) { id } }',
  );
  const doomed = deleted.data!.createJob.id;

  const progress = subscribeOnA<{ jobProgress: JobMessage }>(
    'subscription($id: ID!) { jobProgress(id: $id) { id status removed progress { done } } }',
    { id: job.id },
  );
  const active = subscribeOnA<{ jobUpdated: JobMessage }>(
    'subscription($f: JobFilter) { jobUpdated(filter: $f) { id status removed progress { done } } }',
    { f: { types: ['catch-up'], tab: 'ACTIVE' } },
  );
  const all = subscribeOnA<{ jobUpdated: JobMessage }>(
    'subscription($f: JobFilter) { jobUpdated(filter: $f) { id status removed progress { done } } }',
    {
      f: { types: ['catch-up'] },
    },
  );
  // From the job's last event so far: what is written after it arrives, however late the subscription goes live.
  const {
    rows: [last],
  } = await suite.db.pool.query<{ id: string }>('SELECT max(id)::text AS id FROM timeline_events WHERE job_id = $1', [job.id]);
  const timeline = subscribeOnA<{ jobTimeline: { kind: string; message: string | null } }>(
    'subscription($id: ID!, $after: ID) { jobTimeline(id: $id, after: $after) { kind message } }',
    { id: job.id, after: last?.id ?? null },
  );
  await progress.until((messages) => messages.length >= 1);
  await active.until((messages) => messages.some((message) => message.jobUpdated.id === job.id));
  await all.until((messages) => messages.some((message) => message.jobUpdated.id === doomed));
  // Live before the cut: a log line reaches the timeline subscriber.
  await b.gql(worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
    r: [{ lease: job.lease, done: 1, total: 10, log: ['before the cut'] }],
  });
  await timeline.until((messages) => messages.some((message) => message.jobTimeline.message === 'before the cut'));
  await progress.until((messages) => messages.some((message) => message.jobProgress.progress.done === 1));

  await cutListenerOfA();
  await b.gql(worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
    r: [{ lease: job.lease, done: 5, log: ['during the cut'] }],
  });
  await eventually(
    async () => (await suite.db.pool.query('SELECT 1 FROM jobs WHERE id = $1 AND progress_done = 5', [job.id])).rowCount,
    (count) => count === 1,
    15_000,
    'the flush',
  );
  await b.gql(worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: job.lease });
  await b.gql(admin, `mutation { deleteJob(id: "${doomed}") }`);
  // A cannot have heard any of it.
  expect(progress.messages.some((message) => message.jobProgress.status === 'SUCCEEDED')).toBe(false);
  expect(timeline.messages.some((message) => message.jobTimeline.message === 'during the cut')).toBe(false);

  await letAListenAgain();
  await progress.until((messages) => messages.at(-1)?.jobProgress.status === 'SUCCEEDED');
  await active.until((messages) => messages.at(-1)?.jobUpdated.status === 'SUCCEEDED');
  await all.until((messages) => messages.some((message) => message.jobUpdated.id === doomed && message.jobUpdated.removed));
  await timeline.until((messages) => messages.at(-1)?.jobTimeline.kind === 'SUCCEEDED');
  const history = timeline.messages.filter((message) => message.jobTimeline.kind !== 'PROGRESS');
  expect(history.map((message) => message.jobTimeline.message ?? message.jobTimeline.kind)).toEqual([
    'before the cut',
    'during the cut',
    'SUCCEEDED',
  ]);
  const done = progress.messages.map((message) => message.jobProgress.progress.done);
  expect(done).toEqual([...done].sort((x, y) => x - y));

  // And live again afterwards.
  const next = await claimed('catch-up');
  await active.until((messages) => messages.some((message) => message.jobUpdated.id === next.id));
  for (const received of [progress, active, all, timeline]) received.stop();
}, 60_000);

test('a resync reads every change since the loss, however many: the newest (the terminal one) is never cut off', async () => {
  const job = await claimed('resync-many');
  const received = subscribeOnA<{ jobUpdated: JobMessage }>(
    'subscription($f: JobFilter) { jobUpdated(filter: $f) { id status removed progress { done } } }',
    {
      f: { types: ['resync-many'] },
    },
  );
  await received.until((messages) => messages.some((message) => message.jobUpdated.id === job.id));

  await cutListenerOfA();
  // More changed rows than the resync once read at most (50,000), then the watched job finishes last.
  await suite.db.pool.query(
    `INSERT INTO jobs (id, name, type, scope, owner_id, status, step, config, approvers, requires_approval, attempt, progress_done)
     SELECT gen_random_uuid(), 'filler', 'resync-filler', 'acme/filler', 'alice', 'PENDING', 'PRE', '{}', '{}', false, 1, 0
       FROM generate_series(1, 50500)`,
  );
  await b.gql(worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: job.lease });

  await letAListenAgain(60_000);
  await received.until((messages) => messages.at(-1)?.jobUpdated.status === 'SUCCEEDED');
  // The snapshot, then the terminal state: nothing twice, nothing of the filler.
  expect(received.messages.map((message) => [message.jobUpdated.id, message.jobUpdated.status])).toEqual([
    [job.id, 'RUNNING'],
    [job.id, 'SUCCEEDED'],
  ]);
  received.stop();
}, 90_000);
