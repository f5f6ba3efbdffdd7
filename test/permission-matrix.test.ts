import type { JobStatus } from '../src/jobs/job-status';
import { createRole, grant, insertJobs } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestServer, token, type TestServer } from './support/test-server';

/**
 * The permission matrix of DOMAIN.md: every built-in role and a custom role, each granted on
 * the scope `acme/payments`, times every action, times the user's own job or someone else's,
 * times a job inside or outside the granted scope. Each cell acts on a fresh job in a status
 * where the action is legal, so only permissions decide; it checks the answer and the row.
 */
let db: TestDatabase;
let server: TestServer;

const IN_SCOPE = 'acme/payments/prod';
const OUT_OF_SCOPE = 'acme/crm/prod';

type Verb = 'start' | 'cancel' | 'restart' | 'reschedule' | 'delete' | 'approve' | 'reject' | 'pauseTrap' | 'resolveTrap';
type Outcome = 'ok' | 'FORBIDDEN' | 'NOT_FOUND';

/** Each action: the status it is legal from, the mutation, and the status it leads to. */
const ACTIONS: Record<Verb, { from: JobStatus; mutation: (id: string) => string; to: JobStatus | 'gone' }> = {
  start: { from: 'CREATED', mutation: (id) => `startJob(id: "${id}") { status }`, to: 'PENDING' },
  cancel: { from: 'PENDING', mutation: (id) => `cancelJob(id: "${id}", reason: "matrix") { status }`, to: 'CANCELLED' },
  restart: { from: 'FAILED', mutation: (id) => `restartJob(id: "${id}") { status }`, to: 'PENDING' },
  reschedule: {
    from: 'PENDING',
    mutation: (id) => `rescheduleJob(id: "${id}", scheduledAt: "2099-01-01T00:00:00Z") { status }`,
    to: 'PENDING',
  },
  delete: { from: 'SUCCEEDED', mutation: (id) => `deleteJob(id: "${id}")`, to: 'gone' },
  approve: { from: 'WAITING_APPROVAL', mutation: (id) => `approveJob(id: "${id}") { status }`, to: 'PENDING' },
  reject: { from: 'WAITING_APPROVAL', mutation: (id) => `rejectJob(id: "${id}") { status }`, to: 'REJECTED' },
  pauseTrap: { from: 'TRAPPED', mutation: (id) => `pauseTrap(id: "${id}") { status }`, to: 'TRAP_PAUSED' },
  resolveTrap: { from: 'TRAPPED', mutation: (id) => `resolveTrap(id: "${id}", decision: RETRY) { status }`, to: 'RUNNING' },
};

/**
 * What each role may do, written from DOMAIN.md rather than from the code. `named`: the user is
 * among the job's approvers. A job outside what the user may view does not exist for them.
 */
const ROLES: Record<string, { sees: (own: boolean) => boolean; may: (verb: Verb, own: boolean, named: boolean) => boolean }> = {
  admin: { sees: () => true, may: () => true },
  operator: {
    sees: () => true,
    may: (verb, _own, named) => (verb === 'approve' || verb === 'reject' ? named : true),
  },
  viewer: { sees: () => true, may: () => false },
  'own-jobs': { sees: (own) => own, may: (verb, own) => own && (verb === 'start' || verb === 'cancel') },
  worker: { sees: () => false, may: () => false },
  // A custom role: sees and operates on deployments it may, deletes only its own jobs.
  'payments-ops': {
    sees: () => true,
    may: (verb, own) => ['cancel', 'restart', 'reschedule'].includes(verb) || (verb === 'delete' && own),
  },
};

