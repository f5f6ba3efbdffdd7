/**
 * The one INSERT statement that writes a batch of generated jobs and, for the recent ones, their
 * tasks and timeline events in the same statement, from the same computed values.
 */
import { SqlParams } from '../../../src/db/sql-params';
import { bindCatalog, typeIndex } from './catalog-params';
import { type Batch, jobLifeLevels } from './job-life';
import { jobRowsQuery } from './job-row';
import { tasksInsert } from './tasks';
import { timelineInsert } from './timeline';

export type { Batch } from './job-life';

/** The `jobs` columns the generator fills (everything but `secrets`). */
const JOB_INSERT_COLUMNS = [
  'id',
  'name',
  'type',
  'scope',
  'owner_id',
  'owner_name',
  'status',
  'step',
  'message',
  'error_message',
  'error_stack',
  'config',
  'approvers',
  'requires_approval',
  'scheduled_at',
  'max_start_at',
  'created_at',
  'started_at',
  'finished_at',
  'updated_at',
  'previous_run_duration_ms',
  'attempt',
  'worker_id',
  'lease_token',
  'heartbeat_at',
  'asset',
  'progress_done',
  'progress_total',
  'progress_unit',
  'progress_phase',
  'progress_percent',
  'progress_rate',
  'progress_updated_at',
  'trap_timeout_at',
  'cancel_requested_at',
  'cancel_requested_by',
].join(', ');

/**
 * The statement for one batch of rows `lo..hi` out of `total` (row numbers drive creation
 * time, oldest first). `now` is the seed's reference time in epoch seconds.
 */
export function batchStatement(batch: Batch, total: number, now: number, historyDays: number): { text: string; values: unknown[] } {
  const p = new SqlParams();
  const catalog = bindCatalog(p);
  const { levelD, t1 } = jobLifeLevels(p, catalog, batch, total, now, historyDays);
  const rows = jobRowsQuery(catalog, t1, levelD);

  if (!batch.recent) {
    return { text: `INSERT INTO jobs (${JOB_INSERT_COLUMNS}) SELECT ${JOB_INSERT_COLUMNS} FROM (${rows}) r`, values: p.values };
  }
  const recentText = `WITH s AS MATERIALIZED (${rows}),
    inserted_jobs AS (INSERT INTO jobs (${JOB_INSERT_COLUMNS}) SELECT ${JOB_INSERT_COLUMNS} FROM s),
    inserted_tasks AS (${tasksInsert(p, typeIndex('masking'), typeIndex('mail-migration'))})
    ${timelineInsert()}`;
  return { text: recentText, values: p.values };
}
