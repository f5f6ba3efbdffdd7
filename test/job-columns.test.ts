import { getNamedType, type GraphQLObjectType, isObjectType } from 'graphql';
import { jobwatchSchema } from '../src/app/schema';
import { JOB_FIELD_COLUMNS, jobSelectList } from '../src/jobs/job-columns';
import { JOB_COLUMNS, type JobRow, toJob } from '../src/jobs/job.row';
import { grant, insertJobs } from './support/fixtures';
import { token } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * Reads select only the columns the asked-for Job fields need (src/jobs/job-columns.ts). Every
 * field must still answer what it answers with every column: checked here for each field alone,
 * on jobs where every column holds something, and as a whole query asking for every Job field.
 */

let admin: string;
let operator: string;
const ids: Record<'failed' | 'trapped' | 'waiting', string> = { failed: '', trapped: '', waiting: '' };

const MINUTE = 60_000;

/** Fills every column a reader can see, with values that tell columns apart. */
async function fillEveryColumn(id: string, status: 'FAILED' | 'TRAPPED' | 'WAITING_APPROVAL'): Promise<void> {
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * MINUTE).toISOString();
  await suite.db.pool.query(
    `UPDATE jobs SET owner_name = 'Alice A.', status = $2, step = 'RUN', message = 'copying table 3', error_message = 'disk full',
       error_stack = 'Error: disk full\n    at copy (worker.js:10)', config = '{"tables": 7}', secrets = '\\x01'::bytea,
       approvers = '{bob,carol}', requires_approval = true, scheduled_at = $3, max_start_at = $4, started_at = $5,
       finished_at = $6, updated_at = $7, previous_run_duration_ms = 12345, attempt = 2, worker_id = 'host-1', heartbeat_at = $8,
       asset = 'db/customers', progress_done = 30, progress_total = 120, progress_unit = 'rows', progress_phase = 'copying',
       progress_percent = 25, progress_rate = 42.5, progress_updated_at = $9, trap_timeout_at = $10, cancel_requested_at = $11,
       cancel_requested_by = 'dave', progress_rate_at = $9, progress_stalled_since = $8
     WHERE id = $1`,
    // Progress written "in the future": the rate stands (no stall decay while the test runs).
    [id, status, at(300), at(200), at(100), status === 'FAILED' ? at(10) : null, at(5), at(4), at(-10), at(-30), at(2)],
  );
  await suite.db.pool.query(
    `INSERT INTO tasks (job_id, name, position, status, done, total, unit, rate_per_minute, message, started_at, finished_at, updated_at)
     VALUES ($1, 'customers', 0, 'COMPLETED', 10, 10, 'rows', 5, 'done', now(), now(), now()),
            ($1, 'orders', 1, 'PROCESSING', 20, 110, 'rows', 7, NULL, now(), NULL, now())`,
    [id],
  );
  await suite.db.pool.query(
    `INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, to_status, attempt, step, message, job_scope, job_type, job_owner_id)
     SELECT id, 'LOG', 'host-1', 'WORKER', NULL, 2, 'RUN', 'line ' || n, scope, type, owner_id FROM jobs, generate_series(1, 3) n WHERE id = $1`,
    [id],
  );
}

/** A selection of each field of `type` (arguments left to their defaults), `depth` levels down. */
function fieldSelections(type: GraphQLObjectType, depth = 3): Map<string, string> {
  const selections = new Map<string, string>();
  for (const field of Object.values(type.getFields())) {
    if (field.args.some((arg) => arg.type.toString().endsWith('!') && arg.defaultValue === undefined)) continue;
    const named = getNamedType(field.type);
    if (!isObjectType(named)) selections.set(field.name, field.name);
    else if (depth > 1) selections.set(field.name, `${field.name} { ${[...fieldSelections(named, depth - 1).values()].join(' ')} }`);
  }
  return selections;
}

const suite = apiSuite({ env: { PUBLIC_URL: 'https://jobs.example.com' }, grants: [['columns-admin', 'admin']] });
beforeAll(async () => {
  admin = await token('columns-admin');
  // An operator named among the approvers may approve: viewerCan depends on `approvers`.
  await grant(suite.db.pool, 'bob', 'operator', 'acme');
  operator = await token('bob');
  const [failed, trapped, waiting] = await insertJobs(suite.db.pool, [
    { name: 'Mask customers', type: 'masking', scope: 'acme/payments/prod' },
    { name: 'Migrate mailbox', type: 'mail-migration', scope: 'acme/crm/prod' },
    { name: 'Deploy billing', type: 'deployment', scope: 'acme/billing/prod' },
  ]);
  ids.failed = failed!.id;
  ids.trapped = trapped!.id;
  ids.waiting = waiting!.id;
  await fillEveryColumn(ids.failed, 'FAILED');
  await fillEveryColumn(ids.trapped, 'TRAPPED');
  await fillEveryColumn(ids.waiting, 'WAITING_APPROVAL');
});

