import DataLoader from 'dataloader';
import type { Sql } from '../db/sql';
import { SqlParams } from '../db/sql-params';
import type { Loaders, TimelinePageKey } from '../jobs/loaders';
import type { Task } from '../jobs/task.types';
import type { TimelineRow } from '../jobs/timeline.types';
import { tasksLoader, timelinePageLoader } from '../jobs/loaders';
import { jobTypeStats } from '../jobs/stats/job-type-stats';
import type { AppAbility } from '../permissions/ability';
import { jobPredicate } from '../permissions/rules-to-sql';

const P95_TTL_MS = 10_000;
const P95_MAX_ENTRIES = 2_000;

/** A stable key of an ability's rules: viewers with the same rules see the same runs. */
const keys = new WeakMap<AppAbility, string>();
export function rulesKey(ability: AppAbility): string {
  let key = keys.get(ability);
  if (key === undefined) {
    key = JSON.stringify(ability.rules, (_name, value: unknown) => (value instanceof RegExp ? `RegExp:${value.toString()}` : value));
    keys.set(ability, key);
  }
  return key;
}

/**
 * The p95 durations subscribers' `slowerThanUsual` compares with, shared by every viewer with
 * the same rules and kept for a few seconds: a percentile over the last thousand runs hardly
 * moves between two progress events, and re-reading it for each would cost a query per event.
 */
export class SharedTypeStats {
  private readonly entries = new Map<string, { readonly at: number; readonly p95: Promise<number | null> }>();

  constructor(private readonly sql: Sql) {}

  /** A loader of p95s for viewers with these rules; types cached and fresh are not read again. */
  loaderFor(ability: AppAbility, key: string): DataLoader<string, number | null> {
    return new DataLoader<string, number | null>(async (types) => {
      const now = Date.now();
      const answers = new Map<string, Promise<number | null>>();
      const missing: string[] = [];
      for (const type of types) {
        const entry = this.entries.get(`${key}\u0000${type}`);
        if (entry !== undefined && now - entry.at < P95_TTL_MS) answers.set(type, entry.p95);
        else missing.push(type);
      }
      if (missing.length > 0) {
        const params = new SqlParams();
        const read = jobTypeStats(this.sql, missing, params, jobPredicate(ability, 'view_monitor', params));
        missing.forEach((type, index) => {
          const entryKey = `${key}\u0000${type}`;
          const entry = { at: now, p95: read.then((stats) => stats[index]?.p95Duration ?? null) };
          answers.set(type, entry.p95);
          this.remember(entryKey, entry);
          // A failed read is not kept: the next event asks again.
          entry.p95.catch(() => {
            if (this.entries.get(entryKey) === entry) this.entries.delete(entryKey);
          });
        });
      }
      return Promise.all(types.map((type) => answers.get(type) as Promise<number | null>));
    });
  }

  private remember(key: string, entry: { readonly at: number; readonly p95: Promise<number | null> }): void {
    this.entries.delete(key);
    if (this.entries.size >= P95_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, entry);
  }
}

/**
 * The loaders of one fan-out batch, shared by every subscriber that receives its rows: tasks
 * and timeline pages are the job's (a subscriber only gets the row when it may see the job),
 * the p95 is per rule set. However many subscribers resolve `tasks` for a job of the batch,
 * it is read once.
 */
export class EventBatch {
  private tasks: Loaders['tasksByJob'] | undefined;
  private timeline: Loaders['timelinePage'] | undefined;
  private readonly byRules = new Map<string, Loaders>();

  constructor(
    private readonly sql: Sql,
    private readonly stats: SharedTypeStats,
  ) {}

  readonly loadersFor = (ability: AppAbility): Loaders => {
    const key = rulesKey(ability);
    let loaders = this.byRules.get(key);
    if (loaders === undefined) {
      this.tasks ??= tasksLoader(this.sql);
      this.timeline ??= timelinePageLoader(this.sql);
      loaders = { tasksByJob: this.tasks, timelinePage: this.timeline, typeP95: this.stats.loaderFor(ability, key) };
      this.byRules.set(key, loaders);
    }
    return loaders;
  };
}

/**
 * The loaders of a removal event (a job deleted, or no longer visible to the viewer): nothing
 * of the job is read again, so nothing newer than what the viewer was shown goes out.
 */
export const REMOVED_LOADERS: Loaders = {
  tasksByJob: new DataLoader<string, Task[]>(async (ids) => ids.map(() => []), { cache: false }),
  typeP95: new DataLoader<string, number | null>(async (types) => types.map(() => null), { cache: false }),
  timelinePage: new DataLoader<TimelinePageKey, TimelineRow[], string>(async (keys) => keys.map(() => []), { cache: false }),
};
