import { JobwatchWorker, type ClaimedJob, type JobContext } from '../src/sdk';
import { apiSuite } from './support/api-suite';
import { eventually } from './support/eventually';
import { insertJobs } from './support/fixtures';
import { gqlOk, token, type GraphQLResponse } from './support/test-server';

/**
 * Clarive's schedule: "Ready: waiting to be picked up ... at any moment, except for the RUN step,
 * which runs at a scheduled date." PRE (build, tests) runs at once; completeStep hands the job
 * back to wait for its date when PRE is done early; a worker claims it again for RUN once the
 * time comes. Time passing is simulated by backdating the schedule, never by sleeping.
 */

let worker: string;
const workers: JobwatchWorker[] = [];

const suite = apiSuite({
  env: { PROGRESS_FLUSH_MS: '20' },
  grants: [
    ['admin', 'admin'],
    ['worker-1', 'worker'],
  ],
});
beforeAll(async () => {
  suite.disposeFirst(() => Promise.all(workers.map((each) => each.stop({ abort: true }))));
  worker = await token('worker-1');
});

const code = (response: Pick<GraphQLResponse, 'errors'>) => response.errors?.[0]?.extensions;

async function ok<T>(bearer: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await suite.server.gql<T>(bearer, query, variables);
  return gqlOk(response);
}

interface Claimed {
  lease: string;
  job: { id: string; status: string; step: string; attempt: number };
}
const claim = async (type: string): Promise<Claimed | null> =>
  (
    await ok<{ claimJob: Claimed | null }>(
      worker,
      'mutation($t: [String!]) { claimJob(workerId: "w-1", types: $t) { lease job { id status step attempt } } }',
      { t: [type] },
    )
  ).claimJob;

const COMPLETE_STEP =
  'mutation($lease: String!, $message: String) { completeStep(lease: $lease, message: $message) { status step attempt message scheduledAt } }';
const completeStep = (lease: string, message: string | null = null) =>
  suite.server.gql<{ completeStep: { status: string; step: string; attempt: number; message: string | null } }>(worker, COMPLETE_STEP, {
    lease,
    message,
  });

