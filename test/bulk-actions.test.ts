import type { JobStatus } from '../src/jobs/job-status';
import { createRole, grant, insertJobs, type JobSeed } from './support/fixtures';
import { type GraphQLResponse, token } from './support/test-server';
import { apiSuite } from './support/api-suite';
import { ALL_STATUSES as ALL, TERMINAL_STATUSES as TERMINAL, ACTIVE_STATUSES as ACTIVE } from './support/domain-statuses';

/**
 * cancelJobs, restartJobs and deleteJobs: a filter picks visible jobs; each one the user may act
 * on and whose status allows it changes exactly once, with one timeline event; the others are
 * reported (FORBIDDEN or CONFLICT) and left alone; invisible jobs do not exist for the action.
 * A dry run answers the same counts and changes nothing.
 */

const suite = apiSuite({
  grants: [
    ['admin', 'admin'],
    ['ops', 'operator', 'acme/payments'],
    ['owen', 'own-jobs'],
    // olga: own-jobs, and sees (without acting on) everything in globex.
    ['olga', 'own-jobs'],
    ['olga', 'viewer', 'globex'],
    ['viewer', 'viewer'],
    ['ops-everywhere', 'operator'],
  ],
});
beforeAll(async () => {
  // blind: may cancel, restart and delete anything, but may view nothing: no job exists for it.
  await createRole(suite.db.pool, 'blind-hands', [{ action: ['cancel', 'restart', 'delete'], subject: ['Job'] }]);
  await grant(suite.db.pool, 'blind', 'blind-hands');
});

beforeEach(async () => {
  await suite.db.pool.query('TRUNCATE jobs, tasks, timeline_events');
});

// ---------------------------------------------------------------------------------------------
// The expected behaviour, stated plainly (from DOMAIN.md), independent of the app's tables

type ActionName = 'cancel' | 'restart' | 'delete';

interface Job {
  id: string;
  name: string;
  scope: string;
  owner: string;
  type: string;
  status: JobStatus;
  requiresApproval: boolean;
  attempt: number;
}

interface ActionModel {
  mutation: 'cancelJobs' | 'restartJobs' | 'deleteJobs';
  from: JobStatus[];
  /** The status after the change; null when the job is gone. */
  to: (job: Job) => JobStatus | null;
  kind: (job: Job) => string;
}

const ACTIONS: Record<ActionName, ActionModel> = {
  cancel: {
    mutation: 'cancelJobs',
    from: ['CREATED', 'PENDING', 'WAITING_APPROVAL', 'RUNNING', 'TRAPPED', 'TRAP_PAUSED', 'ROLLBACK'],
    to: (job) => (['CREATED', 'PENDING', 'WAITING_APPROVAL'].includes(job.status) ? 'CANCELLED' : 'CANCELLING'),
    kind: (job) => (['CREATED', 'PENDING', 'WAITING_APPROVAL'].includes(job.status) ? 'CANCELLED' : 'CANCEL_REQUESTED'),
  },
  restart: {
    mutation: 'restartJobs',
    from: TERMINAL,
    to: (job) => (job.requiresApproval ? 'WAITING_APPROVAL' : 'PENDING'),
    kind: () => 'RESTARTED',
  },
  delete: {
    mutation: 'deleteJobs',
    from: ['CREATED', ...TERMINAL],
    to: () => null,
    kind: () => 'DELETED',
  },
};

const under = (scope: string, root: string) => scope === root || scope.startsWith(`${root}/`);

