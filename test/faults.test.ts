import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { findFreePort } from '../src/util/free-port';
import { grant, insertJobs } from './support/fixtures';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { postGraphQL, startTestServer, TEST_JWT_SECRET, TEST_SECRETS_KEY, token, type TestServer } from './support/test-server';
import { rawSocket, subscribe, wsClient } from './support/ws-client';

/**
 * Faults: Postgres goes away while requests and subscriptions are live (a proxy in front of it
 * is cut, then restored), and SIGTERM arrives during traffic. Nothing may be lost or half-done.
 */
let db: TestDatabase;
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await grant(db.pool, 'admin', 'admin');
  await grant(db.pool, 'worker', 'worker');
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await db?.drop();
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
  let proxy: TcpProxy;
  let server: TestServer;
  let admin: string;
  let worker: string;

  beforeAll(async () => {
    const target = new URL(db.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    // Flushes by hand: the test decides whether a flush meets the outage.
    server = await startTestServer(db, { DATABASE_URL: proxy.via(db.url), PROGRESS_FLUSH_MS: '60000' });
    admin = await token('admin');
    worker = await token('worker');
  });
  afterAll(async () => {
    await proxy?.up().catch(() => undefined);
    await server?.close();
    await proxy?.close();
  });

  test('clear errors while it is down; within seconds of its return everything serves again, LISTEN included, and nothing is lost', async () => {
    const base = server.url.replace(/\/graphql$/, '');
    const [running, other] = await insertJobs(db.pool, [{ type: 'outage' }, { type: 'outage-other', status: 'RUNNING' }]);
    const claim = await server.gql<{ claimJob: { lease: string } }>(worker, 'mutation { claimJob(workerId: "w", types: ["outage"]) { lease } }');
    const lease = claim.data!.claimJob.lease;
    const ws = wsClient(server.url, admin, { retry: true });
    clients.push(ws);
    const watched = subscribe<{ jobProgress: { id: string; status: string } }>(
      ws,
      'subscription($id: ID!) { jobProgress(id: $id) { id status } }',
      { id: other!.id },
    );
    await watched.until((messages) => messages.length >= 1);
    // Reports taken just before the outage; their flush will meet it.
    const accepted = await server.gql<{ reportProgress: number }>(worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
      r: [{ lease, done: 42, total: 100, log: ['accepted just before the outage'] }],
    });
    expect(accepted.data?.reportProgress).toBe(1);

    await proxy.down();
    await expect(server.services.progress.flush()).rejects.toThrow();

    // A clear, retryable answer, fast; readiness fails, liveness does not.
    const started = Date.now();
    const during = await server.gql(admin, '{ jobs { nodes { id } } }');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(during.status).toBeLessThan(600);
    expect(during.errors?.[0]).toMatchObject({
      extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'DATABASE_UNAVAILABLE', retryable: true },
    });
    expect(during.errors?.[0]?.message).toMatch(/database is unavailable/);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // New reports are refused as clearly (the SDK keeps them and sends them again later).
    const refused = await server.gql(worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', { r: [{ lease, done: 50 }] });
    expect(refused.errors?.[0]?.extensions?.['reason']).toBe('DATABASE_UNAVAILABLE');
    // Meanwhile another instance (here: straight SQL) finishes the watched job.
    await db.pool.query(`UPDATE jobs SET status = 'SUCCEEDED', updated_at = now() WHERE id = $1`, [other!.id]);

    await proxy.up();

    const back = await eventually(
      () => server.gql<{ jobs: { nodes: Array<{ id: string }> } }>(admin, '{ jobs { nodes { id } } }'),
      (response) => response.errors === undefined,
    );
    expect(back.errors).toBeUndefined();
    expect((await eventually(() => fetch(`${base}/readyz`), (response) => response.status === 200)).status).toBe(200);
    // The terminal state changed while LISTEN was down reaches the subscriber after the reconnect.
    await watched.until((messages) => messages.at(-1)?.jobProgress.status === 'SUCCEEDED', 15_000);
    // The reports whose flush met the outage are written now, with their log line, once.
    await server.services.progress.flush();
    const flushed = await db.pool.query<{ progress_done: number }>('SELECT progress_done FROM jobs WHERE id = $1', [running!.id]);
    expect(flushed.rows[0]?.progress_done).toBe(42);
    const { rows: logs } = await db.pool.query(`SELECT count(*)::int AS n FROM timeline_events WHERE job_id = $1 AND message = 'accepted just before the outage'`, [
      running!.id,
    ]);
    expect(logs[0]).toEqual({ n: 1 });
    // And live events flow again through the restored LISTEN connection.
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
    const [job] = await insertJobs(db.pool, [{ type: 'outage-actions', status: 'PENDING' }]);
    await proxy.down();
    const refused = await server.gql(admin, `mutation { cancelJob(id: "${job!.id}") { status } }`);
    expect(refused.errors?.[0]?.extensions?.['reason']).toBe('DATABASE_UNAVAILABLE');
    await proxy.up();
    const done = await eventually(
      () => server.gql<{ cancelJob: { status: string } }>(admin, `mutation { cancelJob(id: "${job!.id}") { status } }`),
      (response) => response.errors === undefined,
    );
    expect(done.data?.cancelJob.status).toBe('CANCELLED');
    // Every job's status is the outcome of its last status-changing event (or its creation).
    const { rows } = await db.pool.query<{ id: string; status: string; last: string | null }>(
      `SELECT j.id, j.status,
              (SELECT e.to_status FROM timeline_events e WHERE e.job_id = j.id AND e.to_status IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS last
         FROM jobs j WHERE j.type LIKE 'outage%'`,
    );
    for (const row of rows) if (row.last !== null) expect([row.id, row.status]).toEqual([row.id, row.last]);
    const { rows: events } = await db.pool.query(`SELECT kind FROM timeline_events WHERE job_id = $1`, [job!.id]);
    expect(events).toEqual([{ kind: 'CANCELLED' }]);
  }, 30_000);
});

