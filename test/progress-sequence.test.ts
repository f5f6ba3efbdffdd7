import { apiSuite, claimedJob } from './support/api-suite';
import type { GraphQLResponse, TestServer } from './support/test-server';

/**
 * Sequenced progress reports through the raw protocol, with two API instances on one database
 * (a worker's calls may reach either): a sequenced call answers once its reports are stored; a
 * report sent again, to either instance, counts once; a gap is refused with what is stored; an
 * ended lease's reports are not counted. And a log line keeps the time the worker wrote it.
 */
const ENV = { PROGRESS_FLUSH_MS: '30' };
const suite = apiSuite({ env: ENV, alerts: false });
/** A second instance on the same database. */
let b: TestServer;
beforeAll(async () => {
  b = await suite.startServer(ENV, { alerts: false });
});

const claimed = (type: string) => claimedJob(suite, type);

const REPORT = 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }';
const send = (on: TestServer, ...reports: Array<Record<string, unknown>>): Promise<GraphQLResponse<{ reportProgress: number }>> =>
  on.gql<{ reportProgress: number }>(suite.worker, REPORT, { r: reports });

async function accepted(on: TestServer, ...reports: Array<Record<string, unknown>>): Promise<number> {
  const response = await send(on, ...reports);
  expect(response.errors).toBeUndefined();
  return response.data!.reportProgress;
}

/** Reports `from`..`to` of a lease, each with one log line naming its sequence and done = its sequence. */
const numbered = (lease: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => ({
    lease,
    sequence: from + index,
    done: from + index,
    total: 100,
    log: [`line ${from + index}`],
  }));

async function lines(id: string): Promise<string[]> {
  const { rows } = await suite.db.pool.query<{ message: string }>(
    `SELECT message FROM timeline_events WHERE job_id = $1 AND kind = 'LOG' ORDER BY id`,
    [id],
  );
  return rows.map((row) => row.message);
}

async function stored(id: string): Promise<{ progress_sequence: string; progress_done: number }> {
  const { rows } = await suite.db.pool.query('SELECT progress_sequence, progress_done FROM jobs WHERE id = $1', [id]);
  return rows[0];
}

test('a sequenced call answers once its reports are stored, and the heartbeat says up to where', async () => {
  const { id, lease } = await claimed('seq-stored');
  expect(await accepted(suite.server, ...numbered(lease, 1, 3))).toBe(3);
  // No flush to wait for: the answer came after the write.
  expect(await stored(id)).toEqual({ progress_sequence: '3', progress_done: 3 });
  expect(await lines(id)).toEqual(['line 1', 'line 2', 'line 3']);
  const beat = await b.gql<{ heartbeat: { storedSequence: number } }>(
    suite.worker,
    'mutation($l: String!) { heartbeat(lease: $l) { storedSequence } }',
    { l: lease },
  );
  expect(beat.data!.heartbeat).toEqual({ storedSequence: 3 });
});

