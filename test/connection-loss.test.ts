import { Client as PgClient } from 'pg';
import type { Client } from 'graphql-ws';
import { eventually } from './support/eventually';
import { grant, insertJobs } from './support/fixtures';
import { killServerProcesses, startServerProcess, type ServerProcess } from './support/server-process';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { token, type GraphQLResponse } from './support/test-server';
import { subscribe, wsClient } from './support/ws-client';

/**
 * Lost database connections, for real, against the server in a process of its own (a crash
 * would end it): its own backends terminated over and over (idle, busy, and idle inside a
 * transaction: the daemon, the alert dispatcher, permission admin, the LISTEN connection), and
 * every connection reset by a proxy that then refuses new ones for a while. The process lives
 * on, requests in flight fail with the retryable DATABASE_UNAVAILABLE, WebSockets stay open,
 * and service resumes by itself.
 */
let db: TestDatabase;
const clients: Client[] = [];
let admin: string;
let worker: string;

beforeAll(async () => {
  db = await createTestDatabase();
  await grant(db.pool, 'admin', 'admin');
  await grant(db.pool, 'worker', 'worker');
  admin = await token('admin');
  worker = await token('worker');
});
afterEach(killServerProcesses);
afterAll(async () => {
  await Promise.all(clients.map(async (client) => client.dispose()));
  await db?.drop();
});

/** Rate limits out of the way (rate limiting has tests of its own). */
const UNLIMITED = {
  RATE_LIMIT_PER_SECOND: '1000000',
  RATE_LIMIT_BURST: '1000000',
  WORKER_RATE_LIMIT_PER_SECOND: '1000000',
  WORKER_RATE_LIMIT_BURST: '1000000',
};

/** What each request of the traffic got: ok, or the code (and reason) of its error, or its HTTP status. */
type Outcome = string;

function outcomeOf(response: GraphQLResponse<unknown>): Outcome {
  const error = response.errors?.[0];
  if (error === undefined) return response.status === 200 ? 'ok' : `HTTP ${response.status}`;
  const { code, reason, retryable } = error.extensions ?? {};
  if (reason === 'DATABASE_UNAVAILABLE')
    return retryable === true && (response.status === 200 || response.status === 503)
      ? 'unavailable'
      : `bad unavailable ${JSON.stringify(error)}`;
  return `${String(code)}${reason === undefined ? '' : ` ${String(reason)}`}`;
}

/** Runs `request` in a loop until `stop()`; answers the outcomes counted. */
function loop(request: () => Promise<Outcome>) {
  const outcomes = new Map<Outcome, number>();
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      let outcome: Outcome;
      try {
        outcome = await request();
      } catch (error) {
        outcome = `threw ${(error as Error).message}`;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  })();
  return {
    outcomes,
    async stop() {
      stopped = true;
      await running;
      return outcomes;
    },
  };
}

/** The statuses of the jobs that disagree with their last status-changing event: none, if every change was whole. */
async function halfDoneChanges(): Promise<unknown[]> {
  const { rows } = await db.pool.query(
    `SELECT j.id, j.status, last.to_status FROM jobs j
       CROSS JOIN LATERAL (SELECT e.to_status FROM timeline_events e WHERE e.job_id = j.id AND e.to_status IS NOT NULL ORDER BY e.id DESC LIMIT 1) last
      WHERE last.to_status IS DISTINCT FROM j.status`,
  );
  return rows;
}

/** `waiting`, or why it failed together with what the server process said: whether it still runs, its stderr, its warnings. */
async function explained<T>(child: ServerProcess, waiting: Promise<T>): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    const said = {
      exitCode: child.process.exitCode,
      signal: child.process.signalCode,
      stderr: child.stderr().slice(-2000),
      log: child.lines.slice(-10),
    };
    throw new Error(`${(error as Error).message}; the server process: ${JSON.stringify(said)}`, { cause: error });
  }
}

/** The kinds of backend a storm must have met: the pool's idle, busy and idle-in-transaction connections, and the LISTEN one. */
/**
 * An admin's `jobUpdated` of one type on the child, live once its snapshot of `snapshot` jobs has
 * arrived; `closed()` is the socket's close event, if it closed.
 */
