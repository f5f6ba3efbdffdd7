import type { Logger } from 'pino';
import type { Sql } from '../../db/sql';
import { WORKER_HELD_STATUSES, type JobStep } from '../../jobs/job-status';
import type { TaskStatus } from '../../jobs/job.enums';
import type { ProgressReport } from '../worker.types';
import type { LeaseCache } from './lease-cache';
import { REPORT_LIMITS } from './report-limits';
import { SmoothedRate } from './smoothed-rate';

/** Jobs not reported for this long are forgotten (their worker is gone or the job ended). */
const IDLE_TRACK_MS = 10 * 60_000;

/**
 * What this instance heard of one task. A field it never heard of is absent (or null for the
 * status and done), and the flush then keeps what the database has: another instance, or this
 * one before a restart, may have heard more.
 */
interface TaskState {
  position: number;
  status: TaskStatus | null;
  done: number | null;
  total?: number | null;
  unit?: string | null;
  message?: string | null;
  rate: SmoothedRate;
  /** Seen here going (back) to PROCESSING, and no new rate yet: the stored one is the old run's. */
  restarted: boolean;
}

interface QueuedEvent {
  kind: 'PROGRESS' | 'LOG';
  message: string;
  data?: unknown;
  actor: string;
}

/** What this instance knows of one running attempt, merged from every report it received. */
interface Track {
  token: string;
  actor: string;
  /**
   * Fields reported so far; a field never reported is left as the database has it. `done` and
   * `total` are only the worker's own figures: a job whose worker reports only tasks gets their
   * sums, computed by the flush statement from the tasks table.
   */
  fields: {
    done?: number;
    total?: number | null;
    unit?: string | null;
    phase?: string | null;
    message?: string | null;
    step?: JobStep;
  };
  rate: SmoothedRate;
  tasks: Map<string, TaskState>;
  dirtyTasks: Set<string>;
  events: QueuedEvent[];
  touchedAt: number;
}

/**
 * Coalesces progress reports per job and writes them at most every `flushMs`, in one statement
 * per flush for every job, task and timeline event together. The statement, not this memory,
 * decides what the figures are, so they come out right whatever instance received which report
 * and across restarts: the percentage never goes backwards within an attempt (the stored one is
 * kept when greater) nor passes 100, `done` never goes backwards while the phase and the total
 * stay the same, `total: null` means indeterminate, a job reported only through its tasks gets
 * the sums of all its tasks in the table, and a milestone is written when the stored percentage
 * crosses it. A flush that fails is retried with everything it held; a flush refused for a job
 * (its lease is no longer current) drops that attempt's track, never a newer attempt's.
 */
