import { RETENTION_JOBS_SQL, RETENTION_TOMBSTONES_SQL } from '../src/daemon/daemon';
import { Client } from 'pg';
import type { TickResult } from '../src/daemon/daemon';
import type { JobStatus } from '../src/jobs/job-status';
import { SLOW_MIN_RUNS } from '../src/jobs/stats/job-type-stats';
import { blockedBackend } from './support/blocked-query';
import { insertJobs, type JobSeed } from './support/fixtures';
import type { TestServer } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * The daemon, rule by rule: rows are backdated with SQL and `tick()` is called by hand (the
 * timer is off, except in the one test that proves it runs). The settings are deliberately not
 * the defaults, so a rule that ignored its setting would be caught.
 */
const HEARTBEAT_TIMEOUT_MS = 45_000;
const CANCEL_GRACE_MS = 20_000;
const RETENTION_DAYS = 5;
const ENV = {
  HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
  CANCEL_GRACE_MS: String(CANCEL_GRACE_MS),
  RETENTION_DAYS: String(RETENTION_DAYS),
  PROGRESS_FLUSH_MS: '60000',
};
/** daemon.ts's DAEMON_LOCK: 0x6a776474 ("jwdt"). */
const DAEMON_LOCK = 1786209396;
const SECOND = 1000;
const DAY = 86_400_000;
const ZERO: TickResult = { expired: 0, abended: 0, cancelled: 0, trapTimedOut: 0, slow: 0, deleted: 0 };

const suite = apiSuite({ env: ENV, daemon: false });
// The longest PROGRESS_FLUSH_MS still flushes once a minute, and this file takes longer than that
// on a busy machine: a timer flush would write the progress the rolled-back tick must leave pending.
beforeAll(() => suite.server.services.progress.stop());
// Every tick looks at the whole table: each test starts from an empty one so its counts are exact.
// And from a daemon clock that has seen no outage: a server on its timer (the timer test) records
// one after a pause in ticks longer than its DAEMON_OUTAGE_MS (the index tests take that long on a
// busy machine), and held jobs would then not abend for a whole timeout in the tests after it.
beforeEach(async () => {
  await suite.db.pool.query('TRUNCATE jobs, tasks, timeline_events');
  await suite.db.pool.query(`UPDATE daemon_clock SET ticked_at = NULL, resumed_at = '-infinity'`);
});

const tick = (on: TestServer = suite.server) => on.services.daemon.tick();

/** Sets a timestamp column to `ms` milliseconds before the database's now() (negative: in the future). */
async function backdate(ids: string | string[], column: string, ms: number): Promise<void> {
  await suite.db.pool.query(`UPDATE jobs SET ${column} = now() - make_interval(secs => $2) WHERE id = ANY($1::uuid[])`, [
    Array.isArray(ids) ? ids : [ids],
    ms / 1000,
  ]);
}

async function row(id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await suite.db.pool.query('SELECT * FROM jobs WHERE id = $1', [id]);
  return rows[0] as Record<string, unknown> | undefined;
}

async function events(id: string) {
  const { rows } = await suite.db.pool.query<{
    kind: string;
    actor_id: string | null;
    actor_kind: string;
    from_status: string | null;
    to_status: string | null;
    message: string | null;
  }>('SELECT kind, actor_id, actor_kind, from_status, to_status, message FROM timeline_events WHERE job_id = $1 ORDER BY id', [id]);
  return rows;
}

async function snapshot(ids: readonly string[]) {
  return Promise.all(ids.map(async (id) => ({ id, job: await row(id), events: await events(id) })));
}

async function insertOne(seed: JobSeed): Promise<string> {
  const [job] = await insertJobs(suite.db.pool, [seed]);
  return job!.id;
}

/** A job created, submitted and claimed through the API: a real lease and heartbeat. */
async function claimed(type: string, secrets: Record<string, unknown> | null = null): Promise<{ id: string; lease: string }> {
  const created = await suite.server.gql<{ createJob: { id: string } }>(
    suite.admin,
    'mutation($input: CreateJobInput!) { createJob(input: $input) { id } }',
    { input: { name: `${type} job`, type, scope: 'acme/daemon', secrets } },
  );
  expect(created.errors).toBeUndefined();
  const claim = await suite.server.gql<{ claimJob: { lease: string; job: { id: string; status: string } } | null }>(
    suite.worker,
    'mutation($types: [String!]) { claimJob(workerId: "daemon-test-worker", types: $types) { lease job { id status } } }',
    { types: [type] },
  );
  expect(claim.data?.claimJob?.job).toEqual({ id: created.data!.createJob.id, status: 'RUNNING' });
  return { id: created.data!.createJob.id, lease: claim.data!.claimJob!.lease };
}

const heartbeat = (lease: string) =>
  suite.server.gql<{ heartbeat: { status: string; cancelRequested: boolean } }>(
    suite.worker,
    'mutation($lease: String!) { heartbeat(lease: $lease) { status cancelRequested } }',
    { lease },
  );

/** The one SYSTEM event a daemon rule writes. */
function systemEvent(kind: string, from: JobStatus, to: JobStatus) {
  return expect.objectContaining({ kind, actor_id: null, actor_kind: 'SYSTEM', from_status: from, to_status: to });
}

async function dbNow(): Promise<number> {
  const { rows } = await suite.db.pool.query<{ now: Date }>('SELECT now() AS now');
  return rows[0]!.now.getTime();
}

