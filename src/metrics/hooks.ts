import { performance } from 'node:perf_hooks';
import { Counter, Histogram } from 'prom-client';
import { processRegistry, SECONDS_BUCKETS } from './registry';

/**
 * What domains record: one call each where the work happens, at the cost of an observation
 * (no allocation, no I/O). The names and meanings are listed in the README ("Metrics").
 */

const flushJobs = new Histogram({
  name: 'jobwatch_progress_flush_jobs',
  help: 'Jobs written by one progress flush (one statement for all of them)',
  buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
  registers: [processRegistry],
});
const flushSeconds = new Histogram({
  name: 'jobwatch_progress_flush_duration_seconds',
  help: 'Time one progress flush statement took, failed ones included',
  buckets: SECONDS_BUCKETS,
  registers: [processRegistry],
});
const tickSeconds = new Histogram({
  name: 'jobwatch_daemon_tick_duration_seconds',
  help: 'Time one daemon tick took; outcome ran, skipped (another instance held the lock) or failed',
  labelNames: ['outcome'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [processRegistry],
});
const daemonActions = new Counter({
  name: 'jobwatch_daemon_actions_total',
  help: 'Jobs the daemon acted on, by rule (expired, abended, cancelled, trapTimedOut, slow, deleted)',
  labelNames: ['rule'] as const,
  registers: [processRegistry],
});
const fanOutLag = new Histogram({
  name: 'jobwatch_fanout_lag_seconds',
  help: "From a job change's updated_at to its hand-over to this instance's subscribers",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [processRegistry],
});
const alertAttempts = new Counter({
  name: 'jobwatch_alert_attempts_total',
  help: 'Webhook delivery attempts by outcome: delivered, retrying, failed (for good) or refused (no longer allowed, not sent)',
  labelNames: ['outcome'] as const,
  registers: [processRegistry],
});

// Known outcomes are shown from the start, at 0: a rate over a series that appears late misleads.
for (const outcome of ['delivered', 'retrying', 'failed', 'refused']) alertAttempts.inc({ outcome }, 0);

/** A start time for the hooks that take one. */
export const now = (): number => performance.now();

/** Progress: a flush of `jobs` jobs that began at `started` (from `now()`). */
export function recordProgressFlush(jobs: number, started: number): void {
  flushJobs.observe(jobs);
  flushSeconds.observe((performance.now() - started) / 1000);
}

/** Daemon: a tick that began at `started`, and what it did (its counts per rule), or why it did nothing. */
export function recordDaemonTick(started: number, result: Readonly<Record<string, number>> | 'skipped' | 'failed'): void {
  tickSeconds.observe({ outcome: typeof result === 'string' ? result : 'ran' }, (performance.now() - started) / 1000);
  if (typeof result === 'string') return;
  for (const rule in result) if (result[rule]! > 0) daemonActions.inc({ rule }, result[rule]);
}

/**
 * Realtime: rows about to be handed to subscribers. Only changes newer than `seen` (the newest
 * updated_at handed over before) count, so a resync's re-read of old rows is not taken for lag.
 * updated_at is the database's clock: skew between hosts shows here.
 */
export function recordFanOut(rows: readonly { readonly updated_at: Date }[], seen: Date | undefined): void {
  const at = Date.now();
  for (const row of rows) {
    if (seen === undefined || row.updated_at > seen) fanOutLag.observe(Math.max(0, at - row.updated_at.getTime()) / 1000);
  }
}

export type AlertOutcome = 'delivered' | 'retrying' | 'failed' | 'refused';

/** Alerts: how a delivery attempt ended. */
export function recordAlertAttempt(outcome: AlertOutcome): void {
  alertAttempts.inc({ outcome });
}
