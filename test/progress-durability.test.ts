import { JobwatchWorker, type ClaimedJob, type JobContext } from '../src/sdk';
import { eventually } from './support/eventually';
import { grant } from './support/fixtures';
import { killServerProcesses, startServerProcess, type ServerProcess } from './support/server-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { token } from './support/test-server';
import { subscribe, wsClient } from './support/ws-client';
import type { Client } from 'graphql-ws';

/**
 * Progress the worker was told is accepted survives the instance that accepted it: two API
 * processes on one database, a worker (the SDK) reporting through the first, which is killed
 * with SIGKILL while reports sit in its memory; the worker's calls then reach the second, as
 * behind a load balancer. Every log line and the last progress must be in the database once.
 */
let db: TestDatabase;
let admin: string;
const workers: JobwatchWorker[] = [];
const sockets: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await grant(db.pool, 'admin', 'admin');
  await grant(db.pool, 'sdk-worker', 'worker');
  admin = await token('admin');
});
afterEach(async () => {
  await Promise.all(sockets.splice(0).map(async (socket) => socket.dispose()));
  await Promise.all(workers.splice(0).map((worker) => worker.stop({ abort: true })));
  killServerProcesses();
});
afterAll(async () => {
  await db?.drop();
});

/** A load balancer in the worker's fetch: calls go to the first instance until it cannot be reached, then to the next. */
interface Balancer {
  readonly fetch: typeof fetch;
  current(): string;
  /** Told of every request before it goes. */
  onRequest: ((url: string, body: string) => void | Promise<void>) | undefined;
}

function failover(urls: readonly string[]): Balancer {
  let index = 0;
  const balancer: Balancer = {
    onRequest: undefined,
    current: () => urls[index] as string,
    fetch: async (_input, init) => {
      const url = urls[index] as string;
      await balancer.onRequest?.(url, typeof init?.body === 'string' ? init.body : '');
      try {
        return await fetch(url, init);
      } catch (error) {
        if (index < urls.length - 1 && urls[index] === url) index += 1;
        throw error;
      }
    },
  };
  return balancer;
}

async function startWorker(
  url: string,
  type: string,
  balancer: Balancer,
  handler: (job: ClaimedJob, ctx: JobContext) => Promise<string | void>,
  options: { progressIntervalMs?: number } = {},
) {
  const errors: unknown[] = [];
  const worker = new JobwatchWorker({
    url,
    token: await token('sdk-worker'),
    fetch: balancer.fetch,
    timeoutMs: 5_000,
    workerId: `durable-${type}`,
    types: [type],
    pollIntervalMs: 20,
    heartbeatIntervalMs: 100,
    progressIntervalMs: options.progressIntervalMs ?? 30,
    onError: (error) => errors.push(error),
    handler,
  });
  workers.push(worker);
  worker.start();
  return { worker, errors };
}

async function createJob(server: ServerProcess, type: string): Promise<string> {
  const response = await server.gql<{ createJob: { id: string } }>(
    admin,
    `mutation { createJob(input: { name: "${type}", type: "${type}", scope: "acme" }) { id } }`,
  );
  expect(response.errors).toBeUndefined();
  return response.data!.createJob.id;
}

async function logLines(id: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ message: string }>(
    `SELECT message FROM timeline_events WHERE job_id = $1 AND kind = 'LOG' ORDER BY id`,
    [id],
  );
  return rows.map((row) => row.message);
}

