import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { insertJobs } from './support/fixtures';
import { type postGraphQL, TEST_JWT_SECRET, token } from './support/test-server';
import { apiSuite } from './support/api-suite';

let admin: string;

const suite = apiSuite({ grants: [['admin-user', 'admin']] });
beforeAll(async () => {
  admin = await token('admin-user');
  await insertJobs(
    suite.db.pool,
    Array.from({ length: 5 }, (_, i) => ({ name: `job ${i}` })),
  );
});

/** Sends raw and checks what any bad request must look like: a coded error, no stack, no SQL. */
async function expectRefused(
  response: { status: number; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> },
  code: string,
) {
  expect(response.status).toBeLessThan(500);
  expect(response.errors?.length).toBeGreaterThan(0);
  expect(response.errors?.map((error) => error.extensions?.['code'])).toEqual(response.errors?.map(() => code));
  const text = JSON.stringify(response);
  expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|stacktrace|SELECT |FROM jobs|syntax error at/i);
}

async function jobCount(): Promise<number> {
  const { rows } = await suite.db.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM jobs');
  return rows[0]!.count;
}

const LIST =
  'query($first: Int, $after: String, $filter: JobFilter, $orderBy: JobOrder) { jobs(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { nodes { id } } }';

describe('malformed arguments answer BAD_USER_INPUT', () => {
  const cursorFor = (data: unknown) => `j1:${Buffer.from(JSON.stringify(data)).toString('base64url')}`;
  const goodRow = { f: 'CREATED_AT', d: 'DESC', v: '2026-01-01T00:00:00.000Z', id: '00000000-0000-4000-8000-000000000000' };

  test.each([
    ['garbage', 'garbage'],
    ['not base64 JSON', 'j1:%%%%'],
    ['JSON that is not a cursor', cursorFor([1, 2, 3])],
    ['an id that is not a uuid', cursorFor({ ...goodRow, id: "x'; DROP TABLE jobs; --" })],
    ['a value that is not a date', cursorFor({ ...goodRow, v: 'yesterday' })],
    ['a cursor of another order', cursorFor({ ...goodRow, f: 'NAME', v: 'x' })],
    ['a very long string', 'j1:' + 'A'.repeat(100_000)],
  ])('a malformed cursor: %s', async (_label, after) => {
    await expectRefused(await suite.server.gql(admin, LIST, { after }), 'BAD_USER_INPUT');
  });

  // Values JavaScript's Date.parse reads but Postgres refuses (or reads differently): a cursor
  // holds exactly what the server wrote, an instant from toISOString, or it is not a cursor.
  test.each([
    ['a bare number', '1'],
    ['a year', '2020'],
    ['a month and day', 'March 7'],
    ['a date that does not exist', '2026-02-30T00:00:00.000Z'],
    ['year 0', '0000-01-01T00:00:00.000Z'],
    ['a date with an offset instead of Z', '2026-01-01T01:00:00.000+01:00'],
    ['an extended year', '+012026-01-01T00:00:00.000Z'],
    ['infinity', 'infinity'],
  ])('a CREATED_AT cursor whose value is %s', async (_label, v) => {
    await expectRefused(await suite.server.gql(admin, LIST, { after: cursorFor({ ...goodRow, v }) }), 'BAD_USER_INPUT');
  });

  test('a STARTED_AT cursor with a value Postgres refuses', async () => {
    const orderBy = { field: 'STARTED_AT', direction: 'DESC' };
    const after = cursorFor({ ...goodRow, f: 'STARTED_AT', v: 'March 7' });
    await expectRefused(await suite.server.gql(admin, LIST, { orderBy, after }), 'BAD_USER_INPUT');
    // null is the value of a job not started yet: that cursor is fine.
    expect(
      (await suite.server.gql(admin, LIST, { orderBy, after: cursorFor({ ...goodRow, f: 'STARTED_AT', v: null }) })).errors,
    ).toBeUndefined();
  });

  test.each([
    ['a NUL character', 'job\u0000name'],
    ['a lone surrogate', 'job\ud800name'],
    ['more code points than a name may have', '\u{1F600}'.repeat(201)],
    ['an empty name', ''],
    ['a number', 7],
  ])('a NAME cursor with %s', async (_label, v) => {
    const orderBy = { field: 'NAME', direction: 'ASC' };
    await expectRefused(
      await suite.server.gql(admin, LIST, { orderBy, after: cursorFor({ ...goodRow, f: 'NAME', d: 'ASC', v }) }),
      'BAD_USER_INPUT',
    );
  });

  test('a NAME cursor with a maximum-length name of 4-byte characters is accepted', async () => {
    const orderBy = { field: 'NAME', direction: 'ASC' };
    const after = cursorFor({ ...goodRow, f: 'NAME', d: 'ASC', v: '\u{1F600}'.repeat(200) });
    expect((await suite.server.gql(admin, LIST, { orderBy, after })).errors).toBeUndefined();
  });

  describe('timeline cursors', () => {
    const TIMELINE = 'query($id: ID!, $after: String) { job(id: $id) { timeline(after: $after) { nodes { id } } } }';
    const timelineCursor = (text: string) => Buffer.from(text).toString('base64url');
    let jobId: string;
    beforeAll(async () => {
      jobId = (await insertJobs(suite.db.pool, [{ name: 'with a timeline' }]))[0]!.id;
    });

    test.each([
      ['an id above the bigint range', 't1:9999999999999999999'],
      ['the bigint maximum plus one', 't1:9223372036854775808'],
      ['a negative id', 't1:-1'],
      ['leading zeros', 't1:007'],
      ['no id', 't1:'],
      ['another prefix', 'j1:5'],
    ])('%s', async (_label, text) => {
      await expectRefused(await suite.server.gql(admin, TIMELINE, { id: jobId, after: timelineCursor(text) }), 'BAD_USER_INPUT');
    });

    test('the bigint maximum is a cursor (past the end: an empty page)', async () => {
      const response = await suite.server.gql<{ job: { timeline: { nodes: unknown[] } } }>(admin, TIMELINE, {
        id: jobId,
        after: timelineCursor('t1:9223372036854775807'),
      });
      expect(response.errors).toBeUndefined();
      expect(response.data?.job.timeline.nodes).toEqual([]);
    });
  });

  test('a well-formed cursor of this order is accepted', async () => {
    const response = await suite.server.gql(admin, LIST, { after: cursorFor(goodRow) });
    expect(response.errors).toBeUndefined();
  });

  test.each([['nope'], ["1' OR '1'='1"], ['00000000-0000-0000-0000-00000000000g'], ['']])('a malformed job id: %j', async (id) => {
    await expectRefused(await suite.server.gql(admin, 'query($id: ID!) { job(id: $id) { id } }', { id }), 'BAD_USER_INPUT');
  });

  test('an unknown enum value, inline or in variables', async () => {
    await expectRefused(await suite.server.gql(admin, '{ jobs(filter: { tab: NOPE }) { nodes { id } } }'), 'BAD_USER_INPUT');
    await expectRefused(await suite.server.gql(admin, LIST, { filter: { statuses: ['DONE'] } }), 'BAD_USER_INPUT');
    await expectRefused(await suite.server.gql(admin, LIST, { orderBy: { field: 'COLOR', direction: 'DESC' } }), 'BAD_USER_INPUT');
  });

  test.each([[501], [10_000], [-1]])('first = %d', async (first) => {
    await expectRefused(await suite.server.gql(admin, LIST, { first }), 'BAD_USER_INPUT');
  });

  test('first = 500 and first = 0 are fine', async () => {
    expect((await suite.server.gql(admin, LIST, { first: 500 })).errors).toBeUndefined();
    expect((await suite.server.gql(admin, LIST, { first: 0 })).errors).toBeUndefined();
  });

  test.each([['yesterday'], ['2026-13-45T00:00:00Z'], ['1700000000'], ['']])('a date that is not a date: %j', async (value) => {
    await expectRefused(await suite.server.gql(admin, LIST, { filter: { createdAfter: value } }), 'BAD_USER_INPUT');
  });

  test('a date literal that is not a date', async () => {
    await expectRefused(await suite.server.gql(admin, '{ jobs(filter: { finishedBefore: "soon" }) { nodes { id } } }'), 'BAD_USER_INPUT');
  });

  test.each([
    ['a scope with a wildcard', { scope: 'acme/%' }],
    ['a scope with an empty segment', { scope: 'acme//prod' }],
    ['a name that is too long', { name: 'x'.repeat(201) }],
    ['too many types', { types: Array.from({ length: 101 }, (_, i) => `t${i}`) }],
    ['an owner id that is too long', { owners: ['x'.repeat(201)] }],
    ['too many statuses', { statuses: Array.from({ length: 21 }, () => 'FAILED') }],
  ])('a filter with %s', async (_label, filter) => {
    const response = await suite.server.gql(admin, LIST, { filter });
    await expectRefused(response, 'BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toMatch(/scope|name|types|owners|statuses/);
  });

  test('createJob input is validated field by field, and nothing is written', async () => {
    const before = await jobCount();
    const create = 'mutation($input: CreateJobInput!) { createJob(input: $input) { id } }';
    const valid = { name: 'Mask', type: 'masking', scope: 'acme/payments' };
    for (const [input, field] of [
      [{ ...valid, name: '' }, 'name'],
      [{ ...valid, type: 'has spaces' }, 'type'],
      [{ ...valid, scope: '../etc' }, 'scope'],
      [{ ...valid, config: { blob: 'x'.repeat(70_000) } }, 'config'],
      [{ ...valid, maxStartAt: '2001-01-01T00:00:00Z' }, 'maxStartAt'],
      [{ ...valid, scheduledAt: '2099-01-02T00:00:00Z', maxStartAt: '2099-01-01T00:00:00Z' }, 'maxStartAt'],
      [{ ...valid, config: [1, 2] }, 'config'],
    ] as const) {
      const response = await suite.server.gql(admin, create, { input });
      await expectRefused(response, 'BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toContain(field);
    }
    expect(await jobCount()).toBe(before);
  });
});

describe('bad tokens answer UNAUTHENTICATED with HTTP 401', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const secret = new TextEncoder().encode(TEST_JWT_SECRET);

  async function withHeader(authorization: string | undefined) {
    const response = await fetch(suite.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    return { status: response.status, ...((await response.json()) as object) } as Awaited<ReturnType<typeof postGraphQL>>;
  }

  test.each([
    ['missing', undefined],
    ['empty', ''],
    ['another scheme', 'Basic YWxpY2U6c2VjcmV0'],
    ['Bearer without a token', 'Bearer '],
    ['malformed', 'Bearer abc.def.ghi'],
    ['not a JWT at all', 'Bearer hello'],
  ])('%s', async (_label, header) => {
    const response = await withHeader(header);
    expect(response.status).toBe(401);
    await expectRefused(response, 'UNAUTHENTICATED');
  });

  test('expired', async () => {
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('admin-user')
      .setExpirationTime(now() - 60)
      .sign(secret);
    const response = await withHeader(`Bearer ${expired}`);
    expect(response.status).toBe(401);
    await expectRefused(response, 'UNAUTHENTICATED');
    expect(response.errors?.[0]?.message).toMatch(/expired/);
  });

  test('signed with another secret (forged)', async () => {
    const forged = await token('admin-user', { secret: 'someone-elses-secret-0123456789abcdef' });
    const response = await withHeader(`Bearer ${forged}`);
    expect(response.status).toBe(401);
    await expectRefused(response, 'UNAUTHENTICATED');
  });

  test('alg: none', async () => {
    const unsigned = new UnsecuredJWT({})
      .setSubject('admin-user')
      .setExpirationTime(now() + 600)
      .encode();
    const response = await withHeader(`Bearer ${unsigned}`);
    expect(response.status).toBe(401);
    await expectRefused(response, 'UNAUTHENTICATED');
  });

  test('signed with an asymmetric key the server does not trust', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const other = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('admin-user')
      .setExpirationTime(now() + 600)
      .sign(privateKey);
    const response = await withHeader(`Bearer ${other}`);
    expect(response.status).toBe(401);
    await expectRefused(response, 'UNAUTHENTICATED');
  });

  test.each([
    ['no sub', new SignJWT({}).setProtectedHeader({ alg: 'HS256' })],
    ['no exp', new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('admin-user')],
  ])('a valid signature but %s', async (_label, builder) => {
    const jwt = await (_label === 'no sub' ? builder.setExpirationTime(now() + 600) : builder).sign(secret);
    const response = await withHeader(`Bearer ${jwt}`);
    expect(response.status).toBe(401);
    await expectRefused(response, 'UNAUTHENTICATED');
  });

  test('a good token works, so the refusals above are about the token', async () => {
    const response = await withHeader(`Bearer ${admin}`);
    expect(response.status).toBe(200);
    expect((response.data as { me: { id: string } }).me.id).toBe('admin-user');
  });
});

describe('malformed HTTP requests', () => {
  test('a body that is not JSON answers 400 BAD_USER_INPUT, not an HTML page', async () => {
    const response = await fetch(suite.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: '{"query":',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  test('a query that does not parse', async () => {
    await expectRefused(await suite.server.gql(admin, '{ jobs { nodes { id }'), 'BAD_USER_INPUT');
  });

  test('a field that does not exist', async () => {
    await expectRefused(await suite.server.gql(admin, '{ jobs { nodes { password } } }'), 'BAD_USER_INPUT');
  });
});

describe('JSON written inline in the query works like JSON in variables', () => {
  test('createJob config and restartJob secrets as literals', async () => {
    const created = await suite.server.gql<{ createJob: { id: string; config: unknown } }>(
      admin,
      'mutation { createJob(input: {name: "Inline", type: "import", scope: "acme", config: {tables: ["a", "b"], depth: 2}, start: false}) { id config } }',
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createJob.config).toEqual({ tables: ['a', 'b'], depth: 2 });
    const id = created.data!.createJob.id;
    await suite.server.gql(admin, `mutation { cancelJob(id: "${id}") { status } }`);
    const restarted = await suite.server.gql<{ restartJob: { hasSecrets: boolean } }>(
      admin,
      `mutation { restartJob(id: "${id}", secrets: {password: "inline"}) { hasSecrets } }`,
    );
    expect(restarted.errors).toBeUndefined();
    expect(restarted.data?.restartJob.hasSecrets).toBe(true);
  });
});
