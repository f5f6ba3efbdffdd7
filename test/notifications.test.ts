import type { Client } from 'graphql-ws';
import { apiSuite } from './support/api-suite';
import { insertJobs } from './support/fixtures';
import { gqlOk, type TestServer } from './support/test-server';
import { subscribe, type Received } from './support/ws-client';
import { eventually } from './support/webhook-receiver';

/**
 * The notification feed, through the real paths: a worker's claim, completeJob, failJob and
 * trapJob, the daemon (abend, expiry), people (cancel, approval, reject). Read by query and by
 * subscription over real sockets on two API instances sharing one database; only ever about
 * jobs the reader may view.
 */
const USERS = [
  'admin',
  'worker',
  'alice',
  'bob',
  'carol',
  'eve',
  'limited',
  'nobody',
  'pager',
  'rita',
  'sam',
  'vince',
  'acmeapp',
  'typeapp',
] as const;
/** The one job type that typeapp may approve (a condition in their role). */
const DEPLOY_TYPE = 'n-deploy';
type User = (typeof USERS)[number];

const suite = apiSuite({
  daemon: false,
  alerts: false,
  roles: {
    'approve-anything': [{ action: ['view_monitor', 'approve_all'], subject: 'Job' }],
    'deploy-approver': [
      { action: 'view_monitor', subject: 'Job' },
      { action: 'approve_all', subject: 'Job', conditions: { type: DEPLOY_TYPE } },
    ],
  },
  grants: [
    ['admin', 'admin'],
    ['worker', 'worker'],
    ['alice', 'operator'],
    ['bob', 'operator'],
    ['carol', 'operator'],
    ['pager', 'operator'],
    // eve: no grant at all. limited: only their own jobs. rita: own jobs + an operator grant (revoked later).
    ['limited', 'own-jobs'],
    ['rita', 'own-jobs'],
    // sam: an operator, but only in acme (a scope-limited grant).
    ['sam', 'operator', 'acme'],
    // Approvers of another kind. vince: a viewer (sees jobs, may approve none). acmeapp: approve_all
    // in acme only. typeapp: approve_all over one job type only (a condition the read must honour).
    ['vince', 'viewer'],
    ['acmeapp', 'approve-anything', 'acme'],
    ['typeapp', 'deploy-approver'],
  ],
  users: USERS,
});
/** `a` is the suite's server; `b`, a second instance on the same database. */
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = suite.server;
  b = await suite.startServer({}, { daemon: false, alerts: false });
});

