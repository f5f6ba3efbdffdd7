/**
 * The list pages: (a) a status tab, (b) status + name search, (c) a page deep by cursor, (d) one
 * owner over 30 days, (e) (a) with totalCount, (g) (a) as a viewer limited to one customer.
 */
import type { Pool } from 'pg';
import { encodeCursor } from '../../src/jobs/cursor';
import type { JobRow } from '../../src/jobs/job.row';
import { countStatement, type ListPage, narrowListStatement } from './list-sql';
import {
  ADMIN,
  type BenchScenario,
  compareRows,
  type FloorContext,
  type ScenarioSet,
  type Statement,
  VIEWER,
  VIEWER_SCOPE,
} from './scenarios';

const PAGE = 50;
const DEEP_OFFSET = 300_000;
const DAY_MS = 86_400_000;

/** What the monitor's list shows of each job (no totalCount: a list page does not count). */
const NODE_FIELDS = `id name type scope owner status step
      progress { percent done total }
      message createdAt startedAt finishedAt duration`;

const listDocument = (withCount: boolean) => `query BenchJobs($filter: JobFilter, $orderBy: JobOrder, $first: Int!, $after: String) {
  jobs(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    ${withCount ? 'totalCount\n    ' : ''}nodes {
      ${NODE_FIELDS}
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The columns those fields need; `duration` is computed from started_at and finished_at. */
const COLUMNS = [
  'id',
  'name',
  'type',
  'scope',
  'owner_id',
  'status',
  'step',
  'progress_percent',
  'progress_done',
  'progress_total',
  'message',
  'created_at',
  'started_at',
  'finished_at',
];

/** API field -> floor column, for every field the floor also answers as it is stored. */
const SAME_FIELDS = {
  id: 'id',
  name: 'name',
  type: 'type',
  scope: 'scope',
  owner: 'owner_id',
  status: 'status',
  step: 'step',
  'progress.done': 'progress_done',
  'progress.total': 'progress_total',
  message: 'message',
  createdAt: 'created_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};

export interface ListInputs {
  /** The cursor of the row just before the deep page, and how deep that is. */
  readonly deepCursor: string;
  readonly deepOffset: number;
  readonly frequentOwner: string;
  readonly createdAfter: string;
  readonly createdBefore: string;
}

interface ListAnswer {
  readonly jobs: {
    totalCount?: number;
    nodes: Array<Record<string, unknown>>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

interface FloorPage {
  readonly totalCount?: number;
  readonly nodes: Array<Record<string, unknown>>;
  readonly pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export function listScenario(id: string, title: string, user: string, page: ListPage, withCount = false): BenchScenario {
  let statements: { list: Statement; count: Statement | undefined } | undefined;
  return {
    id,
    title,
    user,
    query: listDocument(withCount),
    variables: { filter: page.filter, orderBy: page.order, first: page.first, after: page.after },
    async floor({ pool, ability }: FloorContext): Promise<FloorPage> {
      // The same request every time: its statements are built once (the least a server can do).
      statements ??= {
        list: narrowListStatement(page, ability(user), COLUMNS),
        count: withCount ? countStatement(page, ability(user)) : undefined,
      };
      const { list, count: counting } = statements;
      const [result, count] = await Promise.all([
        pool.query<JobRow>(list.text, list.values as unknown[]),
        counting === undefined ? undefined : pool.query<{ count: number }>(counting.text, counting.values as unknown[]),
      ]);
      const rows = result.rows;
      const hasNextPage = rows.length > page.first;
      if (hasNextPage) rows.pop();
      const last = rows[rows.length - 1];
      return {
        ...(count === undefined ? {} : { totalCount: count.rows[0]?.count ?? 0 }),
        nodes: rows as unknown as Array<Record<string, unknown>>,
        pageInfo: { hasNextPage, endCursor: last === undefined ? null : encodeCursor(last, page.order.field, page.order.direction) },
      };
    },
    check(data, floor) {
      const api = (data as unknown as ListAnswer).jobs;
      const expected = floor as FloorPage;
      if (api.nodes.length !== page.first) return `the API answered ${api.nodes.length} nodes, expected a full page of ${page.first}`;
      if (JSON.stringify(api.pageInfo) !== JSON.stringify(expected.pageInfo)) {
        return `pageInfo ${JSON.stringify(api.pageInfo)} in the API, ${JSON.stringify(expected.pageInfo)} in the floor`;
      }
      if (withCount && api.totalCount !== expected.totalCount)
        return `totalCount ${api.totalCount} in the API, ${expected.totalCount} in the floor`;
      return compareRows('node', api.nodes, expected.nodes, SAME_FIELDS);
    },
    explain: ({ ability }) => [
      narrowListStatement(page, ability(user), COLUMNS),
      ...(withCount ? [countStatement(page, ability(user))] : []),
    ],
  };
}

export const listScenarios: ScenarioSet<ListInputs> = {
  name: 'lists',
  async prepare(pool: Pool) {
    const { rows: counted } = await pool.query<{ count: string }>('SELECT count(*) AS count FROM jobs');
    // Deep, but with a page still after it; at least the second row (the cursor is the row before the page).
    const deepOffset = Math.min(DEEP_OFFSET, Math.max(1, Number(counted[0]?.count ?? 0) - 1_000));
    const deep = await pool.query<JobRow>('SELECT id, created_at FROM jobs ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1', [
      deepOffset - 1,
    ]);
    const row = deep.rows[0];
    if (row === undefined) throw new Error(`no row at offset ${deepOffset - 1}`);
    const owner = await pool.query<{ owner_id: string; newest: Date }>(
      'SELECT owner_id, max(created_at) AS newest FROM jobs GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1',
    );
    const frequent = owner.rows[0];
    if (frequent === undefined) throw new Error('no jobs');
    const before = new Date(frequent.newest.getTime() - 15 * DAY_MS);
    return {
      deepCursor: encodeCursor(row, 'CREATED_AT', 'DESC'),
      deepOffset,
      frequentOwner: frequent.owner_id,
      createdAfter: new Date(before.getTime() - 30 * DAY_MS).toISOString(),
      createdBefore: before.toISOString(),
    };
  },
  scenarios(inputs) {
    const order = { field: 'CREATED_AT', direction: 'DESC' } as const;
    const failed: ListPage = { filter: { statuses: ['FAILED'] }, order, first: PAGE, after: null };
    return [
      listScenario('a', 'statuses [FAILED], first page', ADMIN, failed),
      listScenario('b', 'statuses [SUCCEEDED] + name "customer"', ADMIN, {
        ...failed,
        filter: { statuses: ['SUCCEEDED'], name: 'customer' },
      }),
      listScenario('c', `no filter, page ${inputs.deepOffset.toLocaleString('en-US')} rows deep (cursor)`, ADMIN, {
        ...failed,
        filter: null,
        after: inputs.deepCursor,
      }),
      listScenario('d', `owner ${inputs.frequentOwner} + 30-day created range`, ADMIN, {
        ...failed,
        filter: { owners: [inputs.frequentOwner], createdAfter: inputs.createdAfter, createdBefore: inputs.createdBefore },
      }),
      listScenario('e', '(a) with totalCount', ADMIN, failed, true),
      listScenario('g', `(a) as a viewer limited to "${VIEWER_SCOPE}"`, VIEWER, failed),
    ];
  },
};
