import type { Sql } from '../../db/sql';

export interface JobFactsRow {
  readonly scope: string;
  readonly type: string;
  readonly owner_id: string;
}

/**
 * A job's scope, type and owner, for deciding who may see its history: from the job if it is
 * there, else from its newest timeline event (the tombstone of a deleted job). Undefined for an
 * id that never existed, or whose history is gone.
 */
export function findJobFacts(sql: Sql, jobId: string): Promise<JobFactsRow | undefined> {
  return sql.one<JobFactsRow>(
    `(SELECT scope, type, owner_id FROM jobs WHERE id = $1)
     UNION ALL
     (SELECT job_scope, job_type, job_owner_id FROM timeline_events WHERE job_id = $1 ORDER BY id DESC LIMIT 1)
     LIMIT 1`,
    [jobId],
  );
}
