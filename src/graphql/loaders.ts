import DataLoader from 'dataloader';
import type { Sql } from '../db/sql';
import { type Task, type TaskRow, toTask } from '../jobs/task.types';
import { SqlParams } from '../db/sql-params';
import type { AppAbility } from '../permissions/ability';
import { jobPredicate } from '../permissions/rules-to-sql';
import { jobTypeStats } from '../jobs/stats/job-type-stats';

/** Per-request batch loaders: a page of 500 jobs asking for tasks is one query, not 500. */
export interface Loaders {
  readonly tasksByJob: DataLoader<string, Task[]>;
  readonly typeP95: DataLoader<string, number | null>;
}

export function createLoaders(sql: Sql, ability: AppAbility): Loaders {
  return {
    // The p95 the viewer would see in jobTypeStats: over the runs they may view, no one else's.
    typeP95: new DataLoader<string, number | null>(async (types) => {
      const params = new SqlParams();
      const stats = await jobTypeStats(sql, types, params, jobPredicate(ability, 'view_monitor', params));
      return stats.map((stat) => stat.p95Duration);
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
