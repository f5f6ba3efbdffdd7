import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { JobStatus, JobStep } from '../../src/jobs/job-status';

/** A job row as a test wants it: anything not given gets a plain default. */
export interface JobSeed {
  id?: string;
  name?: string;
  type?: string;
  scope?: string;
  owner_id?: string;
  status?: JobStatus;
  step?: JobStep;
  created_at?: Date;
  started_at?: Date | null;
  finished_at?: Date | null;
  approvers?: string[];
  requires_approval?: boolean;
  progress_done?: number;
  progress_total?: number | null;
  progress_percent?: number | null;
  message?: string | null;
  attempt?: number;
  attributes?: Record<string, string>;
  asset?: string | null;
}

/** Inserts jobs in one statement and answers them with their ids. */
export async function insertJobs(pool: Pool, seeds: readonly JobSeed[]): Promise<Array<Required<Pick<JobSeed, 'id'>> & JobSeed>> {
  const now = new Date();
  const rows = seeds.map((seed) => ({
    id: seed.id ?? randomUUID(),
    name: seed.name ?? 'A job',
    type: seed.type ?? 'import',
    scope: seed.scope ?? 'acme/payments/prod',
    owner_id: seed.owner_id ?? 'alice',
    status: seed.status ?? 'PENDING',
    step: seed.step ?? 'PRE',
    config: {},
    approvers: seed.approvers ?? [],
    requires_approval: seed.requires_approval ?? false,
    created_at: (seed.created_at ?? now).toISOString(),
    started_at: seed.started_at?.toISOString() ?? null,
    finished_at: seed.finished_at?.toISOString() ?? null,
    updated_at: now.toISOString(),
    attempt: seed.attempt ?? 1,
    progress_done: seed.progress_done ?? 0,
    progress_total: seed.progress_total ?? null,
    progress_percent: seed.progress_percent ?? null,
    message: seed.message ?? null,
    attributes: seed.attributes ?? {},
    asset: seed.asset ?? null,
  }));
  await pool.query(`INSERT INTO jobs SELECT * FROM json_populate_recordset(NULL::jobs, $1::json)`, [JSON.stringify(rows)]);
  return rows.map((row, index) => ({ ...seeds[index], id: row.id }));
}

export async function grant(pool: Pool, userId: string, role: string, scope: string | null = null): Promise<void> {
  await pool.query(`INSERT INTO grants (user_id, role_name, scope) VALUES ($1, $2, $3)`, [userId, role, scope]);
}

export async function createRole(pool: Pool, name: string, rules: unknown[]): Promise<void> {
  await pool.query(`INSERT INTO roles (name, description, rules) VALUES ($1, '', $2)`, [name, JSON.stringify(rules)]);
}