export class ProgressBuffer {
  private readonly tracks = new Map<string, Track>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Flush statistics, for the benchmark and metrics. */
  readonly stats = { flushes: 0, rowsWritten: 0, reportsAccepted: 0, failedFlushes: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly leases: LeaseCache,
    private readonly flushMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flushSoon(), this.flushMs);
    this.timer.unref();
  }

  /** Stops the timer and writes whatever is pending. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Takes reports whose lease was found current; `now` is when they arrived. */
  accept(reports: ReadonlyArray<{ jobId: string; token: string; actor: string; report: ProgressReport }>, now = Date.now()): void {
    for (const { jobId, token, actor, report } of reports) {
      let track = this.tracks.get(jobId);
      if (track === undefined || track.token !== token) {
        track = { token, actor, fields: {}, rate: new SmoothedRate(), tasks: new Map(), dirtyTasks: new Set(), events: [], touchedAt: now };
        this.tracks.set(jobId, track);
      }
      merge(track, report, now);
      this.dirty.add(jobId);
      this.stats.reportsAccepted += 1;
    }
  }

  /** Forgets a job's track: only the attempt `token` names when given (a newer attempt's stays). */
  forget(jobId: string, token?: string): void {
    const track = this.tracks.get(jobId);
    if (track === undefined || (token !== undefined && track.token !== token)) return;
    this.tracks.delete(jobId);
    this.dirty.delete(jobId);
  }

  /**
   * Writes what is pending now (only for `jobId` when given: an attempt about to end), after any
   * flush already running.
   */
  async flush(jobId?: string): Promise<void> {
    while (this.flushing !== undefined) await this.flushing.catch(() => undefined);
    if (jobId === undefined ? this.dirty.size === 0 : !this.dirty.has(jobId)) return;
    const flushing = this.write(jobId === undefined ? [...this.dirty] : [jobId]).finally(() => (this.flushing = undefined));
    this.flushing = flushing;
    await flushing;
  }

  private async flushSoon(): Promise<void> {
    if (this.flushing !== undefined || this.dirty.size === 0) {
      this.evictIdle();
      return;
    }
    await this.flush().catch(() => undefined);
  }

  private async write(ids: readonly string[]): Promise<void> {
    const rows: unknown[] = [];
    const taskRows: unknown[] = [];
    const eventRows: unknown[] = [];
    const taken = new Map<string, { track: Track; events: QueuedEvent[]; tasks: Set<string> }>();
    for (const id of ids) {
      this.dirty.delete(id);
      const track = this.tracks.get(id);
      if (track === undefined) continue;
      const row: Record<string, unknown> = { id, token: track.token, actor: track.actor, ...track.fields };
      const rate = track.rate.perMinute;
      if (rate !== null) row['rate'] = rate;
      rows.push(row);
      for (const name of track.dirtyTasks) {
        const task = track.tasks.get(name) as TaskState;
        taskRows.push({
          job: id,
          name,
          position: task.position,
          status: task.status,
          done: task.done,
          total: task.total,
          unit: task.unit,
          message: task.message,
          rate: task.rate.perMinute,
          ...(task.restarted ? { restarted: true } : {}),
        });
      }
      for (const event of track.events) eventRows.push({ job: id, ...event });
      taken.set(id, { track, events: track.events, tasks: track.dirtyTasks });
      track.events = [];
      track.dirtyTasks = new Set();
    }
    if (rows.length === 0) return;
    try {
      const written = await this.sql.rows<{ id: string }>(FLUSH_SQL, [
        JSON.stringify(rows),
        WORKER_HELD_STATUSES,
        JSON.stringify(taskRows),
        JSON.stringify(eventRows),
      ]);
      this.stats.flushes += 1;
      this.stats.rowsWritten += written.length;
      const writtenIds = new Set(written.map((row) => row.id));
      for (const [id, { track }] of taken) {
        if (writtenIds.has(id)) continue;
        // That lease is no longer current (the attempt ended, or another began): stop tracking
        // it. A newer attempt's track, accepted while this flush ran, stays.
        this.forget(id, track.token);
        this.leases.forget(id, track.token);
      }
    } catch (error) {
      this.stats.failedFlushes += 1;
      this.log.warn({ err: error, jobs: rows.length }, 'progress flush failed; it will be retried');
      for (const [id, { track, events, tasks }] of taken) {
        if (this.tracks.get(id) !== track) continue;
        track.events = [...events, ...track.events].slice(-REPORT_LIMITS.queuedEventsPerJob);
        for (const name of tasks) track.dirtyTasks.add(name);
        this.dirty.add(id);
      }
      throw error;
    }
  }

  private evictIdle(): void {
    const cutoff = Date.now() - IDLE_TRACK_MS;
    for (const [id, track] of this.tracks) {
      if (track.touchedAt < cutoff && !this.dirty.has(id)) this.tracks.delete(id);
    }
  }
}