describe('EXPIRED: queued jobs whose maxStartAt has passed', () => {
  test('PENDING and WAITING_APPROVAL past their deadline expire; a future, null or held deadline does not', async () => {
    const pending = await insertOne({ status: 'PENDING' });
    const waiting = await insertOne({ status: 'WAITING_APPROVAL', requires_approval: true });
    const future = await insertOne({ status: 'PENDING' });
    const noDeadline = await insertOne({ status: 'PENDING' });
    const running = await insertOne({ status: 'RUNNING', started_at: new Date() });
    const created = await insertOne({ status: 'CREATED' });
    await backdate(pending, 'max_start_at', 1 * SECOND);
    await backdate(waiting, 'max_start_at', 3600 * SECOND);
    await backdate(future, 'max_start_at', -60 * SECOND);
    await backdate([running, created], 'max_start_at', 3600 * SECOND);
    await backdate(running, 'heartbeat_at', 0);
    const untouched = [future, noDeadline, running, created];
    const before = await snapshot(untouched);

    const now = await dbNow();
    expect(await tick()).toEqual({ ...ZERO, expired: 2 });

    for (const [id, from] of [
      [pending, 'PENDING'],
      [waiting, 'WAITING_APPROVAL'],
    ] as const) {
      const job = await row(id);
      expect(job).toMatchObject({ status: 'EXPIRED', message: 'Not started before its max start date' });
      expect((job!['finished_at'] as Date).getTime()).toBeGreaterThanOrEqual(now - SECOND);
      expect(await events(id)).toEqual([systemEvent('EXPIRED', from, 'EXPIRED')]);
    }
    expect(await snapshot(untouched)).toEqual(before);

    // What a user sees: the status, when it finished, and who did it (the system).
    const seen = await suite.server.gql<{ job: { status: string; finishedAt: string; timeline: { nodes: unknown[] } } }>(
      suite.admin,
      `query { job(id: "${pending}") { status finishedAt timeline { nodes { kind actor actorKind fromStatus toStatus } } } }`,
    );
    expect(seen.data?.job.status).toBe('EXPIRED');
    expect(seen.data?.job.finishedAt).not.toBeNull();
    expect(seen.data?.job.timeline.nodes).toEqual([
      { kind: 'EXPIRED', actor: null, actorKind: 'SYSTEM', fromStatus: 'PENDING', toStatus: 'EXPIRED' },
    ]);
  });
});

