import type { PoolClient } from 'pg';
import { apiSuite } from './support/api-suite';
import { insertJobs } from './support/fixtures';
import { killServerProcesses, startServerProcess, type ServerProcess } from './support/server-process';
import type { TestDatabase } from './support/test-database';
import { postGraphQL, type GraphQLResponse, type TestServer } from './support/test-server';
import { rawSocket, subscribe } from './support/ws-client';

/**
 * Faults: Postgres goes away while requests and subscriptions are live (a proxy in front of it
 * is cut, then restored), and SIGTERM arrives during traffic. Nothing may be lost or half-done.
 */
/**
 * The in-process server reaches Postgres through the proxy; the outage tests cut it, and close
 * the server when they are done. The SIGTERM tests start servers in processes of their own
 * (startServerProcess): a signal to a child is what they test, which no in-process server is.
 */
const suite = apiSuite({
  faultProxy: true,
  // Flushes by hand: the test decides whether a flush meets the outage (the timer, even at its
  // longest, would still flush once a minute).
  env: { PROGRESS_FLUSH_MS: '60000' },
});

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await read();
      if (ok(value)) return value;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) return value as T;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Postgres goes away and comes back', () => {
  let server: TestServer;
  let admin: string;
  let worker: string;

  beforeAll(async () => {
    server = suite.server;
    await server.services.progress.stop();
    admin = suite.admin;
    worker = suite.worker;
  });
  afterAll(async () => {
    await suite.proxy.up().catch(() => undefined);
    // The SIGTERM tests below run with no in-process server on the database.
    await suite.server?.close();
  });

  test('clear errors while it is down; within seconds of its return everything serves again, LISTEN included, and nothing is lost', async () => {
    const base = server.url.replace(/\/graphql$/, '');
    const [running, other] = await insertJobs(suite.db.pool, [{ type: 'outage' }, { type: 'outage-other', status: 'RUNNING' }]);
    const claim = await server.gql<{ claimJob: { lease: string } }>(
      worker,
      'mutation { claimJob(workerId: "w", types: ["outage"]) { lease } }',
    );
    const lease = claim.data!.claimJob.lease;
    const ws = suite.client(admin, server, { retry: true });
    const watched = subscribe<{ jobProgress: { id: string; status: string } }>(
      ws,
      'subscription($id: ID!) { jobProgress(id: $id) { id status } }',
      { id: other!.id },
    );
    await watched.until((messages) => messages.length >= 1);
    // Reports taken just before the outage; their flush will meet it.
    const accepted = await server.gql<{ reportProgress: number }>(
      worker,
      'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
      {
        r: [{ lease, done: 42, total: 100, log: ['accepted just before the outage'] }],
      },
    );
    expect(accepted.data?.reportProgress).toBe(1);

    await suite.proxy.down();
    await expect(server.services.progress.flush()).rejects.toThrow();

    // A clear, retryable answer, fast; readiness fails, liveness does not.
    const started = Date.now();
    const during = await server.gql(admin, '{ jobs { nodes { id } } }');
    expect(Date.now() - started).toBeLessThan(5_000);
    // Nothing could run (the request's permissions could not be read): the documented 503.
    expect({ status: during.status, data: during.data }).toEqual({ status: 503, data: undefined });
    expect(during.errors?.[0]).toMatchObject({
      extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'DATABASE_UNAVAILABLE', retryable: true },
    });
    expect(during.errors?.[0]?.message).toMatch(/database is unavailable/);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // New reports are refused as clearly (the SDK keeps them and sends them again later).
    const refused = await server.gql(worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
      r: [{ lease, done: 50 }],
    });
    expect(refused.errors?.[0]?.extensions?.['reason']).toBe('DATABASE_UNAVAILABLE');
    // A new subscription over the live socket is refused as clearly.
    const duringOutage = subscribe(ws, 'subscription($id: ID!) { jobProgress(id: $id) { id status } }', { id: running!.id });
    await eventually(
      async () => duringOutage.errors.length + duringOutage.messages.length,
      (count) => count > 0,
    );
    expect({ messages: duringOutage.messages, errors: duringOutage.errors }).toMatchObject({
      messages: [],
      // graphql-ws hands the error message's list of errors over as one error.
      errors: [[{ extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'DATABASE_UNAVAILABLE', retryable: true } }]],
    });
    expect(JSON.stringify(duringOutage.errors)).toMatch(/database/);
    // Meanwhile another instance (here: straight SQL) finishes the watched job.
    await suite.db.pool.query(`UPDATE jobs SET status = 'SUCCEEDED', updated_at = now() WHERE id = $1`, [other!.id]);

    await suite.proxy.up();

    const back = await eventually(
      () => server.gql<{ jobs: { nodes: Array<{ id: string }> } }>(admin, '{ jobs { nodes { id } } }'),
      (response) => response.errors === undefined,
    );
    expect(back.errors).toBeUndefined();
    expect(
      (
        await eventually(
          () => fetch(`${base}/readyz`),
          (response) => response.status === 200,
        )
      ).status,
    ).toBe(200);
    // The terminal state changed while LISTEN was down reaches the subscriber after the reconnect.
    await watched.until((messages) => messages.at(-1)?.jobProgress.status === 'SUCCEEDED', 15_000);
    // The reports whose flush met the outage are written now, with their log line, once.
    await server.services.progress.flush();
    const flushed = await suite.db.pool.query<{ progress_done: number }>('SELECT progress_done FROM jobs WHERE id = $1', [running!.id]);
    expect(flushed.rows[0]?.progress_done).toBe(42);
    const { rows: logs } = await suite.db.pool.query(
      `SELECT count(*)::int AS n FROM timeline_events WHERE job_id = $1 AND message = 'accepted just before the outage'`,
      [running!.id],
    );
    expect(logs[0]).toEqual({ n: 1 });
    // A new subscription works again, and live events flow through the restored LISTEN connection.
    const next = subscribe<{ jobProgress: { status: string } }>(ws, 'subscription($id: ID!) { jobProgress(id: $id) { status } }', {
      id: running!.id,
    });
    await next.until((messages) => messages.length >= 1);
    await server.gql(worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease });
    await next.until((messages) => messages.some((message) => message.jobProgress.status === 'SUCCEEDED'));
    watched.stop();
    next.stop();
  }, 60_000);

  test('a transition during the outage either happened whole or not at all: every job matches its timeline', async () => {
    const [job] = await insertJobs(suite.db.pool, [{ type: 'outage-actions', status: 'PENDING' }]);
    await suite.proxy.down();
    const refused = await server.gql(admin, `mutation { cancelJob(id: "${job!.id}") { status } }`);
    expect(refused.errors?.[0]?.extensions?.['reason']).toBe('DATABASE_UNAVAILABLE');
    await suite.proxy.up();
    const done = await eventually(
      () => server.gql<{ cancelJob: { status: string } }>(admin, `mutation { cancelJob(id: "${job!.id}") { status } }`),
      (response) => response.errors === undefined,
    );
    expect(done.data?.cancelJob.status).toBe('CANCELLED');
    // Every job's status is the outcome of its last status-changing event (or its creation).
    const { rows } = await suite.db.pool.query<{ id: string; status: string; last: string | null }>(
      `SELECT j.id, j.status,
              (SELECT e.to_status FROM timeline_events e WHERE e.job_id = j.id AND e.to_status IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS last
         FROM jobs j WHERE j.type LIKE 'outage%'`,
    );
    for (const row of rows) if (row.last !== null) expect([row.id, row.status]).toEqual([row.id, row.last]);
    const { rows: events } = await suite.db.pool.query(`SELECT kind FROM timeline_events WHERE job_id = $1`, [job!.id]);
    expect(events).toEqual([{ kind: 'CANCELLED' }]);
  }, 30_000);
  test('a mutation in flight when the connection is cut: whole or not at all, and the answer does not claim "nothing changed"', async () => {
    const [job] = await insertJobs(suite.db.pool, [{ type: 'outage-inflight', status: 'PENDING' }]);
    // The cancel waits for this row lock inside Postgres: it is surely in flight when the cut comes.
    const holder = await lockRows(suite.db, [job!.id]);
    let answer: GraphQLResponse | undefined;
    try {
      const pending = server.gql(admin, `mutation { cancelJob(id: "${job!.id}") { status } }`).then((response) => (answer = response));
      await waitingOnLock(suite.db, 'cancel_requested_by');
      await suite.proxy.down();
      await pending;
    } finally {
      await holder.release();
    }
    expect(answer?.errors?.[0]?.extensions).toMatchObject({
      code: 'INTERNAL_SERVER_ERROR',
      reason: 'DATABASE_UNAVAILABLE',
      outcome: 'UNKNOWN',
    });
    expect(answer?.errors?.[0]?.message).toMatch(/whole or not at all/);
    expect(answer?.errors?.[0]?.message).not.toMatch(/nothing was changed/);
    await suite.proxy.up();
    // The orphaned statement finishes (or not) on its own once the lock is gone: wait until no
    // backend runs it any more (committed or rolled back), not merely until it stopped waiting.
    await eventually(
      () => running(suite.db, 'cancel_requested_by'),
      (count) => count === 0,
    );
    const {
      rows: [state],
    } = await suite.db.pool.query<{ status: string; events: string[] }>(
      `SELECT j.status, coalesce((SELECT array_agg(e.kind ORDER BY e.id) FROM timeline_events e WHERE e.job_id = j.id), '{}') AS events FROM jobs j WHERE j.id = $1`,
      [job!.id],
    );
    expect([
      { status: 'PENDING', events: [] },
      { status: 'CANCELLED', events: ['CANCELLED'] },
    ]).toContainEqual(state);
    // Read back, as the answer says, then done (again) if it had not happened: one cancel in all.
    const read = await eventually(
      () => server.gql<{ job: { status: string } }>(admin, `{ job(id: "${job!.id}") { status } }`),
      (response) => response.errors === undefined,
    );
    expect(read.data?.job.status).toBe(state!.status);
    if (state!.status === 'PENDING')
      expect((await server.gql(admin, `mutation { cancelJob(id: "${job!.id}") { status } }`)).errors).toBeUndefined();
    const { rows: events } = await suite.db.pool.query(`SELECT kind FROM timeline_events WHERE job_id = $1`, [job!.id]);
    expect(events).toEqual([{ kind: 'CANCELLED' }]);
  }, 30_000);
});

