import type { Context } from '../app/context';
import { ConflictError, ForbiddenError } from '../errors';
import { SqlParams } from '../db/sql-params';
import { jobPredicate } from '../permissions/rules-to-sql';
import { TRANSITIONS, type JobStatus, type TransitionName } from '../jobs/job-status';
import { changeJobs, type ChangedJob, type ChangeEvent } from '../jobs/transitions/change-jobs';
import { targetStatusSql } from '../jobs/transitions/transition-sql';
import type { Lease } from './lease';

export interface WorkerTransition {
  readonly transition: TransitionName;
  /** Assignments besides the status (which the transition's `to` gives), over the row `j`. */
  readonly set?: (params: SqlParams) => string;
  readonly event: Pick<ChangeEvent, 'kind' | 'message' | 'data'>;
}

/**
 * A worker's move on the attempt its lease names. Guarded by the lease (only the current
 * attempt's worker may move the job, and never backwards from a later state), the source
 * statuses, and the worker's `execute` permission on the job.
 */
export async function applyWorkerTransition(ctx: Context, lease: Lease, move: WorkerTransition): Promise<ChangedJob> {
  const [row] = await changeJobs(ctx.services.sql, {
    target: { ids: [lease.jobId] },
    transitions: [move.transition],
    by: 'worker',
    operation: {
      kind: 'update',
      set: (params) => [`status = ${targetStatusSql(move.transition)}`, ...(move.set === undefined ? [] : [move.set(params)])].join(', '),
    },
    guards: [(params) => `j.lease_token = ${params.add(lease.token)}::uuid`, (params) => jobPredicate(ctx.ability, 'execute', params, 'j')],
    event: { ...move.event, actorId: ctx.principal.id, actorKind: 'WORKER' },
  });
  if (row !== undefined) return row;
  throw await explainWorkerRefusal(ctx, lease, TRANSITIONS[move.transition].from);
}

export async function explainWorkerRefusal(ctx: Context, lease: Lease, from: readonly JobStatus[]): Promise<Error> {
  const params = new SqlParams();
  const id = params.add(lease.jobId);
  const executable = jobPredicate(ctx.ability, 'execute', params, 'j');
  const row = await ctx.services.sql.one<{ status: JobStatus; current: boolean; executable: boolean }>(
    `SELECT j.status, coalesce(j.lease_token = ${params.add(lease.token)}::uuid, false) AS current, ${executable} AS executable
       FROM jobs j WHERE j.id = ${id}`,
    params.values,
  );
  if (row === undefined || !row.current) {
    return new ConflictError('This lease is no longer valid: the attempt it named has ended or the job was deleted. Stop working on it.', {
      reason: 'LEASE_LOST',
      ...(row === undefined ? {} : { status: row.status }),
    });
  }
  if (!row.executable) return new ForbiddenError('You may no longer execute this job');
  return new ConflictError(`Not allowed while the job is ${row.status} (only when ${from.join(', ')})`, { status: row.status });
}
