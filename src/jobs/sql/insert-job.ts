import type { Sql } from '../../db/sql';
import { JOB_COLUMNS, type JobRow } from '../job.row';
import type { JobStatus } from '../job-status';

export interface NewJob {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly scope: string;
  readonly ownerId: string;
  readonly ownerName: string | null;
  readonly status: JobStatus;
  readonly config: Record<string, unknown>;
  readonly secrets: Buffer | null;
  readonly approvers: readonly string[];
  readonly requiresApproval: boolean;
  readonly scheduledAt: Date | null;
  readonly maxStartAt: Date | null;
  readonly asset: string | null;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Inserts a job and its CREATED timeline event in one statement. */
export async function insertJob(sql: Sql, job: NewJob): Promise<JobRow> {
  const row = await sql.one<JobRow>(
    `WITH created AS (
       INSERT INTO jobs (id, name, type, scope, owner_id, owner_name, status, config, secrets, approvers, requires_approval,
                         scheduled_at, max_start_at, asset, attributes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       RETURNING *
     ),
     event AS (
       INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, to_status, attempt, step, job_scope, job_type, job_owner_id)
       SELECT id, 'CREATED', owner_id, 'USER', status, attempt, step, scope, type, owner_id FROM created
     )
     SELECT ${JOB_COLUMNS} FROM created`,
    [
      job.id,
      job.name,
      job.type,
      job.scope,
      job.ownerId,
      job.ownerName,
      job.status,
      JSON.stringify(job.config),
      job.secrets,
      job.approvers,
      job.requiresApproval,
      job.scheduledAt,
      job.maxStartAt,
      job.asset,
      JSON.stringify(job.attributes),
    ],
  );
  if (row === undefined) throw new Error('insert returned no row');
  return row;
}
