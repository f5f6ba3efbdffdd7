import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { inTransaction, type Sql } from '../db/sql';
import type { SqlParams } from '../db/sql-params';
import { TERMINAL_STATUSES, type TransitionName } from '../jobs/job-status';
import { targetStatusSql } from '../jobs/transitions/transition-sql';
import { changeJobs, type ActorFromRow, type ChangedJob } from '../jobs/transitions/change-jobs';
import type { ActorKind, TimelineKind } from '../jobs/timeline.types';
import { RECENT_DAYS, RECENT_RUNS, SLOW_MIN_RUNS } from '../jobs/stats/job-type-stats';
import { now as metricsNow, recordDaemonTick } from '../metrics/hooks';
import { COMPACT_FACET_COUNTS_SQL } from '../jobs/facets/facet-counts';
import { markQuietProgress } from './stalled-progress';

/**
 * Retention, as two statements walking indexes (finished time, tombstone time); ids are joined
 * as arrays so the plan never hashes a whole table. $1 terminal statuses, $2 days, $3 batch.
 */
export const RETENTION_JOBS_SQL = `
  WITH old AS (
    SELECT id FROM jobs
     WHERE coalesce(finished_at, '-infinity') > '-infinity'
       AND coalesce(finished_at, '-infinity') < now() - make_interval(days => $2)
       AND status = ANY($1::text[])
     ORDER BY coalesce(finished_at, '-infinity') LIMIT $3 FOR UPDATE SKIP LOCKED
  ),
  history AS (DELETE FROM timeline_events e WHERE e.job_id = ANY(ARRAY(SELECT id FROM old)))
  DELETE FROM jobs j WHERE j.id = ANY(ARRAY(SELECT id FROM old)) RETURNING j.id`;

/** The histories of jobs deleted by hand, once their tombstone is old. $1 days, $2 batch. */
export const RETENTION_TOMBSTONES_SQL = `
  DELETE FROM timeline_events e WHERE e.job_id = ANY(ARRAY(
    SELECT job_id FROM timeline_events WHERE kind = 'DELETED' AND at < now() - make_interval(days => $1) LIMIT $2))`;

/**
 * Running jobs that have run longer than their type's p95 get one SLOWER_THAN_USUAL event per
 * attempt, which alert rules can fire on. The p95 is jobTypeStats' (the type's last RECENT_RUNS
 * finished runs within RECENT_DAYS, the runs that ran), and counts once SLOW_MIN_RUNS of them
 * ran, like Job.slowerThanUsual. Only the types that have running jobs are looked at.
 * $1 SLOW_MIN_RUNS, $2 RECENT_DAYS, $3 RECENT_RUNS.
 */
export const SLOW_JOBS_SQL = `
  WITH types AS (SELECT DISTINCT type FROM jobs WHERE status = 'RUNNING'),
  stats AS (
    SELECT t.type, percentile_cont(0.95) WITHIN GROUP (ORDER BY r.seconds) AS p95, count(r.seconds) AS runs
      FROM types t CROSS JOIN LATERAL (
        SELECT extract(epoch FROM finished_at - started_at) AS seconds FROM jobs
         WHERE jobs.type = t.type AND created_at > now() - make_interval(days => $2) AND finished_at IS NOT NULL
         ORDER BY created_at DESC LIMIT $3) r
     GROUP BY t.type
  ),
  slow AS (
    SELECT j.id, j.attempt, j.step, j.scope, j.type, j.owner_id, s.p95 FROM jobs j JOIN stats s ON s.type = j.type
     WHERE j.status = 'RUNNING' AND s.runs >= $1 AND j.started_at < now() - make_interval(secs => s.p95)
       AND NOT EXISTS (SELECT 1 FROM timeline_events e WHERE e.job_id = j.id AND e.kind = 'SLOWER_THAN_USUAL' AND e.attempt = j.attempt)
  )
  INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, to_status, attempt, step, message, data, job_scope, job_type, job_owner_id)
  SELECT id, 'SLOWER_THAN_USUAL', NULL, 'SYSTEM', NULL, attempt, step,
         'Running longer than ' || round(p95::numeric, 1) || ' s, the p95 of its type', jsonb_build_object('p95Seconds', p95),
         scope, type, owner_id
    FROM slow`;

/** Any constant works; it only has to be the same for every instance. */
const DAEMON_LOCK = 0x6a776474; // "jwdt"
/** Rows per rule per tick: a backlog drains over a few ticks without one long transaction. */
const BATCH = 1000;

export interface DaemonSettings {
  readonly heartbeatTimeoutMs: number;
  readonly cancelGraceMs: number;
  readonly retentionDays: number;
  readonly intervalMs: number;
  readonly stallAfterMs: number;
  /** A longer pause between two ticks is an outage: see TICK_CLOCK_SQL. */
  readonly outageMs: number;
}

