import type { Context } from '../app/context';
import { ConflictError } from '../errors';
import type { SqlParams } from '../db/sql-params';
import { jobPredicate } from '../permissions/rules-to-sql';
import { SCHEDULED_STEP, STEP_ORDER, TRANSITIONS } from '../jobs/job-status';
import { toJob } from '../jobs/job.row';
import type { Job } from '../jobs/job.types';
import { changeJobs } from '../jobs/transitions/change-jobs';
import { targetStatusSql } from '../jobs/transitions/transition-sql';
import type { Lease } from './lease';
import { findJobStep } from './sql/job-step';
import { explainWorkerRefusal } from './worker-transitions';

const LAST_STEP = STEP_ORDER[STEP_ORDER.length - 1] as string;
const BEFORE_SCHEDULED = STEP_ORDER[STEP_ORDER.indexOf(SCHEDULED_STEP) - 1] as string;

/**
 * completeStep's change, over the row as it was: the next step, and RUNNING, except when the
 * next step is RUN and its schedule has not come: PENDING, and the lease, worker heartbeat and
 * claim end (the job is queued again; its claim for RUN makes a new lease).
 */
function completeStepSet(params: SqlParams, message: string | null): string {
  const next = STEP_ORDER.slice(0, -1)
    .map((step, index) => `WHEN '${step}' THEN '${STEP_ORDER[index + 1]}'`)
    .join(' ');
  const waits = `(j.step = '${BEFORE_SCHEDULED}' AND j.scheduled_at > now())`;
  return `step = CASE j.step ${next} END,
    status = CASE WHEN ${waits} THEN ${targetStatusSql('awaitSchedule')} ELSE ${targetStatusSql('completeStep')} END,
    lease_token = CASE WHEN ${waits} THEN NULL ELSE j.lease_token END,
    heartbeat_at = CASE WHEN ${waits} THEN NULL ELSE j.heartbeat_at END,
    message = coalesce(${params.add(message)}, CASE WHEN ${waits} THEN '${BEFORE_SCHEDULED} done; ${SCHEDULED_STEP} waits for its schedule' ELSE j.message END)`;
}

/**
 * Ends the lease's current step (PRE or RUN): the next one runs on the same lease, or the job
 * goes back to PENDING to wait for its schedule (that lease is then over). Pending progress is
 * written first.
 */
export async function completeCurrentStep(ctx: Context, lease: Lease, message: string | null): Promise<Job> {
  await ctx.services.progress.flush(lease.jobId);
  const [row] = await changeJobs(ctx.services.sql, {
    target: { ids: [lease.jobId] },
    transitions: ['completeStep', 'awaitSchedule'],
    by: 'worker',
    operation: { kind: 'update', set: (params) => completeStepSet(params, message) },
    guards: [
      (params) => `j.lease_token = ${params.add(lease.token)}::uuid`,
      (params) => jobPredicate(ctx.ability, 'execute', params, 'j'),
      () => `j.step <> '${LAST_STEP}'`,
    ],
    event: {
      kind: 'STEP_COMPLETED',
      actorId: ctx.principal.id,
      actorKind: 'WORKER',
      message,
    },
  });
  if (row === undefined) throw await explainCompleteStep(ctx, lease);
  if (row.status !== 'RUNNING') {
    // Back in the queue until its schedule: this lease is over.
    ctx.services.progress.forget(lease.jobId, lease.token);
    ctx.services.leases.forget(lease.jobId, lease.token);
  }
  return toJob(row);
}

async function explainCompleteStep(ctx: Context, lease: Lease): Promise<Error> {
  const refusal = await explainWorkerRefusal(ctx, lease, TRANSITIONS.completeStep.from);
  if (!(refusal instanceof ConflictError) || refusal.extensions['status'] !== 'RUNNING') return refusal;
  return (await findJobStep(ctx.services.sql, lease.jobId)) === LAST_STEP
    ? new ConflictError(`${LAST_STEP} is the last step: end the job with completeJob or failJob`, {
        status: 'RUNNING',
        reason: 'LAST_STEP',
      })
    : refusal;
}
