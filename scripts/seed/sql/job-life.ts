/**
 * A job's life as drawn at random, level by level: one row per job number with its random draws
 * (A), then its choices and creation time (B), its queueing, run times and final status (C),
 * and every instant of its life (D). `OFFSET 0` keeps Postgres from flattening the levels and
 * drawing again; every value is derived from the draws, so each row agrees with its status.
 */
import type { SqlParams } from '../../../src/db/sql-params';
import { APPROVER_SETS, OWNERS, WORKER_HELD, WORKERS } from '../vocabulary';
import { type BoundCatalog, typeIndex } from './catalog-params';

const DAY = 86_400;
/** Amplitude of the daily rhythm of job creation (0: flat), and its busiest hour (UTC). */
const DAILY_AMPLITUDE = 0.6;
const PEAK_HOUR_UTC = 14;

/** One batch of job numbers `lo..hi`. */
export interface Batch {
  readonly lo: number;
  readonly hi: number;
  /** Whether these rows also get tasks and timeline events. */
  readonly recent: boolean;
}

/**
 * The query of level D for the rows `batch.lo..hi` out of `total` (row numbers drive creation
 * time, oldest first), and `t1`: the parameter of `now`, the seed's reference time in epoch seconds.
 */
export function jobLifeLevels(
  p: SqlParams,
  c: BoundCatalog,
  batch: Batch,
  total: number,
  now: number,
  historyDays: number,
): { levelD: string; t1: string } {
  const t1 = p.add(now);
  const span = historyDays * DAY;
  const t0 = now - span;
  // The daily rhythm: t = tl - A/(2π)·DAY·sin(2π(tl/DAY - peak/24))·g(tl) moves creation times
  // toward the peak hour of each day (densest there, by 1/(1 - A)); g ramps from 0 to 1 over the
  // first and last day so that both ends stay in place. Monotonic since A + A/(2π) < 1.
  const sinOf = (t: string) => `sin(2 * pi() * (${t} / ${DAY} - ${PEAK_HOUR_UTC / 24}))`;

  const draws = [
    'r_type',
    'r_owner',
    'r_tenant',
    'r_app',
    'r_env',
    'r_status',
    'r_jitter',
    'w1',
    'w2',
    'w3',
    'w4',
    'r_queue',
    'r_dur',
    'r_prog',
    'r_attempt',
    'r_sched',
    'r_sched2',
    'r_early',
    'r_wait',
    'r_beat',
    'r_beat2',
    'r_err',
    'r_total',
    'r_approve',
    'r_misc',
  ];

  // A: one row per job number with its random draws (random() is volatile: computed once per row).
  const levelA = `SELECT n, ${draws.map((d) => `random() AS ${d}`).join(', ')}
      FROM generate_series(${p.add(batch.lo)}::bigint, ${p.add(batch.hi)}::bigint) AS n`;

  // B: the choices (type, owner, scope, drawn status) and creation time.
  const levelB = `SELECT a.*, ti, oi, te, env, sd, tc, ${t1} - tc AS age,
        1 + floor(r_app * 4)::int + (te - 1) * 4 AS ai,
        CASE WHEN sd = 'CREATED' OR r_attempt < 0.9 THEN 1 WHEN r_attempt < 0.98 THEN 2 ELSE 3 END AS attempt,
        (${c.medians})[ti] * exp((r_dur - 0.5) * 3) AS dur,
        floor((${c.minTotals})[ti] * power((${c.maxTotals})[ti] / (${c.minTotals})[ti], r_total)) AS total_full,
        r_sched < 0.1 AS has_schedule,
        sd = 'CANCELLED' AND r_early < 0.35 AS cancelled_early,
        CASE sd WHEN 'SUCCEEDED' THEN 1 ELSE 0.02 + 0.96 * r_prog END AS frac
      FROM (${levelA}) a
      CROSS JOIN LATERAL (SELECT
        1 + width_bucket(r_type, ${c.typeThresholds}) AS ti,
        1 + floor(r_owner * r_owner * ${OWNERS.length})::int AS oi,
        (${c.statuses})[1 + width_bucket(r_status, ${c.statusThresholds})] AS sd,
        (${c.envs})[1 + width_bucket(r_env, ${c.envThresholds})] AS env) c
      CROSS JOIN LATERAL (SELECT
        coalesce(nullif((${c.ownerTenants})[oi], 0), 1 + width_bucket(r_tenant, ${c.tenantThresholds})) AS te) d
      CROSS JOIN LATERAL (SELECT ${t0} + (n - 1 + r_jitter) / ${total} * ${span} AS tl) e
      CROSS JOIN LATERAL (SELECT tl - ${DAILY_AMPLITUDE} / (2 * pi()) * ${DAY}
        * ${sinOf('tl')} * least(1, (tl - ${t0}) / ${DAY}, (${now} - tl) / ${DAY}) AS tc) f
      OFFSET 0`;

  // C: queueing and run times, the final status (a job drawn as finished that cannot have
  // finished by now is still running, or still queued), then every instant of its life, in
  // epoch seconds.
  const levelC = `SELECT b.*, g.*, h.status
      FROM (${levelB}) b
      CROSS JOIN LATERAL (SELECT
        (CASE WHEN has_schedule THEN 600 * exp(r_queue * 5.5) ELSE 0.3 * exp(r_queue * 6) END)
          + CASE WHEN attempt > 1 THEN dur * (0.4 + r_misc) * (attempt - 1) + 120 + r_wait * 7200 ELSE 0 END AS qd,
        CASE WHEN attempt > 1 THEN dur * (0.4 + r_misc) END AS prev_dur,
        sd IN ('SUCCEEDED','FAILED','ABENDED') OR (sd = 'CANCELLED' AND NOT cancelled_early) AS ran_terminal,
        dur * frac + CASE WHEN sd = 'ABENDED' THEN 30 ELSE 0 END AS run_s) g
      CROSS JOIN LATERAL (SELECT CASE
        WHEN ran_terminal AND tc + qd > ${t1} THEN 'PENDING'
        WHEN ran_terminal AND tc + qd + run_s > ${t1} THEN 'RUNNING'
        ELSE sd END AS status) h
      OFFSET 0`;

  const levelC2 = `SELECT c.*, i.*
      FROM (${levelC}) c
      CROSS JOIN LATERAL (SELECT
        CASE
          WHEN status IN ('SUCCEEDED','FAILED','ABENDED','CANCELLED') AND ran_terminal THEN tc + qd
          WHEN status IN ${WORKER_HELD} AND ran_terminal THEN tc + qd
          WHEN status IN ${WORKER_HELD} THEN greatest(tc + least(qd, age * 0.5), ${t1} - dur * frac)
        END AS st,
        CASE
          WHEN status = 'RUNNING' AND ran_terminal THEN least((${t1} - tc - qd) / dur, 0.99)
          WHEN status IN ${WORKER_HELD} OR (ran_terminal AND status NOT IN ('PENDING')) THEN frac
          ELSE 0
        END AS pf,
        CASE
          WHEN status = 'CANCELLED' AND cancelled_early THEN tc + least(60 * exp(r_wait * 6), age * 0.9)
          WHEN status = 'REJECTED' THEN tc + least(300 * exp(r_wait * 5), age * 0.9)
          WHEN status = 'EXPIRED' THEN tc + least(3600 * exp(r_wait * 3), age * 0.9)
          WHEN status IN ('SUCCEEDED','FAILED','ABENDED','CANCELLED') THEN tc + qd + run_s
        END AS fin,
        status = 'RUNNING' AND ti = ${typeIndex('mail-migration')} AND r_misc < 0.35 AS counting,
        (${c.errors})[(ti - 1) * 3 + 1 + floor(r_err * 3)::int] AS err,
        'worker-' || (1 + floor(r_beat2 * ${WORKERS})::int) AS worker,
        CASE WHEN r_approve < 0.6 THEN (${c.owners})[oi] ELSE 'bob' END AS canceller,
        (ti = ${typeIndex('deployment')} AND env = 'prod') OR sd IN ('WAITING_APPROVAL','REJECTED')
          OR (ti IN (${typeIndex('masking')}, ${typeIndex('mass-edit')}) AND env = 'prod' AND r_approve < 0.3) AS requires_approval,
        (${c.approverSets})[1 + floor(r_approve * ${APPROVER_SETS.length})::int] AS approver_set) i
      OFFSET 0`;

  // D: the remaining instants, then the row as stored.
  const levelD = `SELECT c.*, j.*, k.*
      FROM (${levelC2}) c
      CROSS JOIN LATERAL (SELECT
        CASE
          WHEN status IN ('TRAPPED','TRAP_PAUSED') THEN greatest(st, ${t1} - 60 - r_beat * 1800)
        END AS trapped_at,
        CASE
          WHEN status = 'CANCELLING' THEN greatest(st, ${t1} - 2 - r_beat * 20)
          WHEN status = 'CANCELLED' AND st IS NULL THEN fin
          WHEN status = 'CANCELLED' THEN greatest(st, fin - 1 - r_beat * 10)
        END AS cancel_at,
        CASE WHEN status = 'ROLLBACK' THEN greatest(st, ${t1} - 30 - r_beat * 300) END AS rollback_at,
        CASE
          WHEN status = 'ABENDED' THEN fin - 30
          WHEN status IN ${WORKER_HELD} THEN greatest(st, ${t1} - r_beat * 10)
          WHEN st IS NOT NULL THEN greatest(st, fin - r_beat * 5)
        END AS hb,
        CASE
          WHEN status = 'PENDING' AND ran_terminal AND has_schedule THEN tc + qd
          WHEN status = 'PENDING' AND r_sched2 < 0.4 THEN ${t1} + 300 + r_wait * 129600
          WHEN status = 'WAITING_APPROVAL' AND r_sched2 < 0.3 THEN ${t1} + 3600 + r_wait * 172800
          WHEN status = 'EXPIRED' THEN tc + (fin - tc) * 0.4
          WHEN st IS NOT NULL AND has_schedule THEN greatest(tc, st - 1 - r_beat2 * 5)
        END AS sched) j
      CROSS JOIN LATERAL (SELECT
        CASE
          WHEN status = 'EXPIRED' THEN tc + (fin - tc) * 0.999
          WHEN status IN ('PENDING','WAITING_APPROVAL') AND sched > ${t1} THEN sched + 3600 * (1 + floor(r_misc * 8))
          WHEN st IS NOT NULL AND has_schedule AND r_sched2 < 0.5 THEN sched + 14400
        END AS max_start,
        CASE
          WHEN status IN ('TRAPPED','TRAP_PAUSED') THEN trapped_at
          WHEN status = 'ROLLBACK' THEN rollback_at
          WHEN status = 'ABENDED' THEN fin - 30
          WHEN status IN ${WORKER_HELD} THEN greatest(st, ${t1} - r_beat * 15)
          WHEN st IS NOT NULL THEN fin
        END AS prog_at,
        CASE WHEN st IS NULL OR counting THEN NULL ELSE total_full END AS total,
        CASE WHEN st IS NULL OR counting THEN 0 ELSE floor(total_full * pf) END AS done,
        CASE WHEN status = 'TRAP_PAUSED' THEN trapped_at + (${t1} - trapped_at) * (0.2 + 0.6 * r_beat2) END AS paused_at) k
      OFFSET 0`;
  return { levelD, t1 };
}