export interface TickResult {
  readonly expired: number;
  readonly abended: number;
  readonly cancelled: number;
  readonly trapTimedOut: number;
  readonly slow: number;
  readonly deleted: number;
}

interface Rule {
  /** Rules that share a name add up in the tick's result. */
  readonly name: keyof Omit<TickResult, 'deleted' | 'slow'>;
  readonly transition: TransitionName;
  readonly due: (params: SqlParams, settings: DaemonSettings) => string;
  /** Assignments besides the status (which the transition's `to` gives). */
  readonly set?: (params: SqlParams, settings: DaemonSettings) => string;
  readonly kind: TimelineKind;
  readonly message: string;
  /** Who the event names: the daemon (SYSTEM), or the person whose request the rule completes. */
  readonly actor?: { readonly id: ActorFromRow; readonly kind: ActorKind };
}

const seconds = (params: SqlParams, ms: number) => `make_interval(secs => ${params.add(ms / 1000)})`;

/**
 * The last sign of life of a held job's worker, for the heartbeat timeout: its heartbeat, but
 * never before the daemon's clock last resumed (after an outage nobody could heartbeat through,
 * every held job gets a fresh timeout from the first tick after it; see DAEMON_OUTAGE_MS).
 */
const heartbeatStale = (params: SqlParams, settings: DaemonSettings) => {
  const cutoff = `now() - ${seconds(params, settings.heartbeatTimeoutMs)}`;
  // Two conditions rather than greatest(): the second is one value for the whole statement (an
  // InitPlan), and the first stays the expression the planner already knows.
  return `coalesce(heartbeat_at, started_at, updated_at) < ${cutoff}
    AND coalesce((SELECT resumed_at FROM daemon_clock WHERE id), '-infinity') < ${cutoff}`;
};

/** What the daemon does, in order. */
const RULES: readonly Rule[] = [
  {
    name: 'expired',
    transition: 'expire',
    due: () => `max_start_at < now()`,
    set: () => `message = 'Not started before its max start date'`,
    kind: 'EXPIRED',
    message: 'Not started before maxStartAt',
  },
  {
    name: 'abended',
    transition: 'heartbeatLost',
    due: heartbeatStale,
    set: () => `error_message = 'The worker stopped heartbeating (last heartbeat ' || coalesce(to_char(j.heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'never') || ')',
      error_stack = NULL`,
    kind: 'ABENDED',
    message: 'Heartbeat lost',
  },
  // A person cancelled: whether the worker vanished or never answered, the job ends as that
  // person asked (CANCELLED, in their name), never ABENDED: no failure, no ABENDED alert.
  {
    name: 'cancelled',
    transition: 'cancelWorkerLost',
    due: heartbeatStale,
    kind: 'CANCELLED',
    message: 'The worker never confirmed the cancel: it stopped heartbeating',
    actor: { id: { column: 'cancel_requested_by' }, kind: 'USER' },
  },
  {
    name: 'cancelled',
    transition: 'cancelGraceElapsed',
    due: (params, settings) => `cancel_requested_at < now() - ${seconds(params, settings.cancelGraceMs)}`,
    kind: 'CANCELLED',
    message: 'The worker did not confirm the cancel within the grace period',
  },
  {
    name: 'trapTimedOut',
    transition: 'trapTimeout',
    due: () => `trap_timeout_at < now()`,
    kind: 'FAILED',
    message: 'Nobody resolved the trap before its timeout',
  },
];

/**
 * Moves the daemon's clock to this tick. A pause since the last tick longer than `outageMs`
 * (the database was unreachable, or no instance ran) makes this tick the moment heartbeats
 * could be written again. $1 outage seconds. Answers whether this tick resumed the clock.
 */
export const TICK_CLOCK_SQL = `
  WITH before AS (SELECT ticked_at, ticked_at < now() - make_interval(secs => $1) AS resumed FROM daemon_clock WHERE id)
  UPDATE daemon_clock c SET ticked_at = now(), resumed_at = CASE WHEN b.resumed THEN now() ELSE c.resumed_at END
    FROM before b WHERE c.id
  RETURNING coalesce(b.resumed, false) AS resumed, extract(epoch FROM now() - b.ticked_at)::float8 AS pause_seconds`;

/**
 * Keeps time for the jobs: expiry, lost heartbeats, cancel grace, trap timeouts, stalled
 * progress and decaying rates, retention.
 * `tick()` runs everything once, in one transaction holding an advisory lock, so several API
 * instances never run it at the same time (the others skip). A timer calls it; tests call it.
 */
