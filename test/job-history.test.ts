import { createRole, grant, insertJobs } from './support/fixtures';
import { gqlOk, token } from './support/test-server';
import { apiSuite, claimedJob } from './support/api-suite';

/**
 * Every attempt's record (Job.attempts) and a job's history after it is gone (jobHistory), read
 * as the monitor would, with the permissions of the one asking.
 */

const tokens: Record<string, string> = {};

const suite = apiSuite({
  daemon: false,
  alerts: false,
  grants: [
    ['admin', 'admin'],
    ['worker', 'worker'],
    ['payments-viewer', 'viewer', 'acme/payments'],
    ['crm-viewer', 'viewer', 'acme/crm'],
    ['owen', 'own-jobs'],
  ],
});
beforeAll(async () => {
  await createRole(suite.db.pool, 'import-watcher', [{ action: 'view_monitor', subject: 'Job', conditions: { type: 'import' } }]);
  await grant(suite.db.pool, 'import-watcher', 'import-watcher');
  for (const user of ['admin', 'worker', 'payments-viewer', 'crm-viewer', 'owen', 'import-watcher', 'nobody'])
    tokens[user] = await token(user);
});

async function call<T>(user: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await suite.server.gql<T>(tokens[user], query, variables);
  return gqlOk(response);
}

const claim = (type: string, workerId: string) => claimedJob(suite, type, { seed: false, workerId });

const fail = (lease: string, error: string, stack: string) =>
  call(
    'worker',
    'mutation($lease: String!, $error: String!, $stack: String) { failJob(lease: $lease, error: $error, stack: $stack) { status } }',
    { lease, error, stack },
  );

const ATTEMPTS = `query($id: ID!) { job(id: $id) { attempt status attempts { attempt status step workerId startedAt finishedAt duration error { message stack } } } }`;
interface Attempt {
  attempt: number;
  status: string;
  step: string | null;
  workerId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  duration: number | null;
  error: { message: string; stack: string | null } | null;
}

