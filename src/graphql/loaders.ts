import DataLoader from 'dataloader';
import type { Sql } from '../db/sql';
import { type Task, type TaskRow, toTask } from '../jobs/task.types';
import type { TypeP95Cache } from '../jobs/stats/type-p95-cache';

/** Per-request batch loaders: a page of 500 jobs asking for tasks is one query, not 500. */
export interface Loaders {
  readonly tasksByJob: DataLoader<string, Task[]>;
  readonly typeP95: DataLoader<string, number | null>;
}

export function createLoaders(sql: Sql, typeP95: TypeP95Cache): Loaders {
  return {
    typeP95: new DataLoader<string, number | null>(async (types) => {
      const p95 = await typeP95.p95(types);
      return types.map((type) => p95.get(type) ?? null);
    }),
    tasksByJob: new DataLoader<string, Task[]>(async (jobIds) => {
      const rows = await sql.rows<TaskRow>(
        `SELECT job_id, name, position, status, done, total, unit, rate_per_minute, message, started_at, finished_at, updated_at
           FROM tasks WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, position, name`,
        [jobIds],
      );
      const byJob = new Map<string, Task[]>(jobIds.map((id) => [id, []]));
      for (const row of rows) byJob.get(row.job_id)?.push(toTask(row));
      return jobIds.map((id) => byJob.get(id) ?? []);
    }),
  };
}
