/** Every scenario set of bench:list: add yours here (see scenarios.ts). */
import type { Pool } from 'pg';
import { jobPageScenarios } from './job-page-scenario';
import { listScenarios } from './list-scenarios';
import { facetScenarios } from './facet-scenarios';
import type { BenchScenario, ScenarioSet } from './scenarios';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SCENARIO_SETS: ReadonlyArray<ScenarioSet<any>> = [listScenarios, jobPageScenarios, facetScenarios];

/** Every scenario of every set, in the order of their ids. */
export function buildScenarios(inputs: Readonly<Record<string, unknown>>): BenchScenario[] {
  const all = SCENARIO_SETS.flatMap((set) => (set.name in inputs ? set.scenarios(inputs[set.name]) : []));
  const ids = new Set<string>();
  for (const scenario of all) {
    if (ids.has(scenario.id)) throw new Error(`two scenarios have the id ${scenario.id}`);
    ids.add(scenario.id);
  }
  return all.sort((a, b) => a.id.localeCompare(b.id));
}

export async function prepareInputs(pool: Pool, print: (line: string) => void): Promise<Record<string, unknown>> {
  const inputs: Record<string, unknown> = {};
  for (const set of SCENARIO_SETS) inputs[set.name] = await set.prepare(pool, print);
  return inputs;
}