describe('ABENDED: held jobs whose heartbeat is older than HEARTBEAT_TIMEOUT_MS', () => {
  test('a claimed job whose worker went quiet is ABENDED, names its last heartbeat, and its lease stops working', async () => {
    const { id, lease } = await claimed('abend-api', { token: 'abend-secret' });
    expect((await heartbeat(lease)).data?.heartbeat.status).toBe('RUNNING');
    await backdate(id, 'heartbeat_at', HEARTBEAT_TIMEOUT_MS + 5 * SECOND);
    const lastBeat = (await row(id))!['heartbeat_at'] as Date;

    expect(await tick()).toEqual({ ...ZERO, abended: 1 });

    const job = await row(id);
    expect(job).toMatchObject({ status: 'ABENDED', secrets: null, lease_token: null });
    expect(job!['finished_at']).not.toBeNull();
    expect(job!['error_message']).toContain('heartbeat');
    expect(job!['error_message']).toContain(`${lastBeat.toISOString().slice(0, 19)}Z`);
    expect((await events(id)).slice(-1)).toEqual([systemEvent('ABENDED', 'RUNNING', 'ABENDED')]);

    const beat = await heartbeat(lease);
    expect(beat.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST', status: 'ABENDED' });
    const report = await suite.server.gql<{ reportProgress: number }>(
      suite.worker,
      'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
      { r: [{ lease, done: 5, total: 10 }] },
    );
    expect(report.data?.reportProgress).toBe(0);
    const complete = await suite.server.gql(suite.worker, 'mutation($lease: String!) { completeJob(lease: $lease) { status } }', { lease });
    expect(complete.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST' });
    expect((await row(id))!['status']).toBe('ABENDED');
  });

  test('RUNNING, ROLLBACK and TRAPPED abend; a fresh heartbeat, TRAP_PAUSED and queued jobs do not', async () => {
    const stale = HEARTBEAT_TIMEOUT_MS + 5 * SECOND;
    const held: JobStatus[] = ['RUNNING', 'ROLLBACK', 'TRAPPED'];
    const lost = await Promise.all(held.map((status) => insertOne({ status, started_at: new Date(Date.now() - DAY) })));
    await backdate(lost, 'heartbeat_at', stale);
    // Still within the timeout (and beyond the 30 s default: the setting is what counts).
    const fresh = await insertOne({ status: 'RUNNING', started_at: new Date(Date.now() - DAY) });
    await backdate(fresh, 'heartbeat_at', HEARTBEAT_TIMEOUT_MS - 10 * SECOND);
    const paused = await insertOne({ status: 'TRAP_PAUSED', started_at: new Date(Date.now() - DAY) });
    await backdate(paused, 'heartbeat_at', stale);
    await backdate(paused, 'trap_timeout_at', -3600 * SECOND);
    const queued = await insertOne({ status: 'PENDING' });
    await suite.db.pool.query(
      `UPDATE jobs SET updated_at = now() - interval '1 day', heartbeat_at = now() - interval '1 day' WHERE id = $1`,
      [queued],
    );
    const untouched = [fresh, paused, queued];
    const before = await snapshot(untouched);

    expect(await tick()).toEqual({ ...ZERO, abended: 3 });

    for (const [index, id] of lost.entries()) {
      const job = await row(id);
      expect([held[index], job!['status']]).toEqual([held[index], 'ABENDED']);
      expect(job!['error_message']).toMatch(/heartbeat \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
      expect(job!['finished_at']).not.toBeNull();
      expect(await events(id)).toEqual([systemEvent('ABENDED', held[index]!, 'ABENDED')]);
    }
    expect(await snapshot(untouched)).toEqual(before);
  });

  test('a held job that never heartbeated abends from its start time, and says so', async () => {
    const id = await insertOne({ status: 'RUNNING', started_at: new Date(Date.now() - HEARTBEAT_TIMEOUT_MS - 5 * SECOND) });
    const young = await insertOne({ status: 'RUNNING', started_at: new Date(Date.now() - 5 * SECOND) });
    expect(await tick()).toEqual({ ...ZERO, abended: 1 });
    expect(await row(id)).toMatchObject({ status: 'ABENDED', error_message: expect.stringContaining('never') });
    expect((await row(young))!['status']).toBe('RUNNING');
  });
});

describe('CANCELLING + the worker gone: CANCELLED, in the name of the person who cancelled', () => {
  test('never ABENDED: the event names the canceller and says the worker never confirmed', async () => {
    const { id, lease } = await claimed('cancel-worker-lost');
    const asked = await suite.server.gql<{ cancelJob: { status: string } }>(suite.admin, `mutation { cancelJob(id: "${id}") { status } }`);
    expect(asked.data?.cancelJob.status).toBe('CANCELLING');
    // The worker vanished long ago; the grace period has not passed yet.
    await backdate(id, 'heartbeat_at', HEARTBEAT_TIMEOUT_MS + 5 * SECOND);
    expect(await tick()).toEqual({ ...ZERO, cancelled: 1 });

    const job = await row(id);
    expect(job).toMatchObject({ status: 'CANCELLED', lease_token: null, error_message: null, cancel_requested_by: 'admin' });
    expect(job!['finished_at']).not.toBeNull();
    const ending = (await events(id)).filter((event) => event.to_status !== null).slice(-1);
    expect(ending).toEqual([
      expect.objectContaining({
        kind: 'CANCELLED',
        actor_id: 'admin',
        actor_kind: 'USER',
        from_status: 'CANCELLING',
        to_status: 'CANCELLED',
      }),
    ]);
    expect(ending[0]!.message).toMatch(/never confirmed/);
    expect((await events(id)).map((event) => event.kind)).not.toContain('ABENDED');
    // What a user sees: cancelled by the admin; and the worker's lease is over.
    const seen = await suite.server.gql<{
      job: { status: string; timeline: { nodes: Array<{ kind: string; actor: string | null; actorKind: string }> } };
    }>(suite.admin, `{ job(id: "${id}") { status timeline { nodes { kind actor actorKind } } } }`);
    expect(seen.data?.job.status).toBe('CANCELLED');
    expect(seen.data?.job.timeline.nodes.slice(-1)).toEqual([{ kind: 'CANCELLED', actor: 'admin', actorKind: 'USER' }]);
    expect((await heartbeat(lease)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST', status: 'CANCELLED' });
  });

  test('with the grace period also passed, one CANCELLED event, the worker-lost one', async () => {
    const id = await insertOne({ status: 'CANCELLING', started_at: new Date(Date.now() - DAY) });
    await suite.db.pool.query(`UPDATE jobs SET cancel_requested_by = 'operator-7' WHERE id = $1`, [id]);
    await backdate(id, 'heartbeat_at', HEARTBEAT_TIMEOUT_MS + 5 * SECOND);
    await backdate(id, 'cancel_requested_at', CANCEL_GRACE_MS + 5 * SECOND);
    expect(await tick()).toEqual({ ...ZERO, cancelled: 1 });
    expect(await events(id)).toEqual([
      expect.objectContaining({
        kind: 'CANCELLED',
        actor_id: 'operator-7',
        actor_kind: 'USER',
        from_status: 'CANCELLING',
        to_status: 'CANCELLED',
      }),
    ]);
  });

  test('a CANCELLING job whose worker still heartbeats waits for it (or the grace period)', async () => {
    const id = await insertOne({ status: 'CANCELLING', started_at: new Date(Date.now() - DAY) });
    await backdate(id, 'heartbeat_at', HEARTBEAT_TIMEOUT_MS - 10 * SECOND);
    await backdate(id, 'cancel_requested_at', CANCEL_GRACE_MS - 10 * SECOND);
    expect(await tick()).toEqual(ZERO);
    expect((await row(id))!['status']).toBe('CANCELLING');
  });
});

describe('an outage does not count against heartbeats: the daemon clock', () => {
  // This file's server ticks by hand and takes no pause for an outage; `clocked` does, past
  // OUTAGE_MS, as every server on its timer does (a third of the timeout by default).
  const OUTAGE_MS = 15_000;
  let clocked: TestServer;
  beforeAll(async () => {
    clocked = await suite.startServer({ ...ENV, DAEMON_OUTAGE_MS: String(OUTAGE_MS) }, { daemon: false });
  });
  afterAll(() => clocked?.close());
  afterEach(async () => {
    await suite.db.pool.query(`UPDATE daemon_clock SET ticked_at = NULL, resumed_at = '-infinity'`);
  });

  const backdateClock = (column: 'ticked_at' | 'resumed_at', ms: number) =>
    suite.db.pool.query(`UPDATE daemon_clock SET ${column} = now() - make_interval(secs => $1)`, [ms / 1000]);
  /** The clock, `resumed_at` in epoch milliseconds (-Infinity: no outage seen). */
  const clock = async () =>
    (
      await suite.db.pool.query<{ ticked_at: Date | null; resumed_at: number }>(
        'SELECT ticked_at, (extract(epoch FROM resumed_at) * 1000)::float8 AS resumed_at FROM daemon_clock',
      )
    ).rows;

  test('after a pause in ticks longer than DAEMON_OUTAGE_MS, held jobs get a fresh timeout; silent workers then end as before', async () => {
    const live = await claimed('outage-live');
    const silent = await insertOne({ status: 'RUNNING', started_at: new Date(Date.now() - DAY) });
    const cancelling = await insertOne({ status: 'CANCELLING', started_at: new Date(Date.now() - DAY) });
    await suite.db.pool.query(`UPDATE jobs SET cancel_requested_by = 'admin', cancel_requested_at = now() WHERE id = $1`, [cancelling]);
    await backdate([silent, cancelling], 'heartbeat_at', 0);
    expect(await tick(clocked)).toEqual(ZERO);

    // The last tick was before the last heartbeats, then nothing could be written for longer than the timeout.
    await backdateClock('ticked_at', HEARTBEAT_TIMEOUT_MS + 20 * SECOND);
    await backdate([live.id, silent, cancelling], 'heartbeat_at', HEARTBEAT_TIMEOUT_MS + 5 * SECOND);
    const resumedBy = await dbNow();
    expect(await tick(clocked)).toEqual(ZERO);
    const [after] = await clock();
    expect(after!.resumed_at).toBeGreaterThanOrEqual(resumedBy - SECOND);
    for (const id of [live.id, silent]) expect((await row(id))!['status']).toBe('RUNNING');
    expect((await row(cancelling))!['status']).toBe('CANCELLING');
    // The live worker's next heartbeat works: its lease was never lost.
    expect((await heartbeat(live.lease)).data?.heartbeat).toEqual({ status: 'RUNNING', cancelRequested: false });

    // Ticks went on regularly for a whole timeout since: the silent workers are gone after all.
    await backdateClock('resumed_at', HEARTBEAT_TIMEOUT_MS + SECOND);
    expect(await tick(clocked)).toEqual({ ...ZERO, abended: 1, cancelled: 1 });
    expect((await row(live.id))!['status']).toBe('RUNNING');
    expect(await row(silent)).toMatchObject({ status: 'ABENDED' });
    expect(await row(cancelling)).toMatchObject({ status: 'CANCELLED' });
    expect(await events(cancelling)).toEqual([expect.objectContaining({ kind: 'CANCELLED', actor_id: 'admin', actor_kind: 'USER' })]);
  });

  test('a pause shorter than DAEMON_OUTAGE_MS is no outage: a stale heartbeat still abends', async () => {
    const silent = await insertOne({ status: 'RUNNING', started_at: new Date(Date.now() - DAY) });
    await backdate(silent, 'heartbeat_at', 0);
    expect(await tick(clocked)).toEqual(ZERO);
    await backdateClock('ticked_at', OUTAGE_MS - 5 * SECOND);
    await backdate(silent, 'heartbeat_at', HEARTBEAT_TIMEOUT_MS + 5 * SECOND);
    expect(await tick(clocked)).toEqual({ ...ZERO, abended: 1 });
    expect((await clock())[0]!.resumed_at).toBe(-Infinity);
  });

  test('a database that was never ticked has seen no outage', async () => {
    const silent = await insertOne({ status: 'RUNNING', started_at: new Date(Date.now() - DAY) });
    await backdate(silent, 'heartbeat_at', HEARTBEAT_TIMEOUT_MS + 5 * SECOND);
    expect(await clock()).toEqual([{ ticked_at: null, resumed_at: -Infinity }]);
    expect(await tick(clocked)).toEqual({ ...ZERO, abended: 1 });
    expect((await clock())[0]!.ticked_at).not.toBeNull();
  });
});

describe('CANCELLING → CANCELLED once CANCEL_GRACE_MS has passed', () => {
  test('a cancel the worker never confirms ends after the grace period, not before', async () => {
    const { id, lease } = await claimed('cancel-grace');
    const asked = await suite.server.gql<{ cancelJob: { status: string } }>(
      suite.admin,
      `mutation { cancelJob(id: "${id}", reason: "stop") { status } }`,
    );
    expect(asked.data?.cancelJob.status).toBe('CANCELLING');
    // Within the grace period (but past the 30 s default): nothing happens.
    await backdate(id, 'cancel_requested_at', CANCEL_GRACE_MS - 10 * SECOND);
    expect(await tick()).toEqual(ZERO);
    expect((await row(id))!['status']).toBe('CANCELLING');
    expect((await heartbeat(lease)).data?.heartbeat).toEqual({ status: 'CANCELLING', cancelRequested: true });

    await backdate(id, 'cancel_requested_at', CANCEL_GRACE_MS + 5 * SECOND);
    expect(await tick()).toEqual({ ...ZERO, cancelled: 1 });
    const job = await row(id);
    expect(job).toMatchObject({ status: 'CANCELLED', lease_token: null });
    expect(job!['finished_at']).not.toBeNull();
    expect((await events(id)).slice(-1)).toEqual([systemEvent('CANCELLED', 'CANCELLING', 'CANCELLED')]);
    expect((await heartbeat(lease)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST' });
  });

  test('a cancel requested on a job that is no longer CANCELLING is not applied again', async () => {
    const running = await insertOne({ status: 'RUNNING', started_at: new Date() });
    await backdate(running, 'heartbeat_at', 0);
    await backdate(running, 'cancel_requested_at', CANCEL_GRACE_MS + 60 * SECOND);
    expect(await tick()).toEqual(ZERO);
    expect((await row(running))!['status']).toBe('RUNNING');
  });
});

describe('TRAPPED → FAILED after the trap timeout', () => {
  test('a trap nobody resolves fails at its timeout; a trap not yet due and a paused trap are left alone', async () => {
    const due = await claimed('trap-due');
    const notDue = await claimed('trap-not-due');
    const paused = await claimed('trap-paused');
    for (const job of [due, notDue, paused]) {
      const trapped = await suite.server.gql<{ trapJob: { status: string } }>(
        suite.worker,
        'mutation($lease: String!) { trapJob(lease: $lease, error: "disk full", timeoutSeconds: 600) { status } }',
        { lease: job.lease },
      );
      expect(trapped.data?.trapJob.status).toBe('TRAPPED');
    }
    expect(
      (await suite.server.gql<{ pauseTrap: { status: string } }>(suite.admin, `mutation { pauseTrap(id: "${paused.id}") { status } }`)).data
        ?.pauseTrap.status,
    ).toBe('TRAP_PAUSED');
    await backdate([due.id, paused.id], 'trap_timeout_at', 1 * SECOND);
    const before = await snapshot([notDue.id, paused.id]);

    expect(await tick()).toEqual({ ...ZERO, trapTimedOut: 1 });

    const job = await row(due.id);
    expect(job).toMatchObject({ status: 'FAILED', lease_token: null, trap_timeout_at: null });
    expect(job!['finished_at']).not.toBeNull();
    expect((await events(due.id)).slice(-1)).toEqual([systemEvent('FAILED', 'TRAPPED', 'FAILED')]);
    expect((await heartbeat(due.lease)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST' });
    expect(await snapshot([notDue.id, paused.id])).toEqual(before);

    // However old its timeout gets, a paused trap waits for a person.
    await backdate(paused.id, 'trap_timeout_at', 30 * DAY);
    await backdate(paused.id, 'heartbeat_at', 0);
    expect(await tick()).toEqual(ZERO);
    expect((await row(paused.id))!['status']).toBe('TRAP_PAUSED');
  });
});

describe('retention', () => {
  async function addHistory(ids: readonly string[]): Promise<void> {
    await suite.db.pool.query(
      `INSERT INTO timeline_events (job_id, kind, actor_kind, message, job_scope, job_type, job_owner_id)
       SELECT id, 'LOG', 'WORKER', 'line ' || n, scope, type, owner_id FROM jobs, generate_series(1, 3) n WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    await suite.db.pool.query(
      `INSERT INTO tasks (job_id, name, status) SELECT id, 'table-' || n, 'COMPLETED' FROM jobs, generate_series(1, 2) n WHERE id = ANY($1::uuid[])`,
      [ids],
    );
  }
  async function historyOf(id: string) {
    const { rows } = await suite.db.pool.query<{ events: number; tasks: number }>(
      `SELECT (SELECT count(*)::int FROM timeline_events WHERE job_id = $1) AS events, (SELECT count(*)::int FROM tasks WHERE job_id = $1) AS tasks`,
      [id],
    );
    return rows[0]!;
  }

  test('terminal jobs finished RETENTION_DAYS ago go with their timeline and tasks; younger and unfinished jobs stay', async () => {
    const terminal: JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED', 'ABENDED'];
    const old = new Date(Date.now() - (RETENTION_DAYS + 1) * DAY);
    const young = new Date(Date.now() - (RETENTION_DAYS - 1) * DAY);
    const expired = await insertJobs(
      suite.db.pool,
      terminal.map((status) => ({ status, created_at: new Date(old.getTime() - DAY), finished_at: old })),
    );
    const kept = await insertJobs(suite.db.pool, [
      ...terminal.map((status) => ({ status, created_at: new Date(young.getTime() - DAY), finished_at: young })),
      { status: 'CREATED', created_at: new Date(Date.now() - 60 * DAY) },
      { status: 'PENDING', created_at: new Date(Date.now() - 60 * DAY) },
      // Not reachable through the app (leaving a terminal status clears finished_at), but the
      // status is what makes a job finished: an old finished_at alone does not.
      { status: 'PENDING', created_at: new Date(Date.now() - 60 * DAY), finished_at: old },
      { status: 'RUNNING', created_at: new Date(Date.now() - 60 * DAY), started_at: new Date(Date.now() - 59 * DAY), finished_at: old },
    ]);
    const runningId = kept[kept.length - 1]!.id;
    await backdate(runningId, 'heartbeat_at', 0);
    await addHistory([...expired, ...kept].map((job) => job.id));
    const before = await snapshot(kept.map((job) => job.id));

    expect(await tick()).toEqual({ ...ZERO, deleted: terminal.length });

    for (const job of expired) {
      expect(await row(job.id)).toBeUndefined();
      expect(await historyOf(job.id)).toEqual({ events: 0, tasks: 0 });
    }
    for (const job of kept) expect(await historyOf(job.id)).toEqual({ events: 3, tasks: 2 });
    expect(await snapshot(kept.map((job) => job.id))).toEqual(before);
  });

  test('the history of a job deleted by hand stays until its tombstone is RETENTION_DAYS old, then goes', async () => {
    const [deleted, alsoDeleted] = await insertJobs(suite.db.pool, [
      { status: 'FAILED', finished_at: new Date(Date.now() - 3600_000) },
      { status: 'SUCCEEDED', finished_at: new Date(Date.now() - 3600_000) },
    ]);
    await addHistory([deleted!.id, alsoDeleted!.id]);
    for (const job of [deleted!, alsoDeleted!]) {
      const response = await suite.server.gql<{ deleteJob: string }>(suite.admin, `mutation { deleteJob(id: "${job.id}") }`);
      expect(response.data?.deleteJob).toBe(job.id);
    }
    expect((await events(deleted!.id)).map((event) => event.kind)).toEqual(['LOG', 'LOG', 'LOG', 'DELETED']);
    expect(await tick()).toEqual(ZERO);
    expect(await historyOf(deleted!.id)).toEqual({ events: 4, tasks: 0 });

    const tombstone = (days: number, id: string) =>
      suite.db.pool.query(`UPDATE timeline_events SET at = now() - make_interval(days => $2) WHERE job_id = $1 AND kind = 'DELETED'`, [
        id,
        days,
      ]);
    await tombstone(RETENTION_DAYS - 1, deleted!.id);
    expect(await tick()).toEqual(ZERO);
    expect(await historyOf(deleted!.id)).toEqual({ events: 4, tasks: 0 });

    await tombstone(RETENTION_DAYS + 1, deleted!.id);
    expect(await tick()).toEqual(ZERO); // histories are not jobs: `deleted` counts jobs
    expect(await historyOf(deleted!.id)).toEqual({ events: 0, tasks: 0 });
    // The other deleted job's tombstone is fresh: its history stays.
    expect(await historyOf(alsoDeleted!.id)).toEqual({ events: 4, tasks: 0 });
  });
});

describe('one tick', () => {
  test('answers its counts, destroys the secrets of the jobs it ends, and a second tick changes nothing', async () => {
    const secret = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const expire = await insertJobs(suite.db.pool, [{ status: 'PENDING' }, { status: 'WAITING_APPROVAL' }]);
    const abend = await insertJobs(suite.db.pool, [{ status: 'RUNNING' }, { status: 'ROLLBACK' }, { status: 'TRAPPED' }]);
    const cancel = await insertJobs(suite.db.pool, [{ status: 'CANCELLING' }]);
    const trap = await insertJobs(suite.db.pool, [{ status: 'TRAPPED' }, { status: 'TRAPPED' }]);
    const retained = await insertJobs(suite.db.pool, [
      { status: 'SUCCEEDED', finished_at: new Date(Date.now() - (RETENTION_DAYS + 2) * DAY) },
      { status: 'FAILED', finished_at: new Date(Date.now() - (RETENTION_DAYS + 2) * DAY) },
      { status: 'CANCELLED', finished_at: new Date(Date.now() - (RETENTION_DAYS + 2) * DAY) },
    ]);
    const bystander = await insertJobs(suite.db.pool, [{ status: 'PENDING' }, { status: 'RUNNING' }]);
    const ids = (jobs: Array<{ id: string }>) => jobs.map((job) => job.id);
    await suite.db.pool.query('UPDATE jobs SET secrets = $1, heartbeat_at = now()', [secret]);
    await backdate(ids(expire), 'max_start_at', 10 * SECOND);
    await backdate(ids(abend), 'heartbeat_at', HEARTBEAT_TIMEOUT_MS + 10 * SECOND);
    await backdate(ids(cancel), 'cancel_requested_at', CANCEL_GRACE_MS + 10 * SECOND);
    await backdate(ids(trap), 'trap_timeout_at', 10 * SECOND);

    expect(await tick()).toEqual({ expired: 2, abended: 3, cancelled: 1, trapTimedOut: 2, slow: 0, deleted: 3 });

    const ended = [...expire, ...abend, ...cancel, ...trap];
    const { rows } = await suite.db.pool.query<{ id: string; status: string; has_secrets: boolean; events: number }>(
      `SELECT id, status, secrets IS NOT NULL AS has_secrets,
              (SELECT count(*)::int FROM timeline_events e WHERE e.job_id = j.id AND e.actor_kind = 'SYSTEM') AS events
         FROM jobs j ORDER BY id`,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const job of ended) expect(byId.get(job.id)).toMatchObject({ has_secrets: false, events: 1 });
    for (const job of retained) expect(byId.has(job.id)).toBe(false);
    for (const job of bystander) expect(byId.get(job.id)).toMatchObject({ has_secrets: true, events: 0 });
    expect(rows).toHaveLength(ended.length + bystander.length);

    const before = await suite.db.pool.query('SELECT * FROM jobs ORDER BY id');
    const eventsBefore = await suite.db.pool.query('SELECT * FROM timeline_events ORDER BY id');
    expect(await tick()).toEqual(ZERO);
    expect((await suite.db.pool.query('SELECT * FROM jobs ORDER BY id')).rows).toEqual(before.rows);
    expect((await suite.db.pool.query('SELECT * FROM timeline_events ORDER BY id')).rows).toEqual(eventsBefore.rows);
  });
});

describe('several instances', () => {
  test("while another connection holds the daemon's lock, tick() skips and changes nothing", async () => {
    const id = await insertOne({ status: 'PENDING' });
    await backdate(id, 'max_start_at', 10 * SECOND);
    const other = new Client({ connectionString: suite.db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      const { rows } = await other.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [DAEMON_LOCK]);
      expect(rows[0]?.locked).toBe(true);
      const before = await snapshot([id]);
      expect(await tick()).toBe('skipped');
      expect(await snapshot([id])).toEqual(before);
      await other.query('COMMIT');
    } finally {
      await other.end();
    }
    // The transaction is over: the lock went with it.
    expect(await tick()).toEqual({ ...ZERO, expired: 1 });
  });

  test('two servers ticking at the same time never apply a rule twice', async () => {
    const second = await suite.startServer(ENV, { daemon: false });
    try {
      const expire = await insertJobs(
        suite.db.pool,
        Array.from({ length: 150 }, () => ({ status: 'PENDING' as const })),
      );
      const abend = await insertJobs(
        suite.db.pool,
        Array.from({ length: 60 }, () => ({ status: 'RUNNING' as const })),
      );
      const cancel = await insertJobs(
        suite.db.pool,
        Array.from({ length: 30 }, () => ({ status: 'CANCELLING' as const })),
      );
      const trap = await insertJobs(
        suite.db.pool,
        Array.from({ length: 30 }, () => ({ status: 'TRAPPED' as const })),
      );
      const old = await insertJobs(
        suite.db.pool,
        Array.from({ length: 40 }, () => ({ status: 'SUCCEEDED' as const, finished_at: new Date(Date.now() - 30 * DAY) })),
      );
      const ids = (jobs: Array<{ id: string }>) => jobs.map((job) => job.id);
      await suite.db.pool.query('UPDATE jobs SET heartbeat_at = now()');
      await backdate(ids(expire), 'max_start_at', 10 * SECOND);
      await backdate(ids(abend), 'heartbeat_at', HEARTBEAT_TIMEOUT_MS + 10 * SECOND);
      await backdate(ids(cancel), 'cancel_requested_at', CANCEL_GRACE_MS + 10 * SECOND);
      await backdate(ids(trap), 'trap_timeout_at', 10 * SECOND);

      const results: Array<TickResult | 'skipped'> = [];
      for (let round = 0; round < 3; round += 1) {
        results.push(...(await Promise.all([tick(suite.server), tick(second), tick(suite.server), tick(second)])));
      }
      const applied = results.filter((result): result is TickResult => result !== 'skipped');
      expect(applied.length).toBeGreaterThan(0);
      const total = applied.reduce(
        (sum, r) => ({
          expired: sum.expired + r.expired,
          abended: sum.abended + r.abended,
          cancelled: sum.cancelled + r.cancelled,
          trapTimedOut: sum.trapTimedOut + r.trapTimedOut,
          slow: sum.slow + r.slow,
          deleted: sum.deleted + r.deleted,
        }),
        ZERO,
      );
      expect(total).toEqual({ expired: 150, abended: 60, cancelled: 30, trapTimedOut: 30, slow: 0, deleted: 40 });
      const { rows } = await suite.db.pool.query<{ job_id: string; n: number }>(
        `SELECT job_id, count(*)::int AS n FROM timeline_events WHERE actor_kind = 'SYSTEM' GROUP BY job_id`,
      );
      expect(rows).toHaveLength(150 + 60 + 30 + 30);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
      const { rows: statuses } = await suite.db.pool.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM jobs GROUP BY status ORDER BY status',
      );
      expect((await suite.db.pool.query('SELECT id FROM jobs WHERE id = ANY($1::uuid[])', [ids(old)])).rows).toEqual([]);
      expect(statuses).toEqual([
        { status: 'ABENDED', n: 60 },
        { status: 'CANCELLED', n: 30 },
        { status: 'EXPIRED', n: 150 },
        { status: 'FAILED', n: 30 },
      ]);
    } finally {
      await second.close();
    }
  });
});

describe("the daemon's queries use indexes", () => {
  // The daemon reads only jobs due for a rule; with a realistic table it must not read it all.
  beforeEach(async () => {
    await suite.db.pool.query(`
      INSERT INTO jobs (name, type, scope, owner_id, status, created_at, started_at, finished_at, heartbeat_at, max_start_at)
      SELECT 'job ' || n, 'type-' || (n % 20), 'acme/s' || (n % 10), 'user-' || (n % 50), s.status,
             now() - make_interval(mins => n), started, finished,
             CASE WHEN s.status IN ('RUNNING', 'TRAPPED', 'CANCELLING', 'ROLLBACK') THEN now() END,
             CASE WHEN s.status IN ('PENDING', 'WAITING_APPROVAL') AND n % 3 = 0 THEN now() + interval '1 hour' END
        FROM generate_series(1, 5000) n,
        LATERAL (SELECT CASE
            WHEN n % 100 < 70 THEN 'SUCCEEDED' WHEN n % 100 < 80 THEN 'FAILED' WHEN n % 100 < 83 THEN 'CANCELLED'
            WHEN n % 100 < 85 THEN 'ABENDED' WHEN n % 100 < 92 THEN 'PENDING' WHEN n % 100 < 94 THEN 'WAITING_APPROVAL'
            WHEN n % 100 < 98 THEN 'RUNNING' WHEN n % 100 < 99 THEN 'TRAPPED' ELSE 'CREATED' END AS status) s,
        LATERAL (SELECT CASE WHEN s.status NOT IN ('PENDING', 'WAITING_APPROVAL', 'CREATED') THEN now() - make_interval(mins => n) + interval '10 seconds' END AS started) st,
        LATERAL (SELECT CASE WHEN s.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'ABENDED') THEN now() - make_interval(mins => n) + interval '5 minutes' END AS finished) f`);
    await suite.db.pool.query(`
      INSERT INTO timeline_events (job_id, at, kind, actor_kind, job_scope, job_type, job_owner_id)
      SELECT id, created_at + make_interval(secs => k), CASE WHEN k = 4 AND n % 100 = 0 THEN 'DELETED' ELSE 'LOG' END, 'SYSTEM', scope, type, owner_id
        FROM (SELECT *, row_number() OVER (ORDER BY created_at) AS n FROM jobs) j, generate_series(1, 4) k`);
    await suite.db.pool.query('ANALYZE jobs');
    await suite.db.pool.query('ANALYZE timeline_events');
  });

  const explain = async (sql: string, params: unknown[] = []) =>
    (await suite.db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');

  test('the expiry candidates come from an index, with the statuses as a literal or as a parameter', async () => {
    const { rows } = await suite.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs');
    expect(rows[0]?.n).toBe(5000);
    const literal = await explain(
      `SELECT id, status FROM jobs WHERE status = ANY('{PENDING,WAITING_APPROVAL}'::text[]) AND max_start_at < now()
        ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED`,
    );
    expect(literal).not.toMatch(/Seq Scan on jobs/);
    const bound = await explain(
      `SELECT id, status FROM jobs WHERE status = ANY($1::text[]) AND max_start_at < now() ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [['PENDING', 'WAITING_APPROVAL'], 1000],
    );
    expect(bound).not.toMatch(/Seq Scan on jobs/);
  });

  test("the other rules' candidates come from an index", async () => {
    const plans = [
      await explain(
        `SELECT id, status FROM jobs WHERE status = ANY($1::text[])
            AND coalesce(heartbeat_at, started_at, updated_at) < now() - make_interval(secs => $2)
            AND coalesce((SELECT resumed_at FROM daemon_clock WHERE id), '-infinity') < now() - make_interval(secs => $2)
          ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [['RUNNING', 'ROLLBACK', 'TRAPPED'], HEARTBEAT_TIMEOUT_MS / 1000, 1000],
      ),
      await explain(
        `SELECT id, status FROM jobs WHERE status = ANY($1::text[]) AND cancel_requested_at < now() - make_interval(secs => $2)
          ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [['CANCELLING'], CANCEL_GRACE_MS / 1000, 1000],
      ),
      await explain(
        `SELECT id, status FROM jobs WHERE status = ANY($1::text[]) AND trap_timeout_at < now() ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [['TRAPPED'], 1000],
      ),
    ];
    for (const plan of plans) expect(plan).not.toMatch(/Seq Scan on jobs/);
  });

  const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED', 'ABENDED'];

  test('the retention candidates come from the finished-time and tombstone indexes', async () => {
    const old = await explain(
      `SELECT id FROM jobs
        WHERE coalesce(finished_at, '-infinity') > '-infinity'
          AND coalesce(finished_at, '-infinity') < now() - make_interval(days => $2)
          AND status = ANY($1::text[])
        ORDER BY coalesce(finished_at, '-infinity') LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [TERMINAL, RETENTION_DAYS, 1000],
    );
    expect(old).not.toMatch(/Seq Scan on jobs/);
    expect(old).toMatch(/jobs_(status_)?finished_idx/);
    const gone = await explain(
      `SELECT job_id FROM timeline_events WHERE kind = 'DELETED' AND at < now() - make_interval(days => $1) LIMIT $2`,
      [RETENTION_DAYS, 1000],
    );
    expect(gone).not.toMatch(/Seq Scan on timeline_events/);
    expect(gone).toMatch(/timeline_events_tombstone_idx/);
  });

  test("retention's statements as a whole (daemon.ts's own) never scan jobs or timeline_events", async () => {
    const jobs = await explain(RETENTION_JOBS_SQL, [TERMINAL, RETENTION_DAYS, 1000]);
    const histories = await explain(RETENTION_TOMBSTONES_SQL, [RETENTION_DAYS, 1000]);
    expect(histories).not.toMatch(/Seq Scan on (jobs|timeline_events)/);
    expect(jobs).not.toMatch(/Seq Scan on (jobs|timeline_events)/);
  });
});

describe('the timer', () => {
  test('with the daemon on, a job past its deadline expires by itself', async () => {
    const timed = await suite.startServer({ ...ENV, DAEMON_INTERVAL_MS: '50' }, { daemon: true });
    try {
      const id = await insertOne({ status: 'PENDING' });
      await backdate(id, 'max_start_at', 1 * SECOND);
      const deadline = Date.now() + 10_000;
      let status = (await row(id))!['status'];
      while (status !== 'EXPIRED' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        status = (await row(id))!['status'];
      }
      expect(status).toBe('EXPIRED');
      expect(await events(id)).toEqual([systemEvent('EXPIRED', 'PENDING', 'EXPIRED')]);
    } finally {
      await timed.close();
    }
  });
});

describe('a tick that rolls back', () => {
  test('keeps the pending progress of the jobs it would have ended: they are still running', async () => {
    const { id, lease } = await claimed('rolled-back-tick');
    const reported = await suite.server.gql<{ reportProgress: number }>(
      suite.worker,
      'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
      {
        r: [{ lease, done: 42, total: 100 }],
      },
    );
    expect(reported.data?.reportProgress).toBe(1);
    await backdate(id, 'heartbeat_at', HEARTBEAT_TIMEOUT_MS + 5 * SECOND);
    // The tick ABENDs the job, then waits on a table its retention deletes from, and is cancelled there.
    const blocker = await suite.db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE alert_deliveries IN ACCESS EXCLUSIVE MODE');
      const ticking = tick();
      const pid = await blockedBackend(suite.db.pool, 'DELETE FROM alert_deliveries WHERE id = ANY(ARRAY(');
      await suite.db.pool.query('SELECT pg_cancel_backend($1)', [pid]);
      await expect(ticking).rejects.toThrow(/cancel/i);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect(await row(id)).toMatchObject({ status: 'RUNNING', progress_done: 0 });
    // The worker is still on it: what it reported is still written.
    await suite.server.services.progress.flush();
    expect(await row(id)).toMatchObject({ status: 'RUNNING', progress_done: 42 });
  });
});

describe('SLOWER_THAN_USUAL', () => {
  test('a running job past its p95 gets one event once enough runs ran: the same rule as Job.slowerThanUsual', async () => {
    const now = Date.now();
    const run = (i: number): JobSeed => {
      const started = now - DAY - i * 60 * SECOND;
      return {
        type: 'slowish',
        status: 'SUCCEEDED',
        created_at: new Date(started),
        started_at: new Date(started),
        finished_at: new Date(started + 10 * SECOND),
      };
    };
    await insertJobs(
      suite.db.pool,
      Array.from({ length: SLOW_MIN_RUNS - 1 }, (_, i) => run(i)),
    );
    const slow = await insertOne({ type: 'slowish', status: 'RUNNING', started_at: new Date(now - 1000 * SECOND) });
    await suite.db.pool.query('UPDATE jobs SET heartbeat_at = now() WHERE id = $1', [slow]);
    const flagged = async () =>
      (await suite.server.gql<{ job: { slowerThanUsual: boolean } }>(suite.admin, `query { job(id: "${slow}") { slowerThanUsual } }`)).data
        ?.job.slowerThanUsual;
    // Too few runs to know what usual is: neither the daemon nor the flag say anything.
    expect(await tick()).toEqual(ZERO);
    expect(await flagged()).toBe(false);
    await insertJobs(suite.db.pool, [run(SLOW_MIN_RUNS)]);
    expect(await tick()).toEqual({ ...ZERO, slow: 1 });
    expect(await flagged()).toBe(true);
    // Once per attempt.
    expect(await tick()).toEqual(ZERO);
    expect((await events(slow)).map((event) => event.kind)).toEqual(['SLOWER_THAN_USUAL']);
  });
});
