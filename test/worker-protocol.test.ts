import { createRole, grant, insertJobs } from './support/fixtures';
import { token, type GraphQLResponse } from './support/test-server';
import { apiSuite } from './support/api-suite';

const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '60000' } });

const CLAIM = `mutation($workerId: String!, $types: [String!]) {
  claimJob(workerId: $workerId, types: $types) { lease secrets job { id status attempt step workerId startedAt } }
}`;
interface ClaimData {
  claimJob: { lease: string; secrets: unknown; job: { id: string; status: string; attempt: number; workerId: string } } | null;
}

const claim = (bearer: string, types: string[] | null = null, workerId = 'w-1') =>
  suite.server.gql<ClaimData>(bearer, CLAIM, { workerId, types });

async function status(id: string): Promise<string | undefined> {
  const { rows } = await suite.db.pool.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [id]);
  return rows[0]?.status;
}

const code = (response: Pick<GraphQLResponse, 'errors'>) => response.errors?.[0]?.extensions?.['code'];

describe('claiming', () => {
  test('N workers racing for M jobs claim every job exactly once', async () => {
    const jobs = await insertJobs(
      suite.db.pool,
      Array.from({ length: 120 }, (_, i) => ({ type: 'race', name: `race ${i}` })),
    );
    const claimed: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (;;) {
          const response = await claim(suite.worker, ['race'], `racer-${w}`);
          expect(response.errors).toBeUndefined();
          const got = response.data!.claimJob;
          if (got === null) return;
          claimed.push(got.job.id);
        }
      }),
    );
    expect(claimed).toHaveLength(jobs.length);
    expect(new Set(claimed)).toEqual(new Set(jobs.map((job) => job.id)));
    const { rows } = await suite.db.pool.query<{ job_id: string; claims: number }>(
      `SELECT job_id, count(*)::int AS claims FROM timeline_events WHERE kind = 'CLAIMED' AND job_type = 'race' GROUP BY job_id`,
    );
    expect(rows).toHaveLength(jobs.length);
    expect(rows.every((row) => row.claims === 1)).toBe(true);
    const { rows: leases } = await suite.db.pool.query(`SELECT count(DISTINCT lease_token)::int AS n FROM jobs WHERE type = 'race'`);
    expect(leases[0]).toEqual({ n: jobs.length });
  });

  test('only PENDING jobs whose schedule has come and whose deadline has not passed, of the asked types', async () => {
    const [due, future, expired, waiting, other] = await insertJobs(suite.db.pool, [
      { type: 'sched', status: 'PENDING' },
      { type: 'sched', status: 'PENDING' },
      { type: 'sched', status: 'PENDING' },
      { type: 'sched', status: 'WAITING_APPROVAL' },
      { type: 'other-type', status: 'PENDING' },
    ]);
    // Its RUN step waits for the schedule (PRE would not: test/clarive-schedule.test.ts).
    await suite.db.pool.query(`UPDATE jobs SET scheduled_at = now() + interval '1 hour', step = 'RUN' WHERE id = $1`, [future!.id]);
    await suite.db.pool.query(`UPDATE jobs SET max_start_at = now() - interval '1 second' WHERE id = $1`, [expired!.id]);
    const first = await claim(suite.worker, ['sched']);
    expect(first.data?.claimJob?.job).toMatchObject({ id: due!.id, status: 'RUNNING', attempt: 1, workerId: 'w-1' });
    expect((await claim(suite.worker, ['sched'])).data?.claimJob).toBeNull();
    for (const job of [future, expired, waiting, other]) expect(await status(job!.id)).not.toBe('RUNNING');
  });

  test('a worker claims only what its execute rules allow, and needs execute at all', async () => {
    await createRole(suite.db.pool, 'eu-masker', [{ action: 'execute', subject: 'Job', conditions: { type: 'masking-eu' } }]);
    await grant(suite.db.pool, 'eu-worker', 'eu-masker', 'acme/eu');
    const [inside, otherScope, otherType] = await insertJobs(suite.db.pool, [
      { type: 'masking-eu', scope: 'acme/eu/prod' },
      { type: 'masking-eu', scope: 'acme/us/prod' },
      { type: 'masking-us', scope: 'acme/eu/prod' },
    ]);
    const eu = await token('eu-worker');
    expect((await claim(eu)).data?.claimJob?.job.id).toBe(inside!.id);
    expect((await claim(eu)).data?.claimJob).toBeNull();
    expect(await status(otherScope!.id)).toBe('PENDING');
    expect(await status(otherType!.id)).toBe('PENDING');
    const viewer = await token('nobody');
    expect(code(await claim(viewer))).toBe('FORBIDDEN');
  });

  test('claim arguments are validated', async () => {
    expect(code(await suite.server.gql(suite.worker, CLAIM, { workerId: '', types: null }))).toBe('BAD_USER_INPUT');
    expect(code(await suite.server.gql(suite.worker, CLAIM, { workerId: 'x'.repeat(201), types: null }))).toBe('BAD_USER_INPUT');
    expect(code(await suite.server.gql(suite.worker, CLAIM, { workerId: 'w', types: ['bad type!'] }))).toBe('BAD_USER_INPUT');
    expect(code(await suite.server.gql(suite.worker, CLAIM, { workerId: 'w', types: [] }))).toBe('BAD_USER_INPUT');
  });
});

