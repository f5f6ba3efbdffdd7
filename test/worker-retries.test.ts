import { JobwatchWorker, type ClaimedJob, type JobContext } from '../src/sdk';
import { apiSuite } from './support/api-suite';
import { eventually } from './support/eventually';

/**
 * Ending an attempt survives faults: the server answers a worker's repeated completeJob,
 * failJob or confirmCancel (its answer was lost) as the first time, and the SDK keeps trying
 * (heartbeats going on) through a real database outage until the job has ended.
 */
const suite = apiSuite({ faultProxy: true, env: { PROGRESS_FLUSH_MS: '50' }, alerts: false });
const workers: JobwatchWorker[] = [];
suite.disposeFirst(async () => {
  await Promise.all(workers.map((one) => one.stop({ abort: true })));
  await suite.proxy.up();
});

async function createJob(type: string): Promise<string> {
  const response = await suite.server.gql<{ createJob: { id: string } }>(
    suite.admin,
    `mutation { createJob(input: { name: "${type}", type: "${type}", scope: "acme" }) { id } }`,
  );
  expect(response.errors).toBeUndefined();
  return response.data!.createJob.id;
}

async function claim(type: string): Promise<{ id: string; lease: string }> {
  const id = await createJob(type);
  const response = await suite.server.gql<{ claimJob: { lease: string } }>(
    suite.worker,
    'mutation($t: [String!]) { claimJob(workerId: "w", types: $t) { lease } }',
    { t: [type] },
  );
  return { id, lease: response.data!.claimJob.lease };
}

async function events(id: string): Promise<string[]> {
  const { rows } = await suite.db.pool.query<{ kind: string }>(`SELECT kind FROM timeline_events WHERE job_id = $1 ORDER BY id`, [id]);
  return rows.map((row) => row.kind);
}

