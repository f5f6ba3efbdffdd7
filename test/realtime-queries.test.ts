import { grant, insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { token } from './support/test-server';
import { subscribe, type Received } from './support/ws-client';

/**
 * "No query per subscriber per event": fields that need more than the job row (tasks, task
 * counts, the timeline, slowerThanUsual) are read once per fan-out batch, shared by every
 * subscriber, however many there are. Counted at the server's own pool.
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '20' } });
const counts = { tasks: 0, timeline: 0, typeStats: 0 };

beforeAll(async () => {
  await grant(suite.db.pool, 'viewer', 'viewer');
  // Every statement the server runs through its pool passes here.
  const pool = suite.server.services.pool;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    // A text, or a prepared statement's config ({ name, text, values }) once the read is hot.
    const first = args[0] as string | { text?: unknown } | undefined;
    const text = typeof first === 'string' ? first : typeof first?.text === 'string' ? first.text : '';
    if (text.includes('SELECT job_id, name, position, status, done, total')) counts.tasks += 1;
    if (text.includes('timeline_events t') && text.includes('WITH ORDINALITY')) counts.timeline += 1;
    if (text.includes('percentile_cont(0.95)')) counts.typeStats += 1;
    return query(...args);
  };
});

const SELECTION = `subscription($id: ID!) {
  jobProgress(id: $id) {
    id status progress { done }
    tasks { name done }
    taskCounts { processing }
    slowerThanUsual
    timeline(first: 3) { nodes { kind } }
  }
}`;
interface Message {
  jobProgress: { progress: { done: number }; tasks: Array<{ name: string; done: number }>; timeline: { nodes: Array<{ kind: string }> } };
}

test('20 subscribers selecting tasks, taskCounts, timeline and slowerThanUsual cost a handful of queries per event, not 20 each', async () => {
  const type = 'query-count';
  // Finished runs of the type, so that slowerThanUsual has a p95 to read.
  const hourAgo = new Date(Date.now() - 3_600_000);
  await insertJobs(
    suite.db.pool,
    Array.from({ length: 5 }, () => ({
      type,
      status: 'SUCCEEDED' as const,
      created_at: hourAgo,
      started_at: hourAgo,
      finished_at: new Date(hourAgo.getTime() + 60_000),
    })),
  );
  const [job] = await insertJobs(suite.db.pool, [{ type }]);
  const claim = await suite.server.gql<{ claimJob: { lease: string } }>(
    suite.worker,
    'mutation($t: [String!]) { claimJob(workerId: "w", types: $t) { lease } }',
    { t: [type] },
  );
  const lease = claim.data!.claimJob.lease;
  const report = (done: number) =>
    suite.server.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
      r: [{ lease, done, total: 100, tasks: [{ name: 'table-a', status: 'PROCESSING', done, total: 100 }] }],
    });
  await report(1);

  const viewer = await token('viewer');
  const subscriptions: Array<Received<Message>> = [];
  for (let index = 0; index < 4; index += 1) {
    const socket = suite.client(viewer);
    for (let each = 0; each < 5; each += 1) subscriptions.push(subscribe<Message>(socket, SELECTION, { id: job!.id }));
  }
  const allSaw = (done: number) =>
    Promise.all(
      subscriptions.map((received) => received.until((messages) => messages.some((message) => message.jobProgress.progress.done === done))),
    );
  await allSaw(1);

  for (const done of [2, 3]) {
    counts.tasks = 0;
    counts.timeline = 0;
    counts.typeStats = 0;
    await report(done);
    await allSaw(done);
    // One batch: the job's tasks and timeline page once, the p95 at most once (it is kept a few seconds).
    expect(counts.tasks).toBe(1);
    expect(counts.timeline).toBe(1);
    expect(counts.typeStats).toBeLessThanOrEqual(1);
  }
  const last = subscriptions[19]!.messages.at(-1)!.jobProgress;
  expect(last.tasks).toEqual([{ name: 'table-a', done: 3 }]);
  expect(last.timeline.nodes.map((node) => node.kind)).toEqual(['CLAIMED']);
  for (const received of subscriptions) received.stop();
});

test('over HTTP too, the timelines of a page of jobs are one query, each page cut and continued right', async () => {
  const admin = 'timeline-admin';
  await grant(suite.db.pool, admin, 'admin');
  const bearer = await token(admin);
  const jobs = await insertJobs(suite.db.pool, [{ type: 'timeline-pages' }, { type: 'timeline-pages' }, { type: 'timeline-pages' }]);
  await suite.db.pool.query(
    `INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, message, job_scope, job_type, job_owner_id)
     SELECT j.id, 'LOG', 'w', 'WORKER', 'line ' || n, j.scope, j.type, j.owner_id
       FROM jobs j CROSS JOIN generate_series(1, 3) n WHERE j.type = 'timeline-pages' ORDER BY n, j.id`,
  );
  counts.timeline = 0;
  const page = await suite.server.gql<{
    jobs: {
      nodes: Array<{ id: string; timeline: { nodes: Array<{ message: string }>; pageInfo: { hasNextPage: boolean; endCursor: string } } }>;
    };
  }>(
    bearer,
    '{ jobs(filter: { types: ["timeline-pages"] }) { nodes { id timeline(first: 2) { nodes { message } pageInfo { hasNextPage endCursor } } } } }',
  );
  expect(counts.timeline).toBe(1);
  const nodes = page.data!.jobs.nodes;
  expect(nodes).toHaveLength(3);
  for (const node of nodes) {
    expect(node.timeline.nodes.map((event) => event.message)).toEqual(['line 1', 'line 2']);
    expect(node.timeline.pageInfo.hasNextPage).toBe(true);
  }
  const first = nodes[0]!;
  const rest = await suite.server.gql<{ job: { timeline: { nodes: Array<{ message: string }>; pageInfo: { hasNextPage: boolean } } } }>(
    bearer,
    'query($id: ID!, $after: String) { job(id: $id) { timeline(first: 2, after: $after) { nodes { message } pageInfo { hasNextPage } } } }',
    { id: first.id, after: first.timeline.pageInfo.endCursor },
  );
  expect(rest.data!.job.timeline).toEqual({ nodes: [{ message: 'line 3' }], pageInfo: { hasNextPage: false } });
  expect(jobs.map((job) => job.id).sort()).toEqual(nodes.map((node) => node.id).sort());
});