interface UserModel {
  sees: (job: Job) => boolean;
  may: Record<ActionName, (job: Job) => boolean>;
}
const everything = { cancel: () => true, restart: () => true, delete: () => true };
const nothing = { cancel: () => false, restart: () => false, delete: () => false };
const USERS: Record<string, UserModel> = {
  admin: { sees: () => true, may: everything },
  ops: {
    sees: (job) => under(job.scope, 'acme/payments'),
    may: {
      cancel: (job) => under(job.scope, 'acme/payments'),
      restart: (job) => under(job.scope, 'acme/payments'),
      delete: (job) => under(job.scope, 'acme/payments'),
    },
  },
  // own-jobs: cancels and (DOMAIN.md, Additions) deletes its own jobs.
  owen: {
    sees: (job) => job.owner === 'owen',
    may: { ...nothing, cancel: (job) => job.owner === 'owen', delete: (job) => job.owner === 'owen' },
  },
  olga: {
    sees: (job) => job.owner === 'olga' || under(job.scope, 'globex'),
    may: { ...nothing, cancel: (job) => job.owner === 'olga', delete: (job) => job.owner === 'olga' },
  },
  viewer: { sees: () => true, may: nothing },
  blind: { sees: () => false, may: everything },
};

interface Expected {
  matched: Job[];
  changed: Job[];
  skipped: Array<{ id: string; name: string; status: JobStatus; code: 'FORBIDDEN' | 'CONFLICT' }>;
}

