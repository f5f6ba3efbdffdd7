import { isTerminal, type JobStatus, type JobStep } from './job-status';
import type { Job } from './job.types';
import { currentRate } from './smoothed-rate';

/** The `jobs` columns a reader gets (never `secrets` or `lease_token`). */
export const JOB_COLUMNS = `id, name, type, scope, owner_id, owner_name, status, step, message, error_message,
  error_stack, config, secrets IS NOT NULL AS has_secrets, approvers, requires_approval, scheduled_at, max_start_at,
  created_at, started_at, finished_at, updated_at, previous_run_duration_ms, attempt, worker_id, heartbeat_at, asset,
  progress_done, progress_total, progress_unit, progress_phase, progress_percent, progress_rate, progress_updated_at,
  progress_rate_at, progress_stalled_since,
  trap_timeout_at, cancel_requested_at, cancel_requested_by, attributes`;

/** The same list qualified by a table alias, for joins and CTEs. */
export function jobColumns(alias: string): string {
  return JOB_COLUMNS.split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');
}

export interface JobRow {
  id: string;
  name: string;
  type: string;
  scope: string;
  owner_id: string;
  owner_name: string | null;
  status: JobStatus;
  step: JobStep;
  message: string | null;
  error_message: string | null;
  error_stack: string | null;
  config: Record<string, unknown>;
  has_secrets: boolean;
  approvers: string[];
  requires_approval: boolean;
  scheduled_at: Date | null;
  max_start_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  previous_run_duration_ms: string | null;
  attempt: number;
  worker_id: string | null;
  heartbeat_at: Date | null;
  asset: string | null;
  progress_done: number;
  progress_total: number | null;
  progress_unit: string | null;
  progress_phase: string | null;
  progress_percent: number | null;
  progress_rate: number | null;
  progress_updated_at: Date | null;
  progress_rate_at: Date | null;
  progress_stalled_since: Date | null;
  trap_timeout_at: Date | null;
  cancel_requested_at: Date | null;
  cancel_requested_by: string | null;
  attributes: Record<string, string>;
}

/** A row as the GraphQL `Job` type. `now` is when "running for" durations are measured. */
export function toJob(row: JobRow, now = Date.now()): Job {
  const total = row.progress_total;
  // A stalled worker's last rate decays once it is old (the ETA grows, then goes).
  const rate = isTerminal(row.status)
    ? row.progress_rate
    : currentRate(row.progress_rate, row.progress_rate_at ?? row.progress_updated_at, now);
  const indeterminate = total === null;
  const remaining = total === null ? null : Math.max(0, total - row.progress_done);
  const terminal = isTerminal(row.status);
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    scope: row.scope,
    owner: row.owner_id,
    ownerName: row.owner_name,
    status: row.status,
    step: row.step,
    progress: {
      done: row.progress_done,
      total,
      unit: row.progress_unit,
      percent: indeterminate ? null : (row.progress_percent ?? 0),
      indeterminate,
      phase: row.progress_phase,
      ratePerMinute: rate,
      etaSeconds:
        remaining === null || terminal
          ? null
          : remaining === 0
            ? 0
            : rate !== null && rate > 0
              ? Math.round((remaining / rate) * 60)
              : null,
      updatedAt: row.progress_updated_at,
      stalledSince: row.status === 'RUNNING' ? row.progress_stalled_since : null,
    },
    message: row.message,
    error: row.error_message === null ? null : { message: row.error_message, stack: row.error_stack },
    config: row.config,
    hasSecrets: row.has_secrets,
    approvers: row.approvers,
    requiresApproval: row.requires_approval,
    scheduledAt: row.scheduled_at,
    maxStartAt: row.max_start_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
    // `== null`: a row of a narrow read (jobSelectList) may lack the column when duration was not asked for.
    duration: row.started_at == null ? null : ((row.finished_at?.getTime() ?? now) - row.started_at.getTime()) / 1000,
    previousRunDuration: row.previous_run_duration_ms === null ? null : Number(row.previous_run_duration_ms) / 1000,
    attempt: row.attempt,
    workerId: row.worker_id,
    heartbeatAt: row.heartbeat_at,
    asset: row.asset,
    trapExpiresAt: row.status === 'TRAPPED' ? row.trap_timeout_at : null,
    cancelRequestedAt: row.cancel_requested_at,
    cancelRequestedBy: row.cancel_requested_by,
    attributes: row.attributes,
    terminal,
  };
}

const SNAPSHOT_DATES = [
  'scheduled_at',
  'max_start_at',
  'created_at',
  'started_at',
  'finished_at',
  'updated_at',
  'heartbeat_at',
  'progress_updated_at',
  'progress_rate_at',
  'progress_stalled_since',
  'trap_timeout_at',
  'cancel_requested_at',
] as const;

/** A job row from a `to_jsonb(jobs)` snapshot (job events): dates come back as Date objects. */
export function jobRowFromSnapshot(snapshot: Record<string, unknown>): JobRow {
  // Events recorded before attributes existed carry none.
  const row: Record<string, unknown> = { attributes: {}, ...snapshot, has_secrets: false };
  for (const field of SNAPSHOT_DATES) {
    const value = snapshot[field];
    row[field] = typeof value === 'string' ? new Date(value) : null;
  }
  return row as unknown as JobRow;
}
