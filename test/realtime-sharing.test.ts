import type { Client } from 'graphql-ws';
import { grant, insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { token } from './support/test-server';
import { subscribe, type Received } from './support/ws-client';

/**
 * Subscribers who would get the same answer to an event share one resolution of it (the same
 * document and variables, viewers with the same rules); viewers whose answers differ (other
 * rules, or a field about the viewer such as viewerCan.approve) each get their own.
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '20' } });

beforeAll(async () => {
  for (const user of ['viewer-1', 'viewer-2', 'viewer-3']) await grant(suite.db.pool, user, 'viewer');
  for (const user of ['operator-1', 'operator-2']) await grant(suite.db.pool, user, 'operator');
});

async function socketOf(user: string): Promise<Client> {
  return suite.client(await token(user));
}

test('twelve viewers with the same rules and document cost one resolution of each progress event', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ type: 'sharing' }]);
  const claim = await suite.server.gql<{ claimJob: { lease: string } }>(
    suite.worker,
    'mutation { claimJob(workerId: "w", types: ["sharing"]) { lease } }',
  );
  const lease = claim.data!.claimJob.lease;
  const query = 'subscription($id: ID!) { jobProgress(id: $id) { id status progress { done total percent } } }';
  const subscriptions: Array<Received<{ jobProgress: { progress: { done: number; percent: number | null } } }>> = [];
  for (const user of ['viewer-1', 'viewer-2', 'viewer-3']) {
    const socket = await socketOf(user);
    for (let each = 0; each < 4; each += 1) subscriptions.push(subscribe(socket, query, { id: job!.id }));
  }
  const allSaw = (done: number) =>
    Promise.all(
      subscriptions.map((received) => received.until((messages) => messages.some((message) => message.jobProgress.progress.done === done))),
    );
  await allSaw(0);

  for (const done of [10, 20]) {
    const before = { ...suite.server.subscriptionExecutions };
    await suite.server.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
      r: [{ lease, done, total: 40 }],
    });
    await allSaw(done);
    expect(suite.server.subscriptionExecutions.executions - before.executions).toBe(1);
    expect(suite.server.subscriptionExecutions.shared - before.shared).toBe(11);
  }
  for (const received of subscriptions) {
    expect(received.errors).toEqual([]);
    expect(received.messages.at(-1)!.jobProgress.progress).toEqual({ done: 20, total: 40, percent: 50 });
    received.stop();
  }
});

test('viewers whose answers differ are resolved apart: other rules, and fields about the viewer', async () => {
  // operator-1 is a named approver; operator-2 has the same rules but is not named; viewer-1 may neither approve nor cancel.
  const [job] = await insertJobs(suite.db.pool, [
    { type: 'sharing-viewer', status: 'WAITING_APPROVAL', requires_approval: true, approvers: ['operator-1'] },
  ]);
  const query = 'subscription($id: ID!) { jobProgress(id: $id) { message viewerCan { approve cancel } } }';
  type Message = { jobProgress: { message: string | null; viewerCan: { approve: boolean; cancel: boolean } } };
  const users = ['operator-1', 'operator-1', 'operator-2', 'operator-2', 'viewer-1', 'viewer-1'];
  const subscriptions: Array<Received<Message>> = [];
  for (const user of users) subscriptions.push(subscribe<Message>(await socketOf(user), query, { id: job!.id }));
  await Promise.all(subscriptions.map((received) => received.until((messages) => messages.length > 0)));

  const before = { ...suite.server.subscriptionExecutions };
  // A live change of the row (as any action would make), delivered to all six in one batch.
  await suite.db.pool.query(
    `UPDATE jobs SET message = 'waiting for the release manager', updated_at = now() + interval '1 second' WHERE id = $1`,
    [job!.id],
  );
  await Promise.all(
    subscriptions.map((received) => received.until((messages) => messages.some((message) => message.jobProgress.message !== null))),
  );
  const answers = subscriptions.map((received) => received.messages.at(-1)!.jobProgress.viewerCan);
  expect(answers).toEqual([
    { approve: true, cancel: true },
    { approve: true, cancel: true },
    { approve: false, cancel: true },
    { approve: false, cancel: true },
    { approve: false, cancel: false },
    { approve: false, cancel: false },
  ]);
  // Three different answers, three resolutions; each second subscriber of a viewer shares its first's.
  expect(suite.server.subscriptionExecutions.executions - before.executions).toBe(3);
  expect(suite.server.subscriptionExecutions.shared - before.shared).toBe(3);
  for (const received of subscriptions) received.stop();
});

test('one document text subscribed with different variables: each subscription gets its own job', async () => {
  // The WebSocket path parses and validates a document text once and reuses it; variables stay per operation.
  const jobs = await insertJobs(suite.db.pool, [
    { type: 'sharing-vars', name: 'first job', message: 'one' },
    { type: 'sharing-vars', name: 'second job', message: 'two' },
  ]);
  const query = 'subscription Same($id: ID!) { jobProgress(id: $id) { id name } }';
  const socket = await socketOf('viewer-1');
  const first = subscribe<{ jobProgress: { id: string; name: string } }>(socket, query, { id: jobs[0]!.id });
  const second = subscribe<{ jobProgress: { id: string; name: string } }>(socket, query, { id: jobs[1]!.id });
  const invalid = subscribe(socket, 'subscription Same($id: ID!) { jobProgress(id: $id) { nope } }', { id: jobs[0]!.id });
  const invalidAgain = subscribe(socket, 'subscription Same($id: ID!) { jobProgress(id: $id) { nope } }', { id: jobs[0]!.id });
  await first.until((messages) => messages.length > 0);
  await second.until((messages) => messages.length > 0);
  expect(first.messages[0]!.jobProgress).toEqual({ id: jobs[0]!.id, name: 'first job' });
  expect(second.messages[0]!.jobProgress).toEqual({ id: jobs[1]!.id, name: 'second job' });
  for (const refused of [invalid, invalidAgain]) {
    await refused.until(() => refused.errors.length > 0).catch(() => undefined);
    expect(JSON.stringify(refused.errors)).toContain('GRAPHQL_VALIDATION_FAILED');
  }
  first.stop();
  second.stop();
});
