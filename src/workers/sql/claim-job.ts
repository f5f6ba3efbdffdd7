import type { Sql } from '../../db/sql';
import { SqlParams } from '../../db/sql-params';
import { JOB_COLUMNS, type JobRow } from '../../jobs/job.row';
import { SCHEDULED_STEP, TRANSITIONS } from '../../jobs/job-status';
import { targetStatusSql } from '../../jobs/transitions/transition-sql';

/** Literals, not parameters: the partial index of claimable jobs (status = 'PENDING') stays usable. */
const [FROM] = TRANSITIONS.claim.from;
const TO = TRANSITIONS.claim.to;
const TO_SQL = targetStatusSql('claim');

export type ClaimedRow = JobRow & { lease_token: string; secrets: Buffer | null };

/**
 * Claims the next runnable job in one statement: the oldest PENDING job that may run now (its RUN
 * step waits for its schedule, PRE and POST do not) and whose deadline has not passed, of the
 * wanted types, that this worker may execute. Rows other workers are claiming are skipped, never
 * waited for, so N workers claim N different jobs.
 * A new attempt has not yet said whether it reports its own done/total (`progress_own`), nor
 * stored any sequenced report (`progress_sequence`).
 */
export async function claimJob(
  sql: Sql,
  options: { workerId: string; actorId: string; types: readonly string[] | null; executable: (params: SqlParams) => string },
): Promise<ClaimedRow | undefined> {
  const params = new SqlParams();
  const typeFilter = options.types === null ? '' : `AND j.type = ANY(${params.add(options.types)}::text[])`;
  return sql.one<ClaimedRow>(
    `WITH next AS (
       SELECT j.id FROM jobs j
        WHERE j.status = '${FROM}' AND (j.step <> '${SCHEDULED_STEP}' OR j.scheduled_at IS NULL OR j.scheduled_at <= now())
          AND (j.max_start_at IS NULL OR j.max_start_at > now()) ${typeFilter} AND ${options.executable(params)}
        ORDER BY j.scheduled_at NULLS FIRST, j.created_at
        LIMIT 1 FOR UPDATE SKIP LOCKED
     ),
     claimed AS (
       UPDATE jobs j SET status = ${TO_SQL}, worker_id = ${params.add(options.workerId)}, lease_token = gen_random_uuid(),
              progress_own = NULL, progress_sequence = 0, ended_lease_token = NULL,
              progress_advanced_at = now(), progress_stalled_since = NULL,
              heartbeat_at = now(), started_at = now(), trap_decision = NULL, updated_at = greatest(clock_timestamp(), j.updated_at + interval '1 millisecond')
         FROM next WHERE j.id = next.id
       RETURNING j.*
     ),
     event AS (
       INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, from_status, to_status, attempt, step, message, data,
                                    job_scope, job_type, job_owner_id)
       SELECT id, 'CLAIMED', ${params.add(options.actorId)}, 'WORKER', '${FROM}', '${TO}', attempt, step, NULL,
              jsonb_build_object('workerId', worker_id), scope, type, owner_id
         FROM claimed
     )
     SELECT ${JOB_COLUMNS}, lease_token, secrets FROM claimed`,
    params.values,
  );
}
