import { insertJobs } from './support/fixtures';
import { token } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * DOMAIN.md: "Rerunning PRE keeps RUN waiting for scheduledAt; runNow overrides the schedule."
 * A restart keeps scheduledAt: a rerun from RUN is claimed by no worker before it; a rerun from
 * PRE is claimed at once and waits at RUN after completeStep (test/clarive-schedule.test.ts).
 * runNow clears it. Time passing is simulated by backdating the schedule.
 */

let worker: string;

const suite = apiSuite({
  grants: [
    ['admin', 'admin'],
    ['worker-1', 'worker'],
  ],
});
beforeAll(async () => {
  worker = await token('worker-1');
});

interface Claimed {
  claimJob: { lease: string; job: { id: string; status: string; step: string; attempt: number } } | null;
}
const claim = (type: string) =>
  suite.server.gql<Claimed>(
    worker,
    `mutation($types: [String!]) { claimJob(workerId: "w-1", types: $types) { lease job { id status step attempt } } }`,
    {
      types: [type],
    },
  );

const RESTART = `mutation($id: ID!, $step: JobStep, $runNow: Boolean) {
  restartJob(id: $id, step: $step, runNow: $runNow) { status step attempt scheduledAt maxStartAt }
}`;
interface Restarted {
  restartJob: { status: string; step: string; attempt: number; scheduledAt: string | null; maxStartAt: string | null };
}

/** A failed job of its own type (so claims see only it), scheduled an hour from now. */
async function failedJobScheduledLater(type: string): Promise<{ id: string; scheduledAt: Date; maxStartAt: Date }> {
  const [job] = await insertJobs(suite.db.pool, [{ status: 'FAILED', type, step: 'RUN', finished_at: new Date() }]);
  const { rows } = await suite.db.pool.query<{ scheduled_at: Date; max_start_at: Date }>(
    `UPDATE jobs SET scheduled_at = date_trunc('second', now()) + interval '1 hour', max_start_at = date_trunc('second', now()) + interval '2 hours'
      WHERE id = $1 RETURNING scheduled_at, max_start_at`,
    [job!.id],
  );
  return { id: job!.id, scheduledAt: rows[0]!.scheduled_at, maxStartAt: rows[0]!.max_start_at };
}

const scheduleOf = async (id: string) =>
  (
    await suite.db.pool.query<{ status: string; scheduled_at: Date | null; max_start_at: Date | null }>(
      'SELECT status, scheduled_at, max_start_at FROM jobs WHERE id = $1',
      [id],
    )
  ).rows[0];

test.each(['PRE', 'RUN'] as const)(
  'a restart from %s without runNow keeps the schedule: RUN is claimed by nobody before scheduledAt',
  async (step) => {
    const type = `later-${step}`;
    const job = await failedJobScheduledLater(type);
    const restarted = await suite.server.gql<Restarted>(suite.admin, RESTART, { id: job.id, step });
    expect(restarted.errors).toBeUndefined();
    expect(restarted.data?.restartJob).toEqual({
      status: 'PENDING',
      step,
      attempt: 2,
      scheduledAt: job.scheduledAt.toISOString(),
      maxStartAt: job.maxStartAt.toISOString(),
    });
    expect(await scheduleOf(job.id)).toEqual({ status: 'PENDING', scheduled_at: job.scheduledAt, max_start_at: job.maxStartAt });

    if (step === 'PRE') {
      // PRE runs at once; once it is done, RUN waits for the schedule.
      const pre = await claim(type);
      expect(pre.data?.claimJob?.job).toEqual({ id: job.id, status: 'RUNNING', step: 'PRE', attempt: 2 });
      const done = await suite.server.gql<{ completeStep: { status: string; step: string } }>(
        worker,
        'mutation($l: String!) { completeStep(lease: $l) { status step } }',
        {
          l: pre.data!.claimJob!.lease,
        },
      );
      expect(done.data?.completeStep).toEqual({ status: 'PENDING', step: 'RUN' });
    }
    const early = await claim(type);
    expect(early.errors).toBeUndefined();
    expect(early.data?.claimJob).toBeNull();
    expect((await scheduleOf(job.id))?.status).toBe('PENDING');

    // The hour passes.
    await suite.db.pool.query(`UPDATE jobs SET scheduled_at = now() - interval '1 second' WHERE id = $1`, [job.id]);
    const due = await claim(type);
    expect(due.data?.claimJob?.job).toEqual({ id: job.id, status: 'RUNNING', step: 'RUN', attempt: 2 });
  },
);

