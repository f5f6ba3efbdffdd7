import type { SqlParams } from '../db/sql-params';
import { type AppAbility, jobSubject } from '../permissions/ability';
import { type ColumnMap, JOB_SNAPSHOT_COLUMNS, jobPredicate } from '../permissions/rules-to-sql';
import type { NotificationRow } from './notification.types';

/** The job facts a notification keeps, as columns of `notifications` (permission checks in SQL). */
const NOTIFICATION_JOB_COLUMNS: ColumnMap = { ...JOB_SNAPSHOT_COLUMNS, approvers: { column: 'job_approvers', array: true } };

/**
 * Whether a user is told a notification, with their current ability: they must be able to view
 * the job, and an approval request only counts for someone who may approve it (a named approver
 * with `approve`, or anyone with `approve_all` over it). Recording is generous (a named approver
 * without the permission, every grant that could hold approve_all); this is the exact check,
 * made at every read, so a permission granted or revoked later counts too.
 */
export function mayBeTold(ability: AppAbility, userId: string, row: NotificationRow): boolean {
  const job = jobSubject({ scope: row.job_scope, type: row.job_type, ownerId: row.job_owner_id, approvers: row.job_approvers });
  if (!ability.can('view_monitor', job)) return false;
  if (row.kind !== 'WAITING_APPROVAL') return true;
  return (ability.can('approve', job) && row.job_approvers.includes(userId)) || ability.can('approve_all', job);
}

/** `mayBeTold` as a SQL condition over `notifications` aliased `alias` (the reader's own rows). */
export function toldPredicate(ability: AppAbility, userId: string, params: SqlParams, alias: string): string {
  const view = jobPredicate(ability, 'view_monitor', params, alias, NOTIFICATION_JOB_COLUMNS);
  const approve = jobPredicate(ability, 'approve', params, alias, NOTIFICATION_JOB_COLUMNS);
  const approveAll = jobPredicate(ability, 'approve_all', params, alias, NOTIFICATION_JOB_COLUMNS);
  const named = `${params.add(userId)} = ANY(${alias}.job_approvers)`;
  return `(${alias}.user_id = ${params.add(userId)} AND ${view} AND (${alias}.kind <> 'WAITING_APPROVAL' OR (${approve} AND ${named}) OR ${approveAll}))`;
}
