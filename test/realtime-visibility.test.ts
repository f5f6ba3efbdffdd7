import { grant } from './support/fixtures';
import { apiSuite, claimedJob } from './support/api-suite';
import { token } from './support/test-server';
import { subscribe } from './support/ws-client';

/**
 * What a subscriber hears when a job leaves its view: a job that stops matching the filter
 * comes once more with its new state; one that is deleted or that the viewer may no longer see
 * comes once as `removed`, with the last state they were shown and nothing newer. And scopes:
 * jobProgress and jobTimeline of a job outside the viewer's scope do not exist for them.
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '20' } });

const claimed = (type: string, scope = 'acme/payments/prod') => claimedJob(suite, type, { seed: { scope } });

const report = (lease: string, fields: Record<string, unknown>) =>
  suite.server.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', { r: [{ lease, ...fields }] });

async function revokeAll(userId: string): Promise<void> {
  const grants = await suite.server.gql<{ grants: Array<{ id: string }> }>(suite.admin, `{ grants(userId: "${userId}") { id } }`);
  for (const { id } of grants.data!.grants) await suite.server.gql(suite.admin, `mutation { revokeGrant(id: "${id}") }`);
}

interface Updated {
  jobUpdated: { id: string; status: string; removed: boolean; progress: { done: number }; tasks: Array<{ name: string }> };
}
const UPDATED = 'subscription($f: JobFilter) { jobUpdated(filter: $f) { id status removed progress { done } tasks { name } } }';

test('a tab: ACTIVE subscriber hears the job finish: the row that leaves the filter is sent once, with its new state', async () => {
  const job = await claimed('leaves-filter');
  const received = subscribe<Updated>(suite.client(suite.admin), UPDATED, { f: { tab: 'ACTIVE', types: ['leaves-filter'] } });
  await received.until((messages) => messages.some((message) => message.jobUpdated.id === job.id));
  await suite.server.gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: job.lease });
  await received.until((messages) => messages.some((message) => message.jobUpdated.status === 'SUCCEEDED'));
  expect(received.messages.at(-1)!.jobUpdated).toMatchObject({ id: job.id, status: 'SUCCEEDED', removed: false });
  // Out of the view now: later changes of it are not the subscriber's business.
  await suite.server.gql(suite.admin, `mutation { deleteJob(id: "${job.id}") }`);
  // The deletion may share a batch with the first marker (and what it caused be queued after it);
  // a second marker, changed once the first was received, is in a later batch than the deletion.
  for (let markers = 0; markers < 2; markers += 1) {
    const marker = await claimed('leaves-filter');
    await received.until((messages) => messages.some((message) => message.jobUpdated.id === marker.id));
  }
  expect(received.messages.filter((message) => message.jobUpdated.id === job.id).map((message) => message.jobUpdated.status)).toEqual([
    'RUNNING',
    'SUCCEEDED',
  ]);
  received.stop();
});

test('a deleted job that was shown is announced as removed', async () => {
  const created = await suite.server.gql<{ createJob: { id: string } }>(
    suite.admin,
    'mutation { createJob(input: { name: "to delete", type: "deleted-sub", scope: "acme", start: false }) { id } }',
  );
  const id = created.data!.createJob.id;
  const received = subscribe<Updated>(suite.client(suite.admin), UPDATED, { f: { types: ['deleted-sub'] } });
  await received.until((messages) => messages.some((message) => message.jobUpdated.id === id));
  await suite.server.gql(suite.admin, `mutation { deleteJob(id: "${id}") }`);
  await received.until((messages) => messages.some((message) => message.jobUpdated.removed));
  expect(received.messages.map((message) => [message.jobUpdated.status, message.jobUpdated.removed])).toEqual([
    ['CREATED', false],
    ['CREATED', true],
  ]);
  received.stop();
});

test('a job the viewer loses sight of is announced as removed with the last state they saw, never the new one', async () => {
  await grant(suite.db.pool, 'losing', 'viewer', 'acme/vis');
  const job = await claimed('loses-sight', 'acme/vis/one');
  await report(job.lease, { done: 1, total: 10, tasks: [{ name: 'before', status: 'PROCESSING', done: 1, total: 5 }] });
  const received = subscribe<Updated>(suite.client(await token('losing')), UPDATED, { f: { types: ['loses-sight'] } });
  await received.until((messages) => messages.some((message) => message.jobUpdated.progress.done === 1));

  await revokeAll('losing');
  await report(job.lease, { done: 9, tasks: [{ name: 'after', status: 'PROCESSING', done: 1, total: 5 }] });
  await received.until((messages) => messages.some((message) => message.jobUpdated.removed));
  const last = received.messages.at(-1)!.jobUpdated;
  expect(last).toMatchObject({ id: job.id, removed: true, status: 'RUNNING', progress: { done: 1 } });
  // A removal reads nothing of the job again: no tasks at all rather than new ones.
  expect(last.tasks).toEqual([]);
  expect(received.messages.some((message) => message.jobUpdated.progress.done === 9)).toBe(false);
  received.stop();
});

test('jobProgress and jobTimeline: a job outside the scope does not exist; inside, events stop when the grant goes', async () => {
  await grant(suite.db.pool, 'iso', 'viewer', 'acme/iso');
  const viewer = suite.client(await token('iso'));
  const inside = await claimed('iso', 'acme/iso/a');
  const outside = await claimed('iso', 'globex/iso');
  const PROGRESS = 'subscription($id: ID!) { jobProgress(id: $id) { id progress { done } } }';
  const TIMELINE = 'subscription($id: ID!, $after: ID) { jobTimeline(id: $id, after: $after) { id kind message } }';
  for (const [query, variables] of [
    [PROGRESS, { id: outside.id }],
    [TIMELINE, { id: outside.id }],
    [TIMELINE, { id: outside.id, after: '0' }],
  ] as const) {
    const refused = subscribe(viewer, query, variables);
    await refused.until(() => refused.errors.length > 0 || refused.completed);
    expect(refused.errors[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(refused.messages).toEqual([]);
  }

  const progress = subscribe<{ jobProgress: { progress: { done: number } } }>(viewer, PROGRESS, { id: inside.id });
  // From the job's last event so far: without `after`, a timeline starts wherever the job is when
  // the server gets to the subscription, which may be after the report below (the cause of this
  // test's old flakiness, 3 runs in 17: nothing tells a client that a subscription has started).
  const { rows } = await suite.db.pool.query<{ id: string }>('SELECT max(id)::text AS id FROM timeline_events WHERE job_id = $1', [
    inside.id,
  ]);
  const after = rows[0]!.id;
  const timeline = subscribe<{ jobTimeline: { kind: string; message: string | null } }>(viewer, TIMELINE, { id: inside.id, after });
  // The admin watches the same timeline: once it has an event, the viewer's was decided in the same batch.
  const watcher = subscribe<{ jobTimeline: { kind: string; message: string | null } }>(suite.client(suite.admin), TIMELINE, {
    id: inside.id,
    after,
  });
  await progress.until((messages) => messages.length === 1);
  await report(inside.lease, { done: 2, total: 10, log: ['seen by both'] });
  await report(outside.lease, { done: 2, total: 10, log: ['outside'] });
  await timeline.until((messages) => messages.some((message) => message.jobTimeline.message === 'seen by both'));
  await progress.until((messages) => messages.some((message) => message.jobProgress.progress.done === 2));

  await revokeAll('iso');
  await report(inside.lease, { done: 8, log: ['after the revocation'] });
  await watcher.until((messages) => messages.some((message) => message.jobTimeline.message === 'after the revocation'));
  await progress.until(() => progress.completed);
  expect(progress.messages.map((message) => message.jobProgress.progress.done)).toEqual([0, 2]);
  expect(timeline.messages.map((message) => message.jobTimeline.message)).toEqual(['seen by both']);
  timeline.stop();
  watcher.stop();
});
