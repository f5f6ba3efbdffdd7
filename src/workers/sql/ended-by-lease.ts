import type { Sql } from '../../db/sql';
import { SqlParams } from '../../db/sql-params';
import type { TRANSITIONS } from '../../jobs/job-status';
import { JOB_COLUMNS, type JobRow } from '../../jobs/job.row';
import type { Lease } from '../lease';

/**
 * The job `lease` itself ended into `status` (its `ended_lease_token`), guarded by `executable`
 * (the worker's execute permission as SQL over `j`): undefined when it did not, or may not see it.
 * A repeated end (its first answer was lost) is answered from it, with nothing changed.
 */
export function findEndedByLease(
  sql: Sql,
  lease: Lease,
  status: (typeof TRANSITIONS)[keyof typeof TRANSITIONS]['to'],
  executable: (params: SqlParams) => string,
): Promise<JobRow | undefined> {
  const params = new SqlParams();
  return sql.one<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs j
      WHERE j.id = ${params.add(lease.jobId)} AND j.ended_lease_token = ${params.add(lease.token)}::uuid
        AND j.status = ${params.add(status)} AND ${executable(params)}`,
    params.values,
  );
}
