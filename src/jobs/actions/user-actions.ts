import type { Principal } from '../../auth/principal';
import type { SqlParams } from '../../db/sql-params';
import { BadUserInputError } from '../../errors';
import { type AppAbility, type JobFacts, jobSubject } from '../../permissions/ability';
import { jobPredicate } from '../../permissions/rules-to-sql';
import type { Action } from '../../permissions/rules';
import { TRANSITIONS, type JobStatus, type JobStep, type TransitionName } from '../job-status';
import { statusesSql, targetStatusSql } from '../transitions/transition-sql';
import type { ChangeEvent, JobChange } from '../transitions/change-jobs';
import type { TrapDecision } from './trap-decision';

export interface Actor {
  readonly principal: Principal;
  readonly ability: AppAbility;
}

/** The row a refusal is explained from, with the database's clock (the one the guards used). */
export interface RefusedRow {
  readonly status: JobStatus;
  readonly max_start_at: Date | null;
  readonly now: Date;
}

/**
 * One thing a person can do to a job. Its legality (source statuses), who may do it (as SQL for
 * the guarded statement, and in memory for `viewerCan`: the two must agree), and what it
 * changes are all here, so single, bulk and "can I?" answers cannot drift apart.
 */
export interface UserAction<Args> {
  readonly verb: string;
  /** The transitions it makes (the table's): their sources make it legal (fromOf). */
  readonly transitions: readonly TransitionName[];
  readonly permitted: (actor: Actor, params: SqlParams) => string;
  readonly allows: (actor: Actor, job: JobFacts) => boolean;
  readonly operation: (args: Args, actor: Actor) => JobChange['operation'];
  readonly event: (args: Args) => Pick<ChangeEvent, 'kind' | 'message' | 'data'>;
  /** Extra guards over `j` (beyond status and permission), e.g. a schedule within maxStartAt. */
  readonly guards?: (args: Args) => ReadonlyArray<(params: SqlParams) => string>;
  /** Work done in the same statement on the changed rows (`changed`), e.g. resetting tasks. */
  readonly alsoSql?: (args: Args) => string;
  /** Why a legal, permitted change still did not happen (a guard of its own failed). */
  readonly refusal?: (row: RefusedRow, args: Args) => Error | undefined;
}

const can = (action: Action) => ({
  permitted: (actor: Actor, params: SqlParams) => jobPredicate(actor.ability, action, params, 'j'),
  allows: (actor: Actor, job: JobFacts) => actor.ability.can(action, jobSubject(job)),
});

/** Approving: a named approver with `approve`, or anyone with `approve_all` (in scope). */
const approval = {
  permitted: (actor: Actor, params: SqlParams) =>
    `((${jobPredicate(actor.ability, 'approve', params, 'j')} AND ${params.add(actor.principal.id)} = ANY(j.approvers))` +
    ` OR ${jobPredicate(actor.ability, 'approve_all', params, 'j')})`,
  allows: (actor: Actor, job: JobFacts) =>
    (actor.ability.can('approve', jobSubject(job)) && (job.approvers ?? []).includes(actor.principal.id)) ||
    actor.ability.can('approve_all', jobSubject(job)),
};

export const startAction: UserAction<void> = {
  verb: 'start',
  transitions: ['startJob'],
  ...can('create'),
  operation: () => ({ kind: 'update', set: () => `status = ${targetStatusSql('startJob')}` }),
  event: () => ({ kind: 'SUBMITTED' }),
};

export const cancelAction: UserAction<{ reason: string | null }> = {
  verb: 'cancel',
  transitions: ['cancelQueued', 'cancelHeld'],
  ...can('cancel'),
  operation: (_args, actor) => ({
    kind: 'update',
    // Not yet held by a worker: cancelled at once. Held: the worker is asked to stop.
    set: (params) => `status = CASE WHEN j.status IN (${statusesSql(TRANSITIONS.cancelQueued.from)}) THEN ${targetStatusSql('cancelQueued')}
      ELSE ${targetStatusSql('cancelHeld')} END,
      cancel_requested_at = now(), cancel_requested_by = ${params.add(actor.principal.id)}`,
  }),
  event: ({ reason }) => ({ kind: { CANCELLED: 'CANCELLED', CANCELLING: 'CANCEL_REQUESTED' }, message: reason }),
};

export interface RestartArgs {
  readonly step: JobStep;
  readonly runNow: boolean;
  /** New secrets for the new attempt (the last attempt's were destroyed when it finished). */
  readonly sealedSecrets: Buffer | null;
}

export const restartAction: UserAction<RestartArgs> = {
  verb: 'restart',
  transitions: ['restartJob'],
  ...can('restart'),
  operation: ({ step, runNow, sealedSecrets }) => ({
    kind: 'update',
    // A new attempt from `step`: every later step reruns too. Keeping scheduled_at is what keeps
    // RUN waiting for its schedule when PRE reruns (claims and completeStep read it); runNow
    // clears it. A maxStartAt already past would expire the job at once, so it is dropped.
    set: (params) => `status = ${targetStatusSql('restartJob')},
      attempt = j.attempt + 1, step = ${params.add(step)},
      previous_run_duration_ms = CASE WHEN j.started_at IS NULL THEN j.previous_run_duration_ms
        ELSE round(extract(epoch FROM coalesce(j.finished_at, now()) - j.started_at) * 1000) END,
      started_at = NULL, worker_id = NULL, heartbeat_at = NULL, lease_token = NULL, message = NULL,
      error_message = NULL, error_stack = NULL, cancel_requested_at = NULL, cancel_requested_by = NULL,
      progress_done = 0, progress_total = NULL, progress_unit = NULL, progress_phase = NULL, progress_percent = NULL,
      progress_rate = NULL, progress_updated_at = NULL, progress_rate_at = NULL, progress_stalled_since = NULL,
      scheduled_at = ${runNow ? 'NULL' : 'j.scheduled_at'},
      max_start_at = CASE WHEN j.max_start_at <= now() THEN NULL ELSE j.max_start_at END,
      secrets = ${params.add(sealedSecrets)}::bytea`,
  }),
  alsoSql: () => `DELETE FROM tasks t USING changed WHERE t.job_id = changed.id`,
  event: ({ step, runNow, sealedSecrets }) => ({ kind: 'RESTARTED', data: { step, runNow, newSecrets: sealedSecrets !== null } }),
};

