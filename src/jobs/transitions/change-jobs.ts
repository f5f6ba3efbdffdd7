import type { Sql } from '../../db/sql';
import { SqlParams } from '../../db/sql-params';
import { JOB_COLUMNS, type JobRow } from '../job.row';
import type { JobStatus, TransitionActor, TransitionName } from '../job-status';
import { assertTransitions, fromOf } from './transition-sql';
import type { ActorKind, TimelineKind } from '../timeline.types';

/** An actor named by a column of the changed row: the person who asked for a cancel, say. */
export interface ActorFromRow {
  readonly column: 'cancel_requested_by';
}

export interface ChangeEvent {
  /** The event kind, or one per resulting status when the target depends on the row. */
  readonly kind: TimelineKind | Readonly<Partial<Record<JobStatus, TimelineKind>>>;
  readonly actorId: string | null | ActorFromRow;
  readonly actorKind: ActorKind;
  readonly message?: string | null;
  readonly data?: unknown;
}

/**
 * Which rows: given ids (locked in id order, waiting for other changes to finish, so concurrent
 * batches cannot deadlock), or up to `limit` rows matching a condition over the table (for the
 * daemon: rows another transaction holds are skipped, the next tick takes them).
 */
export type JobTarget = { readonly ids: readonly string[] } | { readonly where: (params: SqlParams) => string; readonly limit: number };

export interface JobChange {
  readonly target: JobTarget;
  /**
   * The transitions this change makes (several when the target depends on the row): their
   * source statuses are the guard that makes it legal.
   */
  readonly transitions: readonly TransitionName[];
  /** Who causes it: each transition must say it may be caused by them. */
  readonly by: TransitionActor;
  /**
   * `update`: SET assignments over the row aliased `j` (updated_at is added); the status is one
   * of them (written with targetStatusSql) since some targets depend on the row. `delete`: the rows go, the history stays.
   */
  readonly operation: { readonly kind: 'update'; readonly set: (params: SqlParams) => string } | { readonly kind: 'delete' };
  /** Further conditions over `j`: who may act (permissions as SQL), a lease, a schedule. */
  readonly guards?: ReadonlyArray<(params: SqlParams) => string>;
  /** A data-modifying statement over the changed rows (`changed`), in the same statement. */
  readonly alsoSql?: string;
  readonly event: ChangeEvent;
}

export type ChangedJob = JobRow & { from_status: JobStatus };

/**
 * Changes jobs with one guarded statement: it locks the rows, keeps those in an allowed status
 * that pass every guard, updates (or deletes) them and writes one timeline event each, all or
 * nothing. A row that is not returned did not change: the request lost a race, named an
 * illegal transition, or was not allowed. The caller explains which.
 */
export async function changeJobs(sql: Sql, change: JobChange): Promise<ChangedJob[]> {
  assertTransitions(change.transitions, change.by, change.operation.kind === 'delete');
  const params = new SqlParams();
  const from = params.add(fromOf(change.transitions));
  const current =
    'ids' in change.target
      ? `SELECT id, status FROM jobs WHERE id = ANY(${params.add(change.target.ids)}::uuid[]) ORDER BY id FOR UPDATE`
      : `SELECT id, status FROM jobs WHERE status = ANY(${from}::text[]) AND ${change.target.where(params)}
          ORDER BY id LIMIT ${params.add(change.target.limit)} FOR UPDATE SKIP LOCKED`;
  const guards = (change.guards ?? []).map((guard) => ` AND ${guard(params)}`).join('');
  const statement =
    change.operation.kind === 'update'
      ? `UPDATE jobs j SET ${change.operation.set(params)}, updated_at = greatest(clock_timestamp(), j.updated_at + interval '1 millisecond')
           FROM current WHERE j.id = current.id AND current.status = ANY(${from}::text[])${guards}
         RETURNING j.*, current.status AS from_status`
      : `DELETE FROM jobs j USING current WHERE j.id = current.id AND current.status = ANY(${from}::text[])${guards}
         RETURNING j.*, current.status AS from_status`;
  const event = change.event;
  const toStatus = change.operation.kind === 'update' ? 'status' : 'NULL';
  return sql.rows<ChangedJob>(
    `WITH current AS (${current}),
     changed AS (${statement}),${
       change.alsoSql === undefined
         ? ''
         : `
     also AS (${change.alsoSql}),`
     }
     event AS (
       INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, from_status, to_status, attempt, step, message, data,
                                    job_scope, job_type, job_owner_id)
       SELECT id, ${kindSql(event.kind, params)}, ${actorSql(event.actorId, params)}, ${params.add(event.actorKind)}, from_status,
              ${toStatus}, attempt, step, ${params.add(event.message ?? null)},
              ${params.add(event.data === undefined ? null : JSON.stringify(event.data))}::jsonb, scope, type, owner_id
         FROM changed
     )
     SELECT ${JOB_COLUMNS}, from_status FROM changed`,
    params.values,
  );
}

function actorSql(actor: ChangeEvent['actorId'], params: SqlParams): string {
  return actor !== null && typeof actor === 'object' ? actor.column : params.add(actor);
}

function kindSql(kind: ChangeEvent['kind'], params: SqlParams): string {
  if (typeof kind === 'string') return params.add(kind);
  const branches = Object.entries(kind).map(([status, name]) => `WHEN ${params.add(status)} THEN ${params.add(name)}`);
  return `CASE status ${branches.join(' ')} END`;
}
