import { JobwatchWorker, type ClaimedJob, type JobContext, type JobStep } from '../src/workers/sdk';
import { grant } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestServer, token, type TestServer } from './support/test-server';

let db: TestDatabase;
let server: TestServer;
let admin: string;
const workers: JobwatchWorker[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db, { PROGRESS_FLUSH_MS: '20' });
  await grant(db.pool, 'admin', 'admin');
  await grant(db.pool, 'sdk-worker', 'worker');
  admin = await token('admin');
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop({ abort: true })));
  await server?.close();
  await db?.drop();
});

async function startWorker(type: string, handler: (job: ClaimedJob, ctx: JobContext) => Promise<string | void>) {
  const worker = new JobwatchWorker({
    url: server.url,
    token: await token('sdk-worker'),
    workerId: `sdk-${type}`,
    types: [type],
    pollIntervalMs: 20,
    heartbeatIntervalMs: 50,
    progressIntervalMs: 20,
    handler,
  });
  workers.push(worker);
  worker.start();
  return worker;
}

async function createJob(type: string, extra = ''): Promise<string> {
  const response = await server.gql<{ createJob: { id: string } }>(
    admin,
    `mutation { createJob(input: { name: "${type} job", type: "${type}", scope: "acme" ${extra} }) { id } }`,
  );
  return response.data!.createJob.id;
}

async function until(id: string, statuses: string[], timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await server.gql<{ job: Record<string, unknown> }>(
      admin,
      `query($id: ID!) { job(id: $id) { status step attempt message error { message stack } progress { done total } } }`,
      { id },
    );
    const job = response.data!.job;
    if (statuses.includes(job['status'] as string) || Date.now() > deadline) return job;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test('steps run in order, POST always last; a rerun from RUN reruns RUN and POST only', async () => {
  const ran: string[] = [];
  const steps = (ctx: JobContext) =>
    ctx.runSteps({
      PRE: async () => void ran.push('PRE'),
      RUN: async () => void ran.push('RUN'),
      POST: async () => void ran.push('POST'),
    });
  const worker = await startWorker('steps', async (_job, ctx) => steps(ctx));
  const id = await createJob('steps');
  expect(await until(id, ['SUCCEEDED'])).toMatchObject({ status: 'SUCCEEDED', step: 'POST' });
  expect(ran).toEqual(['PRE', 'RUN', 'POST']);

  ran.length = 0;
  await server.gql(admin, `mutation { restartJob(id: "${id}", step: RUN) { status } }`);
  expect(await until(id, ['SUCCEEDED'])).toMatchObject({ status: 'SUCCEEDED', attempt: 2 });
  expect(ran).toEqual(['RUN', 'POST']);
  await worker.stop();
});

test('a failing step still runs POST, and the job FAILS with the error and its stack', async () => {
  const ran: Array<[JobStep, string | undefined]> = [];
  const worker = await startWorker('failing', async (_job, ctx) =>
    ctx.runSteps({
      PRE: async () => void ran.push(['PRE', undefined]),
      RUN: async () => {
        ran.push(['RUN', undefined]);
        throw new Error('target database refused the connection');
      },
      POST: async (failure) => void ran.push(['POST', (failure as Error | undefined)?.message]),
    }),
  );
  const id = await createJob('failing');
  const job = await until(id, ['FAILED']);
  expect(job['status']).toBe('FAILED');
  expect(job['error']).toMatchObject({ message: 'target database refused the connection' });
  expect((job['error'] as { stack: string }).stack).toMatch(/Error: target database refused the connection\n\s+at /);
  expect(ran).toEqual([
    ['PRE', undefined],
    ['RUN', undefined],
    ['POST', 'target database refused the connection'],
  ]);
  await worker.stop();
});

test('a trap waits for the decision, then the job goes on', async () => {
  let decision: string | undefined;
  const worker = await startWorker('trapping', async (_job, ctx) => {
    ctx.progress({ done: 1, total: 2 });
    decision = await ctx.trap(new Error('row 17 violates a constraint'), { timeoutSeconds: 300 });
    ctx.progress({ done: 2 });
    return `resumed after ${decision}`;
  });
  const id = await createJob('trapping');
  expect(await until(id, ['TRAPPED'])).toMatchObject({ status: 'TRAPPED' });
  await server.gql(admin, `mutation { resolveTrap(id: "${id}", decision: RETRY) { status } }`);
  expect(await until(id, ['SUCCEEDED'])).toMatchObject({ status: 'SUCCEEDED', message: 'resumed after RETRY', progress: { done: 2, total: 2 } });
  expect(decision).toBe('RETRY');
  await worker.stop();
});

test('the secrets reach the handler; cancelling aborts its signal and the job ends CANCELLED', async () => {
  let secrets: unknown;
  let aborted: unknown;
  const worker = await startWorker('signals', async (_job, ctx) => {
    secrets = ctx.secrets;
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    aborted = ctx.signal.reason;
    ctx.signal.throwIfAborted();
  });
  const id = await createJob('signals', ', secrets: { apiKey: "k-123" }');
  await until(id, ['RUNNING']);
  await server.gql(admin, `mutation { cancelJob(id: "${id}") { status } }`);
  expect(await until(id, ['CANCELLED'])).toMatchObject({ status: 'CANCELLED' });
  expect(secrets).toEqual({ apiKey: 'k-123' });
  expect(aborted).toMatchObject({ name: 'JobAbortedError', reason: 'cancelled' });
  await worker.stop();
});
