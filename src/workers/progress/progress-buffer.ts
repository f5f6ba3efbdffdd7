import type { Logger } from 'pino';
import type { Sql } from '../../db/sql';
import { WORKER_HELD_STATUSES, type JobStep } from '../../jobs/job-status';
import type { TaskStatus } from '../../jobs/job.enums';
import type { ProgressReport } from '../worker.types';
import type { LeaseCache } from './lease-cache';
import { SmoothedRate } from './smoothed-rate';

const MILESTONES = [25, 50, 75, 100];
const MAX_QUEUED_EVENTS_PER_JOB = 500;
/** Jobs not reported for this long are forgotten (their worker is gone or the job ended). */
const IDLE_TRACK_MS = 10 * 60_000;

interface TaskState {
  position: number;
  status: TaskStatus;
  done: number;
  total: number | null;
  unit: string | null;
  message: string | null;
  rate: SmoothedRate;
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
  /** Fields reported so far; a field never reported is left as the database has it. */
  fields: {
    done?: number;
    total?: number | null;
    unit?: string | null;
    phase?: string | null;
    message?: string | null;
    step?: JobStep;
  };
  rate: SmoothedRate;
  /** The worker reports the job's own done/total: then they are never derived from its tasks. */
  ownFigures: boolean;
  tasks: Map<string, TaskState>;
  dirtyTasks: Set<string>;
  events: QueuedEvent[];
  flushedPercent: number | null;
  touchedAt: number;
}

