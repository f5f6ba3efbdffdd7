import type { SqlParams } from '../db/sql-params';
import { BadUserInputError } from '../errors';
import { assertScope, subtreeBounds } from '../permissions/scope';
import { ALL_STATUSES, type JobStatus, TAB_STATUSES } from './job-status';
import type { JobFilter } from './job-filter.input';
import { assertAttributes } from './job-attributes';

/** Started/finished as their indexes store them: `-infinity` while the job has not started/finished. */
const NOT_YET = {
  started: `coalesce(started_at, '-infinity')`,
  finished: `coalesce(finished_at, '-infinity')`,
} as const;

/** `value LIKE` pattern that matches `text` literally anywhere. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/** `column = $n` for one value (so an index can also serve the order), `= ANY` for several. */
function oneOf(column: string, values: readonly string[], params: SqlParams): string {
  if (values.length === 0) return 'FALSE';
  if (values.length === 1) return `${column} = ${params.add(values[0])}`;
  return `${column} = ANY(${params.add(values)}::text[])`;
}

/** The scope and its whole subtree, as two index range conditions. */
export function scopeSubtreeSql(column: string, scope: string, params: SqlParams): string {
  const { lower, upper } = subtreeBounds(scope);
  return `(${column} = ${params.add(scope)} OR (${column} >= ${params.add(lower)} AND ${column} < ${params.add(upper)}))`;
}

/** The statuses a filter admits, or undefined when it admits every status. */
export function filterStatuses(filter: JobFilter | null | undefined): readonly JobStatus[] | undefined {
  let statuses: readonly JobStatus[] | undefined;
  if (filter?.tab != null && filter.tab !== 'ALL') statuses = TAB_STATUSES[filter.tab];
  if (filter?.statuses != null) {
    const wanted = new Set(filter.statuses);
    statuses = (statuses ?? ALL_STATUSES).filter((status) => wanted.has(status));
  }
  return statuses;
}

/** The filter as SQL conditions over `jobs` (all must hold). Validates what the schema cannot. */
/** The filter's own limits, for every path that takes one (lists, bulk actions, subscriptions, alert rules). */
function validateFilter(filter: JobFilter): void {
  if (filter.name != null && (filter.name.length < 1 || filter.name.length > 200)) {
    throw new BadUserInputError('filter.name must be 1 to 200 characters', 'filter.name');
  }
  for (const [field, list, max] of [
    ['types', filter.types, 100],
    ['owners', filter.owners, 200],
  ] as const) {
    if (list == null) continue;
    if (list.length > 100) throw new BadUserInputError(`filter.${field} may name at most 100 values`, `filter.${field}`);
    if (list.some((value) => value.length > max))
      throw new BadUserInputError(`filter.${field} values must be at most ${max} characters`, `filter.${field}`);
  }
  if (filter.statuses != null && filter.statuses.length > 20)
    throw new BadUserInputError('filter.statuses may name at most 20 statuses', 'filter.statuses');
  if (filter.attributes != null) assertAttributes(filter.attributes, 'filter.attributes');
  if (filter.asset != null && (filter.asset.length < 1 || filter.asset.length > 500)) {
    throw new BadUserInputError('filter.asset must be 1 to 500 characters', 'filter.asset');
  }
}

export function jobFilterConditions(filter: JobFilter | null | undefined, params: SqlParams): string[] {
  if (filter == null) return [];
  validateFilter(filter);
  const conditions: string[] = [];
  if (filter.name != null) conditions.push(`name ILIKE ${params.add(containsPattern(filter.name))}`);
  if (filter.types != null) conditions.push(oneOf('type', filter.types, params));
  if (filter.owners != null) conditions.push(oneOf('owner_id', filter.owners, params));
  const statuses = filterStatuses(filter);
  if (statuses !== undefined && statuses.length < ALL_STATUSES.length) conditions.push(oneOf('status', statuses, params));
  // Containment: every pair must match; served by the GIN index (jsonb_path_ops) on attributes.
  if (filter.attributes != null && Object.keys(filter.attributes).length > 0) {
    conditions.push(`attributes @> ${params.add(JSON.stringify(filter.attributes))}::jsonb`);
  }
  if (filter.asset != null) conditions.push(`asset = ${params.add(filter.asset)}`);
  if (filter.scope != null) conditions.push(scopeSubtreeSql('scope', assertScope(filter.scope, 'filter.scope'), params));
  // Started/finished compare the expressions their indexes are built on (`coalesce(x, '-infinity')`,
  // the keyset order of list-jobs.ts), so a range is an index range. `-infinity` stands for "not
  // yet": it is below every "after" bound by itself, and "before" bounds exclude it explicitly.
  const ranges: Array<[Date | null | undefined, string, '>=' | '<', boolean]> = [
    [filter.createdAfter, 'created_at', '>=', false],
    [filter.createdBefore, 'created_at', '<', false],
    [filter.startedAfter, NOT_YET.started, '>=', true],
    [filter.startedBefore, NOT_YET.started, '<', true],
    [filter.finishedAfter, NOT_YET.finished, '>=', true],
    [filter.finishedBefore, NOT_YET.finished, '<', true],
  ];
  for (const [value, expression, operator, nullable] of ranges) {
    if (value == null) continue;
    if (nullable && operator === '<') conditions.push(`${expression} > '-infinity'`);
    conditions.push(`${expression} ${operator} ${params.add(value)}`);
  }
  return conditions;
}
