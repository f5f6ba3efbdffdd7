import type { SqlParams } from '../db/sql-params';
import type { Context } from '../app/context';
import { jobPredicate } from '../permissions/rules-to-sql';
import type { JobFilter } from './job-filter.input';
import { jobFilterConditions } from './job-filter.sql';

/** The WHERE conditions over `jobs` of what the viewer may see and asked for. */
export function visibleJobsWhere(ctx: Pick<Context, 'ability'>, filter: JobFilter | null | undefined) {
  return (params: SqlParams): string[] => {
    const visible = jobPredicate(ctx.ability, 'view_monitor', params);
    return [...(visible === 'TRUE' ? [] : [visible]), ...jobFilterConditions(filter, params)];
  };
}
