import type { Sql } from '../db/sql';
import { DECAYED_RATE_SQL, RATE_GRACE_MS } from '../jobs/smoothed-rate';

/** A quiet job's decaying rate is written at most this often (each write reaches its subscribers). */
const DECAY_WRITE_EVERY_MS = 5_000;

export interface StallSettings {
  readonly stallAfterMs: number;
  readonly heartbeatTimeoutMs: number;
}

/**
 * RUNNING jobs whose worker keeps heartbeating but whose figures have not moved for
 * STALL_AFTER_MS: `progress_stalled_since` (when they stopped moving) and a timeline event, so
 * that subscribers are told; the flush clears it when progress resumes. $1 stall seconds,
 * $2 heartbeat timeout seconds, $3 batch.
 */
export const STALLED_SQL = `
  WITH due AS (
    SELECT id FROM jobs
     WHERE status = 'RUNNING' AND progress_stalled_since IS NULL AND progress_advanced_at < now() - make_interval(secs => $1)
       AND heartbeat_at >= now() - make_interval(secs => $2)
     ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED
  ),
  stalled AS (
    UPDATE jobs j SET progress_stalled_since = j.progress_advanced_at,
           updated_at = greatest(clock_timestamp(), j.updated_at + interval '1 millisecond')
      FROM due WHERE j.id = due.id
    RETURNING j.id, j.attempt, j.step, j.scope, j.type, j.owner_id, j.progress_advanced_at
  )
  INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, attempt, step, message, data, job_scope, job_type, job_owner_id)
  SELECT id, 'PROGRESS', NULL, 'SYSTEM', attempt, step,
         'No progress for ' || round(extract(epoch FROM now() - progress_advanced_at)) || ' s while the worker heartbeats: stalled',
         jsonb_build_object('stalledSince', progress_advanced_at), scope, type, owner_id
    FROM stalled`;

/**
 * RUNNING jobs with no news of their rate for a while: the decayed rate (what currentRate shows
 * when read) is written, every DECAY_WRITE_EVERY_MS until it is 0, so that an open jobProgress
 * or jobUpdated sees the rate fall and the ETA grow instead of frozen figures. $1 batch.
 */
export const DECAYING_RATES_SQL = `
  UPDATE jobs j SET progress_rate = ${DECAYED_RATE_SQL('j.progress_rate', 'j.progress_rate_at')},
         progress_rate_at = now() - make_interval(secs => ${RATE_GRACE_MS / 1000}),
         updated_at = greatest(clock_timestamp(), j.updated_at + interval '1 millisecond')
   WHERE j.id = ANY(ARRAY(
     SELECT id FROM jobs
      WHERE status = 'RUNNING' AND progress_rate > 0
        AND progress_rate_at < now() - make_interval(secs => ${(RATE_GRACE_MS + DECAY_WRITE_EVERY_MS) / 1000})
      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED))`;

/** One daemon pass over quiet running jobs: answers how many were found stalled. */
export async function markQuietProgress(tx: Sql, settings: StallSettings, batch: number): Promise<number> {
  await tx.execute(DECAYING_RATES_SQL, [batch]);
  return tx.execute(STALLED_SQL, [settings.stallAfterMs / 1000, settings.heartbeatTimeoutMs / 1000, batch]);
}
