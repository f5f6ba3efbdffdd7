import type { Sql } from '../../db/sql';
import { WORKER_HELD_STATUSES } from '../../jobs/job-status';

// The progress flush: one statement for a whole flush of the progress buffer. Its pieces are
// named here so that each rule is written once.

export interface FlushResult {
  id: string;
  written: boolean;
  current: boolean;
  /** The job's stored sequence before this flush. */
  stored: string | number;
}

/** A task after this flush, from the stored row `t` (null when new) and the input `x`. */
const TASK = {
  status: `coalesce(x.status, t.status, 'WAITING')`,
  // Within one total, done only grows (out-of-order reports, several instances); a new total restarts it.
  done: `CASE WHEN t.done IS NULL THEN coalesce(x.done, 0) WHEN x.done IS NULL THEN t.done
    WHEN x.has_total AND x.total IS DISTINCT FROM t.total THEN x.done ELSE greatest(t.done, x.done) END`,
  total: `CASE WHEN x.has_total THEN x.total ELSE t.total END`,
  // A task that (re)starts processing has a new rate, null until there is one; `restarted` says
  // so when it went through another status between two flushes.
  rate: `CASE WHEN x.restarted OR (x.status = 'PROCESSING' AND t.status IS DISTINCT FROM 'PROCESSING') THEN x.rate
    ELSE coalesce(x.rate, t.rate_per_minute) END`,
};

/** The job's figures come from its tasks: the worker never reported done/total in this attempt. */
const DERIVED = `(NOT i.own AND NOT coalesce(j.progress_own, false) AND s.job_id IS NOT NULL)`;
const PHASE_CHANGED = `(i.e ? 'phase' AND (i.e->>'phase') IS DISTINCT FROM j.progress_phase)`;
/** When the reported done may go below the stored one: a new phase, a new total, or the first own figures. */
const DONE_RESTARTS = `(NOT coalesce(j.progress_own, false) OR ${PHASE_CHANGED}
  OR (i.e ? 'total' AND (i.e->>'total')::float8 IS DISTINCT FROM j.progress_total))`;
const DONE = `CASE WHEN ${DERIVED} THEN s.done
  WHEN i.e ? 'done' THEN CASE WHEN ${DONE_RESTARTS} THEN (i.e->>'done')::float8 ELSE greatest(j.progress_done, (i.e->>'done')::float8) END
  ELSE j.progress_done END`;
const TOTAL = `CASE WHEN ${DERIVED} THEN s.total WHEN i.e ? 'total' THEN (i.e->>'total')::float8 ELSE j.progress_total END`;
/** The figures moved: done, total, phase or step (a report that only repeats them is not progress). */
const ADVANCED = `((${DONE}) IS DISTINCT FROM j.progress_done OR (${TOTAL}) IS DISTINCT FROM j.progress_total OR ${PHASE_CHANGED}
  OR (i.e ? 'step' AND (i.e->>'step') IS DISTINCT FROM j.step))`;
/** The flush writes a rate: the tasks' sums, a new phase's (null until there is one), or the worker's smoothed one. */
const RATE_WRITTEN = `(${DERIVED} OR ${PHASE_CHANGED} OR i.e ? 'rate')`;
/** Floored to 0.01 (99.999 % is not 100 %), exact (numeric); done = total is 100. */
const PERCENT_OF = (done: string, total: string) =>
  `(CASE WHEN ${total} = 0 OR ${done} >= ${total} THEN 100 ELSE floor((${done})::numeric * 10000 / (${total})::numeric) / 100 END)::real`;

/**
 * One statement for a whole flush: jobs (guarded by their current lease, a held status and, for
 * sequenced reports, the stored sequence),
 * then their tasks and timeline events, only for the jobs that were written. Absent keys keep
 * the stored value. A job reported only through tasks gets the sums over all its tasks: those
 * stored (as this statement's snapshot has them) with this flush's merged in. Milestones are
 * the quarters the stored percentage crosses (`o` is the row as it was). Two instances flushing
 * the same job at the same instant may each miss the other's tasks in the sums; the next flush
 * of that job puts them right.
 */