describe('the same end sent again (the answer was lost) gets the same answer', () => {
  const COMPLETE = 'mutation($l: String!) { completeJob(lease: $l, message: "done") { status message } }';
  const FAIL = 'mutation($l: String!) { failJob(lease: $l, error: "boom") { status } }';
  const CONFIRM = 'mutation($l: String!) { confirmCancel(lease: $l) { status } }';

  test('completeJob twice: SUCCEEDED both times, one event; another end with that lease is LEASE_LOST', async () => {
    const { id, lease } = await claim('again-complete');
    const first = await suite.server.gql(suite.worker, COMPLETE, { l: lease });
    const second = await suite.server.gql(suite.worker, COMPLETE, { l: lease });
    expect(first).toMatchObject({ data: { completeJob: { status: 'SUCCEEDED', message: 'done' } } });
    expect(second).toEqual(first);
    const other = await suite.server.gql(suite.worker, FAIL, { l: lease });
    expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST', status: 'SUCCEEDED' });
    expect(await events(id)).toEqual(['CREATED', 'CLAIMED', 'SUCCEEDED']);
  });

  test('failJob and confirmCancel twice alike; a job the daemon or a person ended is LEASE_LOST, not their answer', async () => {
    const failed = await claim('again-fail');
    for (let i = 0; i < 2; i += 1)
      expect(await suite.server.gql(suite.worker, FAIL, { l: failed.lease })).toMatchObject({ data: { failJob: { status: 'FAILED' } } });
    expect(await events(failed.id)).toEqual(['CREATED', 'CLAIMED', 'FAILED']);

    const cancelled = await claim('again-cancel');
    await suite.server.gql(suite.admin, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: cancelled.id });
    for (let i = 0; i < 2; i += 1)
      expect(await suite.server.gql(suite.worker, CONFIRM, { l: cancelled.lease })).toMatchObject({
        data: { confirmCancel: { status: 'CANCELLED' } },
      });

    // Ended by the daemon (heartbeat lost), not by this lease: its worker is told the lease is lost.
    const abended = await claim('again-abend');
    await suite.db.pool.query(`UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, [abended.id]);
    await suite.server.services.daemon.tick();
    expect((await suite.server.gql(suite.worker, FAIL, { l: abended.lease })).errors?.[0]?.extensions).toMatchObject({
      reason: 'LEASE_LOST',
    });

    // A restarted job's old lease does not answer for the new attempt's end.
    await suite.server.gql(suite.admin, 'mutation($id: ID!) { restartJob(id: $id) { status } }', { id: failed.id });
    const again = await suite.server.gql<{ claimJob: { lease: string } }>(
      suite.worker,
      'mutation { claimJob(workerId: "w", types: ["again-fail"]) { lease } }',
    );
    expect(await suite.server.gql(suite.worker, FAIL, { l: again.data!.claimJob.lease })).toMatchObject({
      data: { failJob: { status: 'FAILED' } },
    });
    expect((await suite.server.gql(suite.worker, FAIL, { l: failed.lease })).errors?.[0]?.extensions).toMatchObject({
      reason: 'LEASE_LOST',
    });
  });
});

test('a database outage as the job ends: the SDK keeps its progress and keeps trying; the job ends SUCCEEDED with every line', async () => {
  const errors: unknown[] = [];
  const LINES = 40;
  let finishing!: () => void;
  const handlerDone = new Promise<void>((resolve) => (finishing = resolve));
  let goOn!: () => void;
  const outageStarted = new Promise<void>((resolve) => (goOn = resolve));
  let heartbeatsDuringOutage = 0;
  const one = new JobwatchWorker({
    url: suite.server.url,
    token: suite.worker,
    workerId: 'outage',
    types: ['outage'],
    pollIntervalMs: 20,
    heartbeatIntervalMs: 100,
    progressIntervalMs: 30,
    timeoutMs: 3_000,
    fetch: (input, init) => {
      if (typeof init?.body === 'string' && init.body.includes('heartbeat') && outage) heartbeatsDuringOutage += 1;
      return fetch(input, init);
    },
    onError: (error) => errors.push(error),
    handler: async (_job: ClaimedJob, ctx: JobContext) => {
      for (let line = 1; line <= LINES; line += 1) {
        ctx.log(`line ${line}`);
        ctx.progress({ done: line, total: LINES });
      }
      finishing();
      await outageStarted;
      return 'done despite the outage';
    },
  });
  let outage = false;
  workers.push(one);
  one.start();
  const id = await createJob('outage');
  await handlerDone;
  // Every connection to Postgres is reset, and new ones refused, as the job ends. Heartbeats
  // count from then on (one sent just before could still have been written).
  await suite.proxy.reset();
  outage = true;
  goOn();
  await eventually(
    () => ({ failures: errors.length, heartbeats: heartbeatsDuringOutage }),
    // The outage lasts until the SDK has failed a few times and sent a heartbeat meanwhile:
    // three failures can come before the first heartbeat interval is over.
    ({ failures, heartbeats }) => failures >= 3 && heartbeats > 0,
    20_000,
    'the SDK to fail a few times and heartbeat meanwhile',
  );
  outage = false;
  await suite.proxy.up();
  const job = await eventually(
    () =>
      suite.server.gql<{ job: { status: string; message: string; progress: { done: number } } }>(
        suite.admin,
        'query($id: ID!) { job(id: $id) { status message progress { done } } }',
        { id },
      ),
    (response) => response.data?.job?.status === 'SUCCEEDED',
    30_000,
    'the job to succeed',
  );
  expect(job.data!.job).toEqual({ status: 'SUCCEEDED', message: 'done despite the outage', progress: { done: LINES } });
  const { rows } = await suite.db.pool.query<{ message: string }>(
    `SELECT message FROM timeline_events WHERE job_id = $1 AND kind = 'LOG' ORDER BY id`,
    [id],
  );
  expect(rows.map((row) => row.message)).toEqual(Array.from({ length: LINES }, (_, index) => `line ${index + 1}`));
  // It kept heartbeating while it could not end the job.
  expect(heartbeatsDuringOutage).toBeGreaterThan(0);
  expect(
    errors.some((error) =>
      /DATABASE_UNAVAILABLE|unavailable|database/i.test(
        String((error as { extensions?: unknown }).extensions ? JSON.stringify((error as { extensions: unknown }).extensions) : error),
      ),
    ),
  ).toBe(true);
});