function expected(user: string, action: ActionName, jobs: readonly Job[], filter: (job: Job) => boolean = () => true): Expected {
  const model = USERS[user]!;
  const matched = jobs.filter((job) => model.sees(job) && filter(job));
  const changed = matched.filter((job) => model.may[action](job) && ACTIONS[action].from.includes(job.status));
  const changedIds = new Set(changed.map((job) => job.id));
  const skipped = matched
    .filter((job) => !changedIds.has(job.id))
    .map((job) => ({
      id: job.id,
      name: job.name,
      status: job.status,
      code: model.may[action](job) ? ('CONFLICT' as const) : ('FORBIDDEN' as const),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { matched, changed, skipped };
}

// ---------------------------------------------------------------------------------------------
// Fixtures, operations and database views

async function seed(seeds: JobSeed[]): Promise<Job[]> {
  const inserted = await insertJobs(suite.db.pool, seeds);
  return inserted.map((row) => ({
    id: row.id,
    name: row.name ?? 'A job',
    scope: row.scope ?? 'acme/payments/prod',
    owner: row.owner_id ?? 'alice',
    type: row.type ?? 'import',
    status: row.status ?? 'PENDING',
    requiresApproval: row.requires_approval ?? false,
    attempt: row.attempt ?? 1,
  }));
}

const MATRIX_SCOPES = ['acme/payments', 'acme/payments/prod', 'acme/paymentsx/prod', 'acme/crm', 'globex/shop'];
const MATRIX_OWNERS = ['owen', 'olga', 'alice'];

/** Every status in every scope for every owner (210 jobs); alice's jobs require approval. */
function matrix(): Promise<Job[]> {
  const seeds: JobSeed[] = [];
  for (const scope of MATRIX_SCOPES) {
    for (const owner of MATRIX_OWNERS) {
      for (const status of ALL) {
        seeds.push({
          scope,
          owner_id: owner,
          status,
          type: owner === 'alice' ? 'deployment' : 'import',
          name: `${status} in ${scope} by ${owner}`,
          requires_approval: owner === 'alice',
          attempt: status === 'FAILED' ? 2 : 1,
        });
      }
    }
  }
  return seed(seeds);
}

interface BulkResult {
  dryRun: boolean;
  matched: number;
  changed: number;
  skippedCount: number;
  skipped: Array<{ id: string; name: string; status: JobStatus; code: string; reason: string }>;
}
const RESULT = 'dryRun matched changed skippedCount skipped { id name status code reason }';
const MUTATIONS: Record<ActionName, string> = {
  cancel: `mutation($filter: JobFilter, $dryRun: Boolean, $reason: String) { result: cancelJobs(filter: $filter, dryRun: $dryRun, reason: $reason) { ${RESULT} } }`,
  restart: `mutation($filter: JobFilter, $dryRun: Boolean, $step: JobStep, $runNow: Boolean) {
    result: restartJobs(filter: $filter, dryRun: $dryRun, step: $step, runNow: $runNow) { ${RESULT} } }`,
  delete: `mutation($filter: JobFilter, $dryRun: Boolean) { result: deleteJobs(filter: $filter, dryRun: $dryRun) { ${RESULT} } }`,
};

async function bulk(user: string, action: ActionName, variables: Record<string, unknown> = {}): Promise<BulkResult> {
  const response: GraphQLResponse<{ result: BulkResult }> = await suite.server.gql<{ result: BulkResult }>(
    await token(user),
    MUTATIONS[action],
    variables,
  );
  expect(response.errors).toBeUndefined();
  return response.data!.result;
}

type JobRow = Record<string, unknown> & { id: string; status: JobStatus; attempt: number };

/** The whole jobs table by id, and how many timeline events exist. */
async function snapshot() {
  const jobs = await suite.db.pool.query<JobRow>('SELECT * FROM jobs ORDER BY id');
  const events = await suite.db.pool.query<{ count: number; max: string | null }>(
    'SELECT count(*)::int AS count, max(id)::text AS max FROM timeline_events',
  );
  return { jobs: new Map(jobs.rows.map((row) => [row.id, row])), events: events.rows[0]!.count, lastEvent: events.rows[0]!.max ?? '0' };
}

interface EventRow {
  job_id: string;
  kind: string;
  actor_id: string | null;
  actor_kind: string;
  from_status: string | null;
  to_status: string | null;
  attempt: number | null;
  step: string | null;
  message: string | null;
  data: unknown;
  job_scope: string;
  job_type: string;
  job_owner_id: string;
}

async function eventsAfter(lastEvent: string): Promise<EventRow[]> {
  const { rows } = await suite.db.pool.query<EventRow>(
    `SELECT job_id, kind, actor_id, actor_kind, from_status, to_status, attempt, step, message, data, job_scope, job_type, job_owner_id
       FROM timeline_events WHERE id > $1::bigint ORDER BY id`,
    [lastEvent],
  );
  return rows;
}

/** The answer's counts and skip report agree with the model (the first 100 skips, by id). */
function expectResult(result: BulkResult, want: Expected, action: ActionName, dryRun: boolean): void {
  expect({ dryRun: result.dryRun, matched: result.matched, changed: result.changed, skippedCount: result.skippedCount }).toEqual({
    dryRun,
    matched: want.matched.length,
    changed: want.changed.length,
    skippedCount: want.skipped.length,
  });
  expect(result.skipped.map(({ id, name, status, code }) => ({ id, name, status, code }))).toEqual(want.skipped.slice(0, 100));
  const verb = action;
  for (const skip of result.skipped) {
    if (skip.code === 'FORBIDDEN') expect(skip.reason).toContain(`may not ${verb}`);
    else expect(skip.reason).toContain(`Cannot ${verb} a job that is ${skip.status}`);
  }
}

/**
 * After a real run: the changed jobs are exactly as the action leaves them, every other job is
 * byte for byte as it was, and there is exactly one right event per changed job.
 */
async function expectApplied(
  before: Awaited<ReturnType<typeof snapshot>>,
  want: Expected,
  user: string,
  action: ActionName,
  extra: { reason?: string | null; step?: string } = {},
): Promise<void> {
  const after = await snapshot();
  const changed = new Map(want.changed.map((job) => [job.id, job]));
  const model = ACTIONS[action];
  for (const [id, row] of before.jobs) {
    const job = changed.get(id);
    const now = after.jobs.get(id);
    if (job === undefined) {
      expect([id, now]).toEqual([id, row]);
      continue;
    }
    const to = model.to(job);
    if (to === null) {
      expect([id, now]).toEqual([id, undefined]);
      continue;
    }
    expect(now).toBeDefined();
    if (action === 'cancel') {
      expect([id, now!.status, now!.attempt, now!['cancel_requested_by']]).toEqual([id, to, row.attempt, user]);
      expect(now!['cancel_requested_at']).toBeInstanceOf(Date);
      expect(now!['finished_at'] instanceof Date).toBe(to === 'CANCELLED');
    } else {
      expect([id, now!.status, now!.attempt, now!['step'], now!['finished_at'], now!['started_at']]).toEqual([
        id,
        to,
        row.attempt + 1,
        extra.step ?? 'PRE',
        null,
        null,
      ]);
    }
  }
  expect(after.jobs.size).toBe(before.jobs.size - (action === 'delete' ? want.changed.length : 0));

  const events = await eventsAfter(before.lastEvent);
  expect(events).toHaveLength(want.changed.length);
  expect(new Set(events.map((event) => event.job_id)).size).toBe(events.length);
  for (const event of events) {
    const job = changed.get(event.job_id);
    expect(job).toBeDefined();
    const row = before.jobs.get(event.job_id)!;
    expect(event).toMatchObject({
      kind: model.kind(job!),
      actor_id: user,
      actor_kind: 'USER',
      from_status: job!.status,
      to_status: model.to(job!),
      attempt: action === 'restart' ? row.attempt + 1 : row.attempt,
      job_scope: job!.scope,
      job_type: job!.type,
      job_owner_id: job!.owner,
      ...(action === 'cancel' ? { message: extra.reason ?? null } : {}),
    });
  }
}

/** Runs the action dry (nothing may change), then for real, checking both against the model. */
async function dryThenReal(
  user: string,
  action: ActionName,
  jobs: Job[],
  filter: Record<string, unknown> | null,
  keep: (job: Job) => boolean,
) {
  const want = expected(user, action, jobs, keep);
  const before = await snapshot();
  const dry = await bulk(user, action, { filter, dryRun: true });
  expectResult(dry, want, action, true);
  const untouched = await snapshot();
  expect(untouched.jobs).toEqual(before.jobs);
  expect(untouched.events).toBe(before.events);

  const real = await bulk(user, action, { filter, dryRun: false });
  expectResult(real, want, action, false);
  await expectApplied(before, want, user, action);
  return { want, dry, real };
}

// ---------------------------------------------------------------------------------------------

test('the matrix gives every user and action a different mix of changes, FORBIDDEN and CONFLICT skips', async () => {
  const jobs = await matrix();
  expect(jobs).toHaveLength(210);
  for (const action of Object.keys(ACTIONS) as ActionName[]) {
    for (const user of Object.keys(USERS).filter((name) => name !== 'blind')) {
      const want = expected(user, action, jobs);
      expect([action, user, want.matched.length > 0]).toEqual([action, user, true]);
    }
  }
  // Sanity of the model: someone can, someone is forbidden, someone conflicts.
  expect(expected('olga', 'cancel', jobs).skipped.some((skip) => skip.code === 'FORBIDDEN')).toBe(true);
  expect(expected('olga', 'cancel', jobs).skipped.some((skip) => skip.code === 'CONFLICT')).toBe(true);
  expect(expected('olga', 'cancel', jobs).changed.length).toBeGreaterThan(0);
});

describe.each(Object.keys(ACTIONS) as ActionName[])('%sJobs over every visible job', (action) => {
  test.each(Object.keys(USERS))('as %s: a dry run changes nothing; the real run changes exactly what it may', async (user) => {
    const jobs = await matrix();
    const { want } = await dryThenReal(user, action, jobs, null, () => true);
    // Invisible jobs are neither counted, nor reported, nor touched.
    const invisible = jobs.filter((job) => !USERS[user]!.sees(job)).map((job) => job.id);
    const reported = new Set(want.skipped.map((skip) => skip.id));
    expect(invisible.filter((id) => reported.has(id))).toEqual([]);
    if (user === 'viewer') expect(want.changed).toEqual([]);
    if (user === 'blind') expect(want.matched).toEqual([]);
  });
});

describe('filters combine with visibility', () => {
  test('an operator scoped to acme/payments cancelling { tab: ACTIVE } touches nothing outside its scope', async () => {
    const jobs = await matrix();
    const { want, real } = await dryThenReal('ops', 'cancel', jobs, { tab: 'ACTIVE' }, (job) => ACTIVE.includes(job.status));
    // 2 scopes x 3 owners x 7 active statuses match; CANCELLING cannot be cancelled again.
    expect(real.matched).toBe(2 * 3 * 7);
    expect(real.changed).toBe(2 * 3 * 6);
    expect(real.skipped.map((skip) => [skip.status, skip.code])).toEqual(Array.from({ length: 6 }, () => ['CANCELLING', 'CONFLICT']));
    const { rows } = await suite.db.pool.query<{ scope: string; changed: number }>(
      `SELECT scope, count(*) FILTER (WHERE cancel_requested_by IS NOT NULL)::int AS changed FROM jobs GROUP BY scope ORDER BY scope`,
    );
    expect(rows).toEqual([
      { scope: 'acme/crm', changed: 0 },
      { scope: 'acme/payments', changed: 18 },
      { scope: 'acme/payments/prod', changed: 18 },
      { scope: 'acme/paymentsx/prod', changed: 0 },
      { scope: 'globex/shop', changed: 0 },
    ]);
    const { rows: events } = await suite.db.pool.query<{ job_scope: string }>(
      `SELECT DISTINCT job_scope FROM timeline_events ORDER BY job_scope`,
    );
    expect(events.map((event) => event.job_scope)).toEqual(['acme/payments', 'acme/payments/prod']);
    expect(want.changed.every((job) => under(job.scope, 'acme/payments'))).toBe(true);
  });

  test("own-jobs with a viewer grant: others' visible jobs are FORBIDDEN, its own are cancelled", async () => {
    const jobs = await matrix();
    const { real } = await dryThenReal(
      'olga',
      'cancel',
      jobs,
      { scope: 'globex', statuses: ['PENDING', 'RUNNING', 'SUCCEEDED'] },
      (job) => under(job.scope, 'globex') && ['PENDING', 'RUNNING', 'SUCCEEDED'].includes(job.status),
    );
    expect({ matched: real.matched, changed: real.changed, skippedCount: real.skippedCount }).toEqual({
      matched: 9,
      changed: 2,
      skippedCount: 7,
    });
    expect(real.skipped.filter((skip) => skip.code === 'FORBIDDEN')).toHaveLength(6);
    expect(real.skipped.filter((skip) => skip.code === 'CONFLICT').map((skip) => skip.status)).toEqual(['SUCCEEDED']);
  });

  test('a filter naming only invisible jobs matches nothing and touches nothing', async () => {
    const jobs = await matrix();
    for (const action of Object.keys(ACTIONS) as ActionName[]) {
      const { real } = await dryThenReal(
        'owen',
        action,
        jobs,
        { owners: ['alice', 'olga'] },
        (job) => job.owner === 'alice' || job.owner === 'olga',
      );
      expect(real).toEqual({ dryRun: false, matched: 0, changed: 0, skippedCount: 0, skipped: [] });
      const scoped = await dryThenReal('ops', action, jobs, { scope: 'acme/paymentsx' }, (job) => under(job.scope, 'acme/paymentsx'));
      expect(scoped.real).toEqual({ dryRun: false, matched: 0, changed: 0, skippedCount: 0, skipped: [] });
    }
    expect((await snapshot()).events).toBe(0);
  });

  test('running the same bulk action twice changes nothing the second time', async () => {
    const jobs = await matrix();
    await dryThenReal('admin', 'cancel', jobs, { scope: 'acme/crm' }, (job) => job.scope === 'acme/crm');
    const before = await snapshot();
    const again = await bulk('admin', 'cancel', { filter: { scope: 'acme/crm' } });
    expect(again.changed).toBe(0);
    expect(again.matched).toBe(42);
    expect(again.skipped.every((skip) => skip.code === 'CONFLICT')).toBe(true);
    const after = await snapshot();
    expect(after.jobs).toEqual(before.jobs);
    expect(after.events).toBe(before.events);
  });
});

describe('arguments', () => {
  test('cancelJobs keeps the reason in every event; dryRun omitted means a real run', async () => {
    const jobs = await seed([
      { scope: 'acme/payments', status: 'PENDING', name: 'queued' },
      { scope: 'acme/payments', status: 'RUNNING', name: 'running' },
      { scope: 'acme/payments', status: 'SUCCEEDED', name: 'done' },
    ]);
    const before = await snapshot();
    const result = await bulk('admin', 'cancel', { filter: { scope: 'acme' }, reason: 'maintenance window' });
    const want = expected('admin', 'cancel', jobs);
    expectResult(result, want, 'cancel', false);
    await expectApplied(before, want, 'admin', 'cancel', { reason: 'maintenance window' });
  });

  test('a reason over 1000 characters is BAD_USER_INPUT and nothing changes', async () => {
    await seed([{ status: 'PENDING' }, { status: 'RUNNING' }]);
    const before = await snapshot();
    const response = await suite.server.gql(await token('admin'), MUTATIONS.cancel, { reason: 'x'.repeat(1001) });
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toContain('reason');
    const after = await snapshot();
    expect(after.jobs).toEqual(before.jobs);
    expect(after.events).toBe(before.events);
  });

  test('restartJobs from a step with runNow: the step, the schedule and the event data follow', async () => {
    const scheduledAt = new Date(Date.now() + 3_600_000);
    const jobs = await seed([
      { scope: 'acme/crm', status: 'FAILED', name: 'failed', attempt: 3 },
      { scope: 'acme/crm', status: 'EXPIRED', name: 'expired', requires_approval: true },
      { scope: 'acme/crm', status: 'RUNNING', name: 'running' },
    ]);
    await suite.db.pool.query('UPDATE jobs SET scheduled_at = $1', [scheduledAt]);
    const before = await snapshot();
    const result = await bulk('admin', 'restart', { filter: { scope: 'acme/crm' }, step: 'RUN', runNow: true });
    const want = expected('admin', 'restart', jobs);
    expectResult(result, want, 'restart', false);
    await expectApplied(before, want, 'admin', 'restart', { step: 'RUN' });
    const { rows } = await suite.db.pool.query<{ name: string; status: string; attempt: number; step: string; scheduled_at: Date | null }>(
      'SELECT name, status, attempt, step, scheduled_at FROM jobs ORDER BY name',
    );
    expect(rows).toEqual([
      { name: 'expired', status: 'WAITING_APPROVAL', attempt: 2, step: 'RUN', scheduled_at: null },
      { name: 'failed', status: 'PENDING', attempt: 4, step: 'RUN', scheduled_at: null },
      { name: 'running', status: 'RUNNING', attempt: 1, step: 'PRE', scheduled_at: scheduledAt },
    ]);
    const events = await eventsAfter('0');
    expect(events.map((event) => event.data)).toEqual([
      { step: 'RUN', runNow: true, newSecrets: false },
      { step: 'RUN', runNow: true, newSecrets: false },
    ]);
  });

  test('deleteJobs leaves a DELETED tombstone per deleted job, readable after the row is gone', async () => {
    const jobs = await seed([
      { scope: 'acme/payments', status: 'CREATED', name: 'never started', owner_id: 'bob', type: 'masking' },
      { scope: 'acme/payments', status: 'CANCELLED', name: 'cancelled' },
      { scope: 'acme/payments', status: 'PENDING', name: 'queued' },
    ]);
    const { want } = await dryThenReal('ops', 'delete', jobs, { scope: 'acme/payments' }, () => true);
    expect(want.changed).toHaveLength(2);
    const { rows } = await suite.db.pool.query(
      `SELECT job_id, kind, from_status, to_status, actor_id, job_scope, job_type, job_owner_id FROM timeline_events ORDER BY job_id`,
    );
    expect(rows).toEqual(
      want.changed
        .map((job) => ({
          job_id: job.id,
          kind: 'DELETED',
          from_status: job.status,
          to_status: null,
          actor_id: 'ops',
          job_scope: job.scope,
          job_type: job.type,
          job_owner_id: job.owner,
        }))
        .sort((a, b) => (a.job_id < b.job_id ? -1 : 1)),
    );
    const { rows: left } = await suite.db.pool.query<{ name: string }>('SELECT name FROM jobs');
    expect(left.map((row) => row.name)).toEqual(['queued']);
  });
});

describe('more than one batch (500 jobs per batch)', () => {
  test('restartJobs over 1,200 failed jobs restarts each exactly once; 150 running ones are CONFLICT', async () => {
    const seeds: JobSeed[] = [
      ...Array.from({ length: 1200 }, (_, i): JobSeed => ({ scope: `bulk/big/${i % 7}`, status: 'FAILED', name: `failed ${i}` })),
      ...Array.from({ length: 150 }, (_, i): JobSeed => ({ scope: 'bulk/big', status: 'RUNNING', name: `running ${i}` })),
      ...Array.from({ length: 100 }, (_, i): JobSeed => ({ scope: 'bulk/bigger', status: 'FAILED', name: `elsewhere ${i}` })),
    ];
    const jobs = await seed(seeds);
    const keep = (job: Job) => under(job.scope, 'bulk/big');
    const { want, real } = await dryThenReal('admin', 'restart', jobs, { scope: 'bulk/big' }, keep);
    expect({ matched: real.matched, changed: real.changed, skippedCount: real.skippedCount }).toEqual({
      matched: 1350,
      changed: 1200,
      skippedCount: 150,
    });
    expect(real.skipped).toHaveLength(100);
    expect(want.changed).toHaveLength(1200);

    const { rows } = await suite.db.pool.query<{ status: string; attempt: number; count: number }>(
      `SELECT status, attempt, count(*)::int AS count FROM jobs GROUP BY status, attempt ORDER BY status, attempt`,
    );
    expect(rows).toEqual([
      { status: 'FAILED', attempt: 1, count: 100 },
      { status: 'PENDING', attempt: 2, count: 1200 },
      { status: 'RUNNING', attempt: 1, count: 150 },
    ]);
    const { rows: perJob } = await suite.db.pool.query<{ events: number; jobs: number }>(
      `SELECT count(*)::int AS events, count(DISTINCT job_id)::int AS jobs FROM timeline_events WHERE kind = 'RESTARTED'`,
    );
    expect(perJob).toEqual([{ events: 1200, jobs: 1200 }]);
  });

  test('deleteJobs over 1,200 visible jobs deletes each once, beside 300 invisible ones it never counts', async () => {
    const seeds: JobSeed[] = [
      ...Array.from({ length: 1200 }, (_, i): JobSeed => ({
        scope: 'acme/payments/batch',
        status: i % 2 === 0 ? 'SUCCEEDED' : 'CREATED',
        name: `old ${i}`,
      })),
      ...Array.from({ length: 300 }, (_, i): JobSeed => ({ scope: 'acme/paymentsx/batch', status: 'SUCCEEDED', name: `invisible ${i}` })),
    ];
    const jobs = await seed(seeds);
    const { real } = await dryThenReal('ops', 'delete', jobs, { tab: 'ALL' }, () => true);
    expect({ matched: real.matched, changed: real.changed, skippedCount: real.skippedCount, skipped: real.skipped }).toEqual({
      matched: 1200,
      changed: 1200,
      skippedCount: 0,
      skipped: [],
    });
    const { rows } = await suite.db.pool.query<{ scope: string; count: number }>(
      `SELECT scope, count(*)::int AS count FROM jobs GROUP BY scope`,
    );
    expect(rows).toEqual([{ scope: 'acme/paymentsx/batch', count: 300 }]);
    const { rows: tombstones } = await suite.db.pool.query<{ events: number; jobs: number }>(
      `SELECT count(*)::int AS events, count(DISTINCT job_id)::int AS jobs FROM timeline_events WHERE kind = 'DELETED' AND actor_id = 'ops'`,
    );
    expect(tombstones).toEqual([{ events: 1200, jobs: 1200 }]);
  });
});

describe('concurrent bulk actions', () => {
  test('two concurrent cancelJobs over the same 1,200 jobs: each job changes exactly once, with one event', async () => {
    await seed(
      Array.from({ length: 1200 }, (_, i): JobSeed => ({
        scope: 'acme/race',
        status: i % 3 === 0 ? 'RUNNING' : 'PENDING',
        name: `race ${i}`,
      })),
    );
    const [a, b] = await Promise.all([
      bulk('admin', 'cancel', { filter: { scope: 'acme/race' }, reason: 'a' }),
      bulk('ops-everywhere', 'cancel', { filter: { scope: 'acme/race' }, reason: 'b' }),
    ]);
    // Every job was cancelled by exactly one of the two, with one event.
    expect(a.changed + b.changed).toBe(1200);
    const { rows } = await suite.db.pool.query<{ events: number; jobs: number }>(
      `SELECT count(*)::int AS events, count(DISTINCT job_id)::int AS jobs FROM timeline_events`,
    );
    expect(rows).toEqual([{ events: 1200, jobs: 1200 }]);
    const { rows: byActor } = await suite.db.pool.query<{ actor: string; count: number }>(
      `SELECT cancel_requested_by AS actor, count(*)::int AS count FROM jobs GROUP BY 1 ORDER BY 1`,
    );
    expect(byActor.map((row) => [row.actor, row.count])).toEqual(
      [
        ['admin', a.changed],
        ['ops-everywhere', b.changed],
      ].filter(([, count]) => count !== 0),
    );
    for (const result of [a, b]) expect(result.matched).toBe(1200);
  });

  test('a job changed by someone else while a bulk action runs is reported as skipped (changed + skippedCount = matched)', async () => {
    const jobs = await seed(
      Array.from({ length: 1200 }, (_, i): JobSeed => ({ scope: 'acme/lost', status: 'PENDING', name: `lost ${i}` })),
    );
    const ids = jobs.map((job) => job.id).sort();
    const first = ids[0]!;
    const late = ids[ids.length - 1]!; // in the last batch
    // Hold the first job so that the bulk run, once past its counts, waits in its first batch.
    const holder = await suite.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [first]);
      const running = bulk('admin', 'cancel', { filter: { scope: 'acme/lost' } });
      await waitForLockWait();
      // Meanwhile someone cancels a job of a later batch, through the API.
      const single = await suite.server.gql<{ cancelJob: { status: string } }>(
        await token('ops-everywhere'),
        'mutation($id: ID!) { cancelJob(id: $id) { status } }',
        { id: late },
      );
      expect(single.data?.cancelJob.status).toBe('CANCELLED');
      await holder.query('COMMIT');
      const result = await running;
      expect(result.matched).toBe(1200);
      expect(result.changed).toBe(1199);
      // The job the run did not change is accounted for, and named, as a skip.
      expect({ skippedCount: result.skippedCount, skipped: result.skipped.map((skip) => [skip.id, skip.code]) }).toEqual({
        skippedCount: 1,
        skipped: [[late, 'CONFLICT']],
      });
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
    const { rows } = await suite.db.pool.query<{ actor: string; count: number }>(
      `SELECT actor_id AS actor, count(*)::int AS count FROM timeline_events GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { actor: 'admin', count: 1199 },
      { actor: 'ops-everywhere', count: 1 },
    ]);
  });
});

/**
 * Waits (with a deadline) until a backend of this database waits on a row lock. The bulk run
 * first counts its 1,200 jobs: on a busy machine that alone can take seconds.
 */
async function waitForLockWait(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await suite.db.pool.query<{ waiting: number }>(
      `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0]!.waiting > 0) return;
    if (Date.now() > deadline) throw new Error('the bulk action never waited on the held row');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