describe('Job.attempts', () => {
  test('two failed attempts keep both errors and stack traces, newest first; the third waits', async () => {
    await insertJobs(suite.db.pool, [{ type: 'two-fails' }]);
    const first = await claim('two-fails', 'host-a');
    await fail(first.lease, 'Connection refused\nto db-1', 'Error: Connection refused\n    at connect (db.js:10:5)');
    await call('admin', 'mutation($id: ID!) { restartJob(id: $id) { attempt } }', { id: first.id });
    const second = await claim('two-fails', 'host-b');
    expect(second.id).toBe(first.id);
    await fail(second.lease, 'Disk full', 'Error: Disk full\n    at write (fs.js:3:1)');
    await call('admin', 'mutation($id: ID!) { restartJob(id: $id) { attempt } }', { id: first.id });

    const { job } = await call<{ job: { attempt: number; status: string; attempts: Attempt[] } }>('payments-viewer', ATTEMPTS, {
      id: first.id,
    });
    expect(job.attempt).toBe(3);
    expect(job.attempts.map(({ attempt, status, workerId, error }) => ({ attempt, status, workerId, error }))).toEqual([
      { attempt: 3, status: 'PENDING', workerId: null, error: null },
      {
        attempt: 2,
        status: 'FAILED',
        workerId: 'host-b',
        error: { message: 'Disk full', stack: 'Error: Disk full\n    at write (fs.js:3:1)' },
      },
      {
        attempt: 1,
        status: 'FAILED',
        workerId: 'host-a',
        error: { message: 'Connection refused\nto db-1', stack: 'Error: Connection refused\n    at connect (db.js:10:5)' },
      },
    ]);
    const [current, two, one] = job.attempts;
    expect(current).toMatchObject({ startedAt: null, finishedAt: null, duration: null, step: 'PRE' });
    for (const ended of [two!, one!]) {
      expect(ended.step).toBe('PRE');
      expect(Date.parse(ended.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(ended.startedAt!));
      expect(ended.duration).toBeCloseTo((Date.parse(ended.finishedAt!) - Date.parse(ended.startedAt!)) / 1000, 3);
    }
    expect(Date.parse(two!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(one!.finishedAt!));

    // Deleting the job takes its attempts with it (its timeline stays).
    const stored = async () =>
      (await suite.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM job_attempts WHERE job_id = $1', [first.id])).rows[0]!.n;
    expect(await stored()).toBe(2);
    await call('admin', 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: first.id });
    await call('admin', 'mutation($id: ID!) { deleteJob(id: $id) }', { id: first.id });
    expect(await stored()).toBe(0);
  });

  test("a job that never ran has its one attempt; a list asks for many jobs' attempts at once", async () => {
    const [fresh] = await insertJobs(suite.db.pool, [{ type: 'fresh' }, { type: 'fresh' }]);
    const { job } = await call<{ job: { attempts: Attempt[] } }>('admin', ATTEMPTS, { id: fresh!.id });
    expect(job.attempts).toEqual([
      { attempt: 1, status: 'PENDING', step: 'PRE', workerId: null, startedAt: null, finishedAt: null, duration: null, error: null },
    ]);
    const { jobs } = await call<{ jobs: { nodes: Array<{ attempts: Attempt[] }> } }>(
      'admin',
      '{ jobs(filter: { types: ["fresh"] }) { nodes { attempts { attempt status } } } }',
    );
    expect(jobs.nodes).toEqual([{ attempts: [{ attempt: 1, status: 'PENDING' }] }, { attempts: [{ attempt: 1, status: 'PENDING' }] }]);
  });
});

describe('jobHistory', () => {
  const HISTORY = `query($id: ID!, $first: Int, $after: String) {
    jobHistory(id: $id, first: $first, after: $after) { nodes { kind actor actorKind fromStatus toStatus attempt } pageInfo { hasNextPage endCursor } }
  }`;
  interface History {
    jobHistory: {
      nodes: Array<{ kind: string; actor: string | null; toStatus: string | null }>;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    } | null;
  }

  async function deletedJob(input: Record<string, unknown>): Promise<string> {
    const { createJob } = await call<{ createJob: { id: string } }>(
      'admin',
      'mutation($input: CreateJobInput!) { createJob(input: $input) { id } }',
      {
        input: { name: 'Nightly import', type: 'import', scope: 'acme/payments/prod', ...input },
      },
    );
    await call('admin', 'mutation($id: ID!) { cancelJob(id: $id, reason: "not tonight") { status } }', { id: createJob.id });
    await call('admin', 'mutation($id: ID!) { deleteJob(id: $id) }', { id: createJob.id });
    return createJob.id;
  }

  test("a deleted job's timeline, ending with DELETED and who, for a viewer in its scope; paged", async () => {
    const id = await deletedJob({});
    expect((await call<{ job: unknown }>('admin', 'query($id: ID!) { job(id: $id) { id } }', { id })).job).toBeNull();
    const { jobHistory } = await call<History>('payments-viewer', HISTORY, { id });
    expect(jobHistory?.nodes).toEqual([
      { kind: 'CREATED', actor: 'admin', actorKind: 'USER', fromStatus: null, toStatus: 'PENDING', attempt: 1 },
      { kind: 'CANCELLED', actor: 'admin', actorKind: 'USER', fromStatus: 'PENDING', toStatus: 'CANCELLED', attempt: 1 },
      { kind: 'DELETED', actor: 'admin', actorKind: 'USER', fromStatus: 'CANCELLED', toStatus: null, attempt: 1 },
    ]);
    expect(jobHistory?.pageInfo.hasNextPage).toBe(false);

    const page1 = (await call<History>('payments-viewer', HISTORY, { id, first: 2 })).jobHistory!;
    expect(page1.nodes.map((node) => node.kind)).toEqual(['CREATED', 'CANCELLED']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await call<History>('payments-viewer', HISTORY, { id, first: 2, after: page1.pageInfo.endCursor })).jobHistory!;
    expect(page2.nodes.map((node) => node.kind)).toEqual(['DELETED']);
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });

  test("null out of scope, for another owner's job under own-jobs, for a type one may not view, without grants, and for an unknown id", async () => {
    const id = await deletedJob({});
    for (const user of ['crm-viewer', 'owen', 'nobody']) expect((await call<History>(user, HISTORY, { id })).jobHistory).toBeNull();
    expect((await call<History>('import-watcher', HISTORY, { id })).jobHistory?.nodes.at(-1)?.kind).toBe('DELETED');
    const deployment = await deletedJob({ type: 'deployment' });
    expect((await call<History>('import-watcher', HISTORY, { id: deployment })).jobHistory).toBeNull();
    expect((await call<History>('payments-viewer', HISTORY, { id: deployment })).jobHistory?.nodes).toHaveLength(3);
    expect((await call<History>('admin', HISTORY, { id: '00000000-0000-4000-8000-000000000000' })).jobHistory).toBeNull();
    const bad = await suite.server.gql(tokens.admin, HISTORY, { id: 'not-a-uuid' });
    expect(bad.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  test("own-jobs reads the history of its own deleted job; a live job's history is its timeline", async () => {
    const { createJob } = await call<{ createJob: { id: string } }>(
      'owen',
      'mutation { createJob(input: { name: "Move mailbox", type: "mail-migration", scope: "acme/crm" }) { id } }',
    );
    const live = (await call<History>('owen', HISTORY, { id: createJob.id })).jobHistory!;
    const { job } = await call<{ job: { timeline: { nodes: unknown[] } } }>(
      'owen',
      'query($id: ID!) { job(id: $id) { timeline { nodes { kind actor actorKind fromStatus toStatus attempt } } } }',
      {
        id: createJob.id,
      },
    );
    expect(live.nodes).toEqual(job.timeline.nodes);
    await call('owen', 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: createJob.id });
    await call('owen', 'mutation($id: ID!) { deleteJob(id: $id) }', { id: createJob.id });
    const gone = (await call<History>('owen', HISTORY, { id: createJob.id })).jobHistory!;
    expect(gone.nodes.at(-1)).toMatchObject({ kind: 'DELETED', actor: 'owen' });
    expect((await call<History>('crm-viewer', HISTORY, { id: createJob.id })).jobHistory?.nodes).toHaveLength(3);
    expect((await call<History>('payments-viewer', HISTORY, { id: createJob.id })).jobHistory).toBeNull();
  });
});
