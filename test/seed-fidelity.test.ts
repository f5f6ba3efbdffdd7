import { createRole, grant, insertJobs } from './support/fixtures';
import { token, type GraphQLResponse } from './support/test-server';
import { apiSuite, claimedJob } from './support/api-suite';

/**
 * What the seeds' users expect and used to work around (issue 12): a failed job's message is its
 * error's first line; own-jobs users delete their own finished jobs; a job never names an
 * approver who could not approve it.
 */

const tokens: Record<string, string> = {};

const suite = apiSuite({
  daemon: false,
  alerts: false,
  grants: [
    ['admin', 'admin'],
    ['worker', 'worker'],
    ['owen', 'own-jobs'],
    ['olga', 'own-jobs'],
    ['vera', 'viewer'],
    ['opal', 'operator', 'acme/payments'],
  ],
});
beforeAll(async () => {
  await createRole(suite.db.pool, 'deploy-approver', [
    { action: 'view_monitor', subject: 'Job' },
    { action: 'approve_all', subject: 'Job', conditions: { type: 'deployment' } },
  ]);
  await grant(suite.db.pool, 'dora', 'deploy-approver');
  // May approve, sees nothing: an approval it could never find.
  await createRole(suite.db.pool, 'blind-approver', [{ action: 'approve', subject: 'Job' }]);
  await grant(suite.db.pool, 'blindy', 'blind-approver');
  for (const user of ['admin', 'worker', 'owen', 'olga', 'vera', 'opal', 'dora']) tokens[user] = await token(user);
});

const code = (response: Pick<GraphQLResponse, 'errors'>) => response.errors?.[0]?.extensions?.['code'];

const claimed = (type: string) => claimedJob(suite, type, { seed: false, workerId: 'w-1' });

const jobRow = async (id: string) =>
  (
    await suite.db.pool.query<{ status: string; message: string | null; error_message: string | null }>(
      'SELECT status, message, error_message FROM jobs WHERE id = $1',
      [id],
    )
  ).rows[0];

describe("a failed job's message is its error's first line", () => {
  test('failJob: the first line of the error, not the last progress message; the whole error stays in error', async () => {
    await insertJobs(suite.db.pool, [{ type: 'fail-line', message: 'Copying table 3 of 9' }]);
    const { id, lease } = await claimed('fail-line');
    const error = 'Connection refused: db-7:5432\nwhile copying table customers\n  (attempt 3)';
    const response = await suite.server.gql<{ failJob: { status: string; message: string; error: { message: string; stack: string } } }>(
      tokens.worker,
      'mutation($lease: String!, $error: String!) { failJob(lease: $lease, error: $error, stack: "Error: x\\n    at copy (copy.js:1:1)") { status message error { message stack } } }',
      { lease, error },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.failJob).toEqual({
      status: 'FAILED',
      message: 'Connection refused: db-7:5432',
      error: { message: error, stack: 'Error: x\n    at copy (copy.js:1:1)' },
    });
    // The list reads the same.
    const list = await suite.server.gql<{ jobs: { nodes: Array<{ id: string; message: string }> } }>(
      tokens.admin,
      '{ jobs(filter: { types: ["fail-line"], tab: FAILED }) { nodes { id message } } }',
    );
    expect(list.data?.jobs.nodes).toEqual([{ id, message: 'Connection refused: db-7:5432' }]);
  });

  test('a trap aborted by a person, and a lost heartbeat: the error line too; a success keeps its own message', async () => {
    await insertJobs(suite.db.pool, [{ type: 'trap-line' }, { type: 'ok-line' }]);
    const trapped = await claimed('trap-line');
    expect(
      (
        await suite.server.gql(
          tokens.worker,
          'mutation($lease: String!) { trapJob(lease: $lease, error: "\\n  Disk full on /var\\nretry later") { status } }',
          { lease: trapped.lease },
        )
      ).errors,
    ).toBeUndefined();
    const aborted = await suite.server.gql<{ resolveTrap: { status: string; message: string } }>(
      tokens.admin,
      'mutation($id: ID!) { resolveTrap(id: $id, decision: ABORT) { status message } }',
      { id: trapped.id },
    );
    expect(aborted.data?.resolveTrap).toEqual({ status: 'FAILED', message: 'Disk full on /var' });

    const ok = await claimed('ok-line');
    const done = await suite.server.gql<{ completeJob: { message: string } }>(
      tokens.worker,
      'mutation($lease: String!) { completeJob(lease: $lease, message: "All 9 tables masked") { message } }',
      {
        lease: ok.lease,
      },
    );
    expect(done.data?.completeJob.message).toBe('All 9 tables masked');

    // The daemon's rule writes its error in the same statement: the trigger sees it.
    const [lost] = await insertJobs(suite.db.pool, [{ type: 'abend-line', status: 'RUNNING', message: 'working' }]);
    await suite.db.pool.query(
      `UPDATE jobs SET status = 'ABENDED', error_message = 'The worker stopped heartbeating' || E'\\n' || 'details' WHERE id = $1`,
      [lost!.id],
    );
    expect(await jobRow(lost!.id)).toMatchObject({ status: 'ABENDED', message: 'The worker stopped heartbeating' });
  });
});