export class Daemon {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly settings: DaemonSettings,
    private readonly log: Logger,
    /** Told about every job the daemon changed (to forget progress of ended attempts). */
    private readonly onChanged: (jobs: readonly ChangedJob[]) => void = () => undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running !== undefined) return;
      this.running = this.tick()
        .catch((error: unknown) => this.log.warn({ err: error }, 'daemon tick failed'))
        .finally(() => (this.running = undefined));
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * One pass of every rule; 'skipped' when another instance holds the lock. `onChanged` hears
   * of the changed jobs only once they are committed: were the tick rolled back, those jobs
   * would still be running, and their pending progress must not have been dropped.
   */
  async tick(): Promise<TickResult | 'skipped'> {
    const changed: ChangedJob[] = [];
    const started = metricsNow();
    const result = await inTransaction(this.pool, async (tx) => {
      const lock = await tx.one<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [DAEMON_LOCK]);
      if (lock?.locked !== true) return 'skipped' as const;
      await this.tickClock(tx);
      const counts: Record<string, number> = {};
      for (const rule of RULES) {
        const jobs = await this.apply(tx, rule);
        counts[rule.name] = (counts[rule.name] ?? 0) + jobs.length;
        changed.push(...jobs);
        if (jobs.length > 0) this.log.info({ rule: rule.name, jobs: jobs.length }, 'daemon changed jobs');
      }
      const slow = await tx.execute(SLOW_JOBS_SQL, [SLOW_MIN_RUNS, RECENT_DAYS, RECENT_RUNS]);
      const stalled = await markQuietProgress(tx, this.settings, BATCH);
      if (stalled > 0) this.log.info({ jobs: stalled }, 'daemon found stalled jobs');
      const deleted = await this.retention(tx);
      // After retention, so the deltas of the jobs it deleted are folded in the same tick.
      await tx.execute(COMPACT_FACET_COUNTS_SQL);
      return { ...(counts as Omit<TickResult, 'deleted' | 'slow'>), slow, deleted };
    }).catch((error: unknown) => {
      recordDaemonTick(started, 'failed');
      throw error;
    });
    recordDaemonTick(started, result);
    if (changed.length > 0) {
      try {
        this.onChanged(changed);
      } catch (error) {
        this.log.error({ err: error }, 'daemon change listener failed');
      }
    }
    return result;
  }

  private async tickClock(tx: Sql): Promise<void> {
    const clock = await tx.one<{ resumed: boolean; pause_seconds: number | null }>(TICK_CLOCK_SQL, [this.settings.outageMs / 1000]);
    if (clock?.resumed === true) {
      this.log.warn({ pauseSeconds: clock.pause_seconds }, 'daemon resumed after an outage: every held job gets a fresh heartbeat timeout');
    }
  }

  private apply(tx: Sql, rule: Rule): Promise<ChangedJob[]> {
    return changeJobs(tx, {
      target: { where: (params) => rule.due(params, this.settings), limit: BATCH },
      transitions: [rule.transition],
      by: 'daemon',
      operation: {
        kind: 'update',
        set: (params) =>
          [`status = ${targetStatusSql(rule.transition)}`, ...(rule.set === undefined ? [] : [rule.set(params, this.settings)])].join(', '),
      },
      event: { kind: rule.kind, actorId: rule.actor?.id ?? null, actorKind: rule.actor?.kind ?? 'SYSTEM', message: rule.message },
    });
  }

  /**
   * Finished jobs go RETENTION_DAYS after they finish, with their history; so do the histories
   * (tombstones included) of jobs deleted by hand, once the tombstone is that old. Both queries
   * walk an index (finished time, tombstone time), never the tables.
   */
  private async retention(tx: Sql): Promise<number> {
    const days = this.settings.retentionDays;
    const deleted = await tx.rows<{ id: string }>(RETENTION_JOBS_SQL, [TERMINAL_STATUSES, days, BATCH]);
    await tx.execute(RETENTION_TOMBSTONES_SQL, [days, BATCH]);
    // Notifications and the alert log age like the jobs; dispatched job events after a day.
    await tx.execute(
      `DELETE FROM notifications WHERE id = ANY(ARRAY(
      SELECT id FROM notifications WHERE created_at < now() - make_interval(days => $1) LIMIT $2))`,
      [days, BATCH],
    );
    await tx.execute(
      `DELETE FROM alert_deliveries WHERE id = ANY(ARRAY(
      SELECT id FROM alert_deliveries WHERE created_at < now() - make_interval(days => $1) AND status IN ('DELIVERED', 'FAILED', 'CANCELLED') LIMIT $2))`,
      [days, BATCH],
    );
    // What a viewer lost sight of is needed only as far back as a subscription's `since` may go.
    await tx.execute(
      `DELETE FROM permission_losses WHERE id = ANY(ARRAY(
      SELECT id FROM permission_losses WHERE at < now() - make_interval(days => $1) LIMIT $2))`,
      [days, BATCH],
    );
    await tx.execute(
      `DELETE FROM job_events WHERE id = ANY(ARRAY(
      SELECT id FROM job_events WHERE processed_at < now() - interval '1 day' LIMIT $1))`,
      [BATCH],
    );
    return deleted.length;
  }
}
