import type { Context } from '../app/context';
import { SqlParams } from '../db/sql-params';
import { ALL_STATUSES, type JobStatus, type JobStep } from '../jobs/job-status';
import type { JobFilter } from '../jobs/job-filter.input';
import { compileFilter } from '../jobs/job-filter.match';
import { filterStatuses, jobFilterConditions, scopeSubtreeSql } from '../jobs/job-filter.sql';
import { assertScope } from '../permissions/scope';
import { JOB_COLUMNS, type JobRow } from '../jobs/job.row';
import { buildAbility, type GrantRules } from '../permissions/ability';
import { JOB_SNAPSHOT_COLUMNS, jobPredicate } from '../permissions/rules-to-sql';
import type { RawRule } from '../permissions/rules';
import type { JobEvent } from './hub-subscribers';

/** At most this many jobs of each kind (left the view, deleted, out of sight) follow a snapshot. */
export const MAX_RESYNC_PER_KIND = 1_000;

/**
 * What a jobUpdated snapshot sends after the matching jobs: each job that left the view since
 * `since`, so that a client that re-subscribes after a reconnect (or a restart) ends with the
 * truth, not with jobs it still shows as RUNNING:
 * - a visible job that no longer matches the filter and changed status since then out of a
 *   status the filter admits (an ACTIVE job that finished): its current state;
 * - a job deleted since then, that the viewer may see jobs of (scope, type, owner): `removed`;
 * - a job the viewer lost sight of since then (a grant revoked, a role changed): `removed`.
 * A client drops what it does not show: an id it never had is no news. A removal carries the
 * job's id, type, scope, owner (and name, when the job still exists) and the status it had when
 * it left: nothing newer, nothing the viewer could not see.
 */
export async function resyncEvents(ctx: Context, filter: JobFilter | null, since: Date): Promise<JobEvent[]> {
  const [left, deleted, hidden] = await Promise.all([
    leftTheFilter(ctx, filter, since),
    deletedSince(ctx, filter, since),
    lostSight(ctx, filter, since),
  ]);
  return [...left.map((row): JobEvent => ({ row })), ...[...deleted, ...hidden].map((row): JobEvent => ({ row, removed: true }))];
}

/** The filter without what changes over a job's life (status, start and finish): what a job that left it still matches. */
function lastingPart(filter: JobFilter | null): JobFilter | null {
  if (filter == null) return null;
  return { ...filter, statuses: null, tab: null, startedAfter: null, startedBefore: null, finishedAfter: null, finishedBefore: null };
}

