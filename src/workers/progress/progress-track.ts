import type { JobStep } from '../../jobs/job-status';
import type { TaskStatus } from '../../jobs/job.enums';
import { SmoothedRate } from '../../jobs/smoothed-rate';
import { REPORT_LIMITS } from '../../sdk/report-limits';
import type { ProgressReport } from '../worker.types';

// What the progress buffer knows of one running attempt (its track), and how a report merges
// into it. The buffer (progress-buffer.ts) keeps the tracks and flushes them.

/**
 * What this instance heard of one task. A field it never heard of is absent (or null for the
 * status and done), and the flush then keeps what the database has: another instance, or this
 * one before a restart, may have heard more.
 */
export interface TaskState {
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

export interface QueuedEvent {
  kind: 'PROGRESS' | 'LOG';
  message: string;
  data?: unknown;
  actor: string;
  /** The sequence of the report it came from: written only when that report was not stored before. */
  seq?: number;
  /** When the worker says it wrote it (ISO); clamped by the flush between the attempt's start and now. */
  at?: string;
}

/** What became of a job's sequenced reports once a flush took them. */
export type StoreOutcome =
  | { readonly kind: 'stored'; readonly storedSequence: number }
  /** The lease is no longer current: nothing was taken. */
  | { readonly kind: 'lost' }
  /** The first pending report does not follow the stored one: nothing was taken; send again from `storedSequence + 1`. */
  | { readonly kind: 'gap'; readonly storedSequence: number }
  /** The flush failed: the reports are kept and written by a later flush; the worker may send them again. */
  | { readonly kind: 'failed'; readonly error: unknown };

export type Fields = {
  done?: number;
  total?: number | null;
  unit?: string | null;
  phase?: string | null;
  message?: string | null;
  step?: JobStep;
};

/** What this instance knows of one running attempt, merged from every report it received. */
export interface Track {
  token: string;
  actor: string;
  /**
   * Fields reported so far; a field never reported is left as the database has it. `done` and
   * `total` are only the worker's own figures: a job whose worker reports only tasks gets their
   * sums, computed by the flush statement from the tasks table.
   */
  fields: Fields;
  /** The fields reported since the last flush that wrote this job: only those are written (the others may be another instance's newer figures). */
  dirtyFields: Set<keyof Fields>;
  /** The rate changed since the last write. */
  rateDirty: boolean;
  rate: SmoothedRate;
  tasks: Map<string, TaskState>;
  dirtyTasks: Set<string>;
  events: QueuedEvent[];
  touchedAt: number;
  /** Sequenced reports taken and not yet written: the first and the last sequence. */
  pending: { from: number; to: number } | undefined;
  /** Sequenced reports a flush is writing now. */
  inFlight: { from: number; to: number } | undefined;
  /** The highest sequence known stored (by a flush of this instance): a report up to it is a duplicate. */
  storedSequence: number;
  /** Calls waiting for the flush that writes their sequenced reports, each with the last sequence it sent. */
  waiters: Array<{ sequence: number; resolve: (outcome: StoreOutcome) => void }>;
}

export function newTrack(token: string, actor: string, now: number): Track {
  return {
    token,
    actor,
    fields: {},
    dirtyFields: new Set(),
    rateDirty: false,
    rate: new SmoothedRate(),
    tasks: new Map(),
    dirtyTasks: new Set(),
    events: [],
    touchedAt: now,
    pending: undefined,
    inFlight: undefined,
    storedSequence: 0,
    waiters: [],
  };
}

/** The last sequence this track has stored, is writing or holds. */
export function coveredSequence(track: Track): number {
  return Math.max(track.storedSequence, track.inFlight?.to ?? 0, track.pending?.to ?? 0);
}

/** Answers the waiters `outcome` has an answer for; the others keep waiting. */
export function settle(track: Track, outcome: (waiter: Track['waiters'][number]) => StoreOutcome | undefined): void {
  track.waiters = track.waiters.filter((waiter) => {
    const answer = outcome(waiter);
    if (answer === undefined) return true;
    waiter.resolve(answer);
    return false;
  });
}

export function merge(track: Track, report: ProgressReport, now: number): void {
  const fields = track.fields;
  track.touchedAt = now;
  const origin = {
    actor: track.actor,
    ...(report.sequence == null ? {} : { seq: report.sequence }),
    ...(report.at == null ? {} : { at: report.at.toISOString() }),
  };
  const set = <K extends keyof Fields>(key: K, value: Fields[K]) => {
    fields[key] = value;
    track.dirtyFields.add(key);
  };
  const phaseChanged = report.phase !== undefined && report.phase !== fields.phase;
  const totalChanged = report.total !== undefined && report.total !== fields.total;
  if (phaseChanged) {
    set('phase', report.phase ?? null);
    // A new phase counts something else: its rate starts afresh (the flush then writes the
    // new rate, null until there is one, instead of keeping the old phase's).
    track.rate = new SmoothedRate();
    if (report.phase != null)
      track.events.push({ kind: 'PROGRESS', message: `Phase: ${report.phase}`, data: { phase: report.phase }, ...origin });
  }
  if (report.step != null && report.step !== fields.step) {
    if (fields.step !== undefined)
      track.events.push({ kind: 'PROGRESS', message: `Step ${report.step} started`, data: { step: report.step }, ...origin });
    set('step', report.step);
  }
  if (report.total !== undefined) set('total', report.total);
  if (report.unit !== undefined) set('unit', report.unit);
  if (report.message !== undefined) set('message', report.message);
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
    set('done', phaseChanged || totalChanged || fields.done === undefined ? report.done : Math.max(fields.done, report.done));
    track.rate.observe(fields.done as number, now);
    track.rateDirty = true;
  }
  for (const line of report.log ?? []) track.events.push({ kind: 'LOG', message: line, ...origin });
  if (track.events.length > REPORT_LIMITS.queuedEventsPerJob)
    track.events.splice(0, track.events.length - REPORT_LIMITS.queuedEventsPerJob);
}
