import { insertJobs, grant, type JobSeed } from './support/fixtures';
import { random } from './support/random';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestServer, token, type TestServer } from './support/test-server';

let db: TestDatabase;
let server: TestServer;
let admin: string;
const TOTAL = 10_000;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  await grant(db.pool, 'admin-user', 'admin');
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
  await insertJobs(db.pool, seeds);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
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
    const response: Awaited<ReturnType<typeof server.gql<Page>>> = await server.gql<Page>(admin, PAGE, { orderBy, first, after });
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
  const { rows } = await db.pool.query<{ id: string }>(
    `SELECT id FROM jobs ORDER BY ${ORDER_SQL[field]} ${direction}, id ${direction}`,
  );
  expect(ids).toEqual(rows.map((row) => row.id));
});

test('an odd page size ends on a partial last page', async () => {
  const ids = await pageThrough({ field: 'NAME', direction: 'ASC' }, 333);
  expect(new Set(ids).size).toBe(TOTAL);
});

test('the keyset queries are served by indexes, not by sorting the table', async () => {
  await db.pool.query('ANALYZE jobs');
  for (const expression of Object.values(ORDER_SQL)) {
    const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>(
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
