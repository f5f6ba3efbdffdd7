import type { Pool } from 'pg';
import { encodeCursor } from '../src/jobs/cursor';
import type { JobFilter } from '../src/jobs/job-filter.input';
import { jobFilterConditions } from '../src/jobs/job-filter.sql';
import type { JobRow } from '../src/jobs/job.row';
import type { JobOrderField, OrderDirection } from '../src/jobs/job.enums';
import { listJobsStatement } from '../src/jobs/sql/list-jobs';
import { insertJobs, type JobSeed } from './support/fixtures';
import { random } from './support/random';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { token } from './support/test-server';
import { apiSuite } from './support/api-suite';

let admin: string;
const TOTAL = 10_000;

const suite = apiSuite({ grants: [['admin-user', 'admin']] });
beforeAll(async () => {
  admin = await token('admin-user');
  const rnd = random(7);
  const base = Date.parse('2026-03-01T00:00:00Z');
  const seeds: JobSeed[] = [];
  for (let i = 0; i < TOTAL; i += 1) {
    // Few distinct instants and names, so ties are everywhere and only the id can break them;
    // a third of the jobs never started and a half never finished (null sort keys).
    const created = new Date(base + rnd.int(400) * 60_000);
    const started = rnd.int(3) === 0 ? null : new Date(created.getTime() + rnd.int(50) * 1000);
    const finished = started === null || rnd.int(2) === 0 ? null : new Date(started.getTime() + rnd.int(50) * 1000);
    seeds.push({
      name: `job${String(rnd.int(700)).padStart(4, '0')}`,
      status: finished === null ? (started === null ? 'PENDING' : 'RUNNING') : 'SUCCEEDED',
      created_at: created,
      started_at: started,
      finished_at: finished,
    });
  }
  await insertJobs(suite.db.pool, seeds);
});

const ORDER_SQL = {
  CREATED_AT: 'created_at',
  STARTED_AT: `coalesce(started_at, '-infinity')`,
  FINISHED_AT: `coalesce(finished_at, '-infinity')`,
  NAME: 'name',
} as const;

const PAGE = `query($orderBy: JobOrder, $first: Int, $after: String) {
  jobs(orderBy: $orderBy, first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
}`;

