import { encodeCursor, MAX_CURSOR_LENGTH, MAX_JOB_NAME_LENGTH } from '../src/jobs/cursor';
import type { JobRow } from '../src/jobs/job.row';
import { insertJobs } from './support/fixtures';
import { token } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * The server must accept every cursor it hands out. The longest ones come from NAME order over
 * names of the maximum length whose characters take the most room in a cursor: 4-byte UTF-8
 * characters (emoji), control characters (escaped as `\u0001` in JSON), quotes and backslashes.
 */

let admin: string;

/** 200 code points each; some names repeat, so that ties are broken by id across pages. */
const NAMES = [
  ...Array.from({ length: 6 }, (_, i) => String.fromCodePoint(0x1f600 + i).repeat(MAX_JOB_NAME_LENGTH)),
  ...Array.from({ length: 6 }, (_, i) => String.fromCodePoint(1 + i).repeat(MAX_JOB_NAME_LENGTH)),
  '"\\'.repeat(MAX_JOB_NAME_LENGTH / 2),
  `${'\u{10FFFF}'.repeat(MAX_JOB_NAME_LENGTH - 1)}\u001f`,
];
const COPIES = 3;

const suite = apiSuite({ grants: [['admin-user', 'admin']] });
beforeAll(async () => {
  admin = await token('admin-user');
  await insertJobs(
    suite.db.pool,
    NAMES.flatMap((name) => Array.from({ length: COPIES }, () => ({ name }))),
  );
});

test('the names are as long as a name may be, and their cursors longer than the old 1,000-character limit', async () => {
  const { rows } = await suite.db.pool.query<{ length: number }>('SELECT DISTINCT length(name) AS length FROM jobs');
  expect(rows).toEqual([{ length: MAX_JOB_NAME_LENGTH }]);
  const longest = Math.max(
    ...NAMES.map((name) => encodeCursor({ id: '00000000-0000-4000-8000-000000000000', name } as JobRow, 'NAME', 'DESC').length),
  );
  expect(longest).toBeGreaterThan(1000);
  expect(longest).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
});

const PAGE = `query($orderBy: JobOrder, $after: String) {
  jobs(orderBy: $orderBy, first: 4, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
}`;

interface Page {
  jobs: { edges: Array<{ cursor: string; node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

test.each(['ASC', 'DESC'] as const)('paging by NAME %s over maximum-length names returns every job once, in order', async (direction) => {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const response: Awaited<ReturnType<typeof suite.server.gql<Page>>> = await suite.server.gql<Page>(admin, PAGE, {
      orderBy: { field: 'NAME', direction },
      after,
    });
    expect(response.errors).toBeUndefined();
    const { edges, pageInfo } = response.data!.jobs;
    ids.push(...edges.map((edge) => edge.node.id));
    if (!pageInfo.hasNextPage) break;
    after = pageInfo.endCursor;
  }
  const { rows } = await suite.db.pool.query<{ id: string }>(`SELECT id FROM jobs ORDER BY name ${direction}, id ${direction}`);
  expect(ids).toEqual(rows.map((row) => row.id));
  expect(ids).toHaveLength(NAMES.length * COPIES);
});