async function watchJobs(child: ServerProcess, type: string, snapshot: number) {
  const ws = wsClient(child.url, admin);
  clients.push(ws);
  let closedEvent: unknown;
  ws.on('closed', (event) => (closedEvent = event));
  const updates = subscribe<{ jobUpdated: { id: string; status: string } }>(
    ws,
    `subscription { jobUpdated(filter: {types: ["${type}"]}) { id status } }`,
  );
  // The first operation of a process that has just started: room for a busy machine.
  await explained(
    child,
    updates.until((messages) => messages.length >= snapshot, 30_000),
  );
  return { updates, closed: () => closedEvent };
}

const MUST_MEET = ['jobwatch: idle', 'jobwatch: active', 'jobwatch: idle in transaction', 'jobwatch-listener: idle'];

/**
 * Terminates every backend of the server's (its pool and its LISTEN connection) ten times a
 * second for at least `ms`, and on (up to 30 s) until it has met each kind of MUST_MEET,
 * counting them by application and state; stops early once `alive` fails.
 */
async function killBackendsFor(ms: number, killed: Map<string, number>, alive: () => boolean): Promise<void> {
  const killer = new PgClient({ connectionString: db.url, application_name: 'connection-loss-killer' });
  await killer.connect();
  const started = Date.now();
  const done = () => Date.now() - started > 30_000 || (Date.now() - started > ms && MUST_MEET.every((kind) => killed.has(kind)));
  try {
    while (!done() && alive()) {
      const { rows } = await killer.query<{ state: string; application_name: string }>(
        `SELECT state, application_name, pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name IN ('jobwatch', 'jobwatch-listener') AND pid <> pg_backend_pid()`,
      );
      for (const row of rows)
        killed.set(`${row.application_name}: ${row.state}`, (killed.get(`${row.application_name}: ${row.state}`) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await killer.end();
  }
}

describe("the server's own backends terminated over and over", () => {
  let child: ServerProcess;

  beforeAll(async () => {
    // The daemon ticks often and alerts dispatch, so that transactions are open when the kills come.
    child = await startServerProcess(db.url, {
      DAEMON_INTERVAL_MS: '50',
      LOG_LEVEL: 'warn',
      PROGRESS_FLUSH_MS: '50',
      // The traffic sends mutations as fast as it gets answers: on a quiet machine that is more
      // than the default 50 a second of one user, and RATE_LIMITED is not what this test is about.
      ...UNLIMITED,
    });
  });

  test('idle, busy and idle-in-transaction connections: the process survives, errors are DATABASE_UNAVAILABLE, service and LISTEN resume', async () => {
    // An alert rule, so that the dispatcher reads its owner's permissions inside its transaction.
    const rule = await child.gql(admin, 'mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { rule { id } } }', {
      i: { name: 'all cancels', events: ['CANCELLED'], webhookUrl: 'http://127.0.0.1:9/hook' },
    });
    expect(rule.errors).toBeUndefined();
    const [watched] = await insertJobs(db.pool, [{ type: 'watched', status: 'PENDING' }]);
    const { updates, closed } = await watchJobs(child, 'watched', 1);

    // Traffic of every kind while the kills go on.
    const gql = (bearer: string, query: string, variables?: Record<string, unknown>) => child.gql(bearer, query, variables).then(outcomeOf);
    const lists = loop(() => gql(admin, '{ jobs(first: 20) { totalCount nodes { id status } } }'));
    const grants = loop(async () => {
      const granted = await child.gql<{ grantRole: { id: string } }>(
        admin,
        'mutation { grantRole(userId: "storm", role: "viewer") { id } }',
      );
      if (granted.data?.grantRole === undefined) return outcomeOf(granted);
      return gql(admin, 'mutation($id: ID!) { revokeGrant(id: $id) }', { id: granted.data.grantRole.id });
    });
    const cancels = loop(async () => {
      const created = await child.gql<{ createJob: { id: string } }>(
        admin,
        'mutation { createJob(input: {name: "storm", type: "storm", scope: "acme/storm"}) { id } }',
      );
      if (created.data?.createJob === undefined) return outcomeOf(created);
      return gql(admin, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: created.data.createJob.id });
    });
    const workers = loop(async () => {
      const claim = await child.gql<{ claimJob: { lease: string } | null }>(
        worker,
        'mutation { claimJob(workerId: "storm", types: ["storm-run"]) { lease } }',
      );
      const lease = claim.data?.claimJob?.lease;
      if (lease === undefined) {
        await insertJobs(db.pool, [{ type: 'storm-run', status: 'PENDING' }]);
        return outcomeOf(claim);
      }
      await gql(worker, 'mutation($l: String!) { heartbeat(lease: $l) { status } }', { l: lease });
      await gql(worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
        r: [{ lease, done: 1, total: 2, log: ['storm'] }],
      });
      return gql(worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease });
    });

    // The killer: every backend the server holds, whatever it is doing, ten times a second.
    const traffic = [lists, grants, cancels, workers];
    const killed = new Map<string, number>();
    try {
      await killBackendsFor(6_000, killed, () => child.process.exitCode === null && child.process.signalCode === null);
    } finally {
      await Promise.all(traffic.map((running) => running.stop()));
    }
    const outcomes = traffic.map((running) => running.outcomes);

    // Alive, having met connections killed in every state.
    expect({ exitCode: child.process.exitCode, signal: child.process.signalCode, stderr: child.stderr() }).toEqual({
      exitCode: null,
      signal: null,
      stderr: '',
    });
    expect([...killed.keys()]).toEqual(expect.arrayContaining(MUST_MEET));
    // Every answer was a success or the documented retryable one (never a mask, a crash or a reset).
    const all = new Map<Outcome, number>();
    for (const map of outcomes) for (const [outcome, count] of map) all.set(outcome, (all.get(outcome) ?? 0) + count);
    const unexpected = [...all.keys()].filter((outcome) => !['ok', 'unavailable', 'CONFLICT'].includes(outcome));
    expect({ unexpected, all: Object.fromEntries(all) }).toMatchObject({ unexpected: [] });
    // Requests met the kills (on a busy machine, hardly any gets through while they go on).
    expect(all.get('unavailable')).toBeGreaterThan(0);

    // Service resumes by itself: requests, readiness, LISTEN (a change reaches the subscriber).
    await eventually(
      () => child.gql(admin, '{ jobs(first: 1) { totalCount } }').then(outcomeOf),
      (outcome) => outcome === 'ok',
      15_000,
      'requests to succeed',
    );
    const base = child.url.replace(/\/graphql$/, '');
    await eventually(
      () => fetch(`${base}/readyz`).then((response) => response.status),
      (status) => status === 200,
      15_000,
      'readiness',
    );
    expect(outcomeOf(await child.gql(admin, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: watched!.id }))).toBe('ok');
    await explained(
      child,
      updates.until(
        (messages) => messages.some((message) => message.jobUpdated.id === watched!.id && message.jobUpdated.status === 'CANCELLED'),
        15_000,
      ),
    );
    // The WebSocket stayed open throughout.
    expect(closed()).toBeUndefined();
    // Every change was whole: each job's status is that of its last status-changing event.
    expect(await halfDoneChanges()).toEqual([]);
    // Each lost connection is logged at most once (not once per query that met it).
    const lost = child.lines.filter((line) => line['msg'] === 'database connection lost');
    const kills = [...killed.values()].reduce((sum, count) => sum + count, 0);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThanOrEqual(kills);
    updates.stop();
  }, 90_000);
});