describe('own-jobs deletes its own finished jobs', () => {
  const DELETE = 'mutation($id: ID!) { deleteJob(id: $id) }';

  test('its own SUCCEEDED and FAILED jobs go (the history stays, ending in DELETED by them)', async () => {
    const [done, failed] = await insertJobs(suite.db.pool, [
      { owner_id: 'owen', status: 'SUCCEEDED', type: 'mail-migration' },
      { owner_id: 'owen', status: 'FAILED', type: 'mail-migration' },
    ]);
    for (const job of [done!, failed!]) {
      const response = await suite.server.gql<{ deleteJob: string }>(tokens.owen, DELETE, { id: job.id });
      expect(response.errors).toBeUndefined();
      expect(response.data?.deleteJob).toBe(job.id);
      expect(await jobRow(job.id)).toBeUndefined();
      const { rows } = await suite.db.pool.query('SELECT kind, actor_id FROM timeline_events WHERE job_id = $1 ORDER BY id', [job.id]);
      expect(rows).toEqual([{ kind: 'DELETED', actor_id: 'owen' }]);
    }
  });

  test("not someone else's (NOT_FOUND: it does not exist for them), not one still running (CONFLICT)", async () => {
    const [others, running, pending] = await insertJobs(suite.db.pool, [
      { owner_id: 'olga', status: 'SUCCEEDED', type: 'mail-migration' },
      { owner_id: 'owen', status: 'RUNNING', type: 'mail-migration' },
      { owner_id: 'owen', status: 'PENDING', type: 'mail-migration' },
    ]);
    expect(code(await suite.server.gql(tokens.owen, DELETE, { id: others!.id }))).toBe('NOT_FOUND');
    expect(code(await suite.server.gql(tokens.owen, DELETE, { id: running!.id }))).toBe('CONFLICT');
    expect(code(await suite.server.gql(tokens.owen, DELETE, { id: pending!.id }))).toBe('CONFLICT');
    for (const job of [others!, running!, pending!]) expect(await jobRow(job.id)).toBeDefined();
    // A viewer sees every job and still may not delete one.
    expect(code(await suite.server.gql(tokens.vera, DELETE, { id: others!.id }))).toBe('FORBIDDEN');
    expect(await jobRow(others!.id)).toBeDefined();
  });

  test('viewerCan.delete says so: true on its finished job, false while it runs', async () => {
    const [done, running] = await insertJobs(suite.db.pool, [
      { owner_id: 'owen', status: 'CANCELLED', type: 'viewer-can' },
      { owner_id: 'owen', status: 'RUNNING', type: 'viewer-can' },
    ]);
    const response = await suite.server.gql<{ jobs: { nodes: Array<{ id: string; viewerCan: { delete: boolean } }> } }>(
      tokens.owen,
      '{ jobs(filter: { types: ["viewer-can"] }) { nodes { id viewerCan { delete } } } }',
    );
    const byId = Object.fromEntries(response.data!.jobs.nodes.map((node) => [node.id, node.viewerCan.delete]));
    expect(byId).toEqual({ [done!.id]: true, [running!.id]: false });
  });
});

describe('approvers who may not approve are refused', () => {
  const CREATE = 'mutation($input: CreateJobInput!) { createJob(input: $input) { id status approvers } }';
  const count = async (type: string) =>
    (await suite.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs WHERE type = $1', [type])).rows[0]!.n;

  test('each approver who could not approve is named; nothing is created', async () => {
    const response = await suite.server.gql(tokens.admin, CREATE, {
      input: {
        name: 'Release 7.2',
        type: 'import',
        scope: 'acme/payments/prod',
        requiresApproval: true,
        // opal: operator of acme/payments (approve); vera: a viewer; dora: approve_all on deployments only;
        // blindy: approve without view; ghost: no grant at all.
        approvers: ['opal', 'vera', 'dora', 'blindy', 'ghost'],
      },
    });
    expect(response.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.approvers',
      approvers: ['vera', 'dora', 'blindy', 'ghost'],
    });
    expect(response.errors?.[0]?.message).toMatch(/"vera", "dora", "blindy", "ghost" may not approve/);
    expect(await count('import')).toBe(0);
  });

  test("out of the approver's scope is refused too; named approvers with approve, and approve_all on the type, are taken", async () => {
    const outside = await suite.server.gql(tokens.admin, CREATE, {
      input: { name: 'Release', type: 'deployment', scope: 'acme/crm/prod', requiresApproval: true, approvers: ['opal', 'dora'] },
    });
    expect(outside.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', approvers: ['opal'] });
    expect(await count('deployment')).toBe(0);

    const inside = await suite.server.gql<{ createJob: { status: string; approvers: string[] } }>(tokens.admin, CREATE, {
      input: {
        name: 'Release',
        type: 'deployment',
        scope: 'acme/payments/prod',
        requiresApproval: true,
        approvers: ['opal', 'dora', 'admin'],
      },
    });
    expect(inside.errors).toBeUndefined();
    expect(inside.data?.createJob).toMatchObject({ status: 'WAITING_APPROVAL', approvers: ['opal', 'dora', 'admin'] });
    // And the named approver can indeed approve it.
    const approved = await suite.server.gql<{ approveJob: { status: string } }>(
      tokens.opal,
      'mutation($id: ID!) { approveJob(id: $id) { status } }',
      {
        id: (inside.data?.createJob as unknown as { id: string }).id,
      },
    );
    expect(approved.data?.approveJob.status).toBe('PENDING');
  });
});