interface Page {
  jobs: { edges: Array<{ cursor: string; node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

async function pageThrough(orderBy: { field: string; direction: string }, first: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < TOTAL; pages += 1) {
    const response: Awaited<ReturnType<typeof suite.server.gql<Page>>> = await suite.server.gql<Page>(admin, PAGE, {
      orderBy,
      first,
      after,
    });
    expect(response.errors).toBeUndefined();
    const { edges, pageInfo } = response.data!.jobs;
    ids.push(...edges.map((edge) => edge.node.id));
    expect(pageInfo.endCursor).toBe(edges.length === 0 ? null : edges[edges.length - 1]!.cursor);
    if (!pageInfo.hasNextPage) return ids;
    expect(edges).toHaveLength(first);
    after = pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

const ORDERS = (['CREATED_AT', 'STARTED_AT', 'FINISHED_AT', 'NAME'] as const).flatMap((field) =>
  (['ASC', 'DESC'] as const).map((direction) => [field, direction] as const),
);

test.each(ORDERS)('paging by %s %s returns every job exactly once, in order', async (field, direction) => {
  const ids = await pageThrough({ field, direction }, 500);
  expect(ids).toHaveLength(TOTAL);
  expect(new Set(ids).size).toBe(TOTAL);
  const { rows } = await suite.db.pool.query<{ id: string }>(
    `SELECT id FROM jobs ORDER BY ${ORDER_SQL[field]} ${direction}, id ${direction}`,
  );
  expect(ids).toEqual(rows.map((row) => row.id));
});

test('an odd page size ends on a partial last page', async () => {
  const ids = await pageThrough({ field: 'NAME', direction: 'ASC' }, 333);
  expect(new Set(ids).size).toBe(TOTAL);
});

test('the keyset queries are served by indexes, not by sorting the table', async () => {
  await suite.db.pool.query('ANALYZE jobs');
  for (const expression of Object.values(ORDER_SQL)) {
    const { rows } = await suite.db.pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id FROM jobs WHERE (${expression}, id) < ('2026-03-01T03:00:00Z', '00000000-0000-0000-0000-000000000000')
         ORDER BY ${expression} DESC, id DESC LIMIT 51`.replace(
        "'2026-03-01T03:00:00Z'",
        expression === 'name' ? "'job0300'" : "'2026-03-01T03:00:00Z'::timestamptz",
      ),
    );
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index Scan Backward|Index Only Scan Backward/);
    expect(plan).not.toMatch(/Sort/);
  }
});

/**
 * The list's filtered queries, as the API builds them, on a table large enough for the planner
 * to care: each first page (and a deep page) must come from an index range that yields the
 * page in order, not from reading and discarding or sorting a large part of the table.
 */
describe('filtered list queries are index-backed', () => {
  const ROWS = 30_000;
  /** Rows a page may read beyond the 51 it returns: ~3% of the table, twenty pages' worth. */
  const READ_BUDGET = 1000;
  const T0 = Date.parse('2026-01-01T00:00:00Z');
  const DAY = 86_400_000;
  let big: TestDatabase;

  beforeAll(async () => {
    big = await createTestDatabase();
    // Deterministic draws (hashes of the row number), created times spread over 90 days in row
    // order, starts and finishes shortly after: the shapes (and correlations) of real data.
    await big.pool.query(`
      INSERT INTO jobs (name, type, scope, owner_id, status, created_at, started_at, finished_at, attributes, asset)
      SELECT name, 'import', 'acme/payments/prod', owner_id, status, created, started,
             CASE WHEN status IN ('SUCCEEDED','FAILED','CANCELLED','ABENDED','EXPIRED')
               THEN coalesce(started, created) + r4 * interval '1 hour' END,
             -- Labels: half prod, half dev; 0.2% with an oracle connector; 100 assets of 300 jobs each.
             jsonb_build_object('environment', CASE WHEN n % 2 = 0 THEN 'prod' ELSE 'dev' END, 'streams', (n % 7)::text)
               || CASE WHEN n % 500 = 3 THEN '{"connector": "oracle"}'::jsonb ELSE '{}'::jsonb END,
             'db-' || (n % 100)
        FROM (
          SELECT *, CASE WHEN status IN ('PENDING','CREATED','EXPIRED') THEN NULL ELSE created + r3 * interval '10 minutes' END AS started
            FROM (
              SELECT n, r3, r4,
                to_timestamp(${T0 / 1000} + n * ${(90 * DAY) / 1000 / ROWS}) AS created,
                CASE WHEN n % 1500 = 7 THEN 'Mask needle table'
                     WHEN n % 10 = 0 THEN 'Mask customers ' || (n % 97)
                     ELSE 'Import orders ' || (n % 89) END AS name,
                CASE WHEN r2 < 0.4 THEN 'svc' WHEN r2 < 0.43 THEN 'rare' ELSE 'user-' || (n % 40) END AS owner_id,
                CASE WHEN r1 < 0.62 THEN 'SUCCEEDED' WHEN r1 < 0.74 THEN 'FAILED' WHEN r1 < 0.76 THEN 'ABENDED'
                     WHEN r1 < 0.77 THEN 'EXPIRED' WHEN r1 < 0.85 THEN 'PENDING' WHEN r1 < 0.91 THEN 'RUNNING'
                     WHEN r1 < 0.92 THEN 'TRAPPED' WHEN r1 < 0.96 THEN 'CANCELLED' ELSE 'CREATED' END AS status
                FROM generate_series(1, ${ROWS}) AS n
                CROSS JOIN LATERAL (SELECT
                  (hashint4(n) & 2147483647) / 2147483647.0 AS r1, (hashint4(n + 1000003) & 2147483647) / 2147483647.0 AS r2,
                  (hashint4(n + 2000003) & 2147483647) / 2147483647.0 AS r3, (hashint4(n + 3000017) & 2147483647) / 2147483647.0 AS r4) r
            ) a
        ) b`);
    // Small enough that ANALYZE reads every row: the same statistics, so the same plans, every run.
    await big.pool.query('ANALYZE jobs');
  });

  afterAll(async () => {
    await big?.drop();
  });

  interface PlanNode {
    'Node Type': string;
    'Relation Name'?: string;
    'Index Name'?: string;
    'Actual Rows': number;
    'Actual Loops': number;
    'Rows Removed by Filter'?: number;
    'Rows Removed by Index Recheck'?: number;
    Plans?: PlanNode[];
  }

  const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)];

  async function explain(pool: Pool, statement: { text: string; values: unknown[] }): Promise<PlanNode[]> {
    const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`,
      statement.values,
    );
    return flatten(rows[0]!['QUERY PLAN'][0]!.Plan);
  }

  const day = (days: number) => new Date(T0 + days * DAY);

  interface Case {
    readonly label: string;
    readonly filter: JobFilter;
    readonly field: JobOrderField;
    readonly direction: OrderDirection;
    /** The matches are few and may be sorted; every other list comes in index order, unsorted. */
    readonly sorts?: boolean;
  }
  const c = (label: string, filter: JobFilter, field: JobOrderField, direction: OrderDirection, sorts = false): Case => ({
    label,
    filter,
    field,
    direction,
    sorts,
  });
  const CASES: Case[] = [
    c('a rare status (1%) by CREATED_AT', { statuses: ['TRAPPED'] }, 'CREATED_AT', 'DESC'),
    c('a rare status (1%) by STARTED_AT', { statuses: ['TRAPPED'] }, 'STARTED_AT', 'DESC'),
    c('a rare status (1%) by NAME', { statuses: ['TRAPPED'] }, 'NAME', 'ASC'),
    c('a rare finished status (1%) by FINISHED_AT', { statuses: ['EXPIRED'] }, 'FINISHED_AT', 'DESC'),
    c('a common status by NAME', { statuses: ['FAILED'] }, 'NAME', 'DESC'),
    c('tab FAILED (three statuses) by CREATED_AT', { tab: 'FAILED' }, 'CREATED_AT', 'DESC'),
    c(
      'an owner (3%) and a 30-day created range',
      { owners: ['rare'], createdAfter: day(30), createdBefore: day(60) },
      'CREATED_AT',
      'DESC',
    ),
    c('an owner (3%) by STARTED_AT: the own-jobs default view', { owners: ['rare'] }, 'STARTED_AT', 'DESC'),
    c('an owner (3%) by FINISHED_AT', { owners: ['rare'] }, 'FINISHED_AT', 'DESC'),
    c('startedAfter, oldest first', { startedAfter: day(85) }, 'STARTED_AT', 'ASC'),
    c('startedBefore, newest first', { startedBefore: day(5) }, 'STARTED_AT', 'DESC'),
    c('a one-day started range', { startedAfter: day(40), startedBefore: day(41) }, 'STARTED_AT', 'ASC'),
    c('finishedAfter, oldest first', { finishedAfter: day(85) }, 'FINISHED_AT', 'ASC'),
    c('finishedBefore, newest first', { finishedBefore: day(5) }, 'FINISHED_AT', 'DESC'),
    c('a rare name substring', { name: 'NEEDLE' }, 'CREATED_AT', 'DESC', true),
    c(
      'a rare attribute (0.2%): the GIN index, then a sort of the few matches',
      { attributes: { connector: 'oracle' } },
      'CREATED_AT',
      'DESC',
      true,
    ),
    c('two attribute pairs, one rare', { attributes: { connector: 'oracle', environment: 'dev' } }, 'CREATED_AT', 'DESC', true),
    c('a common attribute (50%) by CREATED_AT', { attributes: { environment: 'prod' } }, 'CREATED_AT', 'DESC'),
    c('an asset (1%) by CREATED_AT', { asset: 'db-7' }, 'CREATED_AT', 'DESC'),
    c('an asset by NAME', { asset: 'db-7' }, 'NAME', 'ASC', true),
    c('a status and a common name substring', { statuses: ['SUCCEEDED'], name: 'customer' }, 'CREATED_AT', 'DESC'),
  ];

  async function checkPlan({ filter, field, direction, sorts }: Case, after: string | null) {
    const statement = listJobsStatement({ where: (params) => jobFilterConditions(filter, params), field, direction, first: 50, after });
    const nodes = await explain(big.pool, statement);
    const scans = nodes.filter((node) => /Scan/.test(node['Node Type']));
    const summary = nodes
      .map((node) => `${node['Node Type']}${node['Index Name'] === undefined ? '' : ` ${node['Index Name']}`}`)
      .join(' <- ');
    expect([summary, scans.some((node) => /Index/.test(node['Node Type']))]).toEqual([summary, true]);
    expect(summary).not.toMatch(sorts === true ? /Seq Scan/ : /Seq Scan|Sort/);
    // Every row a scan produced or discarded (per loop): what the page cost to read.
    const read = scans
      .filter((node) => node['Node Type'] !== 'Bitmap Index Scan')
      .reduce(
        (sum, node) =>
          sum +
          (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) *
            node['Actual Loops'],
        0,
      );
    expect([summary, read <= 51 + READ_BUDGET ? 'within budget' : read]).toEqual([summary, 'within budget']);
    return nodes[0]!['Actual Rows'];
  }

  test.each(CASES)('$label', async (list) => {
    expect(await checkPlan(list, null)).toBeGreaterThan(0);
    if (list.sorts === true) return;
    // A deep page: after the 200th row of the same list, by keyset.
    const { field, direction, filter } = list;
    const deep = listJobsStatement({ where: (params) => jobFilterConditions(filter, params), field, direction, first: 200, after: null });
    const { rows } = await big.pool.query<JobRow>(deep.text, deep.values);
    expect(rows.length).toBeGreaterThan(200);
    await checkPlan(list, encodeCursor(rows[199]!, field, direction));
  });
});
