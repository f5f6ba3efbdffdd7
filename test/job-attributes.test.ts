import { migrations } from '../migrations';
import { ATTRIBUTE_INDEXES } from '../migrations/1796573600544-JobAttributes';
import { createDataSource } from '../src/db/data-source';
import { gqlOk, token } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * Attributes (labels the creator sets) through createJob, and the attribute and asset filters,
 * as an admin, a user whose grant covers one scope, and an own-jobs user: a filter narrows
 * what the viewer may see, never widens it. Bad attributes are refused whole.
 */

const tokens: Record<string, string> = {};
const USERS = ['admin', 'scoped', 'own', 'other'] as const;

const CREATE = 'mutation($i: CreateJobInput!) { createJob(input: $i) { id attributes asset } }';
const LIST = `query($f: JobFilter) { jobs(filter: $f, first: 500) { totalCount nodes { id attributes } } jobCounts(filter: $f) { status count } }`;

const suite = apiSuite({
  daemon: false,
  alerts: false,
  grants: [
    ['admin', 'admin'],
    ['scoped', 'operator', 'acme'],
    ['own', 'own-jobs'],
    ['other', 'own-jobs'],
  ],
});
beforeAll(async () => {
  for (const user of USERS) tokens[user] = await token(user);
});

async function create(user: (typeof USERS)[number], input: Record<string, unknown>): Promise<string> {
  const data = gqlOk(
    await suite.server.gql<{ createJob: { id: string } }>(tokens[user], CREATE, {
      i: { name: 'labelled', type: 'attr-job', scope: 'acme/prod', ...input },
    }),
  );
  return data.createJob.id;
}

async function list(user: (typeof USERS)[number], filter: Record<string, unknown>): Promise<string[]> {
  const data = gqlOk(
    await suite.server.gql<{ jobs: { totalCount: number; nodes: Array<{ id: string }> }; jobCounts: Array<{ count: number }> }>(
      tokens[user],
      LIST,
      {
        f: { types: ['attr-job'], ...filter },
      },
    ),
  );
  // The list, its total and the tab counts agree.
  expect(data.jobs.totalCount).toBe(data.jobs.nodes.length);
  expect(data.jobCounts.reduce((sum, count) => sum + count.count, 0)).toBe(data.jobs.nodes.length);
  return data.jobs.nodes.map((node) => node.id).sort();
}

describe('attributes and the filters on them, per viewer', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ids['acmeProdOracle'] = await create('admin', { attributes: { environment: 'prod', connector: 'oracle' }, asset: 'db-1' });
    ids['acmeDev'] = await create('admin', { attributes: { environment: 'dev' }, asset: 'db-1' });
    ids['globexProd'] = await create('admin', {
      scope: 'globex/prod',
      attributes: { environment: 'prod', connector: 'oracle' },
      asset: 'db-1',
    });
    ids['ownProd'] = await create('own', { scope: 'globex/prod', attributes: { environment: 'prod' }, asset: 'mailbox' });
    ids['otherProd'] = await create('other', { scope: 'globex/prod', attributes: { environment: 'prod' }, asset: 'mailbox' });
    ids['unlabelled'] = await create('admin', {});
  });

  const sorted = (...names: string[]) => names.map((name) => ids[name] as string).sort();

  test('createJob stores them as given and job(id) answers them; without any, {}', async () => {
    const job = gqlOk(
      await suite.server.gql<{ job: { attributes: unknown } }>(tokens['admin'], 'query($id: ID!) { job(id: $id) { attributes } }', {
        id: ids['acmeProdOracle'],
      }),
    );
    expect(job.job.attributes).toEqual({ environment: 'prod', connector: 'oracle' });
    const none = gqlOk(
      await suite.server.gql<{ job: { attributes: unknown } }>(tokens['admin'], 'query($id: ID!) { job(id: $id) { attributes } }', {
        id: ids['unlabelled'],
      }),
    );
    expect(none.job.attributes).toEqual({});
  });

  test('admin: every pair must match; asset is exact', async () => {
    expect(await list('admin', { attributes: { environment: 'prod' } })).toEqual(
      sorted('acmeProdOracle', 'globexProd', 'ownProd', 'otherProd'),
    );
    expect(await list('admin', { attributes: { environment: 'prod', connector: 'oracle' } })).toEqual(
      sorted('acmeProdOracle', 'globexProd'),
    );
    expect(await list('admin', { attributes: { environment: 'prod', connector: 'postgres' } })).toEqual([]);
    expect(await list('admin', { asset: 'db-1' })).toEqual(sorted('acmeProdOracle', 'acmeDev', 'globexProd'));
    expect(await list('admin', { asset: 'db-1', attributes: { environment: 'dev' } })).toEqual(sorted('acmeDev'));
    expect(await list('admin', { asset: 'db' })).toEqual([]);
  });

  test('a scoped operator: only the matches within their scope', async () => {
    expect(await list('scoped', { attributes: { environment: 'prod' } })).toEqual(sorted('acmeProdOracle'));
    expect(await list('scoped', { asset: 'db-1' })).toEqual(sorted('acmeProdOracle', 'acmeDev'));
  });

  test('an own-jobs user: only their own matches', async () => {
    expect(await list('own', { attributes: { environment: 'prod' } })).toEqual(sorted('ownProd'));
    expect(await list('own', { asset: 'mailbox' })).toEqual(sorted('ownProd'));
    expect(await list('other', { asset: 'mailbox', attributes: { environment: 'prod' } })).toEqual(sorted('otherProd'));
  });
});

