import { facetsStatement } from '../src/jobs/facets/facet-counts';
import { createRole, grant, insertJobs, type JobSeed } from './support/fixtures';
import { random } from './support/random';
import { token, type GraphQLResponse } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * jobFacets for an admin, a viewer of one scope, an own-jobs user and a role that names
 * approvers (which the rollup cannot evaluate): always what a plain count over the jobs the
 * viewer may see says, also after transitions, deletions, a TRUNCATE and the daemon's folding.
 */

const tokens: Record<string, string> = {};
const USERS = ['admin', 'acme-viewer', 'own', 'approver-viewer'] as const;
type User = (typeof USERS)[number];

const TYPES = ['masking', 'import', 'deployment', 'mail-migration'];
const OWNERS = ['own', 'bob', 'carol'];
const SCOPES = ['acme', 'acme/payments', 'acme/payments/prod', 'acme-eu/prod', 'globex/shop'];
const STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;

const suite = apiSuite({
  daemon: false,
  alerts: false,
  grants: [
    ['admin', 'admin'],
    ['acme-viewer', 'viewer', 'acme'],
    ['own', 'own-jobs'],
  ],
});
beforeAll(async () => {
  await createRole(suite.db.pool, 'approver-view', [
    { action: 'view_monitor', subject: 'Job', conditions: { approvers: 'approver-viewer' } },
  ]);
  await grant(suite.db.pool, 'approver-viewer', 'approver-view');
  for (const user of USERS) tokens[user] = await token(user);
  const rnd = random(7);
  const seeds: JobSeed[] = [];
  for (let i = 0; i < 300; i += 1) {
    seeds.push({
      type: rnd.pick(TYPES),
      owner_id: rnd.pick(OWNERS),
      scope: rnd.pick(SCOPES),
      status: rnd.pick(STATUSES),
      approvers: rnd.int(4) === 0 ? ['approver-viewer'] : [],
      attributes: { environment: rnd.pick(['prod', 'dev']) },
    });
  }
  await insertJobs(suite.db.pool, seeds);
});

interface Facets {
  types: Array<{ value: string; count: number }>;
  owners: Array<{ value: string; count: number }>;
  scopes: Array<{ value: string; count: number }>;
  statuses: Array<{ value: string; count: number }>;
}
const FACETS = `query($f: JobFilter) { jobFacets(filter: $f) {
  types { value count } owners { value count } scopes { value count } statuses { value count } } }`;

async function facets(user: User, filter?: Record<string, unknown>): Promise<Facets> {
  const response: GraphQLResponse<{ jobFacets: Facets }> = await suite.server.gql(tokens[user], FACETS, { f: filter ?? null });
  if (response.errors !== undefined) throw new Error(JSON.stringify(response.errors));
  return response.data!.jobFacets;
}

/** What the facets must be, counted plainly over the jobs (the viewer's visibility written out by hand). */
async function expected(visible: string, where = 'TRUE'): Promise<Facets> {
  const result: Facets = { types: [], owners: [], scopes: [], statuses: [] };
  for (const [facet, column] of [
    ['types', 'type'],
    ['owners', 'owner_id'],
    ['scopes', 'scope'],
    ['statuses', 'status'],
  ] as const) {
    const { rows } = await suite.db.pool.query<{ value: string; count: number }>(
      `SELECT ${column} AS value, count(*)::int AS count FROM jobs WHERE (${visible}) AND (${where}) GROUP BY 1 ORDER BY 2 DESC, ${column} COLLATE "C"`,
    );
    result[facet] = rows;
  }
  return result;
}

const VISIBLE: Record<User, string> = {
  admin: 'TRUE',
  'acme-viewer': `scope = 'acme' OR scope LIKE 'acme/%'`,
  own: `owner_id = 'own'`,
  'approver-viewer': `'approver-viewer' = ANY(approvers)`,
};

test.each(USERS)('%s: every facet, exact, ordered by count', async (user) => {
  const answer = await facets(user);
  expect(answer).toEqual(await expected(VISIBLE[user]));
  expect(answer.statuses.length).toBeGreaterThan(0);
});

test('the scoped viewer never sees a sibling that shares the prefix (acme-eu), nor other owners for own-jobs', async () => {
  expect((await facets('acme-viewer')).scopes.map((scope) => scope.value)).not.toContain('acme-eu/prod');
  expect((await facets('own')).owners.map((owner) => owner.value)).toEqual(['own']);
});