test('a restart with runNow clears the schedule: a worker claims the job at once', async () => {
  const job = await failedJobScheduledLater('now');
  const restarted = await suite.server.gql<Restarted>(suite.admin, RESTART, { id: job.id, runNow: true });
  expect(restarted.data?.restartJob).toEqual({
    status: 'PENDING',
    step: 'PRE',
    attempt: 2,
    scheduledAt: null,
    maxStartAt: job.maxStartAt.toISOString(),
  });
  const { rows } = await suite.db.pool.query('SELECT kind, data FROM timeline_events WHERE job_id = $1', [job.id]);
  expect(rows).toEqual([{ kind: 'RESTARTED', data: { step: 'PRE', runNow: true, newSecrets: false } }]);
  expect((await claim('now')).data?.claimJob?.job).toEqual({ id: job.id, status: 'RUNNING', step: 'PRE', attempt: 2 });
});

test('runNow: false is the same as omitting it', async () => {
  const job = await failedJobScheduledLater('explicit-false');
  const restarted = await suite.server.gql<Restarted>(suite.admin, RESTART, { id: job.id, step: 'RUN', runNow: false });
  expect(restarted.data?.restartJob.scheduledAt).toBe(job.scheduledAt.toISOString());
  expect((await claim('explicit-false')).data?.claimJob).toBeNull();
});

test('an approval after a restart does not skip the schedule either', async () => {
  const job = await failedJobScheduledLater('approved-later');
  await suite.db.pool.query(`UPDATE jobs SET requires_approval = true, approvers = '{admin}' WHERE id = $1`, [job.id]);
  expect((await suite.server.gql<Restarted>(suite.admin, RESTART, { id: job.id, step: 'RUN' })).data?.restartJob.status).toBe(
    'WAITING_APPROVAL',
  );
  expect((await claim('approved-later')).data?.claimJob).toBeNull();
  const approved = await suite.server.gql<{ approveJob: { status: string; scheduledAt: string } }>(
    suite.admin,
    `mutation { approveJob(id: "${job.id}") { status scheduledAt } }`,
  );
  expect(approved.data?.approveJob).toEqual({ status: 'PENDING', scheduledAt: job.scheduledAt.toISOString() });
  expect((await claim('approved-later')).data?.claimJob).toBeNull();
});

test('restartJobs keeps each schedule too (RUN waits for it), unless runNow', async () => {
  const kept = await failedJobScheduledLater('bulk-kept');
  const cleared = await failedJobScheduledLater('bulk-cleared');
  const run = (type: string, runNow: boolean) =>
    suite.server.gql<{ restartJobs: { changed: number } }>(
      suite.admin,
      `mutation($types: [String!], $runNow: Boolean) {
      restartJobs(filter: { types: $types }, step: RUN, runNow: $runNow) { changed } }`,
      { types: [type], runNow },
    );
  expect((await run('bulk-kept', false)).data?.restartJobs.changed).toBe(1);
  expect((await run('bulk-cleared', true)).data?.restartJobs.changed).toBe(1);
  expect((await scheduleOf(kept.id))?.scheduled_at).toEqual(kept.scheduledAt);
  expect((await scheduleOf(cleared.id))?.scheduled_at).toBeNull();
  expect((await claim('bulk-kept')).data?.claimJob).toBeNull();
  expect((await claim('bulk-cleared')).data?.claimJob?.job.id).toBe(cleared.id);
});