/**
 * Coalesces progress reports per job and writes them at most every `flushMs`, in one statement
 * per flush for every job, task and timeline milestone together. Within an attempt the
 * percentage never goes backwards (the statement keeps the greatest) nor passes 100; `done`
 * never goes backwards while the phase and the total stay the same; `total: null` means
 * indeterminate. A flush that fails is retried with everything it held; a flush refused for a
 * job (its lease is no longer current) drops that job's track.
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
        track = {
          token,
          actor,
          fields: {},
          rate: new SmoothedRate(),
          ownFigures: false,
          tasks: new Map(),
          dirtyTasks: new Set(),
          events: [],
          flushedPercent: null,
          touchedAt: now,
        };
        this.tracks.set(jobId, track);
      }
      merge(track, report, now);
      this.dirty.add(jobId);
      this.stats.reportsAccepted += 1;
    }
  }

  /** Forgets a job (its attempt ended through this instance). */
  forget(jobId: string): void {
    this.tracks.delete(jobId);
    this.dirty.delete(jobId);
  }

  /** Writes what is pending now, after any flush already running. */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    if (this.dirty.size === 0) return;
    this.flushing = this.write().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async flushSoon(): Promise<void> {
    if (this.flushing !== undefined || this.dirty.size === 0) {
      this.evictIdle();
      return;
    }
    await this.flush().catch(() => undefined);
  }

  private async write(): Promise<void> {
    const ids = [...this.dirty];
    this.dirty.clear();
    const rows: unknown[] = [];
    const taskRows: unknown[] = [];
    const eventRows: unknown[] = [];
    const taken = new Map<string, { events: QueuedEvent[]; tasks: Set<string> }>();
    for (const id of ids) {
      const track = this.tracks.get(id);
      if (track === undefined) continue;
      const row: Record<string, unknown> = { id, token: track.token, ...track.fields };
      const rate = track.rate.perMinute;
      if (rate !== null) row['rate'] = rate;
      const percent = percentOf(track);
      if (percent !== undefined) row['percent'] = percent;
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
        });
      }
      const events = [...track.events, ...milestones(track, percent)];
      for (const event of events) eventRows.push({ job: id, ...event });
      taken.set(id, { events: track.events, tasks: track.dirtyTasks });
      track.events = [];
      track.dirtyTasks = new Set();
    }
    if (rows.length === 0) return;
    try {
      const written = await this.sql.rows<{ id: string; progress_percent: number | null }>(FLUSH_SQL, [
        JSON.stringify(rows),
        WORKER_HELD_STATUSES,
        JSON.stringify(taskRows),
        JSON.stringify(eventRows),
      ]);
      this.stats.flushes += 1;
      this.stats.rowsWritten += written.length;
      const writtenIds = new Set<string>();
      for (const row of written) {
        writtenIds.add(row.id);
        const track = this.tracks.get(row.id);
        if (track !== undefined) track.flushedPercent = row.progress_percent;
      }
      for (const id of taken.keys()) {
        if (writtenIds.has(id)) continue;
        // The lease is no longer current (the attempt ended, or another began): stop tracking it.
        this.forget(id);
        this.leases.forget(id);
      }
    } catch (error) {
      this.stats.failedFlushes += 1;
      this.log.warn({ err: error, jobs: rows.length }, 'progress flush failed; it will be retried');
      for (const [id, { events, tasks }] of taken) {
        const track = this.tracks.get(id);
        if (track === undefined) continue;
        track.events = [...events, ...track.events].slice(-MAX_QUEUED_EVENTS_PER_JOB);
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
  if (report.done != null || report.total !== undefined) track.ownFigures = true;
  if (phaseChanged) {
    fields.phase = report.phase ?? null;
    // A new phase counts something else: its rate starts afresh.
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
  if (report.tasks != null) {
    for (const taskReport of report.tasks) {
      let task = track.tasks.get(taskReport.name);
      if (task === undefined) {
        task = { position: track.tasks.size, status: 'WAITING', done: 0, total: null, unit: null, message: null, rate: new SmoothedRate() };
        track.tasks.set(taskReport.name, task);
      }
      if (taskReport.total !== undefined && taskReport.total !== task.total) {
        task.total = taskReport.total;
        if (taskReport.done != null) task.done = taskReport.done;
      } else if (taskReport.done != null) {
        task.done = Math.max(task.done, taskReport.done);
      }
      if (taskReport.status != null && taskReport.status !== task.status) {
        // Time spent waiting is not slowness: the rate starts when the task starts.
        if (taskReport.status === 'PROCESSING') task.rate = new SmoothedRate();
        task.status = taskReport.status;
      }
      if (taskReport.unit !== undefined) task.unit = taskReport.unit;
      if (taskReport.message !== undefined) task.message = taskReport.message;
      task.rate.observe(task.done, now);
      track.dirtyTasks.add(taskReport.name);
    }
  }
  // The job's figures: as reported, or, for a worker that only ever reports tasks, their sums.
  let done = report.done ?? undefined;
  if (!track.ownFigures && report.tasks != null && track.tasks.size > 0) {
    const tasks = [...track.tasks.values()];
    done = tasks.reduce((sum, task) => sum + task.done, 0);
    fields.total = tasks.every((task) => task.total !== null) ? tasks.reduce((sum, task) => sum + (task.total as number), 0) : null;
  }
  if (done !== undefined) {
    // Reports can arrive out of order: within one phase and total, done only grows.
    fields.done = phaseChanged || totalChanged || fields.done === undefined ? done : Math.max(fields.done, done);
    track.rate.observe(fields.done, now);
  }
  for (const line of report.log ?? []) track.events.push({ kind: 'LOG', message: line, actor: track.actor });
  if (track.events.length > MAX_QUEUED_EVENTS_PER_JOB) track.events.splice(0, track.events.length - MAX_QUEUED_EVENTS_PER_JOB);
}

/** The percentage the fields give, or undefined when they give none (indeterminate or unknown). */
function percentOf(track: Track): number | undefined {
  const { done, total } = track.fields;
  if (done === undefined || total === undefined || total === null) return undefined;
  if (total === 0) return 100;
  return Math.min(100, Math.round((done / total) * 10_000) / 100);
}

function milestones(track: Track, percent: number | undefined): QueuedEvent[] {
  if (percent === undefined) return [];
  const before = track.flushedPercent ?? 0;
  return MILESTONES.filter((milestone) => before < milestone && percent >= milestone).map((milestone) => ({
    kind: 'PROGRESS' as const,
    message: `${milestone} % done`,
    data: { percent: milestone },
    actor: track.actor,
  }));
}

/**
 * One statement for a whole flush: jobs (guarded by their current lease and a held status), then
 * their tasks and timeline events, only for the jobs that were written. Absent keys keep the
 * stored value; the percentage keeps the greatest value of the attempt.
 */
const FLUSH_SQL = `
WITH input AS (
  SELECT (e->>'id')::uuid AS id, (e->>'token')::uuid AS token, e FROM jsonb_array_elements($1::jsonb) e
),
updated AS (
  UPDATE jobs j SET
    progress_done = CASE WHEN i.e ? 'done' THEN (i.e->>'done')::float8 ELSE j.progress_done END,
    progress_total = CASE WHEN i.e ? 'total' THEN (i.e->>'total')::float8 ELSE j.progress_total END,
    progress_unit = CASE WHEN i.e ? 'unit' THEN i.e->>'unit' ELSE j.progress_unit END,
    progress_phase = CASE WHEN i.e ? 'phase' THEN i.e->>'phase' ELSE j.progress_phase END,
    message = CASE WHEN i.e ? 'message' THEN i.e->>'message' ELSE j.message END,
    step = CASE WHEN i.e ? 'step' THEN i.e->>'step' ELSE j.step END,
    progress_rate = CASE WHEN i.e ? 'rate' THEN (i.e->>'rate')::float8 ELSE j.progress_rate END,
    progress_percent = CASE WHEN i.e ? 'percent'
      THEN least(100, greatest(coalesce(j.progress_percent, 0), (i.e->>'percent')::real)) ELSE j.progress_percent END,
    progress_updated_at = now(),
    updated_at = greatest(clock_timestamp(), j.updated_at + interval '1 millisecond')
  FROM input i
  WHERE j.id = i.id AND j.lease_token = i.token AND j.status = ANY($2::text[])
  RETURNING j.id, j.attempt, j.step, j.scope, j.type, j.owner_id, j.progress_percent
),
task_rows AS (
  INSERT INTO tasks AS t (job_id, name, position, status, done, total, unit, message, rate_per_minute, started_at, finished_at, updated_at)
  SELECT u.id, x.t->>'name', (x.t->>'position')::int, x.t->>'status', (x.t->>'done')::float8, (x.t->>'total')::float8,
         x.t->>'unit', x.t->>'message', (x.t->>'rate')::float8,
         CASE WHEN x.t->>'status' <> 'WAITING' THEN now() END,
         CASE WHEN x.t->>'status' IN ('COMPLETED', 'FAILED') THEN now() END, now()
    FROM jsonb_array_elements($3::jsonb) x(t) JOIN updated u ON u.id = (x.t->>'job')::uuid
  ON CONFLICT (job_id, name) DO UPDATE SET
    status = EXCLUDED.status, done = EXCLUDED.done, total = coalesce(EXCLUDED.total, t.total),
    unit = coalesce(EXCLUDED.unit, t.unit), message = coalesce(EXCLUDED.message, t.message),
    rate_per_minute = coalesce(EXCLUDED.rate_per_minute, t.rate_per_minute),
    started_at = coalesce(t.started_at, EXCLUDED.started_at),
    finished_at = CASE WHEN EXCLUDED.status IN ('COMPLETED', 'FAILED') THEN coalesce(t.finished_at, now()) END,
    updated_at = now()
),
events AS (
  INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, attempt, step, message, data, job_scope, job_type, job_owner_id)
  SELECT u.id, x.v->>'kind', x.v->>'actor', 'WORKER', u.attempt, u.step, x.v->>'message', x.v->'data', u.scope, u.type, u.owner_id
    FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY x(v, n) JOIN updated u ON u.id = (x.v->>'job')::uuid
   ORDER BY x.n
)
SELECT id, progress_percent FROM updated`;
