import type { Sql } from '../../db/sql';

/** The id of a job's newest timeline event; 0 when it has none. */
export async function latestEventId(sql: Sql, jobId: string): Promise<bigint> {
  const latest = await sql.one<{ id: string | null }>('SELECT max(id)::text AS id FROM timeline_events WHERE job_id = $1', [jobId]);
  return BigInt(latest?.id ?? 0);
}
