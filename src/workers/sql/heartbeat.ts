import type { Sql } from '../../db/sql';
import { SqlParams } from '../../db/sql-params';
import { WORKER_HELD_STATUSES, type JobStatus } from '../../jobs/job-status';
import type { TrapDecision } from '../../jobs/actions/trap-decision';
import type { Lease } from '../lease';

export interface HeartbeatRow {
  readonly status: JobStatus;
  readonly trap_decision: TrapDecision | null;
  readonly progress_sequence: string | null;
}

/**
 * Records a heartbeat of the attempt `lease` names, guarded by the lease, a held status and
 * `executable` (the worker's execute permission as SQL over `j`): undefined when any fails.
 * Answers the job's status, its trap decision and its stored progress sequence. The decision
 * after a trap is answered on every heartbeat until the worker traps again (the trap clears it)
 * or the attempt ends: a lost answer is never a lost decision.
 */
export function recordHeartbeat(sql: Sql, lease: Lease, executable: (params: SqlParams) => string): Promise<HeartbeatRow | undefined> {
  const params = new SqlParams();
  const id = params.add(lease.jobId);
  const token = params.add(lease.token);
  const held = params.add(WORKER_HELD_STATUSES);
  return sql.one<HeartbeatRow>(
    `UPDATE jobs j SET heartbeat_at = now()
      WHERE j.id = ${id} AND j.lease_token = ${token} AND j.status = ANY(${held}::text[]) AND ${executable(params)}
     RETURNING j.status, j.trap_decision, j.progress_sequence`,
    params.values,
  );
}
