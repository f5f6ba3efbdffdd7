import { JobwatchWorker, type ClaimedJob, type JobContext, type JobStep } from '../src/sdk';
import { apiSuite } from './support/api-suite';
import { token } from './support/test-server';

const workers: JobwatchWorker[] = [];

const suite = apiSuite({
  env: { PROGRESS_FLUSH_MS: '20' },
  grants: [
    ['admin', 'admin'],
    ['sdk-worker', 'worker'],
  ],
});
suite.disposeFirst(() => Promise.all(workers.map((worker) => worker.stop({ abort: true }))));

async function startWorker(type: string, handler: (job: ClaimedJob, ctx: JobContext) => Promise<string | void>) {
  const worker = new JobwatchWorker({
    url: suite.server.url,
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
  const response = await suite.server.gql<{ createJob: { id: string } }>(
    suite.admin,
    `mutation { createJob(input: { name: "${type} job", type: "${type}", scope: "acme" ${extra} }) { id } }`,
  );
  return response.data!.createJob.id;
}

async function until(id: string, statuses: string[], timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await suite.server.gql<{ job: Record<string, unknown> }>(
      suite.admin,
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
  await suite.server.gql(suite.admin, `mutation { restartJob(id: "${id}", step: RUN) { status } }`);
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
  await suite.server.gql(suite.admin, `mutation { resolveTrap(id: "${id}", decision: RETRY) { status } }`);
  expect(await until(id, ['SUCCEEDED'])).toMatchObject({
    status: 'SUCCEEDED',
    message: 'resumed after RETRY',
    progress: { done: 2, total: 2 },
  });
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
  await suite.server.gql(suite.admin, `mutation { cancelJob(id: "${id}") { status } }`);
  expect(await until(id, ['CANCELLED'])).toMatchObject({ status: 'CANCELLED' });
  expect(secrets).toEqual({ apiKey: 'k-123' });
  expect(aborted).toMatchObject({ name: 'JobAbortedError', reason: 'cancelled' });
  await worker.stop();
});

/** A promise with its resolver, for handlers that wait on the test. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

async function newWorker(
  type: string,
  options: Partial<ConstructorParameters<typeof JobwatchWorker>[0]> & Pick<ConstructorParameters<typeof JobwatchWorker>[0], 'handler'>,
) {
  const worker = new JobwatchWorker({
    url: suite.server.url,
    token: await token('sdk-worker'),
    workerId: `sdk-${type}`,
    types: [type],
    pollIntervalMs: 20,
    heartbeatIntervalMs: 50,
    // Progress goes out when the test says so (flushProgress) or when a job ends.
    progressIntervalMs: 3_600_000,
    ...options,
  });
  workers.push(worker);
  worker.start();
  return worker;
}

async function stored(id: string) {
  await suite.server.services.progress.flush();
  const { rows } = await suite.db.pool.query('SELECT progress_done, progress_total, progress_unit, message FROM jobs WHERE id = $1', [id]);
  return rows[0] as { progress_done: number; progress_total: number | null; progress_unit: string | null; message: string | null };
}

describe('progress through the SDK', () => {
  test('is throttled and batched: a thousand updates of three jobs are one call, with the last values', async () => {
    let calls = 0;
    const countingFetch: typeof fetch = (input, init) => {
      if (typeof init?.body === 'string' && init.body.includes('reportProgress')) calls += 1;
      return fetch(input, init);
    };
    const release = gate();
    const running = new Set<string>();
    const allRunning = gate();
    const worker = await newWorker('batched', {
      concurrency: 3,
      fetch: countingFetch,
      handler: async (job, ctx) => {
        for (let done = 1; done <= 1000; done += 1) ctx.progress({ done, total: 1000, message: `row ${done}` });
        running.add(job.id);
        if (running.size === 3) allRunning.open();
        await release.promise;
      },
    });
    const ids = [await createJob('batched'), await createJob('batched'), await createJob('batched')];
    await allRunning.promise;
    expect(calls).toBe(0);
    await worker.flushProgress();
    expect(calls).toBe(1);
    for (const id of ids) expect(await stored(id)).toMatchObject({ progress_done: 1000, progress_total: 1000, message: 'row 1000' });
    release.open();
    for (const id of ids) expect(await until(id, ['SUCCEEDED'])).toMatchObject({ status: 'SUCCEEDED' });
    // Nothing new was recorded: ending the jobs sent no more progress.
    expect(calls).toBe(1);
    await worker.stop();
  });

  test('texts are cut to what the server takes, an impossible task name throws where it is recorded', async () => {
    const release = gate();
    const recorded = gate<unknown>();
    const worker = await newWorker('clamped', {
      handler: async (_job, ctx) => {
        ctx.progress({ done: 1, total: 2, unit: 'u'.repeat(80), message: 'm'.repeat(5000) });
        ctx.task('orders', { status: 'PROCESSING', message: 't'.repeat(3000) });
        ctx.log('l'.repeat(5000));
        try {
          ctx.task('n'.repeat(301), { done: 1 });
        } catch (error) {
          recorded.open(error);
        }
        await release.promise;
      },
    });
    const id = await createJob('clamped');
    expect(await recorded.promise).toBeInstanceOf(RangeError);
    await worker.flushProgress();
    const job = await stored(id);
    expect(job.progress_unit).toHaveLength(50);
    expect(job.message).toHaveLength(1000);
    expect(job.message!.endsWith('…')).toBe(true);
    const { rows: tasks } = await suite.db.pool.query<{ name: string; len: number }>(
      'SELECT name, length(message)::int AS len FROM tasks WHERE job_id = $1',
      [id],
    );
    expect(tasks).toEqual([{ name: 'orders', len: 1000 }]);
    const { rows: lines } = await suite.db.pool.query<{ len: number }>(
      `SELECT length(message)::int AS len FROM timeline_events WHERE job_id = $1 AND kind = 'LOG'`,
      [id],
    );
    expect(lines).toEqual([{ len: 2000 }]);
    release.open();
    await until(id, ['SUCCEEDED']);
    await worker.stop();
  });

  test('a report the server refuses is dropped, not sent forever: the other jobs and later reports get through', async () => {
    const errors: unknown[] = [];
    const release = gate();
    const bothReported = gate();
    const again = gate();
    let reported = 0;
    const worker = await newWorker('refused', {
      concurrency: 2,
      onError: (error) => errors.push(error),
      handler: async (job, ctx) => {
        if (job.name === 'refused bad') {
          // A JavaScript caller, no types to stop it: the server refuses the step.
          ctx.progress({ done: 1, total: 10, step: 'LATER' as JobStep });
          if ((reported += 1) === 2) bothReported.open();
          await again.promise;
          ctx.progress({ done: 5 });
        } else {
          ctx.progress({ done: 7, total: 10 });
          if ((reported += 1) === 2) bothReported.open();
        }
        await release.promise;
      },
    });
    const bad = (
      await suite.server.gql<{ createJob: { id: string } }>(
        suite.admin,
        'mutation { createJob(input: { name: "refused bad", type: "refused", scope: "acme" }) { id } }',
      )
    ).data!.createJob.id;
    const good = (
      await suite.server.gql<{ createJob: { id: string } }>(
        suite.admin,
        'mutation { createJob(input: { name: "refused good", type: "refused", scope: "acme" }) { id } }',
      )
    ).data!.createJob.id;
    await bothReported.promise;
    await worker.flushProgress();
    expect(errors.map(String)).toEqual([expect.stringMatching(/refused and dropped.*reports\[\d\]\.step/)]);
    // The good job's report was put back, and goes with the next call.
    await worker.flushProgress();
    expect(await stored(good)).toMatchObject({ progress_done: 7 });
    // The bad job is not stuck either: its next report is taken.
    again.open();
    await new Promise((resolve) => setImmediate(resolve));
    await worker.flushProgress();
    expect(await stored(bad)).toMatchObject({ progress_done: 5 });
    release.open();
    await until(bad, ['SUCCEEDED']);
    await until(good, ['SUCCEEDED']);
    await worker.stop();
  });

  test('a new phase does not swallow the old one: its last figures are sent first, in order', async () => {
    const release = gate();
    const recorded = gate();
    const worker = await newWorker('phases', {
      handler: async (_job, ctx) => {
        ctx.progress({ phase: 'counting', done: 0, total: null, unit: 'messages' });
        ctx.progress({ done: 1200, message: 'counted 1200' });
        ctx.progress({ phase: 'copying', done: 0, total: 1200 });
        recorded.open();
        await release.promise;
      },
    });
    const id = await createJob('phases');
    await recorded.promise;
    await worker.flushProgress();
    expect(await stored(id)).toMatchObject({ progress_done: 0, progress_total: 1200, message: 'counted 1200' });
    const { rows } = await suite.db.pool.query<{ message: string }>(
      `SELECT message FROM timeline_events WHERE job_id = $1 AND kind = 'PROGRESS' ORDER BY id`,
      [id],
    );
    expect(rows.map((row) => row.message)).toEqual(['Phase: counting', 'Phase: copying']);
    release.open();
    await until(id, ['SUCCEEDED']);
    await worker.stop();
  });

  test('every log line reaches the timeline, over as many reports as it takes', async () => {
    const release = gate();
    const logged = gate();
    const worker = await newWorker('many-lines', {
      handler: async (_job, ctx) => {
        for (let line = 1; line <= 120; line += 1) ctx.log(`line ${line}`);
        logged.open();
        await release.promise;
      },
    });
    const id = await createJob('many-lines');
    await logged.promise;
    await worker.flushProgress();
    await suite.server.services.progress.flush();
    const { rows } = await suite.db.pool.query<{ message: string }>(
      `SELECT message FROM timeline_events WHERE job_id = $1 AND kind = 'LOG' ORDER BY id`,
      [id],
    );
    expect(rows.map((row) => row.message)).toEqual(Array.from({ length: 120 }, (_, i) => `line ${i + 1}`));
    release.open();
    await until(id, ['SUCCEEDED']);
    await worker.stop();
  });
});

describe('traps through the SDK', () => {
  test('a trapJob that fails rejects trap() only: a later abort is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const cancelled = gate();
      let trapError: unknown;
      const worker = await newWorker('trap-fails', {
        handler: async (_job, ctx) => {
          await cancelled.promise;
          // CANCELLING: trapping is not allowed any more.
          trapError = await ctx.trap('too late').catch((error: unknown) => error);
          await new Promise<void>((resolve) =>
            ctx.signal.aborted ? resolve() : ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
          );
          ctx.signal.throwIfAborted();
        },
      });
      const id = await createJob('trap-fails');
      await until(id, ['RUNNING']);
      await suite.server.gql(suite.admin, `mutation { cancelJob(id: "${id}") { status } }`);
      cancelled.open();
      expect(await until(id, ['CANCELLED'])).toMatchObject({ status: 'CANCELLED' });
      expect(trapError).toMatchObject({ code: 'CONFLICT' });
      // The abort came long before CANCELLED was seen; rejections are reported at the end of a tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      await worker.stop();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('a second trap waits for its own decision, never the repeated answer to the first', async () => {
    const decisions: string[] = [];
    // Heartbeat answers are held back while the second trap is being set up, as a slow network would.
    let hold: Promise<void> | undefined;
    const heartbeatSent = gate();
    const trapAnswered = gate();
    let traps = 0;
    let answered = 0;
    const answerWaiters: Array<{ count: number; open: () => void }> = [];
    const heartbeatsAnswered = (more: number) => new Promise<void>((open) => answerWaiters.push({ count: answered + more, open }));
    const slowFetch: typeof fetch = async (input, init) => {
      const body = typeof init?.body === 'string' ? init.body : '';
      const held = hold;
      if (held !== undefined && body.includes('heartbeat(')) heartbeatSent.open();
      const response = await fetch(input, init);
      if (body.includes('trapJob(') && (traps += 1) === 2) trapAnswered.open();
      if (!body.includes('heartbeat(')) return response;
      // Read here, so that the worker has the answer as soon as it is let through.
      const text = await response.text();
      if (held !== undefined) await held;
      answered += 1;
      for (const waiter of answerWaiters.filter((w) => answered >= w.count)) waiter.open();
      return new Response(text, { status: response.status, headers: response.headers });
    };
    const worker = await newWorker('two-traps', {
      fetch: slowFetch,
      handler: async (_job, ctx) => {
        decisions.push(await ctx.trap('first'));
        // From now on, heartbeat answers wait until the second trapJob has answered.
        hold = trapAnswered.promise.then(() => new Promise((resolve) => setTimeout(resolve, 10)));
        await heartbeatSent.promise;
        decisions.push(await ctx.trap('second'));
        return decisions.join(',');
      },
    });
    const id = await createJob('two-traps');
    await until(id, ['TRAPPED']);
    await suite.server.gql(suite.admin, `mutation { resolveTrap(id: "${id}", decision: RETRY) { status } }`);
    // The second trap: a heartbeat sent before it, still saying RETRY, answered after it. Once
    // two more heartbeats have been answered, that answer has long been taken (or ignored).
    await trapAnswered.promise;
    await hold;
    await heartbeatsAnswered(2);
    expect(await until(id, ['TRAPPED'])).toMatchObject({ status: 'TRAPPED' });
    expect(decisions).toEqual(['RETRY']);
    await suite.server.gql(suite.admin, `mutation { resolveTrap(id: "${id}", decision: SKIP) { status } }`);
    expect(await until(id, ['SUCCEEDED'])).toMatchObject({ status: 'SUCCEEDED', message: 'RETRY,SKIP' });
    await worker.stop();
  });
});