function merge(track: Track, report: ProgressReport, now: number): void {
  const fields = track.fields;
  track.touchedAt = now;
  const phaseChanged = report.phase !== undefined && report.phase !== fields.phase;
  const totalChanged = report.total !== undefined && report.total !== fields.total;
  if (phaseChanged) {
    fields.phase = report.phase ?? null;
    // A new phase counts something else: its rate starts afresh (the flush then writes the
    // new rate, null until there is one, instead of keeping the old phase's).
    track.rate = new SmoothedRate();
    if (report.phase != null) track.events.push({ kind: 'PROGRESS', message: `Phase: ${report.phase}`, data: { phase: report.phase }, actor: track.actor });
  }
  if (report.step != null && report.step !== fields.step) {
    if (fields.step !== undefined) track.events.push({ kind: 'PROGRESS', message: `Step ${report.step} started`, data: { step: report.step }, actor: track.actor });
    fields.step = report.step;
  }
  if (report.total !== undefined) fields.total = report.total;
  if (report.unit !== undefined) fields.unit = report.unit;
  if (report.message !== undefined) fields.message = report.message;
  for (const taskReport of report.tasks ?? []) {
    let task = track.tasks.get(taskReport.name);
    if (task === undefined) {
      task = { position: track.tasks.size, status: null, done: null, rate: new SmoothedRate(), restarted: false };
      track.tasks.set(taskReport.name, task);
    }
    if (taskReport.total !== undefined && taskReport.total !== task.total) {
      task.total = taskReport.total;
      if (taskReport.done != null) task.done = taskReport.done;
    } else if (taskReport.done != null) {
      task.done = Math.max(task.done ?? 0, taskReport.done);
    }
    if (taskReport.status != null && taskReport.status !== task.status) {
      // Time spent waiting is not slowness: the rate starts when the task starts (again).
      if (taskReport.status === 'PROCESSING') {
        task.rate = new SmoothedRate();
        task.restarted = task.status !== null;
      }
      task.status = taskReport.status;
    }
    if (taskReport.unit !== undefined) task.unit = taskReport.unit;
    if (taskReport.message !== undefined) task.message = taskReport.message;
    if (task.done !== null) task.rate.observe(task.done, now);
    if (task.rate.perMinute !== null) task.restarted = false;
    track.dirtyTasks.add(taskReport.name);
  }
  if (report.done != null) {
    // Reports can arrive out of order: within one phase and total, done only grows.
    fields.done = phaseChanged || totalChanged || fields.done === undefined ? report.done : Math.max(fields.done, report.done);
    track.rate.observe(fields.done, now);
  }
  for (const line of report.log ?? []) track.events.push({ kind: 'LOG', message: line, actor: track.actor });
  if (track.events.length > REPORT_LIMITS.queuedEventsPerJob) track.events.splice(0, track.events.length - REPORT_LIMITS.queuedEventsPerJob);
}

// ---------------------------------------------------------------------------------------------
// The flush statement. Its pieces are named here so that each rule is written once.
// ---------------------------------------------------------------------------------------------

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
/** Floored to 0.01 (99.999 % is not 100 %), exact (numeric); done = total is 100. */
const PERCENT_OF = (done: string, total: string) =>
  `(CASE WHEN ${total} = 0 OR ${done} >= ${total} THEN 100 ELSE floor((${done})::numeric * 10000 / (${total})::numeric) / 100 END)::real`;

/**
 * One statement for a whole flush: jobs (guarded by their current lease and a held status),
 * then their tasks and timeline events, only for the jobs that were written. Absent keys keep
 * the stored value. A job reported only through tasks gets the sums over all its tasks: those
 * stored (as this statement's snapshot has them) with this flush's merged in. Milestones are
 * the quarters the stored percentage crosses (`o` is the row as it was). Two instances flushing
 * the same job at the same instant may each miss the other's tasks in the sums; the next flush
 * of that job puts them right.
 */
const FLUSH_SQL = `
WITH input AS (
  SELECT (e->>'id')::uuid AS id, (e->>'token')::uuid AS token, e->>'actor' AS actor, (e ?| array['done', 'total']) AS own, e
    FROM jsonb_array_elements($1::jsonb) e
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
    progress_percent = CASE WHEN (${TOTAL}) IS NULL THEN j.progress_percent
      ELSE least(100, greatest(coalesce(j.progress_percent, 0), ${PERCENT_OF(DONE, TOTAL)})) END,
    progress_own = CASE WHEN i.own THEN true ELSE j.progress_own END,
    progress_updated_at = now(),
    updated_at = greatest(clock_timestamp(), j.updated_at + interval '1 millisecond')
  FROM input i JOIN jobs o ON o.id = i.id LEFT JOIN sums s ON s.job_id = i.id
  WHERE j.id = i.id AND j.lease_token = i.token AND j.status = ANY($2::text[])
  RETURNING j.id, j.attempt, j.step, j.scope, j.type, j.owner_id, j.progress_percent, o.progress_percent AS old_percent, i.actor
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
  INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, attempt, step, message, data, job_scope, job_type, job_owner_id)
  SELECT u.id, v.kind, v.actor, 'WORKER', u.attempt, u.step, v.message, v.data, u.scope, u.type, u.owner_id
    FROM (
      SELECT (x.v->>'job')::uuid AS job_id, x.v->>'kind' AS kind, x.v->>'actor' AS actor, x.v->>'message' AS message,
             x.v->'data' AS data, 0 AS g, x.n
        FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY x(v, n)
      UNION ALL
      SELECT m.job_id, 'PROGRESS', m.actor, m.percent || ' % done', jsonb_build_object('percent', m.percent), 1, m.percent
        FROM milestones m
    ) v JOIN updated u ON u.id = v.job_id
   ORDER BY v.g, v.n
)
SELECT id FROM updated`;
