/**
 * The scenarios of bench:list and how to add one. A scenario is a GraphQL request the API
 * answers, and its floor: what a bare `node:http` + `pg` server does to answer the same page,
 * running the app's own SQL (built by the app's functions) but selecting only the columns the
 * request asks for, and JSON-encoding the rows.
 *
 * To add scenarios, write a `ScenarioSet` in a file of its own (see list-scenarios.ts) and add
 * it to SCENARIO_SETS (scenario-sets.ts): the runner prepares its inputs once from the seeded data, and both
 * the runner and the floor process build its scenarios from those inputs.
 */
import type { Pool } from 'pg';
import type { AppAbility } from '../../src/permissions/ability';

export const ADMIN = 'bench-admin';
export const VIEWER = 'bench-viewer';
/** The viewer's grant: `viewer`, limited to this scope (one customer). */
export const VIEWER_SCOPE = 'acme';
/** The benchmark users' grants: user, role, scope. */
export const BENCH_GRANTS: ReadonlyArray<readonly [string, string, string | null]> = [
  [ADMIN, 'admin', null],
  [VIEWER, 'viewer', VIEWER_SCOPE],
];

/** What a floor handler may use: a pg Pool as large as the API's, and each bench user's ability. */
export interface FloorContext {
  readonly pool: Pool;
  ability(user: string): AppAbility;
}

export interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
}

export interface BenchScenario {
  /** Short and unique; scenarios run in the order of their ids. */
  readonly id: string;
  readonly title: string;
  /** Who asks: one of the users of BENCH_GRANTS. */
  readonly user: string;
  readonly query: string;
  readonly variables: Readonly<Record<string, unknown>>;
  /** The floor's answer: the same SQL as the API's, only the columns asked for (JSON-encoded by the floor server). */
  floor(context: FloorContext): Promise<unknown>;
  /** Compares the API's `data` with the floor's answer (parsed from JSON): a message when they differ. */
  check(data: Record<string, unknown>, floor: unknown): string | undefined;
  /** The statements to EXPLAIN (ANALYZE) after the load, as the floor sends them. */
  explain?(context: FloorContext): Statement[];
}

export interface ScenarioSet<I> {
  readonly name: string;
  /** Reads (or makes, idempotently) what the scenarios need from the seeded data; runs in the runner only. */
  prepare(pool: Pool, print: (line: string) => void): Promise<I>;
  /** The scenarios, from the prepared inputs (which travel to the floor as JSON). */
  scenarios(inputs: I): BenchScenario[];
}

export function graphqlBody(scenario: BenchScenario): string {
  return JSON.stringify({ query: scenario.query, variables: scenario.variables });
}

/**
 * Compares the API's objects with the floor's rows field by field: `fields` maps a path in the
 * API's object (`progress.done`) to the floor's column. Timestamps compare as the floor's JSON
 * writes them (pg's Date, `toISOString`), so a change of the API's DateTime format shows here.
 */
export function compareRows(
  what: string,
  api: ReadonlyArray<Record<string, unknown>>,
  floor: ReadonlyArray<Record<string, unknown>>,
  fields: Readonly<Record<string, string>>,
): string | undefined {
  if (api.length !== floor.length) return `${what}: the API answered ${api.length}, the floor ${floor.length}`;
  for (let i = 0; i < api.length; i += 1) {
    for (const [path, column] of Object.entries(fields)) {
      // A field under a null object (`error.message` of a job without error) compares as null.
      const apiValue = path
        .split('.')
        .reduce<unknown>((value, key) => (value === null ? null : (value as Record<string, unknown>)[key]), api[i]);
      const floorValue = floor[i]?.[column];
      if (JSON.stringify(apiValue) !== JSON.stringify(floorValue)) {
        return `${what} ${i}: ${path} is ${JSON.stringify(apiValue)} in the API, ${column} ${JSON.stringify(floorValue)} in the floor`;
      }
    }
  }
  return undefined;
}