describe('every connection reset, new ones refused for a while', () => {
  let proxy: FaultProxy;
  let child: ServerProcess;

  beforeAll(async () => {
    proxy = await startFaultProxy(db.url);
    child = await startServerProcess(proxy.via(db.url), { DAEMON_INTERVAL_MS: '100', LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  test('a request in flight fails retryable with its outcome unknown, new ones are refused as retryable, sockets stay open, service resumes', async () => {
    const [inFlight, changedMeanwhile, later] = await insertJobs(db.pool, [
      { type: 'reset', status: 'PENDING' },
      { type: 'reset', status: 'PENDING' },
      { type: 'reset', status: 'PENDING' },
    ]);
    const { updates, closed } = await watchJobs(child, 'reset', 3);
    const base = child.url.replace(/\/graphql$/, '');

    // A cancel held inside Postgres by a row lock (taken straight, not through the proxy): surely in flight at the reset.
    const holder = await db.pool.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [inFlight!.id]);
    let answer: GraphQLResponse | undefined;
    try {
      const pending = child
        .gql(admin, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: inFlight!.id })
        .then((response) => (answer = response));
      // The cancel's own statement (it sets cancel_requested_by), not any backend that waits for a lock a moment.
      await eventually(
        () =>
          db.pool.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND position('cancel_requested_by' in query) > 0`,
          ),
        (result) => result.rows[0].n > 0,
        15_000,
        'the cancel to wait for the lock',
      );
      await proxy.reset();
      await pending;
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    expect(answer?.errors?.[0]?.extensions).toMatchObject({
      code: 'INTERNAL_SERVER_ERROR',
      reason: 'DATABASE_UNAVAILABLE',
      retryable: true,
      outcome: 'UNKNOWN',
    });

    // While new connections are refused: a clear 503, not ready, but alive.
    const refused = await child.gql(admin, '{ jobs(first: 5) { nodes { id } } }');
    expect({ status: refused.status, extensions: refused.errors?.[0]?.extensions }).toMatchObject({
      status: 503,
      extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'DATABASE_UNAVAILABLE', retryable: true },
    });
    expect(refused.errors?.[0]?.extensions?.['outcome']).toBeUndefined();
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // Another instance (here: straight SQL) changes a watched job meanwhile.
    await db.pool.query(`UPDATE jobs SET status = 'CANCELLED', finished_at = now(), updated_at = now() WHERE id = $1`, [
      changedMeanwhile!.id,
    ]);
    // Refused for a few seconds: the pool's and the listener's reconnects fail too.
    const refusedUntil = Date.now() + 3_000;
    while (Date.now() < refusedUntil) {
      const during = await child.gql(admin, '{ jobs(first: 5) { nodes { id } } }');
      expect(during.errors?.[0]?.extensions?.['reason']).toBe('DATABASE_UNAVAILABLE');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect({ exitCode: child.process.exitCode, stderr: child.stderr() }).toEqual({ exitCode: null, stderr: '' });
    await proxy.up();

    // Back by itself: requests, readiness, and the LISTEN connection (with what it missed).
    await eventually(
      () => child.gql(admin, '{ jobs(first: 1) { totalCount } }').then(outcomeOf),
      (outcome) => outcome === 'ok',
      15_000,
      'requests to succeed',
    );
    await eventually(
      () => fetch(`${base}/readyz`).then((response) => response.status),
      (status) => status === 200,
      15_000,
      'readiness',
    );
    await explained(
      child,
      updates.until(
        (messages) =>
          messages.some((message) => message.jobUpdated.id === changedMeanwhile!.id && message.jobUpdated.status === 'CANCELLED'),
        15_000,
      ),
    );
    expect(outcomeOf(await child.gql(admin, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: later!.id }))).toBe('ok');
    await explained(
      child,
      updates.until(
        (messages) => messages.some((message) => message.jobUpdated.id === later!.id && message.jobUpdated.status === 'CANCELLED'),
        15_000,
      ),
    );
    expect(closed()).toBeUndefined();
    // The cut cancel happened whole or not at all; read back and done once, as the answer says.
    const {
      rows: [state],
    } = await db.pool.query(
      `SELECT j.status, (SELECT count(*)::int FROM timeline_events e WHERE e.job_id = j.id) AS events FROM jobs j WHERE j.id = $1`,
      [inFlight!.id],
    );
    expect([
      { status: 'PENDING', events: 0 },
      { status: 'CANCELLED', events: 1 },
    ]).toContainEqual(state);
    expect(await halfDoneChanges()).toEqual([]);
    expect({ exitCode: child.process.exitCode, stderr: child.stderr() }).toEqual({ exitCode: null, stderr: '' });
    updates.stop();
  }, 90_000);
});