async function createJob(type: string, extra: Record<string, unknown> = {}): Promise<string> {
  const { createJob } = await ok<{ createJob: { id: string } }>(
    suite.admin,
    'mutation($input: CreateJobInput!) { createJob(input: $input) { id } }',
    {
      input: { name: `${type} release`, type, scope: 'acme/web/prod', ...extra },
    },
  );
  return createJob.id;
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const timeHasCome = (id: string) => suite.db.pool.query(`UPDATE jobs SET scheduled_at = now() - interval '1 second' WHERE id = $1`, [id]);
const row = async (id: string) =>
  (
    await suite.db.pool.query<{ status: string; step: string; attempt: number; lease_token: string | null }>(
      'SELECT status, step, attempt, lease_token FROM jobs WHERE id = $1',
      [id],
    )
  ).rows[0];
const events = async (id: string) =>
  (
    await suite.db.pool.query<{ kind: string; from_status: string | null; to_status: string | null; step: string; attempt: number }>(
      `SELECT kind, from_status, to_status, step, attempt FROM timeline_events WHERE job_id = $1 AND kind <> 'PROGRESS' ORDER BY id`,
      [id],
    )
  ).rows;

describe('through raw GraphQL', () => {
  test('PRE at once, then back to PENDING at RUN with the lease ended; RUN claimed at its time; POST on the same lease', async () => {
    const id = await createJob('release', { scheduledAt: inAnHour() });
    const pre = await claim('release');
    expect(pre?.job).toEqual({ id, status: 'RUNNING', step: 'PRE', attempt: 1 });

    const done = await completeStep(pre!.lease, 'Build and tests passed');
    expect(done.errors).toBeUndefined();
    expect(done.data?.completeStep).toMatchObject({ status: 'PENDING', step: 'RUN', attempt: 1, message: 'Build and tests passed' });
    expect((await row(id))?.lease_token).toBeNull();
    // The lease is over: every call with it is LEASE_LOST, and nothing changes.
    expect(code(await completeStep(pre!.lease))).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST' });
    expect(
      code(await suite.server.gql(worker, 'mutation($l: String!) { heartbeat(lease: $l) { cancelRequested } }', { l: pre!.lease })),
    ).toMatchObject({
      code: 'CONFLICT',
      reason: 'LEASE_LOST',
    });
    expect(
      code(await suite.server.gql(worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: pre!.lease })),
    ).toMatchObject({
      reason: 'LEASE_LOST',
    });
    expect(await row(id)).toMatchObject({ status: 'PENDING', step: 'RUN' });
    // RUN waits for its date.
    expect(await claim('release')).toBeNull();

    await timeHasCome(id);
    const run = await claim('release');
    expect(run?.job).toEqual({ id, status: 'RUNNING', step: 'RUN', attempt: 1 });
    expect(run!.lease).not.toBe(pre!.lease);
    const post = await completeStep(run!.lease);
    expect(post.data?.completeStep).toMatchObject({ status: 'RUNNING', step: 'POST', attempt: 1 });
    // Same lease: it still heartbeats.
    expect(
      (await suite.server.gql(worker, 'mutation($l: String!) { heartbeat(lease: $l) { cancelRequested } }', { l: run!.lease })).errors,
    ).toBeUndefined();
    expect(code(await completeStep(run!.lease))).toMatchObject({ code: 'CONFLICT', reason: 'LAST_STEP', status: 'RUNNING' });
    const finished = await ok<{ completeJob: { status: string; step: string } }>(
      worker,
      'mutation($l: String!) { completeJob(lease: $l) { status step } }',
      {
        l: run!.lease,
      },
    );
    // A finished job's step says which step ended it.
    expect(finished.completeJob).toEqual({ status: 'SUCCEEDED', step: 'POST' });
    expect(await events(id)).toEqual([
      { kind: 'CREATED', from_status: null, to_status: 'PENDING', step: 'PRE', attempt: 1 },
      { kind: 'CLAIMED', from_status: 'PENDING', to_status: 'RUNNING', step: 'PRE', attempt: 1 },
      { kind: 'STEP_COMPLETED', from_status: 'RUNNING', to_status: 'PENDING', step: 'RUN', attempt: 1 },
      { kind: 'CLAIMED', from_status: 'PENDING', to_status: 'RUNNING', step: 'RUN', attempt: 1 },
      { kind: 'STEP_COMPLETED', from_status: 'RUNNING', to_status: 'RUNNING', step: 'POST', attempt: 1 },
      { kind: 'SUCCEEDED', from_status: 'RUNNING', to_status: 'SUCCEEDED', step: 'POST', attempt: 1 },
    ]);
  });

  test('without a schedule (or once it has passed) RUN follows PRE on the same lease', async () => {
    const unscheduled = await createJob('asap');
    const first = await claim('asap');
    expect((await completeStep(first!.lease)).data?.completeStep).toMatchObject({ status: 'RUNNING', step: 'RUN' });
    const past = await createJob('past', { scheduledAt: new Date(Date.now() - 30_000).toISOString() });
    const second = await claim('past');
    expect((await completeStep(second!.lease)).data?.completeStep).toMatchObject({ status: 'RUNNING', step: 'RUN' });
    for (const id of [unscheduled, past]) expect((await row(id))?.lease_token).not.toBeNull();
  });

  test('a step that fails ends the job at that step', async () => {
    const id = await createJob('pre-fails', { scheduledAt: inAnHour() });
    const pre = await claim('pre-fails');
    const failed = await ok<{ failJob: { status: string; step: string } }>(
      worker,
      'mutation($l: String!) { failJob(lease: $l, error: "tests failed") { status step } }',
      {
        l: pre!.lease,
      },
    );
    expect(failed.failJob).toEqual({ status: 'FAILED', step: 'PRE' });
    expect(code(await completeStep(pre!.lease))).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST', status: 'FAILED' });
    expect(await row(id)).toMatchObject({ status: 'FAILED', step: 'PRE' });
  });

  test('rerunning PRE keeps RUN waiting; runNow lets RUN follow at once; a rerun from RUN waits for the schedule', async () => {
    const id = await createJob('rerun', { scheduledAt: inAnHour() });
    const first = await claim('rerun');
    await ok(worker, 'mutation($l: String!) { failJob(lease: $l, error: "flaky test") { status } }', { l: first!.lease });

    await ok(suite.admin, 'mutation($id: ID!) { restartJob(id: $id, step: PRE) { status } }', { id });
    const again = await claim('rerun');
    expect(again?.job).toEqual({ id, status: 'RUNNING', step: 'PRE', attempt: 2 });
    expect((await completeStep(again!.lease)).data?.completeStep).toMatchObject({ status: 'PENDING', step: 'RUN', attempt: 2 });
    expect(await claim('rerun')).toBeNull();
    // Cancel it while it waits, and rerun with runNow: the schedule is cleared.
    await ok(suite.admin, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id });
    await ok(suite.admin, 'mutation($id: ID!) { restartJob(id: $id, step: PRE, runNow: true) { status } }', { id });
    const now = await claim('rerun');
    expect((await completeStep(now!.lease)).data?.completeStep).toMatchObject({
      status: 'RUNNING',
      step: 'RUN',
      attempt: 3,
      scheduledAt: null,
    });
    await ok(worker, 'mutation($l: String!) { failJob(lease: $l, error: "deploy failed") { status } }', { l: now!.lease });

    // From RUN, with a schedule again: nobody claims it before then.
    await ok(suite.admin, 'mutation($id: ID!) { restartJob(id: $id, step: RUN) { status } }', { id });
    await suite.db.pool.query(`UPDATE jobs SET scheduled_at = now() + interval '1 hour' WHERE id = $1`, [id]);
    expect(await claim('rerun')).toBeNull();
    await timeHasCome(id);
    expect((await claim('rerun'))?.job).toEqual({ id, status: 'RUNNING', step: 'RUN', attempt: 4 });
  });

  test('completeStep: a lease that is not one is BAD_USER_INPUT; a cancelled job answers CONFLICT with its status', async () => {
    expect(code(await completeStep('nonsense'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lease' });
    const id = await createJob('cancelled-step');
    const held = await claim('cancelled-step');
    await ok(suite.admin, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id });
    expect(code(await completeStep(held!.lease))).toMatchObject({ code: 'CONFLICT', status: 'CANCELLING' });
    expect(await row(id)).toMatchObject({ status: 'CANCELLING', step: 'PRE' });
    const [stranger] = await insertJobs(suite.db.pool, [{ type: 'stranger', status: 'RUNNING' }]);
    expect(code(await completeStep(`${stranger!.id}.00000000-0000-4000-8000-000000000000`))).toMatchObject({
      code: 'CONFLICT',
      reason: 'LEASE_LOST',
    });
  });
});

describe("through the SDK's runSteps", () => {
  async function startWorker(type: string, handler: (job: ClaimedJob, ctx: JobContext) => Promise<string | void>) {
    const sdk = new JobwatchWorker({
      url: suite.server.url,
      token: worker,
      workerId: `sdk-${type}`,
      types: [type],
      pollIntervalMs: 20,
      heartbeatIntervalMs: 50,
      progressIntervalMs: 20,
      handler,
    });
    workers.push(sdk);
    sdk.start();
    return sdk;
  }

  test('PRE at once; the handler returns and the job waits; at its time the same attempt runs RUN then POST and SUCCEEDS at POST', async () => {
    const ran: string[] = [];
    const claims: Array<{ step: string; attempt: number }> = [];
    const sdk = await startWorker('sdk-release', async (job, ctx) => {
      claims.push({ step: job.step, attempt: job.attempt });
      await ctx.runSteps({
        PRE: async () => void ran.push('PRE'),
        RUN: async () => void ran.push('RUN'),
        POST: async (failure) => void ran.push(failure === undefined ? 'POST' : 'POST after failure'),
      });
      return 'released';
    });
    const id = await createJob('sdk-release', { scheduledAt: inAnHour() });
    await eventually(
      () => row(id),
      (current) => current?.status === 'PENDING' && current.step === 'RUN',
      30_000,
      'PRE to run and hand the job back',
    );
    expect(ran).toEqual(['PRE']);
    expect((await row(id))?.lease_token).toBeNull();

    await timeHasCome(id);
    await eventually(
      () => row(id),
      (current) => current?.status === 'SUCCEEDED',
      30_000,
      'RUN and POST at the scheduled time',
    );
    expect(ran).toEqual(['PRE', 'RUN', 'POST']);
    expect(claims).toEqual([
      { step: 'PRE', attempt: 1 },
      { step: 'RUN', attempt: 1 },
    ]);
    const { job } = await ok<{ job: { status: string; step: string; attempt: number; message: string } }>(
      suite.admin,
      'query($id: ID!) { job(id: $id) { status step attempt message } }',
      { id },
    );
    expect(job).toEqual({ status: 'SUCCEEDED', step: 'POST', attempt: 1, message: 'released' });
    expect((await events(id)).map((event) => `${event.kind}:${event.to_status ?? ''}:${event.step}`)).toEqual([
      'CREATED:PENDING:PRE',
      'CLAIMED:RUNNING:PRE',
      'STEP_COMPLETED:PENDING:RUN',
      'CLAIMED:RUNNING:RUN',
      'STEP_COMPLETED:RUNNING:POST',
      'SUCCEEDED:SUCCEEDED:POST',
    ]);
    await sdk.stop();
  });

  test('a PRE that fails runs POST and FAILS at PRE, before any schedule; a job without POST ends at RUN', async () => {
    const ran: string[] = [];
    const sdk = await startWorker('sdk-pre-fails', async (_job, ctx) =>
      ctx.runSteps({
        PRE: async () => {
          ran.push('PRE');
          throw new Error('unit tests failed');
        },
        RUN: async () => void ran.push('RUN'),
        POST: async (failure) => void ran.push(`POST: ${(failure as Error).message}`),
      }),
    );
    const id = await createJob('sdk-pre-fails', { scheduledAt: inAnHour() });
    await eventually(
      () => row(id),
      (current) => current?.status === 'FAILED',
      30_000,
      'PRE to fail',
    );
    expect(ran).toEqual(['PRE', 'POST: unit tests failed']);
    expect(await row(id)).toMatchObject({ status: 'FAILED', step: 'PRE' });
    await sdk.stop();

    const noPost = await startWorker('sdk-no-post', async (_job, ctx) =>
      ctx.runSteps({ PRE: async () => undefined, RUN: async () => undefined }),
    );
    const other = await createJob('sdk-no-post');
    await eventually(
      () => row(other),
      (current) => current?.status === 'SUCCEEDED',
      30_000,
      'the job without POST to succeed',
    );
    expect(await row(other)).toMatchObject({ status: 'SUCCEEDED', step: 'RUN' });
    await noPost.stop();
  });
});