describe('bad attributes are refused whole, naming the field', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['21 keys', Object.fromEntries(Array.from({ length: 21 }, (_, index) => [`k${index}`, 'v'])), /at most 20 keys/],
    ['an upper-case key', { Environment: 'prod' }, /key "Environment"/],
    ['a key of 51 characters', { ['k'.repeat(51)]: 'v' }, /1 to 50/],
    ['an empty key', { '': 'v' }, /1 to 50/],
    ['a value of 201 characters', { environment: 'x'.repeat(201) }, /1 to 200 characters/],
    ['an empty value', { environment: '' }, /1 to 200 characters/],
    ['a number', { streams: 3 }, /must be a string, got number/],
    ['null', { streams: null }, /must be a string, got null/],
    ['an object', { streams: { a: 'b' } }, /must be a string, got object/],
  ];

  test.each(cases)('createJob with %s: BAD_USER_INPUT, no job', async (_label, attributes, message) => {
    const before = await suite.db.pool.query(`SELECT count(*)::int AS n FROM jobs`);
    const refused = await suite.server.gql(tokens['admin'], CREATE, { i: { name: 'bad', type: 'attr-bad', scope: 'acme', attributes } });
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(message);
    expect(refused.errors?.[0]?.message).toMatch(/input\.attributes/);
    const after = await suite.db.pool.query(`SELECT count(*)::int AS n FROM jobs`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  test.each(cases)('a filter with %s: BAD_USER_INPUT', async (_label, attributes, message) => {
    const refused = await suite.server.gql(tokens['admin'], LIST, { f: { attributes } });
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(message);
    expect(refused.errors?.[0]?.message).toMatch(/filter\.attributes/);
  });

  test('an attributes value that is not an object, and an over-long asset filter', async () => {
    const array = await suite.server.gql(tokens['admin'], CREATE, {
      i: { name: 'bad', type: 'attr-bad', scope: 'acme', attributes: ['prod'] },
    });
    expect(array.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const asset = await suite.server.gql(tokens['admin'], LIST, { f: { asset: 'a'.repeat(501) } });
    expect(asset.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });
});

test('the migration: both indexes valid; an INVALID one is rebuilt, a valid one kept; down and up again', async () => {
  const names = ATTRIBUTE_INDEXES.map(([name]) => name);
  const states = async () =>
    Object.fromEntries(
      (
        await suite.db.pool.query<{ name: string; valid: boolean }>(
          `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY($1)`,
          [names],
        )
      ).rows.map((row) => [row.name, row.valid]),
    );
  const allValid = Object.fromEntries(names.map((name) => [name, true]));
  expect(await states()).toEqual(allValid);
  const oid = async (name: string) => (await suite.db.pool.query<{ oid: number }>(`SELECT $1::regclass::oid AS oid`, [name])).rows[0]?.oid;
  const keptOid = await oid('jobs_asset_created_idx');
  await suite.db.pool.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'jobs_attributes_idx'::regclass`);
  const Migration = migrations.find((migration) => migration.name.startsWith('JobAttributes'));
  if (Migration === undefined) throw new Error('no JobAttributes migration');
  const migration = new Migration();
  expect((migration as { transaction?: unknown }).transaction).toBe(false); // CONCURRENTLY cannot run in a transaction
  const dataSource = createDataSource({ url: suite.db.url, poolSize: 1 });
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await migration.up(runner);
    expect(await states()).toEqual(allValid);
    expect(await oid('jobs_asset_created_idx')).toBe(keptOid);
    await migration.down(runner);
    expect(await states()).toEqual({});
    await migration.up(runner);
    expect(await states()).toEqual(allValid);
    // Existing jobs got {} (the column's default), and the filter still answers them.
    const { rows } = await suite.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE attributes = '{}'::jsonb`);
    expect(rows[0]?.n).toBe((await suite.db.pool.query(`SELECT count(*)::int AS n FROM jobs`)).rows[0].n);
  } finally {
    await runner.release();
    await dataSource.destroy();
  }
});
