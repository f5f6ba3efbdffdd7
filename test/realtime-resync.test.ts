import { grant, insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { token } from './support/test-server';
import { subscribe } from './support/ws-client';

/**
 * jobUpdated(since): after the matching jobs, the snapshot resends each job that left the view
 * since then (its new state), was deleted or went out of the viewer's sight (`removed`), so a
 * client that re-subscribes after being away ends with the truth. Bad `since`: BAD_USER_INPUT.
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '20' } });

interface Updated {
  jobUpdated: { id: string; name: string; status: string; removed: boolean; progress: { done: number } };
}
const UPDATED = `subscription($f: JobFilter, $since: DateTime, $s: Int) {
  jobUpdated(filter: $f, since: $since, snapshot: $s) { id name status removed progress { done } } }`;

const gql = <T = Record<string, unknown>>(bearer: string, query: string, variables: Record<string, unknown> = {}) =>
  suite.server.gql<T>(bearer, query, variables);

async function claim(type: string): Promise<string> {
  const claimed = await gql<{ claimJob: { lease: string } }>(
    suite.worker,
    'mutation($t: [String!]) { claimJob(workerId: "w", types: $t) { lease } }',
    { t: [type] },
  );
  return claimed.data!.claimJob.lease;
}

async function create(type: string, name: string, start = true, scope = 'acme/resync'): Promise<string> {
  const created = await gql<{ createJob: { id: string } }>(suite.admin, 'mutation($i: CreateJobInput!) { createJob(input: $i) { id } }', {
    i: { name, type, scope, start },
  });
  return created.data!.createJob.id;
}

/** The client's list after every message: removed or not matching any more (the tab) means gone. */
function view(messages: Updated[], statuses: readonly string[]): Map<string, string> {
  const shown = new Map<string, string>();
  for (const { jobUpdated: job } of messages) {
    if (job.removed || !statuses.includes(job.status)) shown.delete(job.id);
    else shown.set(job.id, job.status);
  }
  return shown;
}

const ACTIVE = ['WAITING_APPROVAL', 'PENDING', 'RUNNING', 'TRAPPED', 'TRAP_PAUSED', 'CANCELLING', 'ROLLBACK'];

test('since: the jobs that finished or were deleted meanwhile come after the snapshot; jobs that never were in the view do not', async () => {
  const type = 'resync-left';
  const finished = await create(type, 'finished');
  const finishedLease = await claim(type);
  const running = await create(type, 'running');
  await claim(type);
  const deleted = await create(type, 'deleted');
  const neverActive = await create(type, 'never active', false);
  const other = await create('resync-other', 'other type');
  const otherLease = await claim('resync-other');
  const since = new Date(Date.now() - 1000).toISOString();

  await gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: finishedLease });
  await gql(suite.admin, `mutation { cancelJob(id: "${deleted}") { status } }`);
  await gql(suite.admin, `mutation { deleteJob(id: "${deleted}") }`);
  await gql(suite.admin, `mutation { cancelJob(id: "${neverActive}") { status } }`);
  await gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: otherLease });

  const received = subscribe<Updated>(suite.client(suite.admin), UPDATED, { f: { tab: 'ACTIVE', types: [type] }, since });
  await received.until((messages) => messages.length >= 3);
  // A marker made after subscribing arrives live: everything of the snapshot came before it.
  const marker = await create(type, 'marker');
  await received.until((messages) => messages.some((message) => message.jobUpdated.id === marker));
  const sent = received.messages.map((message) => message.jobUpdated);
  expect(sent.slice(0, 3).map((job) => [job.id, job.status, job.removed])).toEqual([
    [running, 'RUNNING', false],
    [finished, 'SUCCEEDED', false],
    [deleted, 'CANCELLED', true],
  ]);
  expect(sent.map((job) => job.id)).not.toContain(neverActive);
  expect(sent.map((job) => job.id)).not.toContain(other);
  expect([...view(received.messages, ACTIVE).keys()].sort()).toEqual([running, marker].sort());
  received.stop();
});

