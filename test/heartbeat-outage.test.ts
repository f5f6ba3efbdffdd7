import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { eventually } from './support/eventually';
import { grant, insertJobs } from './support/fixtures';
import { killServerProcesses, startServerProcess, type ServerProcess } from './support/server-process';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { token } from './support/test-server';
import { findFreePort } from '../src/util/free-port';

/**
 * Heartbeats that could not be written do not count against a worker. Real worker processes
 * (the SDK) heartbeat through a real server process; then Postgres goes away behind a proxy that
 * resets every connection and refuses new ones, or the server itself is down, for longer than
 * HEARTBEAT_TIMEOUT_MS. The live workers' jobs survive and their next heartbeat works; the job
 * of a worker killed with `kill -9` still ends ABENDED, a full timeout after the daemon resumed.
 */
const HEARTBEAT_TIMEOUT_MS = 6_000;
const ENV = { HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS), DAEMON_INTERVAL_MS: '100', LOG_LEVEL: 'warn' };

let db: TestDatabase;
let workerToken: string;
const workers: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await grant(db.pool, 'worker', 'worker');
  workerToken = await token('worker', { ttlSeconds: 600 });
});
afterEach(() => {
  for (const child of workers.splice(0)) child.kill('SIGKILL');
  killServerProcesses();
});
afterAll(async () => {
  await db?.drop();
});

interface WorkerEvent {
  readonly event: string;
  readonly jobId?: string;
  readonly reason?: string;
}

/** A worker process (test/support/worker-process.ts) that claims one type and reports forever. */
function startWorker(url: string, type: string) {
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'test/support/worker-process.ts'], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, JOBWATCH_URL: url, JOBWATCH_TOKEN: workerToken, WORKER_TYPES: type, WORKER_MODE: 'hang' },
  });
  workers.push(child);
  const events: WorkerEvent[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as WorkerEvent);
    } catch {
      // not an event
    }
  });
  return { child, events };
}

interface HeldJob {
  readonly id: string;
  readonly status: string;
  readonly heartbeat_at: Date | null;
  readonly finished_at: Date | null;
  readonly error_message: string | null;
}

async function jobs(ids: readonly string[]): Promise<HeldJob[]> {
  const { rows } = await db.pool.query<HeldJob>(
    'SELECT id, status, heartbeat_at, finished_at, error_message FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY array_position($1::uuid[], id)',
    [ids],
  );
  return rows;
}

async function dbNow(): Promise<number> {
  const { rows } = await db.pool.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  return rows[0]!.now.getTime();
}

/**
 * Three workers on three jobs: two live, one killed with SIGKILL once it has heartbeated. Waits
 * until every job is RUNNING and heartbeating.
 */
async function threeWorkers(url: string, prefix: string) {
  const types = ['live-a', 'live-b', 'killed'].map((name) => `${prefix}-${name}`);
  const seeded = await insertJobs(
    db.pool,
    types.map((type) => ({ type, status: 'PENDING' as const })),
  );
  const ids = seeded.map((job) => job.id);
  const [liveA, liveB, killed] = types.map((type) => startWorker(url, type));
  await eventually(
    () => jobs(ids),
    (rows) => rows.every((row) => row.status === 'RUNNING' && row.heartbeat_at !== null),
    90_000,
    'three jobs running',
  );
  killed!.child.kill('SIGKILL');
  return { ids, live: [liveA!, liveB!], liveIds: ids.slice(0, 2), killedId: ids[2]! };
}

/** Waits, on the database's clock, until the newest heartbeat of `ids` is older than the timeout and a second. */
async function pastTheTimeout(ids: readonly string[]): Promise<void> {
  await eventually(
    async () => {
      const newest = Math.max(...(await jobs(ids)).map((row) => row.heartbeat_at?.getTime() ?? 0));
      return (await dbNow()) - newest;
    },
    (age) => age > HEARTBEAT_TIMEOUT_MS + 1_000,
    HEARTBEAT_TIMEOUT_MS * 4,
    'every heartbeat older than the timeout',
  );
}

/**
 * After the fault (over at `faultEnded`, on the database's clock): live jobs heartbeat again and
 * run on; the killed worker's job ends ABENDED, a whole timeout after the fault at the earliest.
 */
async function expectTheTruthAfter(faultEnded: number, setup: Awaited<ReturnType<typeof threeWorkers>>): Promise<void> {
  // Their next heartbeat worked: written after the fault, on the same lease.
  const live = await eventually(
    () => jobs(setup.liveIds),
    (rows) => rows.every((row) => row.status !== 'RUNNING' || (row.heartbeat_at?.getTime() ?? 0) > faultEnded),
    90_000,
    'the live workers to heartbeat again',
  );
  expect(live.map((row) => row.status)).toEqual(['RUNNING', 'RUNNING']);

  const [killed] = await eventually(
    () => jobs([setup.killedId]),
    ([row]) => row?.status !== 'RUNNING',
    90_000,
    'the killed worker to be ABENDED',
  );
  expect(killed).toMatchObject({ status: 'ABENDED', error_message: expect.stringContaining('stopped heartbeating') });
  // A fresh timeout from the moment heartbeats could be written again (the first tick after the fault).
  expect(killed!.finished_at!.getTime()).toBeGreaterThanOrEqual(faultEnded + HEARTBEAT_TIMEOUT_MS);

  // The live ones still run, heartbeat, and none of their workers ever heard LEASE_LOST.
  const later = await jobs(setup.liveIds);
  expect(later.map((row) => row.status)).toEqual(['RUNNING', 'RUNNING']);
  for (const worker of setup.live) expect(worker.events.filter((event) => event.event === 'aborted')).toEqual([]);
  const { rows } = await db.pool.query<{ kind: string }>(
    `SELECT kind FROM timeline_events WHERE job_id = ANY($1::uuid[]) AND to_status IS NOT NULL AND to_status <> 'RUNNING'`,
    [setup.liveIds],
  );
  expect(rows).toEqual([]);
}

test('a database outage longer than the heartbeat timeout: live jobs survive, a killed worker’s job still abends', async () => {
  const proxy: FaultProxy = await startFaultProxy(db.url);
  try {
    const server: ServerProcess = await startServerProcess(proxy.via(db.url), ENV);
    const setup = await threeWorkers(server.url, 'db-outage');

    await proxy.reset(); // every connection reset, new ones refused: Postgres is gone for the server
    await pastTheTimeout(setup.ids);
    const faultEnded = await dbNow();
    await proxy.up();

    await expectTheTruthAfter(faultEnded, setup);
    expect(server.process.exitCode).toBeNull();
  } finally {
    await proxy.close();
  }
}, 300_000);

test('a server restart longer than the heartbeat timeout: live jobs survive, a killed worker’s job still abends', async () => {
  const port = String(await findFreePort());
  const first = await startServerProcess(db.url, { ...ENV, PORT: port });
  const setup = await threeWorkers(first.url, 'restart');

  first.process.kill('SIGTERM');
  expect(await first.exited).toEqual({ code: 0, signal: null });
  await pastTheTimeout(setup.ids);
  const faultEnded = await dbNow();
  const second = await startServerProcess(db.url, { ...ENV, PORT: port });
  expect(second.url).toBe(first.url);

  await expectTheTruthAfter(faultEnded, setup);
}, 300_000);
