import type { JobStatus } from '../src/jobs/job-status';
import { insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';

/**
 * Many people clicking at once on one job. Each change is one guarded statement on a locked row,
 * so the winners are exactly the calls that were legal at their turn, the losers are CONFLICT
 * and wrote nothing, and the timeline is one unbroken chain that ends in the final state.
 */
const suite = apiSuite({ grants: [['admin', 'admin']] });

type Call = 'approve' | 'cancel' | 'restart';
const MUTATION: Record<Call, (id: string) => string> = {
  approve: (id) => `mutation { approveJob(id: "${id}") { status } }`,
  cancel: (id) => `mutation { cancelJob(id: "${id}") { status } }`,
  restart: (id) => `mutation { restartJob(id: "${id}") { status } }`,
};
const EVENT_OF: Record<Call, string[]> = { approve: ['APPROVED'], cancel: ['CANCELLED', 'CANCEL_REQUESTED'], restart: ['RESTARTED'] };

/** DOMAIN.md's legal moves for these calls (the job requires approval). */
const LEGAL: Record<string, Partial<Record<JobStatus, JobStatus>>> = {
  APPROVED: { WAITING_APPROVAL: 'PENDING' },
  CANCELLED: { CREATED: 'CANCELLED', PENDING: 'CANCELLED', WAITING_APPROVAL: 'CANCELLED' },
  CANCEL_REQUESTED: { RUNNING: 'CANCELLING', TRAPPED: 'CANCELLING', TRAP_PAUSED: 'CANCELLING', ROLLBACK: 'CANCELLING' },
  RESTARTED: Object.fromEntries(
    (['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED', 'ABENDED'] as JobStatus[]).map((s) => [s, 'WAITING_APPROVAL']),
  ),
};

async function race(initial: JobStatus, calls: Call[]) {
  const [job] = await insertJobs(suite.db.pool, [{ status: initial, requires_approval: true, approvers: ['admin'] }]);
  const id = job!.id;
  const responses = await Promise.all(
    calls.map(async (call) => ({
      call,
      response: await suite.server.gql<Record<string, { status: JobStatus }>>(suite.admin, MUTATION[call](id)),
    })),
  );
  const { rows: events } = await suite.db.pool.query<{ kind: string; from_status: JobStatus; to_status: JobStatus }>(
    'SELECT kind, from_status, to_status FROM timeline_events WHERE job_id = $1 ORDER BY id',
    [id],
  );
  const { rows } = await suite.db.pool.query<{ status: JobStatus; attempt: number }>('SELECT status, attempt FROM jobs WHERE id = $1', [
    id,
  ]);
  const wins = responses.filter(({ response }) => response.errors === undefined);
  const losses = responses.filter(({ response }) => response.errors !== undefined);

  // Losers lost cleanly: a CONFLICT, nothing else.
  expect(losses.map(({ response }) => response.errors?.[0]?.extensions?.['code'])).toEqual(losses.map(() => 'CONFLICT'));
  // One event per winner, and winners and events agree on what happened.
  expect(events).toHaveLength(wins.length);
  const wonMoves = wins.map(({ call, response }) => `${call}->${Object.values(response.data!)[0]!.status}`).sort();
  const eventMoves = events
    .map((event) => `${(Object.keys(EVENT_OF) as Call[]).find((call) => EVENT_OF[call].includes(event.kind))}->${event.to_status}`)
    .sort();
  expect(wonMoves).toEqual(eventMoves);
  // The events form one legal chain from the initial status to the final one.
  let status = initial;
  for (const event of events) {
    expect([event.kind, event.from_status]).toEqual([event.kind, status]);
    expect([event.kind, status, LEGAL[event.kind]?.[status]]).toEqual([event.kind, status, event.to_status]);
    status = event.to_status;
  }
  expect(rows[0]?.status).toBe(status);
  expect(rows[0]?.attempt).toBe(1 + events.filter((event) => event.kind === 'RESTARTED').length);
  return { wins: wins.length, events };
}

test('50 concurrent approvals of one job: exactly one wins', async () => {
  const { wins } = await race(
    'WAITING_APPROVAL',
    Array.from({ length: 50 }, () => 'approve' as const),
  );
  expect(wins).toBe(1);
});

test('50 concurrent cancels of a running job: one asks the worker to stop, the rest conflict', async () => {
  const { wins, events } = await race(
    'RUNNING',
    Array.from({ length: 50 }, () => 'cancel' as const),
  );
  expect(wins).toBe(1);
  expect(events[0]?.to_status).toBe('CANCELLING');
});

test('50 concurrent restarts of a failed job: one new attempt, not fifty', async () => {
  const { wins } = await race(
    'FAILED',
    Array.from({ length: 50 }, () => 'restart' as const),
  );
  expect(wins).toBe(1);
});

test('50 concurrent cancel, restart and approve calls, mixed, several times: every outcome is a legal chain', async () => {
  const calls: Call[] = Array.from({ length: 50 }, (_, i) => (['approve', 'cancel', 'restart'] as const)[i % 3]!);
  let totalWins = 0;
  for (let round = 0; round < 5; round += 1) {
    // Shuffle so the arrival order differs each round.
    const shuffled = [...calls].sort(() => Math.random() - 0.5);
    totalWins += (await race('WAITING_APPROVAL', shuffled)).wins;
  }
  expect(totalWins).toBeGreaterThanOrEqual(5);
});

test('concurrent deletes of one job: one answers its id, every loser NOT_FOUND (the job is gone), one tombstone', async () => {
  // The decision: a delete that lost the race finds no job, and that is what it answers, as a
  // later delete would; CONFLICT would invite a retry that can never succeed.
  for (let round = 0; round < 5; round += 1) {
    const [job] = await insertJobs(suite.db.pool, [{ status: 'FAILED' }]);
    const id = job!.id;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => suite.server.gql<{ deleteJob: string }>(suite.admin, `mutation { deleteJob(id: "${id}") }`)),
    );
    const outcomes = responses.map((response) =>
      response.errors === undefined ? response.data?.deleteJob : response.errors[0]?.extensions?.['code'],
    );
    expect(outcomes.filter((outcome) => outcome === id)).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome !== id)).toEqual(Array.from({ length: 19 }, () => 'NOT_FOUND'));
    const { rows: events } = await suite.db.pool.query('SELECT kind, from_status, to_status FROM timeline_events WHERE job_id = $1', [id]);
    expect(events).toEqual([{ kind: 'DELETED', from_status: 'FAILED', to_status: null }]);
    expect((await suite.db.pool.query('SELECT 1 FROM jobs WHERE id = $1', [id])).rowCount).toBe(0);
  }
});