test('since: a job the viewer lost sight of is removed, with the status it had then, however it changed after', async () => {
  await grant(suite.db.pool, 'resync-viewer', 'viewer', 'acme/resync-seen');
  const [seen, other] = await insertJobs(suite.db.pool, [
    { type: 'resync-hidden', scope: 'acme/resync-seen/a', status: 'PENDING', name: 'idle' },
    { type: 'resync-hidden', scope: 'acme/elsewhere', status: 'PENDING', name: 'never seen' },
  ]);
  const viewerToken = await token('resync-viewer');
  const before = subscribe<Updated>(suite.client(viewerToken), UPDATED, { f: { types: ['resync-hidden'] } });
  await before.until((messages) => messages.length === 1);
  expect(before.messages[0]!.jobUpdated.id).toBe(seen!.id);
  before.stop();

  const since = new Date(Date.now() - 1000).toISOString();
  const grants = await gql<{ grants: Array<{ id: string }> }>(suite.admin, '{ grants(userId: "resync-viewer") { id } }');
  for (const { id } of grants.data!.grants) await gql(suite.admin, `mutation { revokeGrant(id: "${id}") }`);
  await gql(suite.admin, `mutation { cancelJob(id: "${seen!.id}", reason: "after the revoke") { status } }`);
  await grant(suite.db.pool, 'resync-viewer', 'viewer', 'acme/unrelated');

  const after = subscribe<Updated>(suite.client(viewerToken), UPDATED, { f: { types: ['resync-hidden'] }, since });
  await after.until((messages) => messages.length === 1);
  const marker = await create('resync-hidden', 'marker', true, 'acme/unrelated');
  await after.until((messages) => messages.some((message) => message.jobUpdated.id === marker));
  const sent = after.messages.map((message) => message.jobUpdated);
  expect(sent[0]).toMatchObject({ id: seen!.id, removed: true, status: 'PENDING', name: 'idle' });
  expect(sent.map((job) => job.id)).not.toContain(other!.id);
  expect(sent.filter((job) => job.id === seen!.id)).toHaveLength(1);
  after.stop();
});

test('without since, the last SUBSCRIPTION_RESYNC_SECONDS (5 minutes) are resent; a job that left before that is not', async () => {
  const type = 'resync-default';
  await create(type, 'recent');
  const lease = await claim(type);
  await gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease });
  const [old] = await insertJobs(suite.db.pool, [{ type, status: 'SUCCEEDED', name: 'long ago' }]);
  await suite.db.pool.query(
    `INSERT INTO timeline_events (job_id, kind, actor_kind, from_status, to_status, job_scope, job_type, job_owner_id, at)
     VALUES ($1, 'SUCCEEDED', 'WORKER', 'RUNNING', 'SUCCEEDED', 'acme/payments/prod', $2, 'alice', now() - interval '6 minutes')`,
    [old!.id, type],
  );
  const received = subscribe<Updated>(suite.client(suite.admin), UPDATED, { f: { tab: 'ACTIVE', types: [type] } });
  await received.until((messages) => messages.length === 1);
  const marker = await create(type, 'marker');
  await received.until((messages) => messages.some((message) => message.jobUpdated.id === marker));
  const names = received.messages.map((message) => message.jobUpdated.name);
  expect(names).toEqual(['recent', 'marker']);
  expect(received.messages[0]!.jobUpdated.status).toBe('SUCCEEDED');
  received.stop();
});

test('since more than a minute ahead, or before the retention window, is BAD_USER_INPUT naming since; a little ahead counts as now', async () => {
  for (const since of [new Date(Date.now() + 10 * 60_000), new Date(Date.now() - 8 * 86_400_000)]) {
    const refused = subscribe<Updated>(suite.client(suite.admin), UPDATED, { f: { types: ['resync-bad'] }, since: since.toISOString() });
    await refused.until(() => refused.errors.length > 0 || refused.completed);
    expect(refused.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'since' } });
    expect(refused.messages).toEqual([]);
  }
  const garbage = subscribe<Updated>(suite.client(suite.admin), UPDATED, { since: 'yesterday' });
  await garbage.until(() => garbage.errors.length > 0 || garbage.completed);
  expect(garbage.errors.flat()[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });

  await create('resync-skew', 'skewed');
  const skewed = subscribe<Updated>(suite.client(suite.admin), UPDATED, {
    f: { types: ['resync-skew'] },
    since: new Date(Date.now() + 20_000).toISOString(),
  });
  await skewed.until((messages) => messages.length === 1);
  expect(skewed.errors).toEqual([]);
  skewed.stop();
});
