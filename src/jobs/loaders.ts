import DataLoader from 'dataloader';
import type { Sql } from '../db/sql';
import { type Task, type TaskRow, toTask } from './task.types';
import { TIMELINE_COLUMNS, type TimelineRow } from './timeline.types';
import { SqlParams } from '../db/sql-params';
import type { AppAbility } from '../permissions/ability';
import { jobPredicate } from '../permissions/rules-to-sql';
import { jobTypeStats, slowThreshold } from './stats/job-type-stats';

/** One page of a job's timeline: the events after `after` (an event id), at most `limit`, only of `kinds` when set. */
export interface TimelinePageKey {
  readonly jobId: string;
  readonly after: string;
  readonly limit: number;
  /** Event kinds (enum values, validated by GraphQL), or undefined for every kind. */
  readonly kinds?: readonly string[] | undefined;
}

/** Per-request batch loaders: a page of 500 jobs asking for tasks is one query, not 500. */
export interface Loaders {
  readonly tasksByJob: DataLoader<string, Task[]>;
  readonly typeP95: DataLoader<string, number | null>;
  readonly timelinePage: DataLoader<TimelinePageKey, TimelineRow[], string>;
}

export function createLoaders(sql: Sql, ability: AppAbility): Loaders {
  return { typeP95: typeP95Loader(sql, ability), tasksByJob: tasksLoader(sql), timelinePage: timelinePageLoader(sql) };
}

/** The p95 the viewer would see in jobTypeStats: over the runs they may view, no one else's. */
export function typeP95Loader(sql: Sql, ability: AppAbility): DataLoader<string, number | null> {
  return new DataLoader<string, number | null>(async (types) => {
    const params = new SqlParams();
    const stats = await jobTypeStats(sql, types, params, jobPredicate(ability, 'view_monitor', params));
    // Null until enough runs ran to call anything slower than usual (SLOW_MIN_RUNS, like the daemon).
    return stats.map(slowThreshold);
  });
}

/** Tasks are the job's, not the viewer's: whoever may see the job sees all of them. */
export function tasksLoader(sql: Sql): DataLoader<string, Task[]> {
  return new DataLoader<string, Task[]>(async (jobIds) => {
    const rows = await sql.rows<TaskRow>(
      `SELECT job_id, name, position, status, done, total, unit, rate_per_minute, message, started_at, finished_at, updated_at
         FROM tasks WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, position, name`,
      [jobIds],
      { prepare: true },
    );
    const byJob = new Map<string, Task[]>(jobIds.map((id) => [id, []]));
    for (const row of rows) byJob.get(row.job_id)?.push(toTask(row));
    return jobIds.map((id) => byJob.get(id) ?? []);
  });
}

/** Timeline pages of many jobs (each with its own cursor, size and kinds) in one query. */
export function timelinePageLoader(sql: Sql): DataLoader<TimelinePageKey, TimelineRow[], string> {
  return new DataLoader<TimelinePageKey, TimelineRow[], string>(
    async (keys) => {
      const rows = await sql.rows<TimelineRow & { key: number }>(
        // Kinds travel as one comma-separated text per key (NULL: every kind): arrays of arrays must be rectangular.
        `SELECT k.n::int AS key, e.* FROM unnest($1::uuid[], $2::bigint[], $3::int[], $4::text[]) WITH ORDINALITY AS k(job_id, after, lim, kinds, n)
           CROSS JOIN LATERAL (SELECT ${TIMELINE_COLUMNS} FROM timeline_events t
                                WHERE t.job_id = k.job_id AND t.id > k.after
                                  AND (k.kinds IS NULL OR t.kind = ANY (string_to_array(k.kinds, ',')))
                                ORDER BY t.id LIMIT k.lim) e
          ORDER BY k.n, e.id`,
        [keys.map((key) => key.jobId), keys.map((key) => key.after), keys.map((key) => key.limit), keys.map((key) => kindsText(key.kinds))],
        { prepare: true },
      );
      const pages = keys.map((): TimelineRow[] => []);
      for (const { key, ...row } of rows) pages[key - 1]?.push(row);
      return pages;
    },
    { cacheKeyFn: (key) => `${key.jobId}:${key.after}:${key.limit}:${kindsText(key.kinds) ?? '*'}` },
  );
}

function kindsText(kinds: readonly string[] | undefined): string | null {
  return kinds === undefined ? null : [...new Set(kinds)].sort().join(',');
}