/** Row locks on the jobs, held in an open transaction until `release`. */
async function lockRows(on: TestDatabase, ids: readonly string[], tables: readonly string[] = []): Promise<{ release(): Promise<void> }> {
  const client: PoolClient = await on.pool.connect();
  await client.query('BEGIN');
  for (const table of tables) await client.query(`LOCK TABLE ${table} IN SHARE MODE`);
  if (ids.length > 0) await client.query('SELECT id FROM jobs WHERE id = ANY($1::uuid[]) FOR UPDATE', [ids]);
  return {
    async release() {
      await client.query('COMMIT').catch(() => undefined);
      client.release();
    },
  };
}

/** How many statements of this database wait for a lock, their text containing `marker`. */
async function waiting(on: TestDatabase, marker: string): Promise<number> {
  const { rows } = await on.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND position($1 in query) > 0`,
    [marker],
  );
  return rows[0]!.n;
}

/** Backends still inside a statement (or its transaction) whose text holds `marker`. */
async function running(on: TestDatabase, marker: string): Promise<number> {
  const { rows } = await on.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle' AND position($1 in query) > 0`,
    [marker],
  );
  return rows[0]!.n;
}

async function waitingOnLock(on: TestDatabase, marker: string): Promise<void> {
  const count = await eventually(
    () => waiting(on, marker),
    (n) => n > 0,
  );
  if (count === 0) throw new Error(`no statement with "${marker}" came to wait for the lock`);
}

