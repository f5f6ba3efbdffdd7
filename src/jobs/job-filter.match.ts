import { isWithinScope } from '../permissions/scope';
import type { JobFilter } from './job-filter.input';
import { filterStatuses } from './job-filter.sql';
import type { JobRow } from './job.row';
import { hasAttributes } from './job-attributes';

/**
 * The JobFilter evaluated in memory on a row, for subscriptions (lists evaluate it in SQL:
 * job-filter.sql.ts). A test checks the two agree on generated jobs and filters.
 */
export function compileFilter(filter: JobFilter | null | undefined): (row: JobRow) => boolean {
  if (filter == null) return () => true;
  const checks: Array<(row: JobRow) => boolean> = [];
  if (filter.name != null) {
    const name = filter.name.toLowerCase();
    checks.push((row) => row.name.toLowerCase().includes(name));
  }
  if (filter.types != null) {
    const types = new Set(filter.types);
    checks.push((row) => types.has(row.type));
  }
  if (filter.owners != null) {
    const owners = new Set(filter.owners);
    checks.push((row) => owners.has(row.owner_id));
  }
  const statuses = filterStatuses(filter);
  if (statuses !== undefined) {
    const allowed = new Set(statuses);
    checks.push((row) => allowed.has(row.status));
  }
  if (filter.attributes != null) {
    const wanted = filter.attributes as Readonly<Record<string, string>>;
    checks.push((row) => hasAttributes(row.attributes, wanted));
  }
  if (filter.asset != null) {
    const asset = filter.asset;
    checks.push((row) => row.asset === asset);
  }
  if (filter.scope != null) {
    const scope = filter.scope;
    checks.push((row) => isWithinScope(row.scope, scope));
  }
  const range = (value: Date | null | undefined, pick: (row: JobRow) => Date | null, after: boolean) => {
    if (value == null) return;
    const bound = value.getTime();
    checks.push((row) => {
      const at = pick(row);
      return at !== null && (after ? at.getTime() >= bound : at.getTime() < bound);
    });
  };
  range(filter.createdAfter, (row) => row.created_at, true);
  range(filter.createdBefore, (row) => row.created_at, false);
  range(filter.startedAfter, (row) => row.started_at, true);
  range(filter.startedBefore, (row) => row.started_at, false);
  range(filter.finishedAfter, (row) => row.finished_at, true);
  range(filter.finishedBefore, (row) => row.finished_at, false);
  return (row) => checks.every((check) => check(row));
}
