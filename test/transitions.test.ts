import type { JobStatus } from '../src/jobs/job-status';
import { insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { ALL_STATUSES as ALL, TERMINAL_STATUSES as TERMINAL } from './support/domain-statuses';

/**
 * Every person-driven transition of DOMAIN.md, tried from every status. The table below is
 * DOMAIN.md's, restated here on purpose (not imported from the code): a legal call reaches its
 * target and writes one event; anything else is CONFLICT and leaves the row exactly as it was.
 */

/** mutation → (status → target). Targets depending on requiresApproval are given for false. */
const DOMAIN_TABLE: Record<string, { call: (id: string) => string; from: Partial<Record<JobStatus, JobStatus | 'gone'>> }> = {
  startJob: { call: (id) => `startJob(id: "${id}") { status }`, from: { CREATED: 'PENDING' } },
  approveJob: { call: (id) => `approveJob(id: "${id}") { status }`, from: { WAITING_APPROVAL: 'PENDING' } },
  rejectJob: { call: (id) => `rejectJob(id: "${id}") { status }`, from: { WAITING_APPROVAL: 'REJECTED' } },
  rescheduleJob: {
    call: (id) => `rescheduleJob(id: "${id}", scheduledAt: "2099-01-01T00:00:00Z") { status }`,
    from: { PENDING: 'PENDING', WAITING_APPROVAL: 'WAITING_APPROVAL', REJECTED: 'PENDING', EXPIRED: 'PENDING' },
  },
  cancelJob: {
    call: (id) => `cancelJob(id: "${id}") { status }`,
    from: {
      CREATED: 'CANCELLED',
      PENDING: 'CANCELLED',
      WAITING_APPROVAL: 'CANCELLED',
      RUNNING: 'CANCELLING',
      TRAPPED: 'CANCELLING',
      TRAP_PAUSED: 'CANCELLING',
      ROLLBACK: 'CANCELLING',
    },
  },
  pauseTrap: { call: (id) => `pauseTrap(id: "${id}") { status }`, from: { TRAPPED: 'TRAP_PAUSED' } },
  'resolveTrap RETRY': {
    call: (id) => `resolveTrap(id: "${id}", decision: RETRY) { status }`,
    from: { TRAPPED: 'RUNNING', TRAP_PAUSED: 'RUNNING' },
  },
  'resolveTrap SKIP': {
    call: (id) => `resolveTrap(id: "${id}", decision: SKIP) { status }`,
    from: { TRAPPED: 'RUNNING', TRAP_PAUSED: 'RUNNING' },
  },
  'resolveTrap ABORT': {
    call: (id) => `resolveTrap(id: "${id}", decision: ABORT) { status }`,
    from: { TRAPPED: 'FAILED', TRAP_PAUSED: 'FAILED' },
  },
  restartJob: { call: (id) => `restartJob(id: "${id}") { status }`, from: Object.fromEntries(TERMINAL.map((s) => [s, 'PENDING'])) },
  deleteJob: {
    call: (id) => `deleteJob(id: "${id}")`,
    from: Object.fromEntries(['CREATED', ...TERMINAL].map((s) => [s, 'gone'])),
  },
};

const suite = apiSuite({ grants: [['admin', 'admin']] });

async function snapshot(id: string) {
  const job = await suite.db.pool.query('SELECT * FROM jobs WHERE id = $1', [id]);
  const events = await suite.db.pool.query('SELECT kind, from_status, to_status FROM timeline_events WHERE job_id = $1 ORDER BY id', [id]);
  return { job: job.rows[0] as Record<string, unknown> | undefined, events: events.rows };
}

const CELLS = Object.keys(DOMAIN_TABLE).flatMap((mutation) => ALL.map((status) => [mutation, status] as const));

test.each(CELLS)('%s from %s', async (mutation, status) => {
  const spec = DOMAIN_TABLE[mutation]!;
  const [job] = await insertJobs(suite.db.pool, [{ status, approvers: ['admin'] }]);
  const before = await snapshot(job!.id);
  const response = await suite.server.gql<Record<string, { status: string } | string>>(suite.admin, `mutation { ${spec.call(job!.id)} }`);
  const after = await snapshot(job!.id);
  const target = spec.from[status];
  if (target === undefined) {
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', status });
    expect(response.errors?.[0]?.message).toContain(status);
    expect(after).toEqual(before);
  } else if (target === 'gone') {
    expect(response.errors).toBeUndefined();
    expect(after.job).toBeUndefined();
    expect(after.events).toEqual([{ kind: 'DELETED', from_status: status, to_status: null }]);
  } else {
    expect(response.errors).toBeUndefined();
    expect(after.job?.['status']).toBe(target);
    expect(after.events).toHaveLength(1);
    expect(after.events[0]).toMatchObject({ from_status: status, to_status: target });
  }
});

test('every legal cell was exercised: the table is not empty', () => {
  const legal = CELLS.filter(([mutation, status]) => DOMAIN_TABLE[mutation]!.from[status] !== undefined);
  expect(legal.length).toBe(1 + 1 + 1 + 4 + 7 + 1 + 2 + 2 + 2 + 6 + 7);
});

describe('what transitions imply', () => {
  test('entering a terminal status stamps finishedAt and destroys the secrets', async () => {
    const created = await suite.server.gql<{ createJob: { id: string; hasSecrets: boolean } }>(
      suite.admin,
      'mutation { createJob(input: { name: "with secrets", type: "import", scope: "acme", secrets: { token: "s3cr3t" } }) { id hasSecrets } }',
    );
    const id = created.data!.createJob.id;
    expect(created.data!.createJob.hasSecrets).toBe(true);
    const cancelled = await suite.server.gql<{ cancelJob: { status: string; hasSecrets: boolean; finishedAt: string | null } }>(
      suite.admin,
      `mutation { cancelJob(id: "${id}") { status hasSecrets finishedAt } }`,
    );
    expect(cancelled.data?.cancelJob).toMatchObject({ status: 'CANCELLED', hasSecrets: false });
    expect(cancelled.data?.cancelJob.finishedAt).not.toBeNull();
    const { rows } = await suite.db.pool.query('SELECT secrets, finished_at FROM jobs WHERE id = $1', [id]);
    expect(rows[0]).toMatchObject({ secrets: null });
  });

  test('restart starts a new attempt from the step, clears the last run, and reruns every later step', async () => {
    const [job] = await insertJobs(suite.db.pool, [
      {
        status: 'FAILED',
        step: 'RUN',
        attempt: 1,
        started_at: new Date(Date.now() - 90_000),
        finished_at: new Date(Date.now() - 30_000),
        progress_done: 40,
        progress_total: 100,
        progress_percent: 40,
        message: 'boom',
      },
    ]);
    await suite.db.pool.query(`INSERT INTO tasks (job_id, name, status, done, total) VALUES ($1, 'customers', 'FAILED', 5, 10)`, [job!.id]);
    const response = await suite.server.gql<{ restartJob: Record<string, unknown> }>(
      suite.admin,
      `mutation { restartJob(id: "${job!.id}", step: RUN, runNow: true) {
        status step attempt startedAt finishedAt previousRunDuration message progress { done percent } tasks { name } } }`,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.restartJob).toMatchObject({
      status: 'PENDING',
      step: 'RUN',
      attempt: 2,
      startedAt: null,
      finishedAt: null,
      message: null,
      progress: { done: 0, percent: null },
      tasks: [],
    });
    expect(response.data?.restartJob['previousRunDuration']).toBeCloseTo(60, 0);
    const { rows } = await suite.db.pool.query(`SELECT kind, attempt, data FROM timeline_events WHERE job_id = $1`, [job!.id]);
    expect(rows).toEqual([{ kind: 'RESTARTED', attempt: 2, data: { step: 'RUN', runNow: true, newSecrets: false } }]);
  });

  test('a job that requires approval waits for it again after a restart or a reschedule of a rejection', async () => {
    const [failed, rejected] = await insertJobs(suite.db.pool, [
      { status: 'FAILED', requires_approval: true },
      { status: 'REJECTED', requires_approval: true },
    ]);
    const restart = await suite.server.gql<{ restartJob: { status: string } }>(
      suite.admin,
      `mutation { restartJob(id: "${failed!.id}") { status } }`,
    );
    expect(restart.data?.restartJob.status).toBe('WAITING_APPROVAL');
    const reschedule = await suite.server.gql<{ rescheduleJob: { status: string } }>(
      suite.admin,
      `mutation { rescheduleJob(id: "${rejected!.id}", scheduledAt: "2099-01-01T00:00:00Z") { status } }`,
    );
    expect(reschedule.data?.rescheduleJob.status).toBe('WAITING_APPROVAL');
  });

  test('reschedule refuses the past and a schedule past maxStartAt, and changes nothing', async () => {
    const [job] = await insertJobs(suite.db.pool, [{ status: 'PENDING' }]);
    await suite.db.pool.query(`UPDATE jobs SET max_start_at = '2099-06-01T00:00:00Z' WHERE id = $1`, [job!.id]);
    const before = await snapshot(job!.id);
    for (const [args, field] of [
      ['scheduledAt: "2001-01-01T00:00:00Z"', 'scheduledAt'],
      ['scheduledAt: "2099-07-01T00:00:00Z"', 'scheduledAt'],
      ['scheduledAt: "2099-01-01T00:00:00Z", maxStartAt: "2098-01-01T00:00:00Z"', 'maxStartAt'],
    ] as const) {
      const response = await suite.server.gql(suite.admin, `mutation { rescheduleJob(id: "${job!.id}", ${args}) { status } }`);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await snapshot(job!.id)).toEqual(before);
    const ok = await suite.server.gql<{ rescheduleJob: { scheduledAt: string; maxStartAt: string } }>(
      suite.admin,
      `mutation { rescheduleJob(id: "${job!.id}", scheduledAt: "2099-07-01T00:00:00Z", maxStartAt: "2099-08-01T00:00:00Z") { scheduledAt maxStartAt } }`,
    );
    expect(ok.data?.rescheduleJob).toEqual({ scheduledAt: '2099-07-01T00:00:00.000Z', maxStartAt: '2099-08-01T00:00:00.000Z' });
  });

  test('an unknown or malformed id is NOT_FOUND or BAD_USER_INPUT for every action', async () => {
    for (const spec of Object.values(DOMAIN_TABLE)) {
      const unknown = await suite.server.gql(suite.admin, `mutation { ${spec.call('00000000-0000-4000-8000-00000000beef')} }`);
      expect(unknown.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
      const malformed = await suite.server.gql(suite.admin, `mutation { ${spec.call('beef')} }`);
      expect(malformed.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    }
  });

  test('the deleted job keeps its history, ending in a tombstone with who and when', async () => {
    const created = await suite.server.gql<{ createJob: { id: string } }>(
      suite.admin,
      'mutation { createJob(input: { name: "to delete", type: "import", scope: "acme", start: false }) { id } }',
    );
    const id = created.data!.createJob.id;
    await suite.server.gql(suite.admin, `mutation { deleteJob(id: "${id}") }`);
    const { rows } = await suite.db.pool.query(
      `SELECT kind, actor_id, job_scope, job_type, job_owner_id FROM timeline_events WHERE job_id = $1 ORDER BY id`,
      [id],
    );
    expect(rows).toEqual([
      { kind: 'CREATED', actor_id: 'admin', job_scope: 'acme', job_type: 'import', job_owner_id: 'admin' },
      { kind: 'DELETED', actor_id: 'admin', job_scope: 'acme', job_type: 'import', job_owner_id: 'admin' },
    ]);
  });
});

describe('deadlines', () => {
  test('a maxStartAt already past is refused even when it is after scheduledAt (which may lag now by the skew allowance)', async () => {
    const [job] = await insertJobs(suite.db.pool, [{ status: 'PENDING' }]);
    const before = await snapshot(job!.id);
    const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
    const reschedule = (scheduledAt: string, maxStartAt: string) =>
      suite.server.gql<{ rescheduleJob: { scheduledAt: string; maxStartAt: string } }>(
        suite.admin,
        'mutation($id: ID!, $s: DateTime!, $m: DateTime) { rescheduleJob(id: $id, scheduledAt: $s, maxStartAt: $m) { scheduledAt maxStartAt } }',
        { id: job!.id, s: scheduledAt, m: maxStartAt },
      );
    for (const maxStartAt of [ago(10), ago(0.001)]) {
      const refused = await reschedule(ago(30), maxStartAt);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'maxStartAt' });
      expect(refused.errors?.[0]?.message).toContain('future');
    }
    expect(await snapshot(job!.id)).toEqual(before);
    // The same lagging scheduledAt with a deadline ahead is fine.
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const ok = await reschedule(ago(30), later);
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.rescheduleJob.maxStartAt).toBe(later);
  });
});

