import { createRole, grant } from './support/fixtures';
import { token } from './support/test-server';
import { apiSuite } from './support/api-suite';

const suite = apiSuite({
  grants: [
    ['admin', 'admin'],
    ['viewer', 'viewer'],
    ['owen', 'own-jobs'],
    // Approvers must be able to approve what they are named on.
    ['bob', 'operator'],
    ['carol', 'operator'],
    ['ops', 'operator', 'acme/payments'],
  ],
});
beforeAll(async () => {
  // Submit-only: may create jobs, may not see any.
  await createRole(suite.db.pool, 'submitter', [{ action: 'create', subject: 'Job' }]);
  await grant(suite.db.pool, 'submit-only', 'submitter');
  // Creates anywhere, sees only acme/crm.
  await grant(suite.db.pool, 'crm-watcher', 'submitter');
  await grant(suite.db.pool, 'crm-watcher', 'viewer', 'acme/crm');
});

const CREATE = `mutation($input: CreateJobInput!) {
  createJob(input: $input) { id name type scope owner ownerName status step attempt hasSecrets approvers requiresApproval config
    timeline { nodes { kind actor actorKind fromStatus toStatus attempt } } }
}`;
const START = 'mutation($id: ID!) { startJob(id: $id) { id status } }';

interface Created {
  createJob: { id: string; status: string; hasSecrets: boolean; timeline: { nodes: Array<Record<string, unknown>> } } & Record<
    string,
    unknown
  >;
}

async function create(user: string, input: Record<string, unknown>, name?: string) {
  return suite.server.gql<Created>(await token(user, name === undefined ? {} : { name }), CREATE, { input });
}

const base = { name: 'Mask customers', type: 'masking', scope: 'acme/payments/prod' };

test('a created job is submitted at once: PENDING, with its CREATED event', async () => {
  const response = await create('admin', { ...base, config: { tables: ['customers'] } }, 'Ada Admin');
  expect(response.errors).toBeUndefined();
  expect(response.data?.createJob).toMatchObject({
    ...base,
    owner: 'admin',
    ownerName: 'Ada Admin',
    status: 'PENDING',
    step: 'PRE',
    attempt: 1,
    hasSecrets: false,
    config: { tables: ['customers'] },
    timeline: { nodes: [{ kind: 'CREATED', actor: 'admin', actorKind: 'USER', fromStatus: null, toStatus: 'PENDING', attempt: 1 }] },
  });
});

test('requiresApproval sends it to WAITING_APPROVAL; start: false leaves it CREATED', async () => {
  const approval = await create('admin', { ...base, requiresApproval: true, approvers: ['bob', 'bob', 'carol'] });
  expect(approval.data?.createJob).toMatchObject({ status: 'WAITING_APPROVAL', approvers: ['bob', 'carol'], requiresApproval: true });
  const later = await create('admin', { ...base, start: false });
  expect(later.data?.createJob.status).toBe('CREATED');
});

test('secrets are write-only and encrypted at rest', async () => {
  const response = await create('admin', { ...base, secrets: { password: 'hunter2-very-secret' } });
  expect(response.data?.createJob.hasSecrets).toBe(true);
  expect(JSON.stringify(response)).not.toContain('hunter2');
  const { rows } = await suite.db.pool.query<{ secrets: Buffer }>('SELECT secrets FROM jobs WHERE id = $1', [response.data?.createJob.id]);
  expect(rows[0]?.secrets.length).toBeGreaterThan(28);
  expect(rows[0]?.secrets.toString('latin1')).not.toContain('hunter2');
  expect(rows[0]?.secrets.toString('hex')).not.toContain(Buffer.from('hunter2').toString('hex'));
});