/** daemon.ts's DAEMON_LOCK: 0x6a776474 ("jwdt"). */
const DAEMON_LOCK = 0x6a776474;

/**
 * Daemon ticks in flight in this database: holders of the daemon's advisory lock (pg_locks is
 * cluster-wide: other test files have their own). Only that key: the change relay takes an
 * advisory lock of its own for each drain, every 500 ms at least, and would be counted now and
 * then.
 */
async function daemonLocks(on: TestDatabase): Promise<number> {
  const { rows } = await on.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1 AND objsubid = 1
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [DAEMON_LOCK],
  );
  return rows[0]!.n;
}

afterEach(killServerProcesses);

/** The server in a process of its own, logging at debug to a pipe. */
function startChild(env: Record<string, string> = {}): Promise<ServerProcess> {
  // A long flush on purpose: the last report can only reach the database through the shutdown flush.
  return startServerProcess(suite.db.url, { LOG_LEVEL: 'debug', PROGRESS_FLUSH_MS: '60000', ...env });
}

/** 'ok', 'refused', 'reset', or what else happened. */
type Outcome = string;

/** What a failed fetch was: refused (nothing listens: retry elsewhere) or reset (a connection cut). */
function failureOf(error: unknown): Outcome {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code === 'ECONNREFUSED' ? 'refused' : `reset (${cause?.code ?? cause?.message ?? String(error)})`;
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('SIGTERM', () => {
  test('during traffic: stops accepting, finishes in-flight requests and the daemon tick, closes sockets with 1001, flushes progress, exits 0', async () => {
    const child = await startChild({ DAEMON_INTERVAL_MS: '100' });
    const base = child.url.replace(/\/graphql$/, '');
    const admin = suite.admin;
    const worker = suite.worker;

    const [job, slow] = await insertJobs(suite.db.pool, [{ type: 'sigterm' }, { type: 'sigterm-slow', status: 'PENDING' }]);
    const claim = await postGraphQL<{ claimJob: { lease: string } }>(
      child.url,
      worker,
      'mutation { claimJob(workerId: "w", types: ["sigterm"]) { lease } }',
    );
    const lease = claim.data!.claimJob.lease;
    const reported = await postGraphQL<{ reportProgress: number }>(
      child.url,
      worker,
      'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
      {
        r: [{ lease, done: 77, total: 100 }],
      },
    );
    expect(reported.data?.reportProgress).toBe(1);

    const socket = rawSocket(child.url);
    await socket.opened;
    socket.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${admin}` } }));
    await eventually(
      async () => socket.messages,
      (messages) => messages.some((message) => message['type'] === 'connection_ack'),
    );

    // Work that is surely in flight at the signal, held inside Postgres: timeline_events locked
    // (every state change writes there), and the slow request's job row. The daemon's next tick
    // blocks on its first rule (expire), with a job due to expire; the slow cancel blocks too.
    const holder = await lockRows(suite.db, [slow!.id], ['timeline_events']);
    let released = false;
    const [due] = await insertJobs(suite.db.pool, [{ type: 'sigterm-due', status: 'PENDING' }]);
    await suite.db.pool.query(`UPDATE jobs SET max_start_at = now() - interval '1 minute' WHERE id = $1`, [due!.id]);
    let slowAnswer: GraphQLResponse<{ cancelJob: { status: string } }> | Outcome | undefined;
    const slowRequest = postGraphQL<{ cancelJob: { status: string } }>(
      child.url,
      admin,
      `mutation { cancelJob(id: "${slow!.id}") { status } }`,
    ).then(
      (response) => (slowAnswer = response),
      (error: unknown) => (slowAnswer = failureOf(error)),
    );
    try {
      await waitingOnLock(suite.db, 'max_start_at');
      await waitingOnLock(suite.db, 'cancel_requested_by');
      expect(await daemonLocks(suite.db)).toBe(1);

      // Traffic: a steady stream of list queries while the signal arrives, each with its id.
      let stop = false;
      let sent = 0;
      const outcomes = new Map<string, Outcome>();
      const traffic = Array.from({ length: 4 }, async () => {
        while (!stop) {
          const id = `traffic-${(sent += 1)}`;
          try {
            const response = await fetch(child.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, 'x-request-id': id },
              body: JSON.stringify({ query: '{ jobs(first: 100) { nodes { id name status } } }' }),
            });
            const body = (await response.json()) as { errors?: Array<{ extensions?: Record<string, unknown> }> };
            outcomes.set(
              id,
              response.status >= 500
                ? `HTTP ${response.status}`
                : body.errors === undefined
                  ? 'ok'
                  : String(body.errors[0]?.extensions?.['code']),
            );
          } catch (error) {
            outcomes.set(id, failureOf(error));
            return; // a client would retry another instance
          }
        }
      });
      await eventually(
        async () => [...outcomes.values()].filter((outcome) => outcome === 'ok').length,
        (count) => count >= 8,
      );
      child.process.kill('SIGTERM');

      // Stops accepting: a new connection is refused...
      const refused = await eventually(
        () => fetch(`${base}/healthz`).then(() => 'accepted', failureOf),
        (outcome) => outcome === 'refused',
      );
      expect(refused).toBe('refused');
      // ...while the slow request and the daemon's tick are still in flight, the process alive.
      expect({ slowAnswer, exitCode: child.process.exitCode, tick: await daemonLocks(suite.db) }).toEqual({
        slowAnswer: undefined,
        exitCode: null,
        tick: 1,
      });
      await holder.release();
      released = true;

      await slowRequest;
      expect(slowAnswer).toMatchObject({ status: 200, data: { cancelJob: { status: 'CANCELLED' } } });
      expect(
        await within(
          child.exited.then((exit) => exit.code),
          20_000,
        ),
      ).toBe(0);
      stop = true;
      await Promise.all(traffic);

      expect((await socket.closed).code).toBe(1001);
      // Every request the server received was answered; the others were refused or cut before
      // the server read them (a client cannot tell those apart, and retries either).
      const received = new Set(
        child.lines
          .filter((line) => line['msg'] === 'request received')
          .map((line) => String((line['req'] as { id?: unknown } | undefined)?.id)),
      );
      const answers = [...outcomes].map(([id, outcome]) => ({ id, outcome, received: received.has(id) }));
      expect(
        answers.filter(({ outcome, received: seen }) => (seen ? outcome !== 'ok' : outcome === 'ok' || !/^(refused|reset)/.test(outcome))),
      ).toEqual([]);
      expect(answers.filter(({ outcome }) => outcome === 'ok').length).toBeGreaterThanOrEqual(8);
      // The last report, written by the shutdown flush.
      const { rows } = await suite.db.pool.query('SELECT progress_done FROM jobs WHERE id = $1', [job!.id]);
      expect(rows[0]).toEqual({ progress_done: 77 });
      // The tick in flight at the signal was finished, not abandoned: the due job expired, with its event.
      const { rows: expired } = await suite.db.pool.query(
        `SELECT j.status, (SELECT array_agg(e.kind ORDER BY e.id) FROM timeline_events e WHERE e.job_id = j.id) AS events FROM jobs j WHERE j.id = $1`,
        [due!.id],
      );
      expect(expired).toEqual([{ status: 'EXPIRED', events: ['EXPIRED'] }]);
      expect(await daemonLocks(suite.db)).toBe(0);
    } finally {
      if (!released) await holder.release();
      await slowRequest;
    }
  }, 60_000);

  test(`a shutdown that cannot finish in time is cut at SHUTDOWN_TIMEOUT_MS, after writing pending progress`, async () => {
    const child = await startChild({ SHUTDOWN_TIMEOUT_MS: '1500' });
    const admin = suite.admin;
    const worker = suite.worker;
    const [job, stuck] = await insertJobs(suite.db.pool, [{ type: 'deadline' }, { type: 'deadline-stuck', status: 'PENDING' }]);
    const claim = await postGraphQL<{ claimJob: { lease: string } }>(
      child.url,
      worker,
      'mutation { claimJob(workerId: "w", types: ["deadline"]) { lease } }',
    );
    const reported = await postGraphQL<{ reportProgress: number }>(
      child.url,
      worker,
      'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
      {
        r: [{ lease: claim.data!.claimJob.lease, done: 55, total: 100 }],
      },
    );
    expect(reported.data?.reportProgress).toBe(1);

    // A request that cannot finish: its job row is locked for longer than the deadline, so the
    // HTTP drain (before progress is written in the normal order) would wait for it.
    const holder = await lockRows(suite.db, [stuck!.id]);
    try {
      const request = postGraphQL(child.url, admin, `mutation { cancelJob(id: "${stuck!.id}") { status } }`).then(
        () => 'answered',
        (error: unknown) => failureOf(error),
      );
      await waitingOnLock(suite.db, 'cancel_requested_by');
      const started = Date.now();
      child.process.kill('SIGTERM');
      expect(
        await within(
          child.exited.then((exit) => exit.code),
          15_000,
        ),
      ).toBe(1);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1_400);
      // Cut at the deadline, not when the request ends (its row stays locked until long after):
      // the deadline, the last flush it may still take (main.ts's LAST_FLUSH_MS, 3 s), and room
      // for a busy machine to deliver the signal and reap the process.
      expect(elapsed).toBeLessThan(1_500 + 3_000 + 5_000);
      expect(await request).toMatch(/^reset/);
      expect(child.lines.some((line) => line['msg'] === 'shutdown did not finish in time; writing pending progress and exiting')).toBe(
        true,
      );
      // The progress reported before the signal was written before the exit.
      const { rows } = await suite.db.pool.query('SELECT progress_done FROM jobs WHERE id = $1', [job!.id]);
      expect(rows[0]).toEqual({ progress_done: 55 });
    } finally {
      await holder.release();
    }
    // The cut request's statement ends on its own: whole or not at all.
    await eventually(
      () => waiting(suite.db, 'cancel_requested_by'),
      (count) => count === 0,
    );
    const {
      rows: [state],
    } = await suite.db.pool.query<{ status: string; events: number }>(
      `SELECT j.status, (SELECT count(*)::int FROM timeline_events e WHERE e.job_id = j.id) AS events FROM jobs j WHERE j.id = $1`,
      [stuck!.id],
    );
    expect([
      { status: 'PENDING', events: 0 },
      { status: 'CANCELLED', events: 1 },
    ]).toContainEqual(state);
  }, 60_000);
});
