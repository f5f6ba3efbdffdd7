import type { Client } from 'graphql-ws';
import { apiSuite } from './support/api-suite';
import { grant, insertJobs } from './support/fixtures';
import { token, type TestServer } from './support/test-server';
import { subscribe, type Received } from './support/ws-client';

/**
 * Grants and revokes reach open subscriptions at once, on every instance, whether or not the
 * jobs concerned change: two instances on one database, subscribers on both, permissions
 * changed through one of them. A job a grant makes visible is sent to the jobUpdated views it
 * matches; one a revoke hides is sent as removed; jobProgress and jobTimeline complete.
 */
const ENV = { PROGRESS_FLUSH_MS: '20' };
const suite = apiSuite({ env: ENV, grants: [['admin', 'admin']] });
/** A second instance on the same database. */
let b: TestServer;
beforeAll(async () => {
  b = await suite.startServer(ENV);
});

const client = (server: TestServer, bearer: string): Client => suite.client(bearer, server);

interface Updated {
  jobUpdated: { id: string; status: string; removed: boolean };
}
const UPDATED = 'subscription($f: JobFilter) { jobUpdated(filter: $f, since: null) { id status removed } }';

async function grantsOf(userId: string): Promise<Array<{ id: string; scope: string | null }>> {
  const response = await suite.server.gql<{ grants: Array<{ id: string; scope: string | null }> }>(
    suite.admin,
    `{ grants(userId: "${userId}") { id scope } }`,
  );
  return response.data!.grants;
}

const ids = (received: Received<Updated>) => received.messages.map((message) => [message.jobUpdated.id, message.jobUpdated.removed]);

test('a grant sends the idle jobs it reveals to matching views on both instances; a revoke sends them as removed', async () => {
  await grant(suite.db.pool, 'grantee', 'viewer', 'acme/g-one');
  const [seen, revealed, unmatched] = await insertJobs(suite.db.pool, [
    { type: 'grants-idle', scope: 'acme/g-one/x', status: 'PENDING' },
    { type: 'grants-idle', scope: 'acme/g-two/x', status: 'PENDING' },
    { type: 'grants-other', scope: 'acme/g-two/y', status: 'PENDING' },
  ]);
  const bearer = await token('grantee');
  const onA = subscribe<Updated>(client(suite.server, bearer), UPDATED, { f: { types: ['grants-idle'] } });
  const onB = subscribe<Updated>(client(b, bearer), UPDATED, { f: { types: ['grants-idle'] } });
  for (const received of [onA, onB]) await received.until((messages) => messages.length === 1);
  expect(ids(onA)).toEqual([[seen!.id, false]]);

  const granted = await suite.server.gql(
    suite.admin,
    'mutation { grantRole(userId: "grantee", role: "viewer", scope: "acme/g-two") { id } }',
  );
  expect(granted.errors).toBeUndefined();
  for (const received of [onA, onB]) await received.until((messages) => messages.some((message) => message.jobUpdated.id === revealed!.id));

  const first = (await grantsOf('grantee')).find((entry) => entry.scope === 'acme/g-one')!;
  await b.gql(suite.admin, `mutation { revokeGrant(id: "${first.id}") }`);
  for (const received of [onA, onB]) await received.until((messages) => messages.some((message) => message.jobUpdated.removed));
  for (const received of [onA, onB]) {
    expect(ids(received)).toEqual([
      [seen!.id, false],
      [revealed!.id, false],
      [seen!.id, true],
    ]);
    expect(received.messages.map((message) => message.jobUpdated.id)).not.toContain(unmatched!.id);
    // Nothing of the jobs changed: no job row was written by any of this.
  }
  const { rows } = await suite.db.pool.query<{ updated: number }>(
    'SELECT count(*)::int AS updated FROM jobs WHERE id = ANY($1) AND updated_at > created_at',
    [[seen!.id, revealed!.id]],
  );
  expect(rows[0]!.updated).toBe(0);
  onA.stop();
  onB.stop();
});

test('a revoke completes jobProgress and jobTimeline of an idle job on both instances; a view of another user is untouched', async () => {
  await grant(suite.db.pool, 'watcher', 'viewer', 'acme/g-watch');
  await grant(suite.db.pool, 'stays', 'viewer', 'acme/g-watch');
  const [job] = await insertJobs(suite.db.pool, [{ type: 'grants-single', scope: 'acme/g-watch/z', status: 'PENDING' }]);
  const bearer = await token('watcher');
  const PROGRESS = 'subscription($id: ID!) { jobProgress(id: $id) { id status } }';
  // From the job's start (it has no events yet): the one written below arrives however late a subscription goes live.
  const TIMELINE = 'subscription($id: ID!) { jobTimeline(id: $id, after: "0") { id kind } }';
  const subscriptions = [suite.server, b].flatMap((server) => [
    subscribe(client(server, bearer), PROGRESS, { id: job!.id }),
    subscribe(client(server, bearer), TIMELINE, { id: job!.id }),
  ]);
  const other = subscribe(client(suite.server, await token('stays')), PROGRESS, { id: job!.id });
  await other.until((messages) => messages.length === 1);
  // jobProgress sends the job first; jobTimeline nothing until an event: one event, then the job stays idle.
  for (const received of subscriptions.filter((_, index) => index % 2 === 0)) await received.until((messages) => messages.length === 1);
  await suite.db.pool.query(
    `INSERT INTO timeline_events (job_id, kind, actor_kind, message, job_scope, job_type, job_owner_id) VALUES ($1, 'LOG', 'WORKER', 'live', 'acme/g-watch/z', 'grants-single', 'alice')`,
    [job!.id],
  );
  for (const received of subscriptions.filter((_, index) => index % 2 === 1)) await received.until((messages) => messages.length === 1);

  const grants = await grantsOf('watcher');
  for (const { id } of grants) await suite.server.gql(suite.admin, `mutation { revokeGrant(id: "${id}") }`);
  for (const received of subscriptions) await received.until(() => received.completed);
  for (const received of subscriptions) expect(received.errors).toEqual([]);
  expect(other.completed).toBe(false);
  other.stop();
});