interface NotificationNode {
  id: string;
  kind: string;
  jobId: string;
  jobName: string;
  actor: string | null;
  message: string | null;
  createdAt: string;
  readAt: string | null;
}
interface NotificationPage {
  notifications: {
    nodes: NotificationNode[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    unreadCount: number;
  };
}

const NOTIFICATIONS = `query($u: Boolean, $f: Int, $a: String) {
  notifications(unreadOnly: $u, first: $f, after: $a) {
    nodes { id kind jobId jobName actor message createdAt readAt }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    unreadCount
  }
}`;
const LIVE = 'subscription { notifications { id kind jobId jobName actor message } }';

async function feed(user: User, args: { unreadOnly?: boolean; first?: number; after?: string | undefined } = {}, server: TestServer = a) {
  return gqlOk(await server.gql<NotificationPage>(suite.tokens[user], NOTIFICATIONS, { u: args.unreadOnly, f: args.first, a: args.after }))
    .notifications;
}

/** The user's notifications about one job, oldest first. */
async function about(user: User, jobId: string, server: TestServer = a): Promise<NotificationNode[]> {
  const page = await feed(user, { first: 500 }, server);
  return page.nodes.filter((node) => node.jobId === jobId).reverse();
}

/** Rows in the table, whatever the reader may see (to show a hidden one was recorded). */
async function storedFor(user: string, jobId: string): Promise<Array<{ kind: string; actor_id: string | null }>> {
  const { rows } = await suite.db.pool.query('SELECT kind, actor_id FROM notifications WHERE user_id = $1 AND job_id = $2 ORDER BY id', [
    user,
    jobId,
  ]);
  return rows as Array<{ kind: string; actor_id: string | null }>;
}

let typeCounter = 0;
const uniqueType = (label: string) => `n-${label}-${++typeCounter}`;

async function createJob(user: User, input: Record<string, unknown>, server: TestServer = b): Promise<string> {
  const data = gqlOk(
    await server.gql<{ createJob: { id: string } }>(suite.tokens[user], 'mutation($i: CreateJobInput!) { createJob(input: $i) { id } }', {
      i: { name: `job of ${user}`, scope: 'acme/payments/prod', ...input },
    }),
  );
  return data.createJob.id;
}

/**
 * A job naming approvers who may not approve it (now): createJob refuses those, so it is
 * inserted as created with them (as one made before their grants changed) and submitted by its owner.
 */
async function submitNaming(owner: User, type: string, approvers: string[]): Promise<string> {
  const [created] = await insertJobs(suite.db.pool, [
    { type, owner_id: owner, name: `job of ${owner}`, status: 'CREATED', requires_approval: true, approvers },
  ]);
  gqlOk(await b.gql(suite.tokens[owner], 'mutation($id: ID!) { startJob(id: $id) { status } }', { id: created!.id }));
  return created!.id;
}

async function claim(type: string, server: TestServer = b): Promise<{ id: string; lease: string }> {
  const data = gqlOk(
    await server.gql<{ claimJob: { lease: string; job: { id: string } } | null }>(
      suite.tokens.worker,
      'mutation($t: [String!]) { claimJob(workerId: "w1", types: $t) { lease job { id } } }',
      { t: [type] },
    ),
  );
  if (data.claimJob === null) throw new Error(`nothing to claim of type ${type}`);
  return { id: data.claimJob.job.id, lease: data.claimJob.lease };
}

async function workerCall(mutation: string, variables: Record<string, unknown>, server: TestServer = b) {
  return gqlOk(await server.gql<Record<string, { status: string }>>(suite.tokens.worker, mutation, variables));
}

function liveClient(server: TestServer, user: User): Client {
  return suite.client(suite.tokens[user] as string, server);
}

type Live = Received<{ notifications: NotificationNode }>;

/** Until each user's live subscription is registered on that server (from then on nothing is missed). */
async function registered(server: TestServer, ...users: User[]): Promise<void> {
  for (const user of users) {
    await eventually(
      () => server.services.notificationFeed.subscriptionsOf(user),
      (count) => count >= 1,
      10_000,
      `${user}'s live subscription`,
    );
  }
}

/**
 * Waits until a subscription is registered, by an event rather than a pause: records a
 * notification the user may see (a job of `owner`'s, by default their own) until one arrives
 * (one recorded before the subscription took its starting point is rightly never sent).
 */
async function ping(user: User, live: Live, owner: string = user): Promise<void> {
  for (let tries = 1; ; tries += 1) {
    await suite.db.pool.query(
      `INSERT INTO notifications (user_id, job_id, kind, job_name, job_scope, job_type, job_owner_id)
       VALUES ($1, gen_random_uuid(), 'STARTED', 'ping', 'acme/payments/prod', 'ping', $2)`,
      [user, owner],
    );
    try {
      await live.until((messages) => messages.some(isPing), 500);
      return;
    } catch (error) {
      if (tries === 20) throw error;
    }
  }
}
const isPing = (message: { notifications: NotificationNode }) => message.notifications.jobName === 'ping';
const notPings = (live: Live) => live.messages.filter((message) => !isPing(message)).map((message) => message.notifications);

describe('every event that should notify does, through the real path', () => {
  test('a worker claim (STARTED) and completeJob (SUCCEEDED) reach the owner, with the worker as actor', async () => {
    const type = uniqueType('ok');
    const jobId = await createJob('alice', { type, name: 'nightly import' });
    expect(await storedFor('alice', jobId)).toEqual([]); // creating one's own job tells nobody
    const { lease } = await claim(type);
    await workerCall('mutation($l: String!) { completeJob(lease: $l, message: "all 10 rows") { status } }', { l: lease });
    const nodes = await about('alice', jobId);
    expect(nodes.map((node) => [node.kind, node.actor, node.jobName])).toEqual([
      ['STARTED', 'worker', 'nightly import'],
      ['SUCCEEDED', 'worker', 'nightly import'],
    ]);
    expect(nodes[1]!.message).toBe('all 10 rows');
    expect(nodes.every((node) => node.readAt === null && !Number.isNaN(Date.parse(node.createdAt)))).toBe(true);
    // Not sent to anyone else.
    expect(await about('bob', jobId)).toEqual([]);
    const { rows } = await suite.db.pool.query('SELECT DISTINCT user_id FROM notifications WHERE job_id = $1', [jobId]);
    expect(rows).toEqual([{ user_id: 'alice' }]);
  });

  test('failJob (FAILED, with the error) and trapJob (TRAPPED) reach the owner', async () => {
    const type = uniqueType('fail');
    const failing = await createJob('alice', { type });
    const first = await claim(type);
    await workerCall('mutation($l: String!) { failJob(lease: $l, error: "disk full", stack: "at x") { status } }', { l: first.lease });
    expect((await about('alice', failing)).map((node) => [node.kind, node.message])).toEqual([
      ['STARTED', null],
      ['FAILED', 'disk full'],
    ]);

    const trapping = await createJob('alice', { type });
    const second = await claim(type);
    await workerCall('mutation($l: String!) { trapJob(lease: $l, error: "row 7 is odd") { status } }', { l: second.lease });
    expect((await about('alice', trapping)).map((node) => [node.kind, node.message])).toEqual([
      ['STARTED', null],
      ['TRAPPED', 'row 7 is odd'],
    ]);
    // A trap the operator aborts ends FAILED: the owner hears that too, with who decided.
    gqlOk(await b.gql(suite.tokens.bob, `mutation { resolveTrap(id: "${trapping}", decision: ABORT) { status } }`));
    expect((await about('alice', trapping)).map((node) => [node.kind, node.actor])).toEqual([
      ['STARTED', 'worker'],
      ['TRAPPED', 'worker'],
      ['FAILED', 'bob'],
    ]);
  });

  test('the daemon: a lost heartbeat (ABENDED) and a missed deadline (EXPIRED) reach the owner, actor null', async () => {
    const type = uniqueType('daemon');
    const abending = await createJob('alice', { type });
    await claim(type);
    const expiring = await createJob('alice', {
      type: `${type}-later`,
      scheduledAt: new Date(Date.now() + 3_600_000).toISOString(),
      maxStartAt: new Date(Date.now() + 7_200_000).toISOString(),
    });
    await suite.db.pool.query(`UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, [abending]);
    await suite.db.pool.query(
      `UPDATE jobs SET max_start_at = now() - interval '1 minute', scheduled_at = now() - interval '2 minutes' WHERE id = $1`,
      [expiring],
    );
    expect(await a.services.daemon.tick()).toMatchObject({ abended: 1, expired: 1 });
    expect((await about('alice', abending)).map((node) => [node.kind, node.actor])).toEqual([
      ['STARTED', 'worker'],
      ['ABENDED', null],
    ]);
    expect((await about('alice', expiring)).map((node) => [node.kind, node.actor])).toEqual([['EXPIRED', null]]);
  });

  test('cancelJob by another user: CANCELLED to the owner, naming who; the canceller hears nothing', async () => {
    const type = uniqueType('cancel');
    const jobId = await createJob('alice', { type, scheduledAt: new Date(Date.now() + 3_600_000).toISOString() });
    gqlOk(await b.gql(suite.tokens.bob, 'mutation($id: ID!) { cancelJob(id: $id, reason: "wrong file") { status } }', { id: jobId }));
    const nodes = await about('alice', jobId);
    expect(nodes.map((node) => [node.kind, node.actor, node.message])).toEqual([['CANCELLED', 'bob', 'wrong file']]);
    expect(await storedFor('bob', jobId)).toEqual([]);
  });

  test('the owner cancelling their own queued job gets no notification about it', async () => {
    const type = uniqueType('selfcancel');
    const jobId = await createJob('alice', { type, scheduledAt: new Date(Date.now() + 3_600_000).toISOString() });
    const response = gqlOk(
      await b.gql<{ cancelJob: { status: string } }>(suite.tokens.alice, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', {
        id: jobId,
      }),
    );
    expect(response.cancelJob.status).toBe('CANCELLED');
    expect(await storedFor('alice', jobId)).toEqual([]);
  });

  test("cancelJob of a RUNNING job by another user: the owner's CANCELLED notification names that user", async () => {
    const type = uniqueType('cancelrunning');
    const jobId = await createJob('alice', { type });
    const { lease } = await claim(type);
    gqlOk(await b.gql(suite.tokens.bob, 'mutation($id: ID!) { cancelJob(id: $id, reason: "stop it") { status } }', { id: jobId }));
    await workerCall('mutation($l: String!) { confirmCancel(lease: $l) { status } }', { l: lease });
    const cancelled = (await about('alice', jobId)).filter((node) => node.kind === 'CANCELLED');
    expect(cancelled).toHaveLength(1);
    // Who cancelled it is bob; the worker only confirmed.
    expect(cancelled[0]!.actor).toBe('bob');
  });

  test('the owner cancelling their own RUNNING job gets no CANCELLED notification when the worker confirms', async () => {
    const type = uniqueType('selfcancelrunning');
    const jobId = await createJob('alice', { type });
    const { lease } = await claim(type);
    gqlOk(await b.gql(suite.tokens.alice, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: jobId }));
    await workerCall('mutation($l: String!) { confirmCancel(lease: $l) { status } }', { l: lease });
    expect((await storedFor('alice', jobId)).map((row) => row.kind)).toEqual(['STARTED']);
  });

  test('createJob needing approval: WAITING_APPROVAL to each approver (not the owner); rejectJob: REJECTED to the owner', async () => {
    const type = uniqueType('approval');
    const jobId = await createJob('alice', { type, name: 'prod deploy', requiresApproval: true, approvers: ['bob', 'carol', 'alice'] });
    const [bobs, carols] = await Promise.all([about('bob', jobId), about('carol', jobId)]);
    expect(bobs.map((node) => [node.kind, node.actor, node.jobName])).toEqual([['WAITING_APPROVAL', 'alice', 'prod deploy']]);
    expect(carols.map((node) => node.kind)).toEqual(['WAITING_APPROVAL']);
    expect(await storedFor('alice', jobId)).toEqual([]);

    gqlOk(
      await b.gql(suite.tokens.carol, 'mutation($id: ID!) { rejectJob(id: $id, comment: "not on a Friday") { status } }', { id: jobId }),
    );
    expect((await about('alice', jobId)).map((node) => [node.kind, node.actor, node.message])).toEqual([
      ['REJECTED', 'carol', 'not on a Friday'],
    ]);
    // The approvers hear nothing more (the rejection is the owner's news).
    expect((await about('bob', jobId)).map((node) => node.kind)).toEqual(['WAITING_APPROVAL']);
  });

  test('a job started later (startJob, by someone else) that needs approval notifies its approvers then, not its owner', async () => {
    const type = uniqueType('startlater');
    const jobId = await createJob('alice', { type, requiresApproval: true, approvers: ['bob'], start: false });
    expect(await storedFor('bob', jobId)).toEqual([]);
    gqlOk(await b.gql(suite.tokens.carol, 'mutation($id: ID!) { startJob(id: $id) { status } }', { id: jobId }));
    expect((await about('bob', jobId)).map((node) => [node.kind, node.actor])).toEqual([['WAITING_APPROVAL', 'carol']]);
    // Waiting for approval is news for the approvers only.
    expect(await storedFor('alice', jobId)).toEqual([]);
    expect(await storedFor('carol', jobId)).toEqual([]);
  });
});

describe('only about jobs one may view', () => {
  test('an approver without view permission gets nothing, by query or subscription; what they may view does arrive', async () => {
    const type = uniqueType('noview');
    const live = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'limited'), LIVE);
    const liveEve = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'eve'), LIVE);
    await registered(a, 'limited', 'eve');
    const hidden = await submitNaming('alice', type, ['limited', 'eve']);
    // Recorded for both (the table does not know about permissions) ...
    expect(await storedFor('limited', hidden)).toEqual([{ kind: 'WAITING_APPROVAL', actor_id: 'alice' }]);
    expect(await storedFor('eve', hidden)).toEqual([{ kind: 'WAITING_APPROVAL', actor_id: 'alice' }]);
    // ... then one limited may view (their own job, claimed by a worker), recorded after the hidden one.
    const [own] = await insertJobs(suite.db.pool, [{ type, owner_id: 'limited', name: 'own job' }]);
    await claim(type);
    await live.until((messages) => messages.some((message) => message.notifications.jobId === own!.id));
    expect(live.messages.map((message) => [message.notifications.jobId, message.notifications.kind])).toEqual([[own!.id, 'STARTED']]);
    // By query too.
    const limitedPage = await feed('limited');
    expect(limitedPage.nodes.map((node) => node.jobId)).toEqual([own!.id]);
    expect(limitedPage.unreadCount).toBe(1);
    const evePage = await feed('eve');
    expect(evePage.nodes).toEqual([]);
    expect(evePage.unreadCount).toBe(0);
    expect(liveEve.messages).toEqual([]);
    expect(liveEve.errors).toEqual([]);
    live.stop();
    liveEve.stop();
  });

  test('a job owned by a user without any grant: the STARTED notification is recorded but never shown', async () => {
    const type = uniqueType('nogrant');
    const [job] = await insertJobs(suite.db.pool, [{ type, owner_id: 'nobody' }]);
    await claim(type);
    expect(await storedFor('nobody', job!.id)).toEqual([{ kind: 'STARTED', actor_id: 'worker' }]);
    const page = await feed('nobody');
    expect(page).toMatchObject({ nodes: [], unreadCount: 0 });
  });

  test('a user whose grant is limited to a scope reads their notifications', async () => {
    const type = uniqueType('scoped');
    const [inside] = await insertJobs(suite.db.pool, [{ type, owner_id: 'sam', scope: 'acme/payments/prod', name: 'in scope' }]);
    await claim(type);
    const response = await a.gql<NotificationPage>(suite.tokens.sam, NOTIFICATIONS, {});
    expect(response.errors).toBeUndefined();
    expect(response.data?.notifications.nodes.map((node) => [node.jobId, node.kind])).toEqual([[inside!.id, 'STARTED']]);
    expect(response.data?.notifications.unreadCount).toBe(1);
  });

  test('a user whose grant is limited to a scope receives live notifications of jobs in that scope only', async () => {
    const type = uniqueType('scopedlive');
    const live = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'sam'), LIVE);
    await registered(a, 'sam');
    const [outside, inside] = await insertJobs(suite.db.pool, [
      { type, owner_id: 'sam', scope: 'globex/shop', name: 'outside', created_at: new Date(Date.now() - 1000) },
      { type, owner_id: 'sam', scope: 'acme/payments/prod', name: 'inside' },
    ]);
    await claim(type); // the older one first: outside
    await claim(type); // then inside
    await live.until((messages) => messages.some((message) => message.notifications.jobId === inside!.id));
    expect(live.messages.map((message) => message.notifications.jobId)).toEqual([inside!.id]);
    expect(await storedFor('sam', outside!.id)).toEqual([{ kind: 'STARTED', actor_id: 'worker' }]);
    live.stop();
  });

  test('a revoked view permission hides existing notifications from the query and stops live ones', async () => {
    const granted = gqlOk(
      // operator: viewing and approving (an approval request is only shown to who may approve it).
      await b.gql<{ grantRole: { id: string } }>(suite.tokens.admin, 'mutation { grantRole(userId: "rita", role: "operator") { id } }'),
    ).grantRole.id;
    const type = uniqueType('revoke');
    const before = await createJob('alice', { type, requiresApproval: true, approvers: ['rita'] });
    await eventually(
      () => feed('rita'),
      (page) => page.nodes.some((node) => node.jobId === before),
      5_000,
      'rita sees the approval request',
    );
    const live = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'rita'), LIVE);
    await registered(a, 'rita');
    const seenLive = await createJob('alice', { type, requiresApproval: true, approvers: ['rita'] });
    await live.until((messages) => messages.some((message) => message.notifications.jobId === seenLive));

    gqlOk(await b.gql(suite.tokens.admin, 'mutation($id: ID!) { revokeGrant(id: $id) }', { id: granted }));
    // The revocation reaches instance A through Postgres: the query there stops showing them.
    const page = await eventually(
      () => feed('rita'),
      (current) => current.nodes.length === 0,
      5_000,
      'the revocation to hide notifications',
    );
    expect(page.unreadCount).toBe(0);
    expect((await suite.db.pool.query(`SELECT count(*)::int AS n FROM notifications WHERE user_id = 'rita'`)).rows[0]).toEqual({ n: 2 });

    // A new approval request for rita (hidden now), then one of her own jobs (visible): only the latter arrives.
    const after = await submitNaming('alice', type, ['rita']);
    const [own] = await insertJobs(suite.db.pool, [{ type, owner_id: 'rita' }]);
    await claim(type);
    await live.until((messages) => messages.some((message) => message.notifications.jobId === own!.id));
    expect(live.messages.map((message) => message.notifications.jobId)).toEqual([seenLive, own!.id]);
    expect(live.messages.map((message) => message.notifications.jobId)).not.toContain(after);
    live.stop();
  });
});

describe('the subscription, live over real sockets', () => {
  test('across two instances: owner and approvers subscribed on A hear what happens on B, in order', async () => {
    const type = uniqueType('live');
    const alice = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'alice'), LIVE);
    const bob = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'bob'), LIVE);
    const carol = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'carol'), LIVE);
    await registered(a, 'alice', 'bob', 'carol');

    const plain = await createJob('alice', { type, name: 'live one' }, b);
    const { lease } = await claim(type, b);
    await workerCall('mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease }, b);
    const waiting = await createJob(
      'alice',
      { type: `${type}-appr`, name: 'needs ok', requiresApproval: true, approvers: ['bob', 'carol'] },
      b,
    );

    await alice.until((messages) => messages.filter((message) => message.notifications.jobId === plain).length === 2);
    expect(
      alice.messages.map((message) => [message.notifications.kind, message.notifications.jobName, message.notifications.actor]),
    ).toEqual([
      ['STARTED', 'live one', 'worker'],
      ['SUCCEEDED', 'live one', 'worker'],
    ]);
    for (const approver of [bob, carol]) {
      await approver.until((messages) => messages.some((message) => message.notifications.jobId === waiting));
      expect(approver.messages.map((message) => [message.notifications.kind, message.notifications.jobId])).toEqual([
        ['WAITING_APPROVAL', waiting],
      ]);
    }
    // What arrived live is what the query answers (same ids).
    const queried = await about('alice', plain, b);
    expect(alice.messages.map((message) => message.notifications.id)).toEqual(queried.map((node) => node.id));

    // The approver rejects on A; the owner hears it live (A to A this time).
    gqlOk(await a.gql(suite.tokens.bob, 'mutation($id: ID!) { rejectJob(id: $id, comment: "no") { status } }', { id: waiting }));
    await alice.until((messages) => messages.some((message) => message.notifications.jobId === waiting));
    expect(alice.messages.at(-1)!.notifications).toMatchObject({ kind: 'REJECTED', actor: 'bob', message: 'no' });
    // Nothing of anyone else's leaks onto a socket.
    expect(bob.messages.every((message) => message.notifications.jobId === waiting)).toBe(true);
    for (const received of [alice, bob, carol]) {
      expect(received.errors).toEqual([]);
      received.stop();
    }
  });

  test('a new subscriber only gets notifications made after it subscribed', async () => {
    const type = uniqueType('fresh');
    const old = await createJob('alice', { type, requiresApproval: true, approvers: ['carol'] });
    const live = subscribe<{ notifications: NotificationNode }>(liveClient(b, 'carol'), LIVE);
    await registered(b, 'carol');
    const fresh = await createJob('alice', { type, requiresApproval: true, approvers: ['carol'] }, a);
    await live.until((messages) => messages.some((message) => message.notifications.jobId === fresh));
    expect(live.messages.map((message) => message.notifications.jobId)).toEqual([fresh]);
    expect(live.messages.map((message) => message.notifications.jobId)).not.toContain(old);
    live.stop();
  });

  test('without a token the subscription is refused', async () => {
    const client = suite.client('not-a-jwt', a);
    const live = subscribe(client, LIVE);
    await eventually(
      async () => live.errors.length + (live.completed ? 1 : 0),
      (n) => n > 0,
      5_000,
      'a refusal',
    );
    expect(live.messages).toEqual([]);
  });
});

describe('reading: markNotificationsRead, unreadCount, pagination', () => {
  test("mark by ids and all: only the viewer's own, counted; unreadOnly and unreadCount follow", async () => {
    const type = uniqueType('read');
    const jobs: string[] = [];
    for (let i = 0; i < 4; i += 1)
      jobs.push(await createJob('alice', { type, requiresApproval: true, approvers: ['pager'], name: `r${i}` }));
    const bobsJob = await createJob('alice', { type, requiresApproval: true, approvers: ['bob'] });
    const start = await feed('pager', { first: 500 });
    const mine = start.nodes.filter((node) => jobs.includes(node.jobId));
    expect(mine).toHaveLength(4);
    const unreadBefore = start.unreadCount;
    expect(unreadBefore).toBeGreaterThanOrEqual(4);
    const [bobsNotification] = await about('bob', bobsJob);

    // Another user's ids (pager's) change nothing for bob, and bob cannot mark pager's.
    const foreign = gqlOk(
      await a.gql<{ markNotificationsRead: number }>(suite.tokens.bob, 'mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }', {
        ids: mine.map((node) => node.id),
      }),
    );
    expect(foreign.markNotificationsRead).toBe(0);
    expect((await feed('pager')).unreadCount).toBe(unreadBefore);

    // Pager marks two of theirs (and bob's, which must stay unread).
    const marked = gqlOk(
      await a.gql<{ markNotificationsRead: number }>(suite.tokens.pager, 'mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }', {
        ids: [mine[0]!.id, mine[1]!.id, bobsNotification!.id],
      }),
    );
    expect(marked.markNotificationsRead).toBe(2);
    const afterIds = await feed('pager', { first: 500 });
    expect(afterIds.unreadCount).toBe(unreadBefore - 2);
    expect(
      afterIds.nodes
        .filter((node) => node.readAt !== null)
        .map((node) => node.id)
        .sort(),
    ).toEqual([mine[0]!.id, mine[1]!.id].sort());
    const unread = await feed('pager', { unreadOnly: true, first: 500 });
    expect(unread.nodes.map((node) => node.id)).not.toContain(mine[0]!.id);
    expect(unread.nodes.map((node) => node.id)).toContain(mine[2]!.id);
    expect(unread.nodes.every((node) => node.readAt === null)).toBe(true);
    expect((await about('bob', bobsJob))[0]!.readAt).toBeNull();
    // Marking the same ids again changes nothing.
    expect(
      gqlOk(
        await a.gql<{ markNotificationsRead: number }>(suite.tokens.pager, `mutation { markNotificationsRead(ids: ["${mine[0]!.id}"]) }`),
      ).markNotificationsRead,
    ).toBe(0);

    const bobUnread = (await feed('bob')).unreadCount;
    const all = gqlOk(await a.gql<{ markNotificationsRead: number }>(suite.tokens.pager, 'mutation { markNotificationsRead(all: true) }'));
    expect(all.markNotificationsRead).toBe(unreadBefore - 2);
    expect((await feed('pager')).unreadCount).toBe(0);
    expect((await feed('pager', { unreadOnly: true })).nodes).toEqual([]);
    expect(
      gqlOk(await a.gql<{ markNotificationsRead: number }>(suite.tokens.pager, 'mutation { markNotificationsRead(all: true) }'))
        .markNotificationsRead,
    ).toBe(0);
    // Other users' notifications are untouched.
    expect((await feed('bob')).unreadCount).toBe(bobUnread);
    expect(bobUnread).toBeGreaterThan(0);
    // A new notification is unread again.
    const later = await createJob('alice', { type, requiresApproval: true, approvers: ['pager'] });
    const now = await feed('pager', { unreadOnly: true });
    expect(now.nodes.map((node) => node.jobId)).toEqual([later]);
    expect(now.unreadCount).toBe(1);
  });

  test.each([
    ['neither ids nor all', 'mutation { markNotificationsRead }'],
    ['both ids and all', 'mutation { markNotificationsRead(ids: ["1"], all: true) }'],
    ['ids that are not notification ids', 'mutation { markNotificationsRead(ids: ["abc"]) }'],
    ['all: false', 'mutation { markNotificationsRead(all: false) }'],
  ])('markNotificationsRead with %s: BAD_USER_INPUT', async (_label, mutation) => {
    const response = await a.gql(suite.tokens.pager, mutation);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  test('pagination: newest first, cursors walk every notification once; bad cursors and sizes are BAD_USER_INPUT', async () => {
    const type = uniqueType('page');
    for (let i = 0; i < 7; i += 1) await createJob('alice', { type, requiresApproval: true, approvers: ['carol'], name: `p${i}` });
    const everything = await feed('carol', { first: 500 });
    const total = everything.nodes.length;
    expect(total).toBeGreaterThanOrEqual(7);
    const ids = everything.nodes.map((node) => BigInt(node.id));
    expect(ids).toEqual([...ids].sort((x, y) => (x > y ? -1 : x < y ? 1 : 0)));
    expect(everything.nodes.slice(0, 7).map((node) => node.jobName)).toEqual(['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);

    const walked: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await feed('carol', { first: 3, after });
      pages += 1;
      expect(page.pageInfo.hasPreviousPage).toBe(after !== undefined);
      expect(page.unreadCount).toBe(everything.unreadCount);
      walked.push(...page.nodes.map((node) => node.id));
      if (page.nodes.length > 0) expect(page.pageInfo.startCursor).not.toBeNull();
      if (!page.pageInfo.hasNextPage) break;
      expect(page.nodes).toHaveLength(3);
      after = page.pageInfo.endCursor as string;
    }
    expect(walked).toEqual(everything.nodes.map((node) => node.id));
    expect(pages).toBe(Math.ceil(total / 3));

    const empty = await feed('carol', { first: 0 });
    expect(empty.nodes).toEqual([]);
    expect(empty.pageInfo.hasNextPage).toBe(true);

    for (const [args, field] of [
      [{ a: 'not-a-cursor' }, 'after'],
      [{ a: Buffer.from('n1:abc').toString('base64url') }, 'after'],
      [{ f: 501 }, 'first'],
      [{ f: -1 }, 'first'],
    ] as const) {
      const response = await a.gql(suite.tokens.carol, NOTIFICATIONS, args);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  test('unauthenticated: no notifications', async () => {
    const response = await a.gql(undefined, NOTIFICATIONS, {});
    expect(response.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });
});

describe('the daemon ends held jobs: the owner hears it', () => {
  test('a cancel the worker never confirms (CANCELLED, naming who asked) and a trap nobody resolves (FAILED, actor null)', async () => {
    const type = uniqueType('daemon-held');
    const cancelling = await createJob('alice', { type, name: 'never confirms' });
    await claim(type);
    gqlOk(await b.gql(suite.tokens.bob, 'mutation($id: ID!) { cancelJob(id: $id, reason: "stop it") { status } }', { id: cancelling }));
    const trapping = await createJob('alice', { type, name: 'nobody decides' });
    const trapped = await claim(type);
    expect(trapped.id).toBe(trapping);
    await workerCall('mutation($l: String!) { trapJob(lease: $l, error: "row 9 is odd", timeoutSeconds: 600) { status } }', {
      l: trapped.lease,
    });
    // The grace and the trap timeout run out (backdated, not waited for).
    await suite.db.pool.query(`UPDATE jobs SET cancel_requested_at = now() - interval '1 hour' WHERE id = $1`, [cancelling]);
    await suite.db.pool.query(`UPDATE jobs SET trap_timeout_at = now() - interval '1 second' WHERE id = $1`, [trapping]);
    expect(await a.services.daemon.tick()).toMatchObject({ cancelled: 1, trapTimedOut: 1 });

    const cancelled = await about('alice', cancelling);
    expect(cancelled.map((node) => [node.kind, node.actor])).toEqual([
      ['STARTED', 'worker'],
      ['CANCELLED', 'bob'],
    ]);
    expect(cancelled[1]!.message).toMatch(/did not confirm/);
    const failed = await about('alice', trapping);
    expect(failed.map((node) => [node.kind, node.actor])).toEqual([
      ['STARTED', 'worker'],
      ['TRAPPED', 'worker'],
      ['FAILED', null],
    ]);
    expect(failed[2]!.message).toMatch(/trap/);
    // bob asked for the cancel: his own action is no news to him.
    expect(await storedFor('bob', cancelling)).toEqual([]);
  });
});

describe('approval requests reach the people who can approve', () => {
  const WAITING = 'WAITING_APPROVAL';
  const kinds = async (user: User, jobId: string) => (await about(user, jobId)).map((node) => node.kind);

  test('named approvers are told only when they may approve it; approve_all holders are not told about a job that names approvers', async () => {
    const type = uniqueType('named');
    const live = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'vince'), LIVE);
    await ping('vince', live);
    const jobId = await submitNaming('alice', type, ['bob', 'vince']);
    expect(await kinds('bob', jobId)).toEqual([WAITING]);
    // vince may view the job but not approve it: recorded, never shown, by query or live.
    expect(await storedFor('vince', jobId)).toEqual([{ kind: WAITING, actor_id: 'alice' }]);
    expect(await kinds('vince', jobId)).toEqual([]);
    expect((await feed('vince')).nodes.filter((node) => node.kind === WAITING)).toEqual([]);
    // The named approvers are the ones to ask: the approve_all holders are left alone.
    for (const user of ['admin', 'acmeapp', 'typeapp'] as const) expect(await storedFor(user, jobId)).toEqual([]);

    // Later events reach vince live (so the approval request was not just slow), and it never does.
    await ping('vince', live);
    expect(notPings(live)).toEqual([]);
    live.stop();

    // Permissions of now: once vince may approve, the request he was named in shows.
    const granted = gqlOk(
      await b.gql<{ grantRole: { id: string } }>(suite.tokens.admin, 'mutation { grantRole(userId: "vince", role: "operator") { id } }'),
    ).grantRole.id;
    await eventually(
      () => kinds('vince', jobId),
      (found) => found.length === 1,
      5_000,
      'vince to see the request once he may approve',
    );
    gqlOk(await b.gql(suite.tokens.admin, 'mutation($id: ID!) { revokeGrant(id: $id) }', { id: granted }));
    await eventually(
      () => kinds('vince', jobId),
      (found) => found.length === 0,
      5_000,
      'the request to hide again',
    );
  });

  test('a job naming no approvers: everyone whose approve_all covers it is told (query and live), exactly', async () => {
    const type = uniqueType('unnamed');
    const acmeLive = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'acmeapp'), LIVE);
    const typeLive = subscribe<{ notifications: NotificationNode }>(liveClient(b, 'typeapp'), LIVE);
    await ping('acmeapp', acmeLive);
    await ping('typeapp', typeLive);

    const inAcme = await createJob('alice', { type, name: 'acme, anyone', requiresApproval: true });
    const inGlobex = await createJob('alice', { type, name: 'globex, anyone', scope: 'globex/shop', requiresApproval: true });
    const deploy = await createJob('alice', { type: DEPLOY_TYPE, name: 'globex deploy', scope: 'globex/shop', requiresApproval: true });

    // admin (manage all) hears about every one; acmeapp about acme's; typeapp about the deploy type.
    expect(await kinds('admin', inAcme)).toEqual([WAITING]);
    expect(await kinds('admin', inGlobex)).toEqual([WAITING]);
    expect(await kinds('admin', deploy)).toEqual([WAITING]);
    expect(await kinds('acmeapp', inAcme)).toEqual([WAITING]);
    expect(await storedFor('acmeapp', inGlobex)).toEqual([]); // their grant is acme's: not even recorded
    expect(await storedFor('acmeapp', deploy)).toEqual([]);
    expect(await kinds('typeapp', deploy)).toEqual([WAITING]);
    // typeapp's role holds approve_all with a condition: recorded for every unnamed job, shown for theirs only.
    expect(await storedFor('typeapp', inAcme)).toEqual([{ kind: WAITING, actor_id: 'alice' }]);
    expect(await kinds('typeapp', inAcme)).toEqual([]);
    // Operators approve only as named approvers; the owner asked for it herself.
    for (const user of ['bob', 'carol', 'vince', 'alice'] as const) {
      for (const jobId of [inAcme, inGlobex, deploy]) expect(await storedFor(user, jobId)).toEqual([]);
    }

    await acmeLive.until((messages) => messages.some((message) => message.notifications.jobId === inAcme));
    await typeLive.until((messages) => messages.some((message) => message.notifications.jobId === deploy));
    // Nothing else arrives: a last ping after them comes through with nothing in between.
    await ping('acmeapp', acmeLive);
    await ping('typeapp', typeLive);
    expect(notPings(acmeLive).map((node) => [node.kind, node.jobId, node.actor])).toEqual([[WAITING, inAcme, 'alice']]);
    expect(notPings(typeLive).map((node) => [node.kind, node.jobId])).toEqual([[WAITING, deploy]]);
    acmeLive.stop();
    typeLive.stop();

    // And each of them may act on what they were told.
    gqlOk(await a.gql(suite.tokens.acmeapp, 'mutation($id: ID!) { approveJob(id: $id) { status } }', { id: inAcme }));
    gqlOk(await a.gql(suite.tokens.typeapp, 'mutation($id: ID!) { approveJob(id: $id) { status } }', { id: deploy }));
  });
});

describe('the live feed never goes silent', () => {
  test('ten thousand notifications a subscriber may not see hold back neither theirs nor those of anyone read with them', async () => {
    const limitedLive = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'limited'), LIVE);
    const bobLive = subscribe<{ notifications: NotificationNode }>(liveClient(a, 'bob'), LIVE);
    await ping('limited', limitedLive);
    await ping('bob', bobLive);
    // limited may view their own jobs only: all of these are alice's.
    await suite.db.pool.query(
      `INSERT INTO notifications (user_id, job_id, kind, job_name, job_scope, job_type, job_owner_id)
       SELECT 'limited', gen_random_uuid(), 'STARTED', 'hidden ' || g, 'acme/payments/prod', 'flood', 'alice' FROM generate_series(1, 10001) g`,
    );
    // Then, in one statement (so that the feed reads both users at once), one each may see.
    const { rows } = await suite.db.pool.query<{ user_id: string; job_id: string }>(
      `INSERT INTO notifications (user_id, job_id, kind, job_name, job_scope, job_type, job_owner_id)
       VALUES ('limited', gen_random_uuid(), 'SUCCEEDED', 'visible', 'acme/payments/prod', 'flood', 'limited'),
              ('bob', gen_random_uuid(), 'SUCCEEDED', 'visible', 'acme/payments/prod', 'flood', 'alice')
       RETURNING user_id, job_id::text`,
    );
    const jobOf = (user: string) => rows.find((row) => row.user_id === user)!.job_id;
    await limitedLive.until((messages) => messages.some((message) => message.notifications.jobId === jobOf('limited')));
    await bobLive.until((messages) => messages.some((message) => message.notifications.jobId === jobOf('bob')));
    // The hidden ones were read once and passed over: the next ones arrive as promptly, and alone.
    await ping('limited', limitedLive);
    expect(notPings(limitedLive).map((node) => node.jobName)).toEqual(['visible']);
    expect(notPings(bobLive).map((node) => node.jobName)).toEqual(['visible']);
    limitedLive.stop();
    bobLive.stop();
  });
});
