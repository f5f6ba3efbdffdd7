import { ConflictError, ForbiddenError, NotFoundError } from '../../errors';
import type { Context } from '../../app/context';
import { SqlParams } from '../../db/sql-params';
import { jobPredicate } from '../../permissions/rules-to-sql';
import type { JobStatus } from '../job-status';
import { changeJobs, type ChangedJob, type JobChange } from '../transitions/change-jobs';
import { fromOf } from '../transitions/transition-sql';
import type { Actor, RefusedRow, UserAction } from './user-actions';

/** The guarded change an action makes to these jobs, on behalf of this person. */
export function actionChange<A>(ctx: Context, action: UserAction<A>, ids: readonly string[], args: A): JobChange {
  const actor: Actor = ctx;
  const event = action.event(args);
  return {
    target: { ids },
    transitions: action.transitions,
    by: 'user',
    operation: action.operation(args, actor),
    // The person must see the job (else it does not exist for them) and be allowed to act on it.
    guards: [
      (params) => jobPredicate(ctx.ability, 'view_monitor', params, 'j'),
      (params) => action.permitted(actor, params),
      ...(action.guards?.(args) ?? []),
    ],
    ...(action.alsoSql === undefined ? {} : { alsoSql: action.alsoSql(args) }),
    event: { ...event, actorId: ctx.principal.id, actorKind: 'USER' },
  };
}

/**
 * Performs an action on one job, or explains why nothing changed: NOT_FOUND (no such job, or
 * one the person may not see), FORBIDDEN, the action's own refusal, or CONFLICT (an illegal
 * transition, or a race lost to another change).
 */
export async function performAction<A>(ctx: Context, action: UserAction<A>, jobId: string, args: A): Promise<ChangedJob> {
  const [row] = await changeJobs(ctx.services.sql, actionChange(ctx, action, [jobId], args));
  if (row !== undefined) return row;
  throw await explainRefusal(ctx, action, jobId, args);
}

async function explainRefusal<A>(ctx: Context, action: UserAction<A>, jobId: string, args: A): Promise<Error> {
  const params = new SqlParams();
  const id = params.add(jobId);
  const visible = jobPredicate(ctx.ability, 'view_monitor', params, 'j');
  const permitted = action.permitted(ctx, params);
  const row = await ctx.services.sql.one<RefusedRow & { visible: boolean; permitted: boolean }>(
    `SELECT j.status, j.max_start_at, now() AS now, ${visible} AS visible, ${permitted} AS permitted FROM jobs j WHERE j.id = ${id}`,
    params.values,
  );
  if (row === undefined || !row.visible) return new NotFoundError('Job', jobId);
  if (!row.permitted) return new ForbiddenError(`You may not ${action.verb} this job`);
  const from = fromOf(action.transitions);
  if (from.includes(row.status)) {
    return (
      action.refusal?.(row, args) ??
      new ConflictError(`The job changed while this request ran (it is ${row.status} now); reload and try again`, { status: row.status })
    );
  }
  return new ConflictError(`Cannot ${action.verb} a job that is ${row.status} (only when ${formatStatuses(from)})`, {
    status: row.status,
  });
}

function formatStatuses(statuses: readonly JobStatus[]): string {
  return statuses.length === 1 ? (statuses[0] as string) : `${statuses.slice(0, -1).join(', ')} or ${statuses[statuses.length - 1]}`;
}
