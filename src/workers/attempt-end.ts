import type { Context } from '../app/context';
import { ConflictError } from '../errors';
import { jobPredicate } from '../permissions/rules-to-sql';
import { TRANSITIONS } from '../jobs/job-status';
import { toJob } from '../jobs/job.row';
import type { Job } from '../jobs/job.types';
import type { Lease } from './lease';
import { findEndedByLease } from './sql/ended-by-lease';
import { applyWorkerTransition, type WorkerTransition } from './worker-transitions';

// How a worker moves (trap, rollback) or ends (complete, fail, confirm a cancel) its attempt.

/** A move of the attempt (trap, rollback): that job's pending progress is written first, so the person deciding sees it. */
export async function moveAttempt(ctx: Context, lease: Lease, move: WorkerTransition): Promise<Job> {
  await ctx.services.progress.flush(lease.jobId);
  return toJob(await applyWorkerTransition(ctx, lease, move));
}

/**
 * Ends an attempt: its pending progress is written first (that job's only: with many jobs
 * ending, the others still wait for their PROGRESS_FLUSH_MS), then nothing more is taken for it.
 */
export async function endAttempt(ctx: Context, lease: Lease, move: WorkerTransition): Promise<Job> {
  let job: Job;
  try {
    job = await moveAttempt(ctx, lease, {
      ...move,
      // The ending lease is kept (the status change clears lease_token), for a retry's sake.
      set: (params) => [...(move.set === undefined ? [] : [move.set(params)]), 'ended_lease_token = j.lease_token'].join(', '),
    });
  } catch (error) {
    const again =
      error instanceof ConflictError && error.extensions['reason'] === 'LEASE_LOST' ? await endedBy(ctx, lease, move) : undefined;
    if (again === undefined) throw error;
    job = again;
  }
  ctx.services.progress.forget(lease.jobId, lease.token);
  ctx.services.leases.forget(lease.jobId, lease.token);
  return job;
}

/**
 * The same call again after a lost answer: the job this lease itself ended with this very
 * move, answered as the first time (nothing changes, no second event). Undefined otherwise.
 */
async function endedBy(ctx: Context, lease: Lease, move: WorkerTransition): Promise<Job | undefined> {
  const row = await findEndedByLease(ctx.services.sql, lease, TRANSITIONS[move.transition].to, (params) =>
    jobPredicate(ctx.ability, 'execute', params, 'j'),
  );
  return row === undefined ? undefined : toJob(row);
}
