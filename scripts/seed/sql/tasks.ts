/** The tasks of the recent masking jobs and mail migrations, written with them. */
import type { SqlParams } from '../../../src/db/sql-params';
import { MAIL_FOLDERS, TABLES, WORKER_HELD } from '../vocabulary';

/**
 * 3 to 8 tasks per masking job (tables) and mail migration (folders). Their sizes split the job's
 * total, and the job's `done` fills them in order: completed ones, then the one in progress (or
 * the one that failed), then waiting ones, so that tasks always agree with the job's progress.
 */
export function tasksInsert(p: SqlParams, masking: number, mail: number): string {
  const tables = `${p.add(TABLES)}::text[]`;
  const folders = `${p.add(MAIL_FOLDERS)}::text[]`;
  return `INSERT INTO tasks (job_id, name, position, status, done, total, unit, rate_per_minute, message, started_at, finished_at, updated_at)
    SELECT id, task_name, i - 1, task_status, task_done, task_total, progress_unit,
      CASE WHEN task_done > 0
        THEN round((task_done / greatest(extract(epoch FROM coalesce(task_finished, progress_updated_at) - task_started) / 60, 1.0 / 60))::numeric, 1) END,
      CASE task_status WHEN 'FAILED' THEN CASE status WHEN 'FAILED' THEN error_message WHEN 'ABENDED' THEN 'The worker was lost'
        ELSE 'Stopped: the job was cancelled' END END,
      task_started, task_finished, coalesce(task_finished, task_started, created_at)
    FROM (
      SELECT s.id, s.status, s.created_at, s.started_at, s.finished_at, s.progress_done, s.progress_total, s.progress_unit,
          s.progress_updated_at, s.error_message, s.counting, k.i, k.k,
          CASE WHEN s.ti = ${masking} THEN (${tables})[1 + (s.n + k.i) % ${TABLES.length}]
            ELSE (${folders})[1 + (s.n + k.i) % ${MAIL_FOLDERS.length}] END AS task_name,
          sum(k.w) OVER w_all AS wsum, sum(k.w) OVER w_before - k.w AS wbefore, k.w
        FROM s
        CROSS JOIN LATERAL (
          SELECT i, 3 + (s.n % 6)::int AS k, 1 + (hashint8(s.n * 16 + i) & 7) AS w
            FROM generate_series(1, 3 + (s.n % 6)::int) AS i
        ) k
        WHERE s.ti IN (${masking}, ${mail})
        WINDOW w_all AS (PARTITION BY s.id), w_before AS (PARTITION BY s.id ORDER BY k.i ROWS UNBOUNDED PRECEDING)
    ) x
    -- The task's share of the job's total, and how much of the job's done falls into it.
    CROSS JOIN LATERAL (SELECT
      round(progress_total * wbefore / wsum) AS before,
      CASE
        WHEN progress_total IS NOT NULL THEN round(progress_total * (wbefore + w) / wsum) - round(progress_total * wbefore / wsum)
        WHEN counting AND i <= k / 2 THEN 200 + (hashint8(i * 7919 + wsum) & 4095)
      END AS task_total) y0
    CROSS JOIN LATERAL (SELECT
      CASE WHEN progress_total IS NULL THEN 0 ELSE least(greatest(progress_done - before, 0), task_total) END AS task_done) y
    CROSS JOIN LATERAL (SELECT CASE
        WHEN progress_total IS NOT NULL AND progress_done > 0 AND task_done = task_total THEN 'COMPLETED'
        WHEN task_done > 0 AND status IN ${WORKER_HELD} THEN 'PROCESSING'
        WHEN task_done > 0 THEN 'FAILED'
        ELSE 'WAITING'
      END AS task_status) z
    -- Tasks run one after the other over the job's elapsed time, in proportion to their work.
    CROSS JOIN LATERAL (SELECT
      CASE WHEN task_status <> 'WAITING'
        THEN started_at + (coalesce(finished_at, progress_updated_at) - started_at) * (before / greatest(progress_done, 1)) END AS task_started,
      CASE WHEN task_status IN ('COMPLETED', 'FAILED')
        THEN started_at + (coalesce(finished_at, progress_updated_at) - started_at) * ((before + task_done) / greatest(progress_done, 1)) END
        AS task_finished) t`;
}
