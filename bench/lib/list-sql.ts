/**
 * The SQL the API runs for a scenario, built with the app's own functions: `visibleJobsWhere`
 * (the user's `jobPredicate(ability, 'view_monitor')` plus `jobFilterConditions(filter)`, what
 * the `jobs` resolver uses), handed to `listJobs` with the same order, page size and cursor.
 */
import type { Pool } from 'pg';
import { type Sql, sqlOf } from '../../src/db/sql';
import type { JobFilter } from '../../src/jobs/job-filter.input';
import type { JobStatus } from '../../src/jobs/job-status';
import { listJobs, type ListJobsQuery } from '../../src/jobs/sql/list-jobs';
import { visibleJobsWhere } from '../../src/jobs/visible-jobs';
import type { AppAbility } from '../../src/permissions/ability';
import { PermissionStore } from '../../src/permissions/permission-store';
import type { Scenario, ScenarioFilter } from './scenarios';

/** The user's ability, loaded by the API's own PermissionStore (without its cache). */
export function loadAbility(pool: Pool, userId: string): Promise<AppAbility> {
  return new PermissionStore(sqlOf(pool), undefined).abilityFor(userId);
}

/** The filter as the API's resolvers receive it (DateTime variables parsed into Dates). */
export function toJobFilter(filter: ScenarioFilter | null): JobFilter | null {
  if (filter === null) return null;
  const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));
  return {
    ...(filter.statuses === undefined ? {} : { statuses: [...filter.statuses] as JobStatus[] }),
    ...(filter.name === undefined ? {} : { name: filter.name }),
    ...(filter.owners === undefined ? {} : { owners: [...filter.owners] }),
    ...(filter.createdAfter === undefined ? {} : { createdAfter: date(filter.createdAfter) }),
    ...(filter.createdBefore === undefined ? {} : { createdBefore: date(filter.createdBefore) }),
  };
}

export function listQuery(scenario: Scenario, ability: AppAbility): ListJobsQuery {
  return {
    where: visibleJobsWhere({ ability }, toJobFilter(scenario.filter)),
    field: scenario.order.field,
    direction: scenario.order.direction,
    first: scenario.first,
    after: scenario.after,
  };
}

/** The statement `listJobs` would send for the scenario, captured instead of run. */
export async function captureListSql(scenario: Scenario, ability: AppAbility): Promise<{ text: string; values: unknown[] }> {
  let captured: { text: string; values: unknown[] } | undefined;
  const recorder: Sql = {
    rows: async (text, params = []) => {
      captured = { text, values: [...params] };
      return [];
    },
    one: async () => undefined,
    execute: async () => 0,
  };
  await listJobs(recorder, listQuery(scenario, ability));
  if (captured === undefined) throw new Error(`listJobs sent no statement for scenario ${scenario.id}`);
  return captured;
}