const FLUSH_SQL = `
WITH input AS (
  SELECT (e->>'id')::uuid AS id, (e->>'token')::uuid AS token, e->>'actor' AS actor, (e ?| array['done', 'total']) AS own, e,
         (e->>'seq_from')::bigint AS seq_from, (e->>'seq_to')::bigint AS seq_to
    FROM jsonb_array_elements($1::jsonb) e
),
-- The rows as they are now, locked (in id order: concurrent flushes cannot deadlock): what is
-- stored before this flush, even when another instance wrote it an instant ago.
o AS MATERIALIZED (
  SELECT l.id, l.lease_token, l.status, coalesce(l.progress_sequence, 0) AS progress_sequence, l.progress_percent, l.progress_total,
         l.progress_phase, l.progress_stalled_since
    FROM jobs l
   WHERE l.id IN (SELECT id FROM input) ORDER BY l.id FOR NO KEY UPDATE
),
task_input AS (
  SELECT (x.t->>'job')::uuid AS job_id, x.t->>'name' AS name, (x.t->>'position')::int AS position, x.t->>'status' AS status,
         (x.t->>'done')::float8 AS done, x.t ? 'total' AS has_total, (x.t->>'total')::float8 AS total,
         x.t->>'unit' AS unit, x.t->>'message' AS message, (x.t->>'rate')::float8 AS rate, x.t ? 'restarted' AS restarted
    FROM jsonb_array_elements($3::jsonb) x(t)
),
sums AS (
  SELECT a.job_id, sum(a.done) AS done, CASE WHEN bool_and(a.total IS NOT NULL) THEN sum(a.total) END AS total,
         sum(a.rate) FILTER (WHERE a.status = 'PROCESSING') AS rate
    FROM (
      SELECT x.job_id, ${TASK.done} AS done, ${TASK.total} AS total, ${TASK.status} AS status, ${TASK.rate} AS rate
        FROM task_input x LEFT JOIN tasks t ON t.job_id = x.job_id AND t.name = x.name
      UNION ALL
      SELECT t.job_id, t.done, t.total, t.status, t.rate_per_minute FROM tasks t
       WHERE t.job_id IN (SELECT job_id FROM task_input)
         AND NOT EXISTS (SELECT 1 FROM task_input x WHERE x.job_id = t.job_id AND x.name = t.name)
    ) a
   WHERE a.job_id IN (SELECT id FROM input WHERE NOT own)
   GROUP BY a.job_id
),
updated AS (
  UPDATE jobs j SET
    progress_done = ${DONE},
    progress_total = ${TOTAL},
    progress_unit = CASE WHEN i.e ? 'unit' THEN i.e->>'unit' ELSE j.progress_unit END,
    progress_phase = CASE WHEN i.e ? 'phase' THEN i.e->>'phase' ELSE j.progress_phase END,
    message = CASE WHEN i.e ? 'message' THEN i.e->>'message' ELSE j.message END,
    step = CASE WHEN i.e ? 'step' THEN i.e->>'step' ELSE j.step END,
    progress_rate = CASE WHEN ${DERIVED} THEN s.rate
      WHEN ${PHASE_CHANGED} OR i.e ? 'rate' THEN (i.e->>'rate')::float8 ELSE j.progress_rate END,
    progress_rate_at = CASE WHEN ${RATE_WRITTEN} THEN now() ELSE j.progress_rate_at END,
    -- Always the percentage of the figures beside it: within a phase and a total done never goes
    -- back, so neither does it; a new phase or total starts afresh.
    progress_percent = CASE WHEN (${TOTAL}) IS NULL THEN NULL ELSE least(100, ${PERCENT_OF(DONE, TOTAL)}) END,
    progress_advanced_at = CASE WHEN ${ADVANCED} THEN now() ELSE j.progress_advanced_at END,
    progress_stalled_since = CASE WHEN ${ADVANCED} THEN NULL ELSE j.progress_stalled_since END,
    progress_own = CASE WHEN i.own THEN true ELSE j.progress_own END,
    progress_sequence = CASE WHEN i.seq_to IS NULL THEN j.progress_sequence ELSE i.seq_to END,
    progress_updated_at = now(),
    updated_at = greatest(clock_timestamp(), j.updated_at + interval '1 millisecond')
  FROM input i JOIN o ON o.id = i.id LEFT JOIN sums s ON s.job_id = i.id
  WHERE j.id = i.id AND j.lease_token = i.token AND j.status = ANY($2::text[])
    -- A sequenced range is applied when it follows what is stored and is not all stored already.
    AND (i.seq_from IS NULL OR (o.progress_sequence >= i.seq_from - 1 AND o.progress_sequence < i.seq_to))
  RETURNING j.id, j.attempt, j.step, j.scope, j.type, j.owner_id, j.started_at, j.progress_percent, o.progress_percent AS old_percent,
            o.progress_sequence AS old_sequence, i.actor, j.progress_total, o.progress_total AS old_total,
            (j.progress_phase IS NOT DISTINCT FROM o.progress_phase) AS same_phase, j.progress_stalled_since,
            o.progress_stalled_since AS old_stalled_since
),
tasks_changed AS (
  UPDATE tasks t SET
    status = ${TASK.status}, done = ${TASK.done}, total = ${TASK.total},
    unit = coalesce(x.unit, t.unit), message = coalesce(x.message, t.message), rate_per_minute = ${TASK.rate},
    started_at = coalesce(t.started_at, CASE WHEN ${TASK.status} <> 'WAITING' THEN now() END),
    finished_at = CASE WHEN ${TASK.status} IN ('COMPLETED', 'FAILED') THEN coalesce(t.finished_at, now()) END,
    updated_at = now()
    FROM task_input x JOIN updated u ON u.id = x.job_id
   WHERE t.job_id = x.job_id AND t.name = x.name
),
task_rows AS (
  INSERT INTO tasks AS t (job_id, name, position, status, done, total, unit, message, rate_per_minute, started_at, finished_at, updated_at)
  SELECT x.job_id, x.name,
         -- New tasks go after the stored ones (which another instance may have added), in the order first heard of.
         (SELECT coalesce(max(e.position) + 1, 0) FROM tasks e WHERE e.job_id = x.job_id)
           + row_number() OVER (PARTITION BY x.job_id ORDER BY x.position) - 1,
         coalesce(x.status, 'WAITING'), coalesce(x.done, 0), x.total, x.unit, x.message, x.rate,
         CASE WHEN coalesce(x.status, 'WAITING') <> 'WAITING' THEN now() END,
         CASE WHEN x.status IN ('COMPLETED', 'FAILED') THEN now() END, now()
    FROM task_input x JOIN updated u ON u.id = x.job_id
   WHERE NOT EXISTS (SELECT 1 FROM tasks e WHERE e.job_id = x.job_id AND e.name = x.name)
  -- Only when another instance added the same task in the same instant.
  ON CONFLICT (job_id, name) DO UPDATE SET
    status = CASE WHEN EXCLUDED.status = 'WAITING' THEN t.status ELSE EXCLUDED.status END, done = greatest(EXCLUDED.done, t.done),
    total = coalesce(EXCLUDED.total, t.total),
    unit = coalesce(EXCLUDED.unit, t.unit), message = coalesce(EXCLUDED.message, t.message),
    rate_per_minute = coalesce(EXCLUDED.rate_per_minute, t.rate_per_minute),
    started_at = coalesce(t.started_at, EXCLUDED.started_at),
    finished_at = CASE WHEN EXCLUDED.status IN ('COMPLETED', 'FAILED') THEN coalesce(t.finished_at, now()) END,
    updated_at = now()
),
milestones AS (
  SELECT u.id AS job_id, u.actor, m.percent FROM updated u CROSS JOIN unnest(ARRAY[25, 50, 75, 100]) m(percent)
   WHERE u.progress_percent >= m.percent AND coalesce(u.old_percent, 0) < m.percent
),
events AS (
  INSERT INTO timeline_events (job_id, at, kind, actor_id, actor_kind, attempt, step, message, data, job_scope, job_type, job_owner_id)
  SELECT u.id, least(now(), greatest(coalesce(u.started_at, now()), coalesce(v.at, now()))), v.kind, v.actor, 'WORKER', u.attempt, u.step,
         v.message, v.data, u.scope, u.type, u.owner_id
    FROM (
      SELECT (x.v->>'job')::uuid AS job_id, x.v->>'kind' AS kind, x.v->>'actor' AS actor, x.v->>'message' AS message,
             x.v->'data' AS data, (x.v->>'seq')::bigint AS seq, (x.v->>'at')::timestamptz AS at, 0 AS g, x.n
        FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY x(v, n)
      UNION ALL
      -- A recount: the same phase with another total; the percentage starts afresh from it.
      SELECT u.id, 'PROGRESS', u.actor,
             'New total: ' || u.progress_total || ' (was ' || u.old_total || '); the percentage starts afresh',
             jsonb_build_object('total', u.progress_total, 'previousTotal', u.old_total), NULL, NULL, 1, 1
        FROM updated u WHERE u.same_phase AND u.old_total IS NOT NULL AND u.progress_total IS NOT NULL AND u.progress_total <> u.old_total
      UNION ALL
      SELECT u.id, 'PROGRESS', u.actor,
             'Progress resumed after ' || round(extract(epoch FROM now() - u.old_stalled_since)) || ' s without',
             jsonb_build_object('stalledSeconds', round(extract(epoch FROM now() - u.old_stalled_since))), NULL, NULL, 1, 2
        FROM updated u WHERE u.old_stalled_since IS NOT NULL AND u.progress_stalled_since IS NULL
      UNION ALL
      SELECT m.job_id, 'PROGRESS', m.actor, m.percent || ' % done', jsonb_build_object('percent', m.percent), NULL, NULL, 2, m.percent
        FROM milestones m
    ) v JOIN updated u ON u.id = v.job_id
   -- An event of a report stored before (sent again) is not written again.
   WHERE v.seq IS NULL OR v.seq > u.old_sequence
   ORDER BY v.g, v.n
)
SELECT i.id, u.id IS NOT NULL AS written, coalesce(o.lease_token = i.token AND o.status = ANY($2::text[]), false) AS current,
       coalesce(o.progress_sequence, 0) AS stored
  FROM input i LEFT JOIN o ON o.id = i.id LEFT JOIN updated u ON u.id = i.id`;

/**
 * Writes one flush: `jobs` (a row per job: its lease, the fields reported since its last write,
 * its pending sequence range), their `tasks` and timeline `events`. Answers per job whether it
 * was written, whether its lease is still current, and the sequence stored before.
 */
export function flushProgress(
  sql: Sql,
  jobs: readonly unknown[],
  tasks: readonly unknown[],
  events: readonly unknown[],
): Promise<FlushResult[]> {
  return sql.rows<FlushResult>(FLUSH_SQL, [JSON.stringify(jobs), WORKER_HELD_STATUSES, JSON.stringify(tasks), JSON.stringify(events)]);
}
