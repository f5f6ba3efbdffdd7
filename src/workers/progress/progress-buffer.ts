import type { Logger } from 'pino';
import type { Sql } from '../../db/sql';
import { now as metricsNow, recordProgressFlush } from '../../metrics/hooks';
import type { ProgressReport } from '../worker.types';
import type { LeaseCache } from './lease-cache';
import { REPORT_LIMITS } from '../../sdk/report-limits';
import { flushProgress, type FlushResult } from '../sql/flush-progress';
import {
  coveredSequence,
  merge,
  newTrack,
  settle,
  type Fields,
  type QueuedEvent,
  type StoreOutcome,
  type TaskState,
  type Track,
} from './progress-track';

export type { StoreOutcome } from './progress-track';

/** Jobs not reported for this long are forgotten (their worker is gone or the job ended). */
const IDLE_TRACK_MS = 10 * 60_000;

/** A sequenced report taken by accept(): wait for it with stored(). */
export interface Receipt {
  readonly jobId: string;
  readonly token: string;
  readonly sequence: number;
}

/**
 * Coalesces progress reports per job and writes them at most every `flushMs`, in one statement
 * per flush for every job, task and timeline event together. The statement, not this memory,
 * decides what the figures are, so they come out right whatever instance received which report
 * and across restarts: `done` never goes backwards while the phase and the total stay the same
 * (late or out-of-order reports are held back), the percentage is always that of the stored
 * done and total (so it starts afresh with a new phase or a recount, which the timeline says)
 * and never passes 100, `total: null` means indeterminate, a job reported only through its tasks
 * gets the sums of all its tasks in the table, a milestone is written when the percentage
 * crosses it, and a job whose figures move again is no longer stalled. Only the fields reported
 * since a job's last write are written. A flush that fails is retried with everything it held; a
 * flush refused for a job (its lease is no longer current) drops that attempt's track, never a
 * newer attempt's.
 *
 * Sequenced reports (`sequence` 1, 2, 3... per lease) are durable: the call that sent them waits
 * (stored()) for the flush that writes them. A report up to what is stored or pending here is a
 * duplicate and not taken again; the flush applies a job's pending range only when it follows the
 * stored sequence (`jobs.progress_sequence`), and writes each of its events only when its report
 * was not stored before, so a report sent again, here or to another instance, counts once.
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

  /**
   * Takes reports whose lease was found current; `now` is when they arrived. Answers a receipt
   * per sequenced report, for stored(). A sequenced report up to what is stored, being written or
   * pending here is not taken again (a duplicate); one that does not follow what is pending here
   * is not taken (a gap: stored() says so).
   */
  accept(reports: ReadonlyArray<{ jobId: string; token: string; actor: string; report: ProgressReport }>, now = Date.now()): Receipt[] {
    const receipts: Receipt[] = [];
    for (const { jobId, token, actor, report } of reports) {
      let track = this.tracks.get(jobId);
      if (track === undefined || track.token !== token) {
        track = newTrack(token, actor, now);
        this.tracks.set(jobId, track);
      }
      const sequence = report.sequence;
      if (sequence != null) {
        receipts.push({ jobId, token, sequence });
        const covered = coveredSequence(track);
        if (sequence <= covered) continue;
        const following = track.pending === undefined && track.inFlight === undefined;
        if (!following && sequence !== covered + 1) continue;
        track.pending = track.pending === undefined ? { from: sequence, to: sequence } : { from: track.pending.from, to: sequence };
      }
      merge(track, report, now);
      this.dirty.add(jobId);
      this.stats.reportsAccepted += 1;
    }
    return receipts;
  }

  /**
   * Waits until the sequenced reports of these receipts are written (or known stored), and
   * answers per job: stored, lost (the lease ended), a gap, or the flush failed.
   */
  stored(receipts: readonly Receipt[]): Promise<Map<string, StoreOutcome>> {
    const last = new Map<string, Receipt>();
    for (const receipt of receipts) if ((last.get(receipt.jobId)?.sequence ?? 0) < receipt.sequence) last.set(receipt.jobId, receipt);
    return Promise.all(
      [...last.values()].map(
        (receipt) =>
          new Promise<[string, StoreOutcome]>((resolve) => {
            const track = this.tracks.get(receipt.jobId);
            const answer = (outcome: StoreOutcome) => resolve([receipt.jobId, outcome]);
            if (track === undefined || track.token !== receipt.token) answer({ kind: 'lost' });
            else if (receipt.sequence <= track.storedSequence) answer({ kind: 'stored', storedSequence: track.storedSequence });
            else if (receipt.sequence <= coveredSequence(track)) track.waiters.push({ sequence: receipt.sequence, resolve: answer });
            else answer({ kind: 'gap', storedSequence: track.storedSequence });
          }),
      ),
    ).then((entries) => new Map(entries));
  }

  /** Forgets a job's track: only the attempt `token` names when given (a newer attempt's stays). */
  forget(jobId: string, token?: string): void {
    const track = this.tracks.get(jobId);
    if (track === undefined || (token !== undefined && track.token !== token)) return;
    this.tracks.delete(jobId);
    this.dirty.delete(jobId);
    for (const waiter of track.waiters.splice(0)) waiter.resolve({ kind: 'lost' });
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
    const taken = new Map<string, { track: Track; events: QueuedEvent[]; tasks: Set<string>; fields: Set<keyof Fields>; rate: boolean }>();
    for (const id of ids) {
      this.dirty.delete(id);
      const track = this.tracks.get(id);
      if (track === undefined) continue;
      const row: Record<string, unknown> = { id, token: track.token, actor: track.actor };
      for (const field of track.dirtyFields) row[field] = track.fields[field];
      const rate = track.rate.perMinute;
      if (rate !== null && track.rateDirty) row['rate'] = rate;
      if (track.pending !== undefined) {
        row['seq_from'] = track.pending.from;
        row['seq_to'] = track.pending.to;
      }
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
      taken.set(id, { track, events: track.events, tasks: track.dirtyTasks, fields: track.dirtyFields, rate: track.rateDirty });
      track.events = [];
      track.dirtyTasks = new Set();
      track.dirtyFields = new Set();
      track.rateDirty = false;
      track.inFlight = track.pending;
      track.pending = undefined;
    }
    if (rows.length === 0) return;
    const started = metricsNow();
    let results: FlushResult[];
    try {
      results = await flushProgress(this.sql, rows, taskRows, eventRows);
    } catch (error) {
      this.stats.failedFlushes += 1;
      this.log.warn({ err: error, jobs: rows.length }, 'progress flush failed; it will be retried');
      for (const [id, { track, events, tasks, fields, rate }] of taken) {
        if (this.tracks.get(id) !== track) continue;
        track.events = [...events, ...track.events].slice(-REPORT_LIMITS.queuedEventsPerJob);
        for (const name of tasks) track.dirtyTasks.add(name);
        for (const field of fields) track.dirtyFields.add(field);
        track.rateDirty ||= rate;
        const inFlight = track.inFlight;
        if (inFlight !== undefined) {
          track.pending = { from: inFlight.from, to: track.pending?.to ?? inFlight.to };
          track.inFlight = undefined;
          settle(track, (waiter) => (waiter.sequence <= inFlight.to ? { kind: 'failed', error } : undefined));
        }
        this.dirty.add(id);
      }
      throw error;
    }
    this.stats.flushes += 1;
    recordProgressFlush(rows.length, started);
    for (const result of results) {
      const entry = taken.get(result.id);
      if (entry === undefined) continue;
      const { track } = entry;
      const range = track.inFlight;
      track.inFlight = undefined;
      if (result.written) this.stats.rowsWritten += 1;
      if (!result.current) {
        // That lease is no longer current (the attempt ended, or another began): stop tracking
        // it. A newer attempt's track, accepted while this flush ran, stays.
        this.forget(result.id, track.token);
        this.leases.forget(result.id, track.token);
        continue;
      }
      const stored = Number(result.stored);
      if (range !== undefined && !result.written && stored < range.from - 1) {
        // Reports are missing before these: nothing of them was taken. The worker sends again
        // from stored + 1; this track starts afresh then (what it merged is not the truth).
        for (const waiter of track.waiters.splice(0)) waiter.resolve({ kind: 'gap', storedSequence: stored });
        this.tracks.delete(result.id);
        this.dirty.delete(result.id);
        continue;
      }
      track.storedSequence = Math.max(track.storedSequence, result.written && range !== undefined ? range.to : stored);
      settle(track, (waiter) =>
        waiter.sequence <= track.storedSequence ? { kind: 'stored', storedSequence: track.storedSequence } : undefined,
      );
    }
  }

  private evictIdle(): void {
    const cutoff = Date.now() - IDLE_TRACK_MS;
    for (const [id, track] of this.tracks) {
      if (track.touchedAt < cutoff && !this.dirty.has(id) && track.waiters.length === 0) this.tracks.delete(id);
    }
  }
}