function expected(role: string, verb: Verb, own: boolean, inScope: boolean, named: boolean): Outcome {
  const rules = ROLES[role]!;
  if (!inScope || !rules.sees(own)) return 'NOT_FOUND';
  return rules.may(verb, own, named) ? 'ok' : 'FORBIDDEN';
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  await createRole(db.pool, 'payments-ops', [
    { action: ['view_monitor', 'cancel', 'restart', 'reschedule'], subject: 'Job' },
    { action: 'delete', subject: 'Job', conditions: { ownerId: '${user.id}' } },
  ]);
  for (const role of Object.keys(ROLES)) await grant(db.pool, `user-${role}`, role, 'acme/payments');
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const CELLS = Object.keys(ROLES).flatMap((role) =>
  (Object.keys(ACTIONS) as Verb[]).flatMap((verb) =>
    [true, false].flatMap((own) => [true, false].map((inScope) => [role, verb, own, inScope] as const)),
  ),
);

test.each(CELLS)('%s: %s on %s job, in scope: %s', async (role, verb, own, inScope) => {
  const user = `user-${role}`;
  const action = ACTIONS[verb];
  // The acting user is a named approver of every job: approval then depends on `approve` alone.
  const [job] = await insertJobs(db.pool, [
    {
      status: action.from,
      owner_id: own ? user : 'someone-else',
      scope: inScope ? IN_SCOPE : OUT_OF_SCOPE,
      approvers: [user],
      requires_approval: action.from === 'WAITING_APPROVAL',
    },
  ]);
  const id = job!.id;
  const eventsBefore = await countEvents(id);
  const response = await server.gql<Record<string, { status?: string } | string>>(await token(user), `mutation { ${action.mutation(id)} }`);
  const outcome = expected(role, verb, own, inScope, true);
  const row = await db.pool.query<{ status: JobStatus }>('SELECT status FROM jobs WHERE id = $1', [id]);

  if (outcome === 'ok') {
    expect(response.errors).toBeUndefined();
    if (action.to === 'gone') {
      expect(row.rows).toHaveLength(0);
    } else {
      expect(Object.values(response.data!)[0]).toEqual({ status: action.to });
      expect(row.rows[0]?.status).toBe(action.to);
    }
    expect(await countEvents(id)).toBe(eventsBefore + 1);
  } else {
    expect(response.errors?.[0]?.extensions?.['code']).toBe(outcome);
    expect(row.rows[0]?.status).toBe(action.from);
    expect(await countEvents(id)).toBe(eventsBefore);
  }
});

test.each(Object.keys(ROLES))('%s: approving a job that does not name them', async (role) => {
  const user = `user-${role}`;
  const [job] = await insertJobs(db.pool, [{ status: 'WAITING_APPROVAL', requires_approval: true, scope: IN_SCOPE, approvers: ['someone'] }]);
  const response = await server.gql(await token(user), `mutation { approveJob(id: "${job!.id}") { status } }`);
  const outcome = expected(role, 'approve', false, true, role === 'admin');
  if (outcome === 'ok') expect(response.errors).toBeUndefined();
  else expect(response.errors?.[0]?.extensions?.['code']).toBe(outcome);
  const { rows } = await db.pool.query('SELECT status FROM jobs WHERE id = $1', [job!.id]);
  expect(rows[0]?.status).toBe(outcome === 'ok' ? 'PENDING' : 'WAITING_APPROVAL');
});

test.each(Object.keys(ROLES).flatMap((role) => [true, false].map((inScope) => [role, inScope] as const)))(
  '%s: createJob, in scope: %s',
  async (role, inScope) => {
    const user = `user-${role}`;
    const name = `created by ${role} ${inScope}`;
    const response = await server.gql(
      await token(user),
      `mutation { createJob(input: { name: "${name}", type: "deployment", scope: "${inScope ? IN_SCOPE : OUT_OF_SCOPE}" }) { id } }`,
    );
    const allowed = inScope && ['admin', 'operator', 'own-jobs'].includes(role);
    if (allowed) expect(response.errors).toBeUndefined();
    else expect(response.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const { rows } = await db.pool.query('SELECT owner_id FROM jobs WHERE name = $1', [name]);
    expect(rows).toEqual(allowed ? [{ owner_id: user }] : []);
  },
);

test('viewerCan answers the same as the mutations do', async () => {
  for (const role of Object.keys(ROLES)) {
    const user = `user-${role}`;
    for (const own of [true, false]) {
      for (const [verb, action] of Object.entries(ACTIONS) as Array<[Verb, (typeof ACTIONS)[Verb]]>) {
        const [job] = await insertJobs(db.pool, [
          { status: action.from, owner_id: own ? user : 'x', scope: IN_SCOPE, approvers: [user], requires_approval: true },
        ]);
        const response = await server.gql<{ job: { viewerCan: Record<Verb, boolean> } | null }>(
          await token(user),
          `{ job(id: "${job!.id}") { viewerCan { ${Object.keys(ACTIONS).join(' ')} } } }`,
        );
        const outcome = expected(role, verb, own, true, true);
        if (outcome === 'NOT_FOUND') expect(response.data?.job).toBeNull();
        else expect([role, verb, own, response.data?.job?.viewerCan[verb]]).toEqual([role, verb, own, outcome === 'ok']);
      }
    }
  }
});

async function countEvents(jobId: string): Promise<number> {
  const { rows } = await db.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM timeline_events WHERE job_id = $1', [jobId]);
  return rows[0]!.count;
}