test.each([
  [
    'a type and a tab',
    { types: ['masking', 'import'], tab: 'ACTIVE' },
    `type IN ('masking', 'import') AND status IN ('PENDING', 'RUNNING')`,
  ],
  [
    'a scope subtree and owners',
    { scope: 'acme/payments', owners: ['bob'] },
    `(scope = 'acme/payments' OR scope LIKE 'acme/payments/%') AND owner_id = 'bob'`,
  ],
  ['an attribute (counted over the jobs themselves)', { attributes: { environment: 'prod' } }, `attributes @> '{"environment": "prod"}'`],
  ['a name (counted over the jobs themselves)', { name: 'job' }, `name ILIKE '%job%'`],
] as const)('with a filter: %s', async (_label, filter, where) => {
  for (const user of USERS) {
    expect([user, await facets(user, filter)]).toEqual([user, await expected(VISIBLE[user], where)]);
  }
});

test('the rollup answers dropdown filters; a filter on other fields or a rule on approvers counts the jobs', async () => {
  const abilityOf = async (user: string) => suite.server.services.permissions.abilityFor(user);
  expect(facetsStatement(await abilityOf('admin'), { types: ['import'], tab: 'FAILED' }).source).toBe('rollup');
  expect(facetsStatement(await abilityOf('own'), { scope: 'acme' }).source).toBe('rollup');
  expect(facetsStatement(await abilityOf('admin'), { attributes: { environment: 'prod' } }).source).toBe('jobs');
  expect(facetsStatement(await abilityOf('approver-viewer'), null).source).toBe('jobs');
});

test('transitions, deletions and creation move the counts at once; the daemon folds the deltas without changing a count', async () => {
  const { rows } = await suite.db.pool.query<{ id: string }>(`SELECT id FROM jobs WHERE status = 'PENDING' AND owner_id = 'own' LIMIT 3`);
  await suite.db.pool.query(`UPDATE jobs SET status = 'CANCELLED' WHERE id = $1`, [rows[0]!.id]);
  await suite.db.pool.query(`UPDATE jobs SET scope = 'globex/shop', type = 'export' WHERE id = $1`, [rows[1]!.id]);
  await suite.db.pool.query(`DELETE FROM jobs WHERE id = $1`, [rows[2]!.id]);
  // Through the API too: a created job counts at once.
  const created = await suite.server.gql(
    tokens['own'],
    'mutation { createJob(input: { name: "new", type: "fresh", scope: "acme" }) { id } }',
  );
  expect(created.errors).toBeUndefined();
  // Progress never touches the rollup.
  const before = (await suite.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM job_facet_counts')).rows[0]!.n;
  await suite.db.pool.query(`UPDATE jobs SET progress_done = progress_done + 1, message = 'tick'`);
  expect((await suite.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM job_facet_counts')).rows[0]!.n).toBe(before);
  for (const user of USERS) expect([user, await facets(user)]).toEqual([user, await expected(VISIBLE[user])]);

  await suite.server.services.daemon.tick();
  const { rows: keys } = await suite.db.pool.query<{ duplicates: number }>(
    `SELECT count(*)::int AS duplicates FROM (SELECT 1 FROM job_facet_counts GROUP BY scope, type, owner_id, status HAVING count(*) > 1) d`,
  );
  expect(keys[0]?.duplicates).toBe(0);
  for (const user of USERS) expect([user, await facets(user)]).toEqual([user, await expected(VISIBLE[user])]);
});

test('at most 100 values per facet, the most frequent first; TRUNCATE empties the counts', async () => {
  await insertJobs(
    suite.db.pool,
    Array.from({ length: 150 }, (_, index) => ({
      type: `many-${String(index).padStart(3, '0')}`,
      owner_id: 'bob',
      status: 'SUCCEEDED' as const,
    })),
  );
  const answer = await facets('admin');
  expect(answer.types).toHaveLength(100);
  expect(answer.types).toEqual((await expected('TRUE')).types.slice(0, 100));
  await suite.db.pool.query('TRUNCATE jobs CASCADE');
  expect(await facets('admin')).toEqual({ types: [], owners: [], scopes: [], statuses: [] });
});