describe('the attempt, through its lease', () => {
  async function claimOne(type: string, extra: Record<string, unknown> = {}) {
    const [job] = await insertJobs(suite.db.pool, [{ type, ...extra }]);
    const response = await claim(suite.worker, [type]);
    expect(response.data?.claimJob?.job.id).toBe(job!.id);
    return { id: job!.id, lease: response.data!.claimJob!.lease };
  }
  const heartbeat = (lease: string) =>
    suite.server.gql<{ heartbeat: { cancelRequested: boolean; status: string; trapDecision: string | null } }>(
      suite.worker,
      'mutation($lease: String!) { heartbeat(lease: $lease) { cancelRequested status trapDecision } }',
      { lease },
    );
  const report = (reports: Array<Record<string, unknown>>) =>
    suite.server.gql<{ reportProgress: number }>(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
      r: reports,
    });

  test('complete: SUCCEEDED with the final message, the last progress written first', async () => {
    const { id, lease } = await claimOne('life-complete');
    expect((await report([{ lease, done: 10, total: 10, unit: 'files' }])).data?.reportProgress).toBe(1);
    const done = await suite.server.gql<{ completeJob: Record<string, unknown> }>(
      suite.worker,
      'mutation($lease: String!) { completeJob(lease: $lease, message: "all good") { status message finishedAt progress { done total percent } } }',
      { lease },
    );
    expect(done.data?.completeJob).toMatchObject({
      status: 'SUCCEEDED',
      message: 'all good',
      progress: { done: 10, total: 10, percent: 100 },
    });
    expect(await status(id)).toBe('SUCCEEDED');
  });

  test('fail: the message and the stack trace are what users see', async () => {
    const { id, lease } = await claimOne('life-fail');
    await suite.server.gql(
      suite.worker,
      'mutation($lease: String!) { failJob(lease: $lease, error: "connection refused", stack: "Error: connection refused\\n  at connect (db.ts:10)") { status } }',
      { lease },
    );
    const seen = await suite.server.gql<{ job: { status: string; error: { message: string; stack: string } } }>(
      suite.admin,
      'query($id: ID!) { job(id: $id) { status error { message stack } } }',
      { id },
    );
    expect(seen.data?.job).toEqual({
      status: 'FAILED',
      error: { message: 'connection refused', stack: 'Error: connection refused\n  at connect (db.ts:10)' },
    });
  });

  test('trap: TRAPPED until a person decides; every heartbeat repeats the decision until the next trap', async () => {
    const { id, lease } = await claimOne('life-trap');
    const trapped = await suite.server.gql<{ trapJob: { status: string; trapExpiresAt: string } }>(
      suite.worker,
      'mutation($lease: String!) { trapJob(lease: $lease, error: "disk full", timeoutSeconds: 600) { status trapExpiresAt } }',
      { lease },
    );
    expect(trapped.data?.trapJob.status).toBe('TRAPPED');
    expect(Date.parse(trapped.data!.trapJob.trapExpiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect((await heartbeat(lease)).data?.heartbeat).toEqual({ cancelRequested: false, status: 'TRAPPED', trapDecision: null });
    await suite.server.gql(suite.admin, `mutation { resolveTrap(id: "${id}", decision: SKIP) { status } }`);
    expect((await heartbeat(lease)).data?.heartbeat).toEqual({ cancelRequested: false, status: 'RUNNING', trapDecision: 'SKIP' });
    // Had that answer been lost, the worker would hear it again: a decision is never lost.
    expect((await heartbeat(lease)).data?.heartbeat.trapDecision).toBe('SKIP');
    // The next trap clears it until someone decides again.
    await suite.server.gql(suite.worker, 'mutation($lease: String!) { trapJob(lease: $lease, error: "disk full again") { status } }', {
      lease,
    });
    expect((await heartbeat(lease)).data?.heartbeat).toEqual({ cancelRequested: false, status: 'TRAPPED', trapDecision: null });
    await suite.server.gql(suite.admin, `mutation { resolveTrap(id: "${id}", decision: RETRY) { status } }`);
    expect((await heartbeat(lease)).data?.heartbeat.trapDecision).toBe('RETRY');
  });

  test('one invalid report refuses the call and names every invalid report, so a client can drop just those', async () => {
    const { lease } = await claimOne('invalid-list');
    const response = await report([
      { lease, done: 1 },
      { lease, message: 'x'.repeat(1001) },
      { lease, done: 2 },
      { lease, tasks: [{ name: 'y'.repeat(301) }] },
    ]);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reports[1].message', invalidReports: [1, 3] });
  });

  test('trap then ABORT: the job FAILS and the lease is lost', async () => {
    const { id, lease } = await claimOne('life-abort');
    await suite.server.gql(suite.worker, 'mutation($lease: String!) { trapJob(lease: $lease, error: "disk full") { status } }', { lease });
    await suite.server.gql(suite.admin, `mutation { resolveTrap(id: "${id}", decision: ABORT) { status } }`);
    const beat = await heartbeat(lease);
    expect(beat.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST', status: 'FAILED' });
  });

  test('rollback, then fail', async () => {
    const { id, lease } = await claimOne('life-rollback');
    const rolling = await suite.server.gql<{ startRollback: { status: string } }>(
      suite.worker,
      'mutation($lease: String!) { startRollback(lease: $lease, reason: "bad data") { status } }',
      { lease },
    );
    expect(rolling.data?.startRollback.status).toBe('ROLLBACK');
    const completing = await suite.server.gql(suite.worker, 'mutation($lease: String!) { completeJob(lease: $lease) { status } }', {
      lease,
    });
    expect(completing.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', status: 'ROLLBACK' });
    await suite.server.gql(suite.worker, 'mutation($lease: String!) { failJob(lease: $lease, error: "rolled back") { status } }', {
      lease,
    });
    expect(await status(id)).toBe('FAILED');
  });

  test('cancel: the heartbeat says so, the worker confirms, CANCELLED', async () => {
    const { id, lease } = await claimOne('life-cancel');
    const asked = await suite.server.gql<{ cancelJob: { status: string } }>(
      suite.admin,
      `mutation { cancelJob(id: "${id}", reason: "wrong file") { status } }`,
    );
    expect(asked.data?.cancelJob.status).toBe('CANCELLING');
    expect((await heartbeat(lease)).data?.heartbeat).toMatchObject({ cancelRequested: true, status: 'CANCELLING' });
    const confirmed = await suite.server.gql<{ confirmCancel: { status: string } }>(
      suite.worker,
      'mutation($lease: String!) { confirmCancel(lease: $lease) { status } }',
      { lease },
    );
    expect(confirmed.data?.confirmCancel.status).toBe('CANCELLED');
    const { rows } = await suite.db.pool.query(`SELECT kind, actor_kind, to_status FROM timeline_events WHERE job_id = $1 ORDER BY id`, [
      id,
    ]);
    expect(rows.slice(-2)).toEqual([
      { kind: 'CANCEL_REQUESTED', actor_kind: 'USER', to_status: 'CANCELLING' },
      { kind: 'CANCELLED', actor_kind: 'WORKER', to_status: 'CANCELLED' },
    ]);
  });

  test("an earlier attempt's lease is refused everywhere and cannot overwrite the later attempt", async () => {
    const { id, lease: first } = await claimOne('life-stale');
    await suite.server.gql(suite.worker, 'mutation($lease: String!) { failJob(lease: $lease, error: "first try failed") { status } }', {
      lease: first,
    });
    await suite.server.gql(suite.admin, `mutation { restartJob(id: "${id}") { attempt } }`);
    const second = (await claim(suite.worker, ['life-stale'])).data!.claimJob!;
    expect(second.job.attempt).toBe(2);
    expect((await report([{ lease: second.lease, done: 7, total: 100, message: 'attempt 2' }])).data?.reportProgress).toBe(1);
    await suite.server.services.progress.flush();

    expect((await report([{ lease: first, done: 99, total: 100, message: 'attempt 1 (stale)' }])).data?.reportProgress).toBe(0);
    await suite.server.services.progress.flush();
    for (const mutation of [
      'heartbeat(lease: $lease) { status }',
      'completeJob(lease: $lease) { status }',
      'failJob(lease: $lease, error: "x") { status }',
      'trapJob(lease: $lease, error: "x") { status }',
      'startRollback(lease: $lease) { status }',
      'confirmCancel(lease: $lease) { status }',
    ]) {
      const response = await suite.server.gql(suite.worker, `mutation($lease: String!) { ${mutation} }`, { lease: first });
      expect([mutation, response.errors?.[0]?.extensions?.['reason']]).toEqual([mutation, 'LEASE_LOST']);
    }
    const { rows } = await suite.db.pool.query('SELECT status, attempt, progress_done, message FROM jobs WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ status: 'RUNNING', attempt: 2, progress_done: 7, message: 'attempt 2' });
  });

  test('another worker cannot use a lease it guessed from the job id', async () => {
    const { id } = await claimOne('life-guess');
    const forged = `${id}.00000000-0000-4000-8000-000000000000`;
    expect((await report([{ lease: forged, done: 1 }])).data?.reportProgress).toBe(0);
    expect((await heartbeat(forged)).errors?.[0]?.extensions?.['reason']).toBe('LEASE_LOST');
  });

  test('a malformed lease is BAD_USER_INPUT', async () => {
    expect(code(await heartbeat('not-a-lease'))).toBe('BAD_USER_INPUT');
    expect(code(await report([{ lease: 'x.y', done: 1 }]))).toBe('BAD_USER_INPUT');
  });
});