describe('each field listed in JOB_FIELD_COLUMNS needs no other column', () => {
  const selected = (fields: string[]) =>
    new Set(
      jobSelectList(new Set(fields))
        .split(', ')
        .map((column) => /([a-z_]+)$/.exec(column)![1]!),
    );

  test.each(['failed', 'trapped'] as const)('toJob gives the same value with only those columns, on the %s job', async (which) => {
    const { rows } = await suite.db.pool.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`, [ids[which]]);
    const row = rows[0]!;
    // Every column is filled, so a column a field reads and was not given shows as a different answer.
    expect(
      Object.entries(row)
        .filter(([, value]) => value === null)
        .map(([column]) => column),
    ).toEqual(which === 'failed' ? ['trap_timeout_at'] : ['finished_at']);
    const now = Date.now();
    const whole = toJob(row, now) as unknown as Record<string, unknown>;
    const fieldsOfToJob = Object.keys(JOB_FIELD_COLUMNS).filter((field) => field in whole);
    expect(fieldsOfToJob.length).toBeGreaterThan(30);
    for (const field of fieldsOfToJob) {
      const columns = selected([field]);
      // The columns not selected are absent from the row, as pg builds it.
      const partial = Object.fromEntries(Object.entries(row).filter(([column]) => columns.has(column)));
      expect([field, (toJob(partial as unknown as JobRow, now) as unknown as Record<string, unknown>)[field]]).toEqual([
        field,
        whole[field],
      ]);
    }
  });

  test('a field that is not listed selects every column', () => {
    expect(jobSelectList(new Set(['id', 'someFieldAddedLater']))).toBe(JOB_COLUMNS);
    expect(jobSelectList(undefined)).toBe(JOB_COLUMNS);
    expect(jobSelectList(new Set(['name']))).toBe('id, name');
  });
});

describe('queries answer every field as with every column', () => {
  let each = new Map<string, string>();
  let all = '';
  beforeAll(async () => {
    each = fieldSelections((await jobwatchSchema()).getType('Job') as GraphQLObjectType);
    all = [...each.values()].join(' ');
  });

  const jobQuery = (selection: string) => `query($id: ID!) { job(id: $id) { ${selection} } }`;
  const listQuery = (selection: string) =>
    `{ jobs(first: 2, filter: { statuses: [FAILED] }) { nodes { ${selection} } edges { cursor node { ${selection} } } } }`;
  /** Running for: grows between two queries of a job that has not finished. */
  // Durations of what still runs grow between two reads: only their type is compared.
  const steady = (value: Record<string, unknown>) => ({
    ...value,
    duration: typeof value['duration'],
    ...(Array.isArray(value['attempts'])
      ? {
          attempts: (value['attempts'] as Array<Record<string, unknown>>).map((attempt) => ({
            ...attempt,
            duration: typeof attempt['duration'],
          })),
        }
      : {}),
  });

  test.each([
    ['failed', 'admin', ['trapExpiresAt']],
    ['trapped', 'admin', ['finishedAt']],
    ['waiting', 'operator', ['finishedAt', 'trapExpiresAt']],
  ] as const)('job(id) of the %s job as %s: every field at once, then each field alone', async (which, who, nullFields) => {
    const bearer = who === 'admin' ? admin : operator;
    const whole = await suite.server.gql<{ job: Record<string, unknown> }>(bearer, jobQuery(all), { id: ids[which] });
    expect(whole.errors).toBeUndefined();
    const job = whole.data!.job;
    expect(Object.keys(job).length).toBeGreaterThan(35);
    // Every column is filled: the listed fields that are null are those null by definition for this job.
    const nulls = Object.entries(job).filter(([field, value]) => value === null && field in JOB_FIELD_COLUMNS);
    expect(nulls.map(([field]) => field).sort()).toEqual(nullFields);
    if (which === 'waiting') expect(job['viewerCan']).toMatchObject({ approve: true, cancel: true });
    for (const field of Object.keys(job)) {
      const alone = await suite.server.gql<{ job: Record<string, unknown> }>(bearer, jobQuery(each.get(field)!), { id: ids[which] });
      expect([field, alone.errors]).toEqual([field, undefined]);
      expect(steady(alone.data!.job)).toEqual(steady({ [field]: job[field] }));
    }
  });

  test('jobs: nodes and edges answer every field at once, and each field alone', async () => {
    const whole = await suite.server.gql<{
      jobs: { nodes: Array<Record<string, unknown>>; edges: Array<{ cursor: string; node: Record<string, unknown> }> };
    }>(admin, listQuery(all));
    expect(whole.errors).toBeUndefined();
    const [node] = whole.data!.jobs.nodes;
    expect(node!['id']).toBe(ids.failed);
    expect(whole.data!.jobs.edges[0]!.node).toEqual(node);
    for (const field of Object.keys(node!)) {
      const alone = await suite.server.gql<{
        jobs: { nodes: Array<Record<string, unknown>>; edges: Array<{ cursor: string; node: Record<string, unknown> }> };
      }>(admin, listQuery(each.get(field)!));
      expect([field, alone.errors]).toEqual([field, undefined]);
      expect(alone.data!.jobs.nodes).toEqual([{ [field]: node![field] }]);
      expect(alone.data!.jobs.edges.map((edge) => edge.cursor)).toEqual(whole.data!.jobs.edges.map((edge) => edge.cursor));
    }
  });

  test('fragments, inline fragments and aliases count as asked for', async () => {
    const query = `query($id: ID!) {
      job(id: $id) { ...Head ... on Job { when: createdAt progress { percent } } e: error { message } }
    }
    fragment Head on Job { id name owner: ownerName }`;
    const answer = await suite.server.gql<{ job: Record<string, unknown> }>(admin, query, { id: ids.failed });
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.job).toEqual({
      id: ids.failed,
      name: 'Mask customers',
      owner: 'Alice A.',
      when: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      progress: { percent: 25 },
      e: { message: 'disk full' },
    });
  });
});