describe('reasons and comments are kept in the timeline event, and bounded', () => {
  const eventsOf = async (id: string) =>
    (
      await suite.db.pool.query(
        'SELECT kind, actor_id, from_status, to_status, message FROM timeline_events WHERE job_id = $1 ORDER BY id',
        [id],
      )
    ).rows;

  test.each([
    ['approveJob', 'comment', 'WAITING_APPROVAL', 'APPROVED', 'PENDING'],
    ['rejectJob', 'comment', 'WAITING_APPROVAL', 'REJECTED', 'REJECTED'],
    ['cancelJob', 'reason', 'PENDING', 'CANCELLED', 'CANCELLED'],
    ['cancelJob', 'reason', 'RUNNING', 'CANCEL_REQUESTED', 'CANCELLING'],
  ] as const)('%s keeps its %s (from %s) as the message of its %s event', async (mutation, argument, from, kind, to) => {
    const [job] = await insertJobs(suite.db.pool, [{ status: from, approvers: ['admin'], requires_approval: from === 'WAITING_APPROVAL' }]);
    const text = `${mutation}: "quoted", multi\nline, ünïcödé ✓ ${'x'.repeat(900)}`;
    const response = await suite.server.gql(
      suite.admin,
      `mutation($id: ID!, $text: String) { ${mutation}(id: $id, ${argument}: $text) { status } }`,
      {
        id: job!.id,
        text,
      },
    );
    expect(response.errors).toBeUndefined();
    expect(await eventsOf(job!.id)).toEqual([{ kind, actor_id: 'admin', from_status: from, to_status: to, message: text }]);
  });

  test.each([
    ['approveJob', 'comment', 'WAITING_APPROVAL'],
    ['rejectJob', 'comment', 'WAITING_APPROVAL'],
    ['cancelJob', 'reason', 'PENDING'],
  ] as const)(
    '%s: a %s of exactly 1000 characters is kept; 1001 or 400 KB is BAD_USER_INPUT naming it, and nothing changes',
    async (mutation, argument, from) => {
      const call = (id: string, text: string) =>
        suite.server.gql(suite.admin, `mutation($id: ID!, $text: String) { ${mutation}(id: $id, ${argument}: $text) { status } }`, {
          id,
          text,
        });
      const [job, other] = await insertJobs(suite.db.pool, [
        { status: from, approvers: ['admin'], requires_approval: true },
        { status: from, approvers: ['admin'], requires_approval: true },
      ]);
      const before = await snapshot(job!.id);
      for (const text of ['y'.repeat(1001), 'z'.repeat(400 * 1024)]) {
        const refused = await call(job!.id, text);
        expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: argument });
        expect(refused.errors?.[0]?.message).toBe(`${argument} must be at most 1000 characters`);
      }
      expect(await snapshot(job!.id)).toEqual(before);
      expect((await call(other!.id, 'k'.repeat(1000))).errors).toBeUndefined();
      expect((await eventsOf(other!.id))[0]?.message).toBe('k'.repeat(1000));
    },
  );

  test('a 1 MB reason never reaches the resolver: the request body limit refuses it, and nothing changes', async () => {
    const [job] = await insertJobs(suite.db.pool, [{ status: 'PENDING' }]);
    const before = await snapshot(job!.id);
    const response = await suite.server.gql(
      suite.admin,
      'mutation($id: ID!, $text: String) { cancelJob(id: $id, reason: $text) { status } }',
      {
        id: job!.id,
        text: 'r'.repeat(1024 * 1024),
      },
    );
    expect(response.status).toBe(413);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(await snapshot(job!.id)).toEqual(before);
  });
});