describe('SIGTERM during traffic', () => {
  test('stops accepting, finishes in-flight requests, closes sockets with 1001, flushes progress, exits 0', async () => {
    const port = await findFreePort();
    const root = path.resolve(__dirname, '..');
    const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        PORT: String(port),
        JWT_SECRET: TEST_JWT_SECRET,
        SECRETS_KEY: TEST_SECRETS_KEY,
        LOG_LEVEL: 'silent',
        // Long on purpose: the last report can only reach the database through the shutdown flush.
        PROGRESS_FLUSH_MS: '60000',
        DAEMON_INTERVAL_MS: '3600000',
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}/graphql`;
    await eventually(() => fetch(`http://127.0.0.1:${port}/readyz`), (response) => response.ok, 30_000);
    const admin = await token('admin');
    const worker = await token('worker');

    const [job] = await insertJobs(db.pool, [{ type: 'sigterm' }]);
    const claim = await postGraphQL<{ claimJob: { lease: string } }>(url, worker, 'mutation { claimJob(workerId: "w", types: ["sigterm"]) { lease } }');
    const lease = claim.data!.claimJob.lease;
    const reported = await postGraphQL<{ reportProgress: number }>(url, worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
      r: [{ lease, done: 77, total: 100 }],
    });
    expect(reported.data?.reportProgress).toBe(1);

    const socket = rawSocket(url);
    await socket.opened;
    socket.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${admin}` } }));
    await eventually(async () => socket.messages, (messages) => messages.some((message) => message['type'] === 'connection_ack'));

    // Traffic: a steady stream of list queries while the signal arrives.
    let stop = false;
    const outcomes: string[] = [];
    const traffic = Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          const response = await postGraphQL(url, admin, '{ jobs(first: 100) { nodes { id name status } } }');
          outcomes.push(response.status >= 500 ? `HTTP ${response.status}` : response.errors === undefined ? 'ok' : String(response.errors[0]?.extensions?.['code']));
        } catch {
          outcomes.push('refused'); // the listener is closed: a client would retry another instance
          return;
        }
      }
    });
    await eventually(async () => outcomes.length, (count) => count >= 8);
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000))]);
    stop = true;
    await Promise.all(traffic);

    expect(code).toBe(0);
    expect((await socket.closed).code).toBe(1001);
    expect(outcomes.filter((outcome) => outcome !== 'ok' && outcome !== 'refused')).toEqual([]);
    expect(outcomes.filter((outcome) => outcome === 'ok').length).toBeGreaterThanOrEqual(8);
    const { rows } = await db.pool.query('SELECT progress_done FROM jobs WHERE id = $1', [job!.id]);
    expect(rows[0]).toEqual({ progress_done: 77 });
    // Nothing of the daemon is left holding its lock.
    const { rows: locks } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
    expect(locks[0]).toEqual({ n: 0 });
  }, 60_000);
});
