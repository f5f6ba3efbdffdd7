/**
 * The catalog (job types and vocabulary) bound as array parameters of one statement, in a fixed
 * order, with the helpers that pick from them in SQL.
 */
import type { SqlParams } from '../../../src/db/sql-params';
import { JOB_TYPES } from '../job-types';
import {
  APPROVER_SETS,
  CHANNELS,
  DATABASES,
  DATASOURCES,
  EDIT_ACTIONS,
  ENTITIES,
  ENV_WEIGHTS,
  ENVS,
  EXPORT_TARGETS,
  EXTENSIONS,
  LAST_NAMES,
  METRICS,
  OWNERS,
  REJECT_REASONS,
  RULESETS,
  SCHEMAS,
  SERVICES,
  STATUS_WEIGHTS,
  TABLES,
  TENANT_APPS,
  TENANT_DOMAINS,
  TENANT_WEIGHTS,
  TENANTS,
} from '../vocabulary';

/** Cumulative shares of `weights` (all but the last), for `width_bucket(random(), thresholds)`. */
function thresholds(weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const result: number[] = [];
  let running = 0;
  for (const weight of weights.slice(0, -1)) {
    running += weight;
    result.push(running / sum);
  }
  return result;
}

/** `arr[1 + floor(r * len)]`: a uniform pick. */
export const pick = (array: string, length: number, r: string) => `(${array})[1 + floor(${r} * ${length})::int]`;

/** The 1-based position of a job type in the bound arrays (`ti` in the statement). */
export const typeIndex = (type: string) => JOB_TYPES.findIndex((t) => t.type === type) + 1;

export type BoundCatalog = ReturnType<typeof bindCatalog>;

/** Adds every catalog array to `p` (always in this order) and answers their typed references. */
export function bindCatalog(p: SqlParams) {
  const text = (values: readonly string[]) => `${p.add(values)}::text[]`;
  const floats = (values: readonly number[]) => `${p.add(values)}::float8[]`;
  return {
    types: text(JOB_TYPES.map((t) => t.type)),
    typeThresholds: floats(thresholds(JOB_TYPES.map((t) => t.weight))),
    units: text(JOB_TYPES.map((t) => t.unit)),
    verbPast: text(JOB_TYPES.map((t) => t.verbPast)),
    verbIng: text(JOB_TYPES.map((t) => t.verbIng)),
    phases: text(JOB_TYPES.map((t) => t.phase)),
    medians: floats(JOB_TYPES.map((t) => t.medianSeconds)),
    minTotals: floats(JOB_TYPES.map((t) => t.minTotal)),
    maxTotals: floats(JOB_TYPES.map((t) => t.maxTotal)),
    errors: text(JOB_TYPES.flatMap((t) => t.errors)),
    stacks: text(JOB_TYPES.map((t) => t.frames)),
    owners: text(OWNERS.map((o) => o[0])),
    ownerNames: text(OWNERS.map((o) => o[1])),
    ownerTenants: `${p.add(OWNERS.map((o) => o[2]))}::int[]`,
    tenants: text(TENANTS),
    tenantThresholds: floats(thresholds(TENANT_WEIGHTS)),
    domains: text(TENANT_DOMAINS),
    apps: text(TENANT_APPS.flat()),
    envs: text(ENVS),
    envThresholds: floats(thresholds(ENV_WEIGHTS)),
    statuses: text(STATUS_WEIGHTS.map((s) => s[0])),
    statusThresholds: floats(thresholds(STATUS_WEIGHTS.map((s) => s[1]))),
    tables: text(TABLES),
    schemas: text(SCHEMAS),
    databases: text(DATABASES),
    entities: text(ENTITIES),
    extensions: text(EXTENSIONS),
    exportTargets: text(EXPORT_TARGETS),
    services: text(SERVICES),
    datasources: text(DATASOURCES),
    metrics: text(METRICS),
    editActions: text(EDIT_ACTIONS),
    rulesets: text(RULESETS),
    channels: text(CHANNELS),
    lastNames: text(LAST_NAMES),
    rejectReasons: text(REJECT_REASONS),
    approverSets: text(APPROVER_SETS),
  };
}
