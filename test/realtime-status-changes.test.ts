import { eventually } from './support/eventually';
import { insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { subscribe } from './support/ws-client';

/**
 * What a frontend showing thousands of jobs asks for: jobUpdated(statusChangesOnly: true) sends
 * status changes, never progress alone; Job.timeline(kinds) filters a job's history by kind.
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '20' } });

interface Updated {
  jobUpdated: { id: string; status: string; removed: boolean; progress: { done: number } };
}
const UPDATED =
  'subscription($f: JobFilter, $s: Boolean) { jobUpdated(filter: $f, statusChangesOnly: $s) { id status removed progress { done } } }';

const worker = <T = Record<string, unknown>>(query: string, variables: Record<string, unknown>) =>
  suite.server.gql<T>(suite.worker, query, variables);

async function claim(type: string): Promise<string> {
  const claimed = await worker<{ claimJob: { lease: string } }>(
    'mutation($t: [String!]) { claimJob(workerId: "w", types: $t) { lease } }',
    { t: [type] },
  );
  return claimed.data!.claimJob.lease;
}
const report = (lease: string, fields: Record<string, unknown>) =>
  worker('mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', { r: [{ lease, ...fields }] });

test('statusChangesOnly: the snapshot, then each status change; progress alone is never sent (a full subscriber beside it gets every tick)', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ type: 'status-only' }]);
  const filter = { types: ['status-only'] };
  const statuses = subscribe<Updated>(suite.client(suite.admin), UPDATED, { f: filter, s: true });
  const everything = subscribe<Updated>(suite.client(suite.admin), UPDATED, { f: filter, s: false });
  await statuses.until((messages) => messages.length === 1);
  await everything.until((messages) => messages.length === 1);

  const lease = await claim('status-only');
  for (let done = 1; done <= 5; done += 1) {
    await report(lease, { done, total: 5 });
    await everything.until((messages) => messages.some((message) => message.jobUpdated.progress.done === done));
  }
  await worker('mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease });
  await everything.until((messages) => messages.some((message) => message.jobUpdated.status === 'SUCCEEDED'));
  await statuses.until((messages) => messages.some((message) => message.jobUpdated.status === 'SUCCEEDED'));

  expect(statuses.messages.map((message) => message.jobUpdated.status)).toEqual(['PENDING', 'RUNNING', 'SUCCEEDED']);
  expect(statuses.messages.every((message) => message.jobUpdated.id === job!.id)).toBe(true);
  // The final state carries the last progress.
  expect(statuses.messages.at(-1)!.jobUpdated.progress.done).toBe(5);
  expect(everything.messages.length).toBeGreaterThanOrEqual(7);
  statuses.stop();
  everything.stop();
});

test('statusChangesOnly: a new job enters the view, a deleted one leaves it as removed', async () => {
  // A job already in the view: its snapshot shows the subscription is live, so the new job below
  // enters the view live (an empty snapshot would tell nothing, and the job could come in the snapshot).
  const [existing] = await insertJobs(suite.db.pool, [{ type: 'status-only-new', name: 'existing' }]);
  const statuses = subscribe<Updated>(suite.client(suite.admin), UPDATED, { f: { types: ['status-only-new'] }, s: true });
  await statuses.until((messages) => messages.length === 1);
  expect(statuses.messages[0]!.jobUpdated).toMatchObject({ id: existing!.id, status: 'PENDING', removed: false });
  const created = await suite.server.gql<{ createJob: { id: string } }>(
    suite.admin,
    'mutation { createJob(input: { name: "new", type: "status-only-new", scope: "acme", start: false }) { id } }',
  );
  const id = created.data!.createJob.id;
  await statuses.until((messages) => messages.some((message) => message.jobUpdated.id === id));
  await suite.server.gql(suite.admin, `mutation { deleteJob(id: "${id}") }`);
  await statuses.until((messages) => messages.some((message) => message.jobUpdated.removed));
  expect(statuses.messages.map((message) => [message.jobUpdated.id, message.jobUpdated.status, message.jobUpdated.removed])).toEqual([
    [existing!.id, 'PENDING', false],
    [id, 'CREATED', false],
    [id, 'CREATED', true],
  ]);
  statuses.stop();
});

describe('Job.timeline(kinds)', () => {
  const TIMELINE =
    'query($id: ID!, $k: [TimelineEventKind!], $first: Int, $after: String) { job(id: $id) { timeline(kinds: $k, first: $first, after: $after) { nodes { kind message } pageInfo { hasNextPage endCursor } } } }';
  type Timeline = {
    job: {
      timeline: { nodes: Array<{ kind: string; message: string | null }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    };
  };
  let id: string;

  beforeAll(async () => {
    const created = await suite.server.gql<{ createJob: { id: string } }>(
      suite.admin,
      'mutation { createJob(input: { name: "kinds", type: "timeline-kinds", scope: "acme" }) { id } }',
    );
    id = created.data!.createJob.id;
    const lease = await claim('timeline-kinds');
    await report(lease, { log: ['one', 'two', 'three'] });
    await worker('mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease });
    // Progress (log lines included) is written by the flush, after completeJob's own event at the latest.
    const all = async () => (await suite.server.gql<Timeline>(suite.admin, TIMELINE, { id, first: 500 })).data!.job.timeline.nodes;
    await eventually(all, (events) => events.filter((event) => event.kind === 'LOG').length >= 3, 15_000, 'the log lines');
  });

  test('only the kinds asked for, oldest first; LOG alone gives the log lines', async () => {
    const states = await suite.server.gql<Timeline>(suite.admin, TIMELINE, { id, k: ['CLAIMED', 'SUCCEEDED', 'CREATED'] });
    expect(states.errors).toBeUndefined();
    expect(states.data!.job.timeline.nodes.map((event) => event.kind)).toEqual(['CREATED', 'CLAIMED', 'SUCCEEDED']);
    const logs = await suite.server.gql<Timeline>(suite.admin, TIMELINE, { id, k: ['LOG'] });
    expect(logs.data!.job.timeline.nodes.map((event) => event.message)).toEqual(['one', 'two', 'three']);
    const all = await suite.server.gql<Timeline>(suite.admin, TIMELINE, { id });
    expect(all.data!.job.timeline.nodes).toHaveLength(6);
  });

  test('pages of one kind follow their own cursor', async () => {
    const first = await suite.server.gql<Timeline>(suite.admin, TIMELINE, { id, k: ['LOG'], first: 2 });
    expect(first.data!.job.timeline.nodes.map((event) => event.message)).toEqual(['one', 'two']);
    expect(first.data!.job.timeline.pageInfo.hasNextPage).toBe(true);
    const next = await suite.server.gql<Timeline>(suite.admin, TIMELINE, {
      id,
      k: ['LOG'],
      first: 2,
      after: first.data!.job.timeline.pageInfo.endCursor,
    });
    expect(next.data!.job.timeline.nodes.map((event) => event.message)).toEqual(['three']);
    expect(next.data!.job.timeline.pageInfo.hasNextPage).toBe(false);
  });

  test('one list asking for different kinds per job is answered right for each (one batched read)', async () => {
    const both = await suite.server.gql<{ job: { logs: { nodes: Array<{ kind: string }> }; states: { nodes: Array<{ kind: string }> } } }>(
      suite.admin,
      `query($id: ID!) { job(id: $id) { logs: timeline(kinds: [LOG]) { nodes { kind } } states: timeline(kinds: [SUCCEEDED]) { nodes { kind } } } }`,
      { id },
    );
    expect(both.data!.job.logs.nodes.map((event) => event.kind)).toEqual(['LOG', 'LOG', 'LOG']);
    expect(both.data!.job.states.nodes.map((event) => event.kind)).toEqual(['SUCCEEDED']);
  });

  test('an unknown kind, in the document or in a variable, and an empty list are BAD_USER_INPUT', async () => {
    const inline = await suite.server.gql(suite.admin, `query($id: ID!) { job(id: $id) { timeline(kinds: [NOPE]) { nodes { kind } } } }`, {
      id,
    });
    expect(inline.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const variable = await suite.server.gql(suite.admin, TIMELINE, { id, k: ['LOG', 'NOPE'] });
    expect(variable.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const empty = await suite.server.gql(suite.admin, TIMELINE, { id, k: [] });
    expect(empty.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(empty.errors?.[0]?.message).toMatch(/kinds/);
  });
});