test('kill -9 of the instance a worker reports through: every log line and the last progress are stored exactly once', async () => {
  // A long flush interval: when the instance dies, it holds reports it has not written.
  const a = await startServerProcess(db.url, { PROGRESS_FLUSH_MS: '400' });
  const b = await startServerProcess(db.url, { PROGRESS_FLUSH_MS: '100' });
  const balancer = failover([a.url, b.url]);
  const LINES = 150;
  const { errors } = await startWorker(a.url, 'durable-kill', balancer, async (_job, ctx) => {
    for (let line = 1; line <= LINES; line += 1) {
      ctx.log(`line ${line}`);
      ctx.progress({ done: line, total: LINES, unit: 'steps' });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return 'all steps done';
  });
  const id = await createJob(b, 'durable-kill');
  // People watching the job on the other instance: its progress, and its timeline from the start.
  const socket = wsClient(b.url, admin);
  sockets.push(socket);
  type Progress = { jobProgress: { status: string; progress: { done: number } } };
  const watched = subscribe<Progress>(socket, 'subscription($id: ID!) { jobProgress(id: $id) { status progress { done } } }', { id });
  const timeline = subscribe<{ jobTimeline: { kind: string; message: string | null } }>(
    socket,
    'subscription($id: ID!) { jobTimeline(id: $id, after: "0") { kind message } }',
    { id },
  );
  // Once the first lines are stored, the worker is mid-run and the instance holds the next ones.
  const storedBefore = await eventually(
    () => logLines(id).then((lines) => lines.length),
    (n) => n >= 20,
    15_000,
    'the first lines to be stored',
  );
  a.process.kill('SIGKILL');
  await a.exited;
  expect(storedBefore).toBeLessThan(LINES);
  const job = await eventually(
    () =>
      b.gql<{ job: { status: string; message: string | null; progress: { done: number; total: number; percent: number } } }>(
        admin,
        'query($id: ID!) { job(id: $id) { status message progress { done total percent } } }',
        { id },
      ),
    (response) => response.data?.job.status === 'SUCCEEDED',
    30_000,
    'the job to succeed',
  );
  expect(balancer.current()).toBe(b.url);
  expect(job.data!.job).toEqual({ status: 'SUCCEEDED', message: 'all steps done', progress: { done: LINES, total: LINES, percent: 100 } });
  expect(await logLines(id)).toEqual(Array.from({ length: LINES }, (_, index) => `line ${index + 1}`));
  // The worker did see the crash (its calls failed) and got over it.
  expect(errors.length).toBeGreaterThan(0);
  // What the watchers on the other instance saw: progress that never went back, up to the end, and every line once, in order.
  await watched.until((messages) => messages.at(-1)?.jobProgress.status === 'SUCCEEDED', 30_000);
  const done = watched.messages.map((message) => message.jobProgress.progress.done);
  expect(done).toEqual([...done].sort((x, y) => x - y));
  expect(watched.messages.at(-1)!.jobProgress.progress.done).toBe(LINES);
  await timeline.until((messages) => messages.some((message) => message.jobTimeline.kind === 'SUCCEEDED'), 30_000);
  const seen = timeline.messages.filter((message) => message.jobTimeline.kind === 'LOG').map((message) => message.jobTimeline.message);
  expect(seen).toEqual(Array.from({ length: LINES }, (_, index) => `line ${index + 1}`));
  expect([...watched.errors, ...timeline.errors]).toEqual([]);
});

test('kill -9 of that instance while the job ends: the SDK sends its last reports again, to the other, then ends it; SUCCEEDED with every line', async () => {
  const a = await startServerProcess(db.url, { PROGRESS_FLUSH_MS: '1000' });
  const b = await startServerProcess(db.url, { PROGRESS_FLUSH_MS: '100' });
  const balancer = failover([a.url, b.url]);
  const LINES = 60;
  // The first instance dies just as the call carrying the job's last reports goes to it: that call fails, surely
  // (a kill some time after it went raced the instance answering it and ending the job on a quiet machine).
  const killed = new Promise<void>((resolve) => {
    balancer.onRequest = async (url, body) => {
      if (url !== a.url || !body.includes('reportProgress') || !body.includes(`line ${LINES}`)) return;
      balancer.onRequest = undefined;
      a.process.kill('SIGKILL');
      await a.exited;
      resolve();
    };
  });
  await startWorker(
    a.url,
    'durable-end',
    balancer,
    async (_job, ctx) => {
      for (let line = 1; line <= LINES; line += 1) {
        ctx.log(`line ${line}`);
        ctx.progress({ done: line, total: LINES });
      }
      return 'ended on the other instance';
    },
    // Progress goes only when the job ends: that is the call the kill hits.
    { progressIntervalMs: 600_000 },
  );
  const id = await createJob(b, 'durable-end');
  await killed;
  const job = await eventually(
    () =>
      b.gql<{ job: { status: string; message: string | null; progress: { done: number } } }>(
        admin,
        'query($id: ID!) { job(id: $id) { status message progress { done } } }',
        { id },
      ),
    (response) => response.data?.job.status === 'SUCCEEDED',
    30_000,
    'the job to succeed',
  );
  expect(balancer.current()).toBe(b.url);
  expect(job.data!.job).toEqual({ status: 'SUCCEEDED', message: 'ended on the other instance', progress: { done: LINES } });
  expect(await logLines(id)).toEqual(Array.from({ length: LINES }, (_, index) => `line ${index + 1}`));
});
