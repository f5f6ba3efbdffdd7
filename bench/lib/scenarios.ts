/**
 * The list scenarios of the benchmark, as plain data shared by the runner and the floor server.
 * Dates are ISO strings here (JSON), as a GraphQL client would send them.
 */
import type { JobOrderField, OrderDirection } from '../../src/jobs/job.enums';

export type ScenarioId = 'a' | 'b' | 'c' | 'd' | 'e';

export interface ScenarioFilter {
  readonly statuses?: readonly string[];
  readonly name?: string;
  readonly owners?: readonly string[];
  readonly createdAfter?: string;
  readonly createdBefore?: string;
}

export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** Who asks: a user id the benchmark granted a role to. */
  readonly user: string;
  readonly filter: ScenarioFilter | null;
  readonly order: { readonly field: JobOrderField; readonly direction: OrderDirection };
  readonly first: number;
  readonly after: string | null;
  /** How many nodes the page must hold. */
  readonly expectedNodes: number;
}

export const ADMIN = 'bench-admin';
export const VIEWER = 'bench-viewer';
/** The viewer's grant: `viewer`, limited to this scope. */
export const VIEWER_SCOPE = 'acme';
export const PAGE = 50;

/** What the monitor's list shows of each job (no totalCount: a list page does not count). */
export const LIST_QUERY = `query BenchJobs($filter: JobFilter, $orderBy: JobOrder, $first: Int!, $after: String) {
  jobs(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    nodes {
      id name type scope owner status step
      progress { percent done total }
      message createdAt startedAt finishedAt duration
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

export function graphqlBody(scenario: Scenario): string {
  return JSON.stringify({
    query: LIST_QUERY,
    variables: { filter: scenario.filter, orderBy: scenario.order, first: scenario.first, after: scenario.after },
  });
}

export interface ScenarioInputs {
  /** The cursor of the row just before the deep page. */
  readonly deepCursor: string;
  /** How many rows deep that page starts. */
  readonly deepOffset: number;
  readonly frequentOwner: string;
  readonly createdAfter: string;
  readonly createdBefore: string;
}

export function buildScenarios(inputs: ScenarioInputs): Scenario[] {
  const order = { field: 'CREATED_AT', direction: 'DESC' } as const;
  const failed = { statuses: ['FAILED'] };
  return [
    { id: 'a', title: 'statuses [FAILED], first page', user: ADMIN, filter: failed, order, first: PAGE, after: null, expectedNodes: PAGE },
    {
      id: 'b',
      title: 'statuses [SUCCEEDED] + name "customer"',
      user: ADMIN,
      filter: { statuses: ['SUCCEEDED'], name: 'customer' },
      order,
      first: PAGE,
      after: null,
      expectedNodes: PAGE,
    },
    {
      id: 'c',
      title: `no filter, page ${inputs.deepOffset.toLocaleString('en-US')} rows deep (cursor)`,
      user: ADMIN,
      filter: null,
      order,
      first: PAGE,
      after: inputs.deepCursor,
      expectedNodes: PAGE,
    },
    {
      id: 'd',
      title: `owner ${inputs.frequentOwner} + 30-day created range`,
      user: ADMIN,
      filter: { owners: [inputs.frequentOwner], createdAfter: inputs.createdAfter, createdBefore: inputs.createdBefore },
      order,
      first: PAGE,
      after: null,
      expectedNodes: PAGE,
    },
    {
      id: 'e',
      title: `(a) as a viewer limited to "${VIEWER_SCOPE}"`,
      user: VIEWER,
      filter: failed,
      order,
      first: PAGE,
      after: null,
      expectedNodes: PAGE,
    },
  ];
}