export interface RescheduleArgs {
  readonly scheduledAt: Date;
  readonly maxStartAt: Date | null;
}

/** The maxStartAt a reschedule leaves: the new one, or the old one unless it is already past. */
const keptMaxStartAt = (params: SqlParams, maxStartAt: Date | null) =>
  `coalesce(${params.add(maxStartAt)}::timestamptz, CASE WHEN j.max_start_at > now() THEN j.max_start_at END)`;

export const rescheduleAction: UserAction<RescheduleArgs> = {
  verb: 'reschedule',
  transitions: ['rescheduleJob'],
  ...can('reschedule'),
  operation: ({ scheduledAt, maxStartAt }) => ({
    kind: 'update',
    // Rescheduling never skips an approval: a PENDING job stays approved, one waiting keeps
    // waiting, and a rejected or expired one that needs approval asks again.
    set: (
      params,
    ) => `status = CASE WHEN j.status IN ('PENDING', 'WAITING_APPROVAL') THEN j.status ELSE ${targetStatusSql('rescheduleJob')} END,
      scheduled_at = ${params.add(scheduledAt)}, max_start_at = ${keptMaxStartAt(params, maxStartAt)}`,
  }),
  // The resolver checks both against its own clock; these hold against the database's, the one
  // the daemon expires jobs by.
  guards: ({ scheduledAt, maxStartAt }) => [
    (params) =>
      `(${keptMaxStartAt(params, maxStartAt)} IS NULL OR ${params.add(scheduledAt)}::timestamptz < ${keptMaxStartAt(params, maxStartAt)})`,
    (params) => `(${params.add(maxStartAt)}::timestamptz IS NULL OR ${params.add(maxStartAt)}::timestamptz > now())`,
  ],
  refusal: (row, { scheduledAt, maxStartAt }) => {
    if (maxStartAt !== null && maxStartAt <= row.now) return new BadUserInputError('maxStartAt must be in the future', 'maxStartAt');
    const limit = maxStartAt ?? (row.max_start_at !== null && row.max_start_at > row.now ? row.max_start_at : null);
    return limit !== null && scheduledAt >= limit
      ? new BadUserInputError(`scheduledAt must be before the job's maxStartAt (${limit.toISOString()})`, 'scheduledAt')
      : undefined;
  },
  event: ({ scheduledAt, maxStartAt }) => ({ kind: 'RESCHEDULED', data: { scheduledAt, maxStartAt } }),
};

export const deleteAction: UserAction<void> = {
  verb: 'delete',
  transitions: ['deleteJob'],
  ...can('delete'),
  operation: () => ({ kind: 'delete' }),
  event: () => ({ kind: 'DELETED' }),
};

export const approveAction: UserAction<{ comment: string | null }> = {
  verb: 'approve',
  transitions: ['approveJob'],
  ...approval,
  operation: () => ({ kind: 'update', set: () => `status = ${targetStatusSql('approveJob')}` }),
  event: ({ comment }) => ({ kind: 'APPROVED', message: comment }),
};

export const rejectAction: UserAction<{ comment: string | null }> = {
  verb: 'reject',
  transitions: ['rejectJob'],
  ...approval,
  operation: () => ({ kind: 'update', set: () => `status = ${targetStatusSql('rejectJob')}` }),
  event: ({ comment }) => ({ kind: 'REJECTED', message: comment }),
};

export const pauseTrapAction: UserAction<void> = {
  verb: 'pause the trap of',
  transitions: ['pauseTrap'],
  ...can('resolve_trap'),
  operation: () => ({ kind: 'update', set: () => `status = ${targetStatusSql('pauseTrap')}` }),
  event: () => ({ kind: 'TRAP_PAUSED' }),
};

export const resolveTrapAction: UserAction<{ decision: TrapDecision }> = {
  verb: 'resolve the trap of',
  transitions: ['resolveTrapContinue', 'resolveTrapAbort'],
  ...can('resolve_trap'),
  operation: ({ decision }) => ({
    kind: 'update',
    // RETRY and SKIP resume the worker, which reads the decision on its next heartbeat; the
    // heartbeat clock restarts so a long investigation does not look like a lost worker, nor
    // (the progress clock too) a stalled one.
    set: (params) =>
      decision === 'ABORT'
        ? `status = ${targetStatusSql('resolveTrapAbort')}`
        : `status = ${targetStatusSql('resolveTrapContinue')}, trap_decision = ${params.add(decision)}, heartbeat_at = now(), trap_timeout_at = NULL,
           progress_advanced_at = now(), progress_stalled_since = NULL`,
  }),
  event: ({ decision }) => ({ kind: 'TRAP_RESOLVED', data: { decision } }),
};

/** Every action that `viewerCan` reports, by its field name there. */
export const VIEWER_ACTIONS = {
  start: startAction,
  cancel: cancelAction,
  restart: restartAction,
  reschedule: rescheduleAction,
  delete: deleteAction,
  approve: approveAction,
  reject: rejectAction,
  pauseTrap: pauseTrapAction,
  resolveTrap: resolveTrapAction,
} as const;
