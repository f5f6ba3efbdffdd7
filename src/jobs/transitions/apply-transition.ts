import type { Sql } from '../../db/sql';
import { SqlParams } from '../../db/sql-params';
import type { AppAbility } from '../../permissions/ability';
import { jobPredicate } from '../../permissions/rules-to-sql';
import type { AnyAction } from '../../permissions/rules';
import { ConflictError, ForbiddenError, NotFoundError } from '../../graphql/errors';
import { JOB_COLUMNS, type JobRow } from '../job.row';
import { type JobStatus, TRANSITIONS, type TransitionName } from '../job-status';
import type { ActorKind, TimelineKind } from '../timeline.types';

export interface TransitionEvent {
  readonly kind: TimelineKind;
  readonly actorId: string | null;
  readonly actorKind: ActorKind;
  readonly message?: string | null;
  readonly data?: unknown;
}

export interface TransitionRequest {
  readonly jobId: string;
  readonly transition: TransitionName;
  /**
   * The SET assignments (without updated_at), as SQL over the row aliased `j`. The status
   * assignment is part of it, since some targets depend on the row (requires_approval).
   */
  readonly set: (params: SqlParams) => string;
  /** Further guard conditions over `j` (e.g. a lease, a schedule), on top of the source statuses. */
  readonly guard?: (params: SqlParams) => string;
  readonly event: TransitionEvent;
}

/** Who asks, when the request comes from a person: their ability limits which rows can change. */
export interface ActingUser {
  readonly ability: AppAbility;
  readonly action: AnyAction | ((params: SqlParams) => string);
  /** How the action reads in an error message ("cancel", "approve"). */
  readonly verb: string;
}

/**
 * Applies one transition as one guarded statement: it locks the row, checks the source status
 * (and, for a person, that they may see the job and act on it), updates it and writes the
 * timeline event, all or nothing. Zero rows changed means the request lost a race or named an
 * illegal transition: the row is then read once to answer NOT_FOUND, FORBIDDEN or CONFLICT.
 */
export async function applyTransition(sql: Sql, request: TransitionRequest, user?: ActingUser): Promise<JobRow> {
  const params = new SqlParams();
  const id = params.add(request.jobId);
  const from = params.add(TRANSITIONS[request.transition].from);
  const guards: string[] = [];
  if (user !== undefined) {
    guards.push(jobPredicate(user.ability, 'view_monitor', params, 'j'), permission(user, params));
  }
  if (request.guard !== undefined) guards.push(request.guard(params));
  const set = request.set(params);
  const event = request.event;
  const row = await sql.one<JobRow & { from_status: JobStatus }>(
    `WITH current AS (SELECT id, status FROM jobs WHERE id = ${id} FOR UPDATE),
     changed AS (
       UPDATE jobs j SET ${set}, updated_at = now()
         FROM current
        WHERE j.id = current.id AND current.status = ANY(${from}::text[])${guards.map((guard) => ` AND ${guard}`).join('')}
       RETURNING j.*, current.status AS from_status
     ),
     event AS (
       INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, from_status, to_status, attempt, step, message, data,
                                    job_scope, job_type, job_owner_id)
       SELECT id, ${params.add(event.kind)}, ${params.add(event.actorId)}, ${params.add(event.actorKind)}, from_status, status,
              attempt, step, ${params.add(event.message ?? null)}, ${params.add(event.data === undefined ? null : JSON.stringify(event.data))}::jsonb,
              scope, type, owner_id
         FROM changed
     )
     SELECT ${JOB_COLUMNS}, from_status FROM changed`,
    params.values,
  );
  if (row !== undefined) return row;
  throw await explainRefusal(sql, request, user);
}

function permission(user: ActingUser, params: SqlParams): string {
  return typeof user.action === 'function' ? user.action(params) : jobPredicate(user.ability, user.action, params, 'j');
}

/** Why nothing changed: the job is gone or invisible, the user may not act, or the status forbids it. */
async function explainRefusal(sql: Sql, request: TransitionRequest, user: ActingUser | undefined): Promise<Error> {
  const params = new SqlParams();
  const id = params.add(request.jobId);
  const visible = user === undefined ? 'TRUE' : jobPredicate(user.ability, 'view_monitor', params, 'j');
  const permitted = user === undefined ? 'TRUE' : permission(user, params);
  const row = await sql.one<{ status: JobStatus; visible: boolean; permitted: boolean }>(
    `SELECT j.status, ${visible} AS visible, ${permitted} AS permitted FROM jobs j WHERE j.id = ${id}`,
    params.values,
  );
  if (row === undefined || !row.visible) return new NotFoundError('Job', request.jobId);
  if (!row.permitted) return new ForbiddenError(`You may not ${user?.verb ?? 'change'} this job`);
  const allowed: readonly JobStatus[] = TRANSITIONS[request.transition].from;
  return new ConflictError(
    allowed.includes(row.status)
      ? `The job changed while this request ran (it is ${row.status} now); reload and try again`
      : `Cannot ${user?.verb ?? request.transition} a job that is ${row.status} (only ${allowed.join(', ')})`,
    { status: row.status },
  );
}