test('reports sent again, to the same instance or the other, count once: every line once, in order', async () => {
  const { id, lease } = await claimed('seq-again');
  expect(await accepted(suite.server, ...numbered(lease, 1, 3))).toBe(3);
  // The answer was lost: the worker sends 2..3 again with 4..5, through the other instance.
  expect(await accepted(b, ...numbered(lease, 2, 5))).toBe(4);
  // And everything again, to the first: all already stored.
  expect(await accepted(suite.server, ...numbered(lease, 1, 5))).toBe(5);
  // Both at once, to both instances: one of them writes, the other finds it stored.
  const [first, second] = await Promise.all([accepted(suite.server, ...numbered(lease, 4, 7)), accepted(b, ...numbered(lease, 4, 7))]);
  expect([first, second]).toEqual([4, 4]);
  expect(await lines(id)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6', 'line 7']);
  expect(await stored(id)).toEqual({ progress_sequence: '7', progress_done: 7 });
});

test('a report after a gap is refused, naming what is stored; nothing of it is taken', async () => {
  const { id, lease } = await claimed('seq-gap');
  expect(await accepted(suite.server, ...numbered(lease, 1, 2))).toBe(2);
  const gap = await send(b, ...numbered(lease, 5, 6));
  expect(gap.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'SEQUENCE_GAP', gaps: [{ lease, storedSequence: 2 }] });
  // The same on the instance that holds the lease's earlier reports.
  const again = await send(suite.server, ...numbered(lease, 4, 4));
  expect(again.errors?.[0]?.extensions).toMatchObject({ reason: 'SEQUENCE_GAP', gaps: [{ lease, storedSequence: 2 }] });
  expect(await lines(id)).toEqual(['line 1', 'line 2']);
  expect(await stored(id)).toEqual({ progress_sequence: '2', progress_done: 2 });
  // Sent again from 3, all of it is taken.
  expect(await accepted(b, ...numbered(lease, 3, 6))).toBe(4);
  expect(await lines(id)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
});

test('within one call, a lease goes 1, 2, 3: a gap, going back, mixing with unsequenced reports or 0 is BAD_USER_INPUT, nothing taken', async () => {
  const { id, lease } = await claimed('seq-call');
  const cases: Array<[Array<Record<string, unknown>>, string]> = [
    [[...numbered(lease, 1, 1), ...numbered(lease, 3, 3)], 'reports[1].sequence must be 2'],
    [[...numbered(lease, 2, 2), ...numbered(lease, 1, 1)], 'reports[1].sequence must be 3'],
    [[...numbered(lease, 1, 1), { lease, done: 9 }], 'reports[1].sequence: a lease'],
    [[{ lease, sequence: 0, done: 1 }], 'reports[0].sequence must be 1 or more'],
  ];
  for (const [reports, message] of cases) {
    const response = await send(suite.server, ...reports);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(response.errors?.[0]?.message).toContain(message);
  }
  await suite.server.services.progress.flush();
  expect(await lines(id)).toEqual([]);
  expect(await stored(id)).toEqual({ progress_sequence: '0', progress_done: 0 });
});

test("an ended lease's reports are not counted nor stored; a new attempt numbers from 1 again", async () => {
  const { id, lease } = await claimed('seq-ended');
  expect(await accepted(suite.server, ...numbered(lease, 1, 2))).toBe(2);
  const done = await b.gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: lease });
  expect(done.errors).toBeUndefined();
  expect(await accepted(suite.server, ...numbered(lease, 3, 4))).toBe(0);
  expect(await accepted(b, ...numbered(lease, 3, 4))).toBe(0);
  expect(await lines(id)).toEqual(['line 1', 'line 2']);
  const restarted = await suite.server.gql(suite.admin, 'mutation($id: ID!) { restartJob(id: $id) { status } }', { id });
  expect(restarted.errors).toBeUndefined();
  const again = await suite.server.gql<{ claimJob: { lease: string } }>(
    suite.worker,
    'mutation { claimJob(workerId: "w", types: ["seq-ended"]) { lease } }',
  );
  const second = again.data!.claimJob.lease;
  expect(await accepted(b, ...numbered(second, 1, 1))).toBe(1);
  expect(await lines(id)).toEqual(['line 1', 'line 2', 'line 1']);
});

test("a log line keeps the time the worker wrote it, kept between the attempt's start and now", async () => {
  const { id, lease } = await claimed('seq-at');
  const { rows } = await suite.db.pool.query<{ started_at: Date }>('SELECT started_at FROM jobs WHERE id = $1', [id]);
  const started = rows[0]!.started_at.getTime();
  // Backdate the start, so that a time after it and before now exists for sure.
  await suite.db.pool.query(`UPDATE jobs SET started_at = started_at - interval '1 hour' WHERE id = $1`, [id]);
  const start = started - 3_600_000;
  const written = new Date(start + 60_000);
  expect(
    await accepted(
      suite.server,
      { lease, sequence: 1, at: written.toISOString(), log: ['written a minute after the start'] },
      { lease, sequence: 2, at: new Date(start - 86_400_000).toISOString(), log: ['a clock a day behind'] },
      { lease, sequence: 3, at: new Date(Date.now() + 86_400_000).toISOString(), log: ['a clock a day ahead'] },
      { lease, sequence: 4, log: ['no time said'] },
    ),
  ).toBe(4);
  const after = Date.now();
  const { rows: events } = await suite.db.pool.query<{ message: string; at: Date }>(
    `SELECT message, at FROM timeline_events WHERE job_id = $1 AND kind = 'LOG' ORDER BY id`,
    [id],
  );
  expect(events.map((event) => event.message)).toEqual([
    'written a minute after the start',
    'a clock a day behind',
    'a clock a day ahead',
    'no time said',
  ]);
  expect(events[0]!.at.getTime()).toBe(written.getTime());
  expect(events[1]!.at.getTime()).toBe(start);
  for (const event of events.slice(2)) {
    expect(event.at.getTime()).toBeGreaterThan(start + 60_000);
    expect(event.at.getTime()).toBeLessThanOrEqual(after);
  }
  const timeline = await suite.server.gql<{ job: { timeline: { nodes: Array<{ message: string; at: string }> } } }>(
    suite.admin,
    'query($id: ID!) { job(id: $id) { timeline(first: 50) { nodes { message at } } } }',
    { id },
  );
  expect(timeline.data!.job.timeline.nodes).toEqual(
    expect.arrayContaining([{ message: 'written a minute after the start', at: written.toISOString() }]),
  );
  const bad = await send(suite.server, { lease, sequence: 5, at: 'yesterday', log: ['x'] });
  expect(bad.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
});