test('create needs the create permission on the scope and type', async () => {
  const viewer = await create('viewer', base);
  expect(viewer.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  expect((await create('owen', base)).data?.createJob.status).toBe('PENDING');
  expect((await create('ops', base)).data?.createJob.status).toBe('PENDING');
  const outside = await create('ops', { ...base, scope: 'acme/crm/prod' });
  expect(outside.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  const { rows } = await suite.db.pool.query(`SELECT 1 FROM jobs WHERE owner_id IN ('viewer') OR scope = 'acme/crm/prod'`);
  expect(rows).toHaveLength(0);
});

describe('a caller who may create a job but not view it', () => {
  const RECEIPT = `mutation($input: CreateJobInput!) {
    createJob(input: $input) { id name type scope owner status attempt config tasks { name } taskCounts { waiting }
      timeline { nodes { kind } pageInfo { hasNextPage } } }
  }`;

  test('gets the job as created, with no tasks and an empty timeline; then the job does not exist for them', async () => {
    const bearer = await token('submit-only');
    const response = await suite.server.gql<{ createJob: Record<string, unknown> & { id: string } }>(bearer, RECEIPT, {
      input: { ...base, config: { tables: ['t'] } },
    });
    expect(response.errors).toBeUndefined();
    const id = response.data!.createJob.id;
    expect(response.data?.createJob).toEqual({
      id,
      ...base,
      owner: 'submit-only',
      status: 'PENDING',
      attempt: 1,
      config: { tables: ['t'] },
      tasks: [],
      taskCounts: { waiting: 0 },
      timeline: { nodes: [], pageInfo: { hasNextPage: false } },
    });
    // It was created, with its history, for everyone who may see it.
    const { rows } = await suite.db.pool.query(`SELECT kind FROM timeline_events WHERE job_id = $1`, [id]);
    expect(rows).toEqual([{ kind: 'CREATED' }]);
    const seen = await suite.server.gql<{ job: unknown; jobs: { totalCount: number } }>(
      bearer,
      'query($id: ID!) { job(id: $id) { id } jobs { totalCount } }',
      { id },
    );
    expect(seen.data).toEqual({ job: null, jobs: { totalCount: 0 } });
    expect((await suite.server.gql(bearer, START, { id })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });

  test('in one operation, the jobs they may view keep their history and the others do not', async () => {
    const bearer = await token('crm-watcher');
    const response = await suite.server.gql<Record<string, { scope: string; timeline: { nodes: Array<{ kind: string }> } }>>(
      bearer,
      `mutation($hidden: CreateJobInput!, $visible: CreateJobInput!) {
        hidden: createJob(input: $hidden) { scope timeline { nodes { kind } } }
        visible: createJob(input: $visible) { scope timeline { nodes { kind } } }
      }`,
      { hidden: base, visible: { ...base, scope: 'acme/crm/prod' } },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      hidden: { scope: base.scope, timeline: { nodes: [] } },
      visible: { scope: 'acme/crm/prod', timeline: { nodes: [{ kind: 'CREATED' }] } },
    });
  });
});

describe('startJob', () => {
  test('submits a CREATED job once; a second start is a CONFLICT that changes nothing', async () => {
    const id = (await create('admin', { ...base, start: false })).data!.createJob.id;
    const admin = await token('admin');
    const first = await suite.server.gql<{ startJob: { status: string } }>(admin, START, { id });
    expect(first.data?.startJob.status).toBe('PENDING');
    const second = await suite.server.gql(admin, START, { id });
    expect(second.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', status: 'PENDING' });
    const { rows } = await suite.db.pool.query(
      `SELECT kind, from_status, to_status, actor_id FROM timeline_events WHERE job_id = $1 ORDER BY id`,
      [id],
    );
    expect(rows).toEqual([
      { kind: 'CREATED', from_status: null, to_status: 'CREATED', actor_id: 'admin' },
      { kind: 'SUBMITTED', from_status: 'CREATED', to_status: 'PENDING', actor_id: 'admin' },
    ]);
  });

  test('goes to WAITING_APPROVAL when approval is required', async () => {
    const id = (await create('admin', { ...base, start: false, requiresApproval: true })).data!.createJob.id;
    const response = await suite.server.gql<{ startJob: { status: string } }>(await token('admin'), START, { id });
    expect(response.data?.startJob.status).toBe('WAITING_APPROVAL');
  });

  test('NOT_FOUND for an unknown job and for a job the user cannot see; FORBIDDEN without create', async () => {
    const id = (await create('admin', { ...base, start: false })).data!.createJob.id;
    const unknown = await suite.server.gql(await token('admin'), START, { id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const invisible = await suite.server.gql(await token('owen'), START, { id });
    expect(invisible.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const viewer = await suite.server.gql(await token('viewer'), START, { id });
    expect(viewer.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const { rows } = await suite.db.pool.query('SELECT status FROM jobs WHERE id = $1', [id]);
    expect(rows[0]?.status).toBe('CREATED');
  });
});
