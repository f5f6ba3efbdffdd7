/**
 * The SQL the API runs for a list, built with the app's own functions: `visibleJobsWhere` (the
 * user's `jobPredicate(ability, 'view_monitor')` plus `jobFilterConditions(filter)`, what the
 * `jobs` resolver uses), handed to `listJobs` / `countJobs`, and captured instead of run.
 */
import type { Pool } from 'pg';
import { type Sql, sqlOf } from '../../src/db/sql';
import type { JobFilter } from '../../src/jobs/job-filter.input';
import type { JobStatus } from '../../src/jobs/job-status';
import type { JobOrderField, OrderDirection } from '../../src/jobs/job.enums';
import { countJobs, listJobs, type ListJobsQuery } from '../../src/jobs/sql/list-jobs';
import { visibleJobsWhere } from '../../src/jobs/visible-jobs';
import type { AppAbility } from '../../src/permissions/ability';
import { PermissionStore } from '../../src/permissions/permission-store';
import type { Statement } from './scenarios';

/** A JobFilter as a client sends it in variables (dates as ISO strings). */
export interface ScenarioFilter {
  readonly statuses?: readonly string[];
  readonly name?: string;
  readonly owners?: readonly string[];
  readonly createdAfter?: string;
  readonly createdBefore?: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface ListPage {
  readonly filter: ScenarioFilter | null;
  readonly order: { readonly field: JobOrderField; readonly direction: OrderDirection };
  readonly first: number;
  readonly after: string | null;
}

/** The user's ability, loaded by the API's own PermissionStore (without its cache). */
export function loadAbility(pool: Pool, userId: string): Promise<AppAbility> {
  return new PermissionStore(sqlOf(pool), undefined).abilityFor(userId);
}

/** The filter as the API's resolvers receive it (DateTime variables parsed into Dates). */
export function toJobFilter(filter: ScenarioFilter | null): JobFilter | null {
  if (filter === null) return null;
  const date = (value: string) => new Date(value);
  return {
    ...(filter.statuses === undefined ? {} : { statuses: [...filter.statuses] as JobStatus[] }),
    ...(filter.name === undefined ? {} : { name: filter.name }),
    ...(filter.owners === undefined ? {} : { owners: [...filter.owners] }),
    ...(filter.createdAfter === undefined ? {} : { createdAfter: date(filter.createdAfter) }),
    ...(filter.createdBefore === undefined ? {} : { createdBefore: date(filter.createdBefore) }),
    ...(filter.attributes === undefined ? {} : { attributes: { ...filter.attributes } }),
  };
}

export function listQuery(page: ListPage, ability: AppAbility): ListJobsQuery {
  return {
    where: visibleJobsWhere({ ability }, toJobFilter(page.filter)),
    field: page.order.field,
    direction: page.order.direction,
    first: page.first,
    after: page.after,
  };
}

/** The first statement `run` sends, captured instead of sent (the function sees no rows). */
export function captureStatement(run: (sql: Sql) => Promise<unknown>): Statement {
  let captured: Statement | undefined;
  const recorder: Sql = {
    rows: async (text, params = []) => {
      captured ??= { text, values: [...params] };
      return [];
    },
    one: async (text, params = []) => {
      captured ??= { text, values: [...params] };
      return undefined;
    },
    execute: async () => 0,
  };
  // Every app function here builds its statement before its first await: the capture is synchronous.
  void run(recorder).catch(() => undefined);
  if (captured === undefined) throw new Error('the function sent no statement synchronously');
  return captured;
}

/** The API's list statement for the page, selecting only `columns` instead of what the API selects. */
export function narrowListStatement(page: ListPage, ability: AppAbility, columns: readonly string[]): Statement {
  const statement = captureStatement((sql) => listJobs(sql, listQuery(page, ability)));
  return { text: selectOnly(statement.text, columns), values: statement.values };
}

/** The API's totalCount statement for the page's filter. */
export function countStatement(page: ListPage, ability: AppAbility): Statement {
  return captureStatement((sql) => countJobs(sql, listQuery(page, ability).where));
}

/** The statement with its select list replaced by `columns`. */
export function selectOnly(text: string, columns: readonly string[]): string {
  const replaced = text.replace(/^\s*SELECT [\s\S]*? FROM jobs /, `SELECT ${columns.join(', ')} FROM jobs `);
  if (replaced === text) throw new Error(`not a SELECT ... FROM jobs statement: ${text.slice(0, 200)}`);
  return replaced;
}