async function leftTheFilter(ctx: Context, filter: JobFilter | null, since: Date): Promise<JobRow[]> {
  const statuses = filterStatuses(filter);
  const limitsStatus = statuses !== undefined && statuses.length < ALL_STATUSES.length;
  const limitsTimes =
    filter != null &&
    [filter.startedAfter, filter.startedBefore, filter.finishedAfter, filter.finishedBefore].some((bound) => bound != null);
  // Nothing else about a job changes: only a filter on status or times can be left.
  if (!limitsStatus && !limitsTimes) return [];
  const params = new SqlParams();
  const from = limitsStatus && !limitsTimes ? ` AND from_status = ANY(${params.add(statuses)}::text[])` : '';
  const changed = `SELECT job_id FROM timeline_events WHERE to_status IS NOT NULL AND at >= ${params.add(since)}${from}`;
  const visible = jobPredicate(ctx.ability, 'view_monitor', params);
  const conditions = [`id IN (${changed})`, visible, ...jobFilterConditions(lastingPart(filter), params)];
  const rows = await ctx.services.sql.rows<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE ${conditions.join(' AND ')} ORDER BY updated_at DESC LIMIT ${MAX_RESYNC_PER_KIND}`,
    params.values,
  );
  const matches = compileFilter(filter);
  return rows.filter((row) => !matches(row));
}

interface Removal {
  job_id: string;
  name: string | null;
  status: JobStatus | null;
  step: JobStep | null;
  attempt: number | null;
  job_scope: string;
  job_type: string;
  job_owner_id: string;
  at: Date;
}

async function deletedSince(ctx: Context, filter: JobFilter | null, since: Date): Promise<JobRow[]> {
  const params = new SqlParams();
  const conditions = [
    `kind = 'DELETED'`,
    `at >= ${params.add(since)}`,
    jobPredicate(ctx.ability, 'view_monitor', params, undefined, JOB_SNAPSHOT_COLUMNS),
  ];
  // What a tombstone still knows of the filter: type, owner, scope.
  if (filter?.types != null) conditions.push(`job_type = ANY(${params.add(filter.types)}::text[])`);
  if (filter?.owners != null) conditions.push(`job_owner_id = ANY(${params.add(filter.owners)}::text[])`);
  if (filter?.scope != null) conditions.push(scopeSubtreeSql('job_scope', assertScope(filter.scope, 'filter.scope'), params));
  const rows = await ctx.services.sql.rows<Removal>(
    `SELECT job_id, NULL AS name, from_status AS status, step, attempt, job_scope, job_type, job_owner_id, at
       FROM timeline_events WHERE ${conditions.join(' AND ')} ORDER BY at DESC LIMIT ${MAX_RESYNC_PER_KIND}`,
    params.values,
  );
  return rows.map(removalRow);
}

/** The jobs matching the filter that the viewer could see under the grants and roles they lost since `since`, and cannot see now. */
async function lostSight(ctx: Context, filter: JobFilter | null, since: Date): Promise<JobRow[]> {
  const { sql } = ctx.services;
  const userId = ctx.principal.id;
  const lost = await sql.rows<{ scope: string | null; rules: RawRule[] | null; at: Date }>(
    `SELECT l.scope, coalesce(l.rules, r.rules) AS rules, l.at FROM permission_losses l
       LEFT JOIN LATERAL (SELECT rules FROM permission_losses r WHERE r.user_id IS NULL AND r.role_name = l.role_name AND r.at >= $2
                           ORDER BY r.id DESC LIMIT 1) r ON true
      WHERE l.user_id = $1 AND l.at >= $2
     UNION ALL
     SELECT g.scope, l.rules, l.at FROM permission_losses l JOIN grants g ON g.role_name = l.role_name AND g.user_id = $1
      WHERE l.user_id IS NULL AND l.at >= $2`,
    [userId, since],
  );
  const losses = lost.filter((loss): loss is { scope: string | null; rules: RawRule[]; at: Date } => Array.isArray(loss.rules));
  if (losses.length === 0) return [];
  const current = await sql.rows<GrantRules>(
    `SELECT g.scope, r.rules FROM grants g JOIN roles r ON r.name = g.role_name WHERE g.user_id = $1`,
    [userId],
  );
  const before = buildAbility(userId, [...current, ...losses]);
  const lostAt = new Date(Math.max(...losses.map((loss) => loss.at.getTime())));
  const params = new SqlParams();
  const conditions = [
    jobPredicate(before, 'view_monitor', params),
    `NOT coalesce((${jobPredicate(ctx.ability, 'view_monitor', params)}), false)`,
    ...jobFilterConditions(lastingPart(filter), params),
  ];
  const lostAtParam = params.add(lostAt);
  // The status it had when the viewer lost sight of it (the last change before, or what the first change after left): never anything newer.
  const rows = await sql.rows<Removal>(
    `SELECT j.id AS job_id, j.name, coalesce(s.to_status, n.from_status, j.status) AS status, coalesce(s.step, n.step, j.step) AS step, j.attempt,
            j.scope AS job_scope, j.type AS job_type, j.owner_id AS job_owner_id, ${lostAtParam}::timestamptz AS at
       FROM (SELECT id, name, status, step, attempt, scope, type, owner_id, created_at FROM jobs
              WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC LIMIT ${MAX_RESYNC_PER_KIND}) j
       LEFT JOIN LATERAL (SELECT to_status, step FROM timeline_events e WHERE e.job_id = j.id AND e.to_status IS NOT NULL
                             AND e.at <= ${lostAtParam} ORDER BY e.id DESC LIMIT 1) s ON true
       LEFT JOIN LATERAL (SELECT from_status, step FROM timeline_events e WHERE e.job_id = j.id AND e.to_status IS NOT NULL
                             AND e.at > ${lostAtParam} ORDER BY e.id LIMIT 1) n ON true`,
    params.values,
  );
  return rows.map(removalRow);
}

/** A job as a removal shows it: who and what it was, and its status then; nothing else is read. */
function removalRow(removal: Removal): JobRow {
  return {
    id: removal.job_id,
    name: removal.name ?? '',
    type: removal.job_type,
    scope: removal.job_scope,
    owner_id: removal.job_owner_id,
    owner_name: null,
    status: removal.status ?? 'CANCELLED',
    step: removal.step ?? 'PRE',
    message: null,
    error_message: null,
    error_stack: null,
    config: {},
    has_secrets: false,
    approvers: [],
    requires_approval: false,
    scheduled_at: null,
    max_start_at: null,
    created_at: removal.at,
    started_at: null,
    finished_at: null,
    updated_at: removal.at,
    previous_run_duration_ms: null,
    attempt: removal.attempt ?? 1,
    worker_id: null,
    heartbeat_at: null,
    asset: null,
    progress_done: 0,
    progress_total: null,
    progress_unit: null,
    progress_phase: null,
    progress_percent: null,
    progress_rate: null,
    progress_rate_at: null,
    progress_stalled_since: null,
    attributes: {},
    progress_updated_at: null,
    trap_timeout_at: null,
    cancel_requested_at: null,
    cancel_requested_by: null,
  };
}
