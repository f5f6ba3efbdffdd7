import { randomUUID } from 'node:crypto';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { jobwatchSchema } from '../src/app/schema';
import { LIMITS } from '../src/graphql/limits';
import { RateLimiter } from '../src/graphql/rate-limiter';
import { getMetadataStorage } from 'type-graphql';
import { workerMutations } from '../src/graphql/operation-guard';
import { WorkerResolver } from '../src/workers/worker.resolver';
import { apiSuite } from './support/api-suite';
import { insertJobs } from './support/fixtures';
import {
  bearer,
  http,
  LEAK,
  removeJob,
  snapshot,
  startLoggedServer,
  wsOnce,
  wsSession,
  type Outcome,
  type OperationPayload,
  type Snapshot,
  type WsOptions,
} from './support/hostile';
import { TEST_JWT_SECRET, token, type TestServer } from './support/test-server';
import { subscribe, wsClient } from './support/ws-client';

/**
 * Hostile input over both transports (HTTP POST /graphql and graphql-ws on the same path).
 * Every hostile request must be refused with a code of DOMAIN.md ("Errors"), never a 5xx nor
 * INTERNAL_SERVER_ERROR, never a stack trace or SQL in the answer; the database must be exactly
 * as before (every test, see afterEach); and the server must still answer a normal query at
 * once (afterEach too).
 */

const TRANSPORTS = ['http', 'ws'] as const;
type Transport = (typeof TRANSPORTS)[number];
const CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'RATE_LIMITED'];
const HTTP_STATUS: Record<string, number> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429 };
/** A well-formed id nothing has. */
const MISSING = '00000000-0000-4000-8000-00000000dead';
/**
 * A refusal that never reached validation (or the expensive part of it) does not take seconds: an
 * exponential walk of nested fragments or aliases would take minutes. Not a performance figure
 * (those live in benchmarks): wide enough for a busy machine, where a cheap refusal took 1.2 s.
 */
const FAST_MS = 10_000;

let admin: string;
/** A PENDING job scheduled far ahead: a cancel would change it, no worker can claim it. */
let target: string;
let before: Snapshot;

const suite = apiSuite({
  grants: [
    ['admin-user', 'admin'],
    ['rl-alias-http', 'admin'],
    ['rl-alias-ws', 'admin'],
    ['rl-fragment-http', 'admin'],
    ['rl-fragment-ws', 'admin'],
  ],
  users: ['admin-user'],
});
beforeAll(async () => {
  admin = suite.tokens['admin-user']!;
  target = await createTarget();
  const day = 86_400_000;
  await insertJobs(suite.db.pool, [
    { name: 'Mask customers', type: 'masking', scope: 'acme/payments/prod', status: 'CREATED' },
    {
      name: 'Deploy web',
      type: 'deployment',
      scope: 'acme/web',
      status: 'SUCCEEDED',
      started_at: new Date(Date.now() - 2 * day),
      finished_at: new Date(Date.now() - day),
    },
    {
      name: 'Mailbox move',
      type: 'mail-migration',
      scope: 'globex/mail',
      status: 'FAILED',
      started_at: new Date(Date.now() - 2 * day),
      finished_at: new Date(Date.now() - day),
    },
    {
      name: 'Approve me',
      type: 'deployment',
      scope: 'acme/web',
      status: 'WAITING_APPROVAL',
      requires_approval: true,
      approvers: ['admin-user'],
    },
    { name: 'Stopped', type: 'import', scope: 'globex', status: 'CANCELLED', finished_at: new Date(Date.now() - day) },
  ]);
  expect(await targetStatus()).toBe('PENDING');
});

beforeEach(async () => {
  before = await snapshot(suite.db.pool);
});

afterEach(async () => {
  // The database is exactly as before the test: no row added, removed or changed.
  const after = await snapshot(suite.db.pool);
  // Should a broken protection have let a cancel through, the next tests get a PENDING job again.
  if ((await targetStatus()) !== 'PENDING') target = await createTarget();
  expect(after).toEqual(before);
  await expectAlive(suite.server);
});

async function createTarget(): Promise<string> {
  const created = await suite.server.gql<{ createJob: { id: string; status: string } }>(
    admin,
    'mutation { createJob(input: { name: "Nightly import", type: "import", scope: "acme/payments/prod", scheduledAt: "2099-01-01T00:00:00Z" }) { id status } }',
  );
  expect(created.data?.createJob.status).toBe('PENDING');
  // At step RUN, which waits for its 2099 schedule: no probe's claim can take it (PRE could run at once).
  await suite.db.pool.query(`UPDATE jobs SET step = 'RUN' WHERE id = $1`, [created.data!.createJob.id]);
  return created.data!.createJob.id;
}

async function targetStatus(): Promise<string | undefined> {
  const { rows } = await suite.db.pool.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [target]);
  return rows[0]?.status;
}

/**
 * A normal query answers at once, over HTTP and over a socket: the hostile request left no
 * work behind that holds the server up. "At once" is FAST_MS, as for the refusals: a plain
 * query on a busy machine can take more than a second, a wedged server never answers.
 */
async function expectAlive(on: TestServer, principal = 'admin-user'): Promise<void> {
  const bearerToken = await token(principal);
  let started = Date.now();
  const response = await on.gql<{ me: { id: string } }>(bearerToken, '{ me { id } }');
  expect({ status: response.status, data: response.data, ms: Date.now() - started < FAST_MS }).toEqual({
    status: 200,
    data: { me: { id: principal } },
    ms: true,
  });
  const client = wsClient(on.url, bearerToken);
  try {
    started = Date.now();
    const received = subscribe<{ me: { id: string } }>(client, '{ me { id } }');
    await received.until((messages) => messages.length === 1, FAST_MS);
    expect(received.messages[0]).toEqual({ me: { id: principal } });
    expect(Date.now() - started).toBeLessThan(FAST_MS);
  } finally {
    await client.dispose();
  }
}

/**
 * The strict servers' buckets refill at 1 token a second: on a busy machine a few requests (each
 * over a socket of its own) take more than that, and a spent budget would be back before the
 * request meant to find it spent. Registered in a describe, this stops the limiters' clock for
 * each of its tests (no refill while a test runs): what a budget allows and refuses is the product's own.
 */
function rateLimitClockStandsStill(): void {
  const wait = RateLimiter.prototype.wait;
  let now: number | undefined;
  let spy: jest.SpyInstance | undefined;
  beforeAll(() => {
    spy = jest.spyOn(RateLimiter.prototype, 'wait').mockImplementation(function (this: RateLimiter, key: string, cost?: number) {
      return wait.call(this, key, cost, now);
    });
  });
  beforeEach(() => {
    now = Date.now();
  });
  afterAll(() => {
    spy?.mockRestore();
  });
}

function send(
  transport: Transport,
  on: { url: string },
  bearerToken: string | undefined,
  payload: OperationPayload,
  options: WsOptions = {},
): Promise<Outcome> {
  return transport === 'http'
    ? http(on.url, {
        headers: { ...bearer(bearerToken), ...(options.requestId === undefined ? {} : { 'x-request-id': options.requestId }) },
        body: payload,
      })
    : wsOnce(on.url, payload, { authorization: bearerToken === undefined ? undefined : `Bearer ${bearerToken}`, ...options });
}

function codesOf(outcome: Outcome): unknown[] {
  return [...new Set((outcome.errors ?? []).map((error) => error.extensions?.['code']))];
}

function messagesOf(outcome: Outcome): string {
  return (outcome.errors ?? []).map((error) => error.message).join('\n');
}

/**
 * The whole operation is refused with `code`: over HTTP with its status (400 for
 * BAD_USER_INPUT...), over the socket with an error message and the socket left open.
 */
function expectRefused(outcome: Outcome, code: string, expected: { message?: RegExp; status?: number } = {}): void {
  expect({ status: outcome.status, closed: outcome.closed, codes: codesOf(outcome) }).toEqual({
    status: outcome.transport === 'http' ? (expected.status ?? HTTP_STATUS[code]) : undefined,
    closed: undefined,
    codes: [code],
  });
  if (expected.message !== undefined) expect(messagesOf(outcome)).toMatch(expected.message);
  expectNoLeak(outcome);
}

function expectNoLeak(outcome: Outcome): void {
  expect(outcome.text).not.toMatch(LEAK);
  expect(outcome.text).not.toContain('INTERNAL_SERVER_ERROR');
}

/** An answer may quote the hostile string back: that is not a leak. */
function withoutEcho(text: string, hostile: string): string {
  return text.split(JSON.stringify(hostile).slice(1, -1)).join('');
}

const CANCEL = 'mutation($id: ID!) { cancelJob(id: $id, reason: "hostile") { id status } }';

describe('1. depth through fragments', () => {
  /** `{ me { ...F0 } }` with F0 ... F(n-3) each nesting one more field: n levels in all. */
  function fragmentChain(depth: number): string {
    const links = depth - 2;
    const fragments = Array.from({ length: links }, (_, i) => `fragment F${i} on Viewer { a${i} { ...F${i + 1} } }`);
    return `{ me { ...F0 } } ${fragments.join(' ')} fragment F${links} on Viewer { id }`;
  }
  /** Real fields as deep as the schema goes (jobs → edges → node → timeline → nodes), then made-up ones. */
  function realThenMadeUp(depth: number): string {
    const real = ['jobs(first: 1)', 'edges', 'node', 'timeline(first: 1)', 'nodes'];
    const names = [...real, ...Array.from({ length: depth - real.length - 1 }, (_, i) => `deeper${i}`), 'id'];
    return `{ ${names
      .slice(0, -1)
      .map((name) => `${name} {`)
      .join(' ')} ${names.at(-1)} ${'}'.repeat(names.length - 1)} }`;
  }

  test.each(TRANSPORTS)('%s: depth 20 through a chain of fragments is refused with BAD_USER_INPUT naming the depth', async (transport) => {
    const outcome = await send(transport, suite.server, admin, { query: fragmentChain(20) });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /depth/i });
    expect(outcome.ms).toBeLessThan(FAST_MS);
  });

  test.each(TRANSPORTS)(`%s: depth ${LIMITS.maxDepth + 1} (real fields as deep as they go) is refused for its depth`, async (transport) => {
    const outcome = await send(transport, suite.server, admin, { query: realThenMadeUp(LIMITS.maxDepth + 1) });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /depth/i });
  });

  test.each(TRANSPORTS)(`%s: depth ${LIMITS.maxDepth} is within the limit (only the made-up fields are reported)`, async (transport) => {
    const outcome = await send(transport, suite.server, admin, { query: realThenMadeUp(LIMITS.maxDepth) });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /Cannot query field "deeper0"/ });
    expect(messagesOf(outcome)).not.toMatch(/depth/i);
  });

  test.each(TRANSPORTS)('%s: a cycle of fragments is refused, not followed', async (transport) => {
    const outcome = await send(transport, suite.server, admin, {
      query: '{ me { ...A } } fragment A on Viewer { id ...B } fragment B on Viewer { name ...A }',
    });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /within itself|depth/i });
    expect(outcome.ms).toBeLessThan(FAST_MS);
  });
});

describe('2. aliases of a mutation', () => {
  const aliased = (count: number, field = 'cancelJob(id:$id){id}') =>
    `mutation($id:ID!){${Array.from({ length: count }, (_, i) => `a${i}:${field}`).join(' ')}}`;

  test.each(TRANSPORTS)(
    '%s: 1,000 aliases of cancelJob on a real PENDING job are refused by the token limit; the job stays PENDING',
    async (transport) => {
      const outcome = await send(transport, suite.server, admin, { query: aliased(1000), variables: { id: target } });
      expectRefused(outcome, 'BAD_USER_INPUT', { message: /tokens/ });
      expect(outcome.ms).toBeLessThan(FAST_MS);
    },
  );

  test.each(TRANSPORTS)(
    '%s: 16 aliases of cancelJob (under the token limit) are refused by the alias limit; nothing runs',
    async (transport) => {
      const outcome = await send(transport, suite.server, admin, { query: aliased(16), variables: { id: target } });
      expectRefused(outcome, 'BAD_USER_INPUT', { message: /alias/i });
      expect(outcome.ms).toBeLessThan(FAST_MS);
    },
  );

  test.each(TRANSPORTS)(`%s: ${LIMITS.maxAliases} aliases of a query are fine`, async (transport) => {
    const query = `{${Array.from({ length: LIMITS.maxAliases }, (_, i) => `m${i}: me { id }`).join(' ')}}`;
    const outcome = await send(transport, suite.server, admin, { query });
    expect(outcome.errors).toBeUndefined();
    expect(Object.keys(outcome.data as object)).toHaveLength(LIMITS.maxAliases);
  });

  describe('each aliased mutation counts against the rate limit (RATE_LIMIT_PER_SECOND=1, RATE_LIMIT_BURST=3)', () => {
    let strict: TestServer;
    rateLimitClockStandsStill();
    beforeAll(async () => {
      strict = await suite.startServer({ RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' });
    });
    afterAll(async () => {
      await strict?.close();
    });

    /** Four cancels of the real PENDING job, written as plain aliases, in an inline fragment, in a named one, or half and half. */
    const FOUR: ReadonlyArray<readonly [string, string]> = [
      ['aliases', aliased(4)],
      [
        'an inline fragment',
        `mutation($id:ID!){ ... on Mutation { ${[0, 1, 2, 3].map((i) => `a${i}:cancelJob(id:$id){id}`).join(' ')} } }`,
      ],
      [
        'a named fragment',
        `mutation($id:ID!){ ...Four } fragment Four on Mutation { ${[0, 1, 2, 3].map((i) => `a${i}:cancelJob(id:$id){id}`).join(' ')} }`,
      ],
      [
        'two aliases and two in nested fragments',
        `mutation($id:ID!){ a0:cancelJob(id:$id){id} a1:cancelJob(id:$id){id} ...Two } fragment Two on Mutation { ... on Mutation { a2:cancelJob(id:$id){id} } a3:cancelJob(id:$id){id} }`,
      ],
    ];
    const DRY_RUN = (alias: string) => `${alias}: cancelJobs(filter: { types: ["no-such-type"] }, dryRun: true) { matched }`;

    test.each(TRANSPORTS)(
      '%s: 4 cancels (aliases or fragments) are more than the burst: refused whole with EXCEEDS_BURST; nothing is spent, 3 pass, then the next one is limited',
      async (transport) => {
        const principal = await token(`rl-alias-${transport}`);
        for (const [label, query] of FOUR) {
          const four = await send(transport, strict, principal, { query, variables: { id: target } });
          expectRefused(four, 'RATE_LIMITED', { message: /holds 4 mutations, more than the 3 allowed at once/ });
          // Waiting would never help: no retryAfterSeconds, no Retry-After.
          expect({ label, extensions: four.errors?.[0]?.extensions, retryAfter: four.headers?.get('retry-after') ?? null }).toEqual({
            label,
            extensions: { code: 'RATE_LIMITED', reason: 'EXCEEDS_BURST', retryable: false },
            retryAfter: null,
          });
        }
        // Three fit in the burst (none was spent above): all three run (dry runs of a bulk cancel: nothing changes).
        const three = await send(transport, strict, principal, { query: `mutation { ${['d0', 'd1', 'd2'].map(DRY_RUN).join(' ')} }` });
        expect({ errors: three.errors, data: three.data }).toEqual({
          errors: undefined,
          data: { d0: { matched: 0 }, d1: { matched: 0 }, d2: { matched: 0 } },
        });
        const fourth = await send(transport, strict, principal, { query: aliased(1), variables: { id: target } });
        expectRefused(fourth, 'RATE_LIMITED', { message: /retry after/ });
        expect(fourth.errors?.[0]?.extensions?.['retryAfterSeconds']).toBeGreaterThanOrEqual(1);
      },
    );

    test.each(TRANSPORTS)(
      '%s: mutations inside fragments are charged one each: 3 in a fragment spend the burst, the next one is limited',
      async (transport) => {
        const principal = await token(`rl-fragment-${transport}`);
        const three = await send(transport, strict, principal, {
          query: `mutation { ...Three } fragment Three on Mutation { d0: cancelJobs(filter: { types: ["no-such-type"] }, dryRun: true) { matched } ... on Mutation { ${['d1', 'd2'].map(DRY_RUN).join(' ')} } }`,
        });
        expect({ errors: three.errors, data: three.data }).toEqual({
          errors: undefined,
          data: { d0: { matched: 0 }, d1: { matched: 0 }, d2: { matched: 0 } },
        });
        expectRefused(await send(transport, strict, principal, { query: aliased(1), variables: { id: target } }), 'RATE_LIMITED');
      },
    );
  });
});

describe('3. duplicate fields and directives', () => {
  /** `n` directives (at most 28), two at most per field (@include and @skip), on distinct fields. */
  function withDirectives(n: number): string {
    const tag = (slot: number) => [' @include(if: true)', ' @skip(if: false)'].slice(0, Math.max(0, Math.min(2, n - 2 * slot))).join('');
    return `{ me${tag(0)} { id${tag(1)} name${tag(2)} actions${tag(3)} rules${tag(4)} grants${tag(5)} { id${tag(6)} role${tag(7)} scope${tag(8)} userId${tag(9)} createdAt${tag(10)} grantedBy${tag(11)} } } jobs(first: 1)${tag(12)} { totalCount${tag(13)} } }`;
  }

  test.each(TRANSPORTS)('%s: 1,000 duplicate fields are refused by the token limit, at once', async (transport) => {
    const outcome = await send(transport, suite.server, admin, { query: `{ me { ${'id '.repeat(1000)}} }` });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /tokens/ });
    expect(outcome.ms).toBeLessThan(FAST_MS);
  });

  test.each(TRANSPORTS)('%s: 1,000 directives are refused by the token limit, at once', async (transport) => {
    const outcome = await send(transport, suite.server, admin, { query: `{ me ${'@include(if: true) '.repeat(1000)}{ id } }` });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /tokens/ });
    expect(outcome.ms).toBeLessThan(FAST_MS);
  });

  test.each(TRANSPORTS)(`%s: 25 directives (under the token limit) are refused by the directive limit, at once`, async (transport) => {
    const outcome = await send(transport, suite.server, admin, { query: withDirectives(25) });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /directive/i });
    expect(outcome.ms).toBeLessThan(FAST_MS);
  });

  test.each(TRANSPORTS)(`%s: ${LIMITS.maxDirectives} directives are fine`, async (transport) => {
    const outcome = await send(transport, suite.server, admin, { query: withDirectives(LIMITS.maxDirectives) });
    expect(outcome.errors).toBeUndefined();
    expect(outcome.data).toMatchObject({ me: { id: 'admin-user' }, jobs: { totalCount: expect.any(Number) } });
  });

  test.each(TRANSPORTS)('%s: 1,000 directives on a mutation of the real PENDING job: refused, not run', async (transport) => {
    const outcome = await send(transport, suite.server, admin, {
      query: `mutation($id: ID!) { cancelJob(id: $id) ${'@skip(if: false) '.repeat(1000)}{ id } }`,
      variables: { id: target },
    });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /tokens/ });
  });
});

describe('4. a 1 MB document', () => {
  const megabyte = `mutation($id: ID!) { cancelJob(id: $id) { id } } # ${'x'.repeat(1024 * 1024)}`;

  test('http: a 1 MB body answers 413 BAD_USER_INPUT before any GraphQL (the mutation in it does not run)', async () => {
    const outcome = await http(suite.server.url, { headers: bearer(admin), body: { query: megabyte, variables: { id: target } } });
    expectRefused(outcome, 'BAD_USER_INPUT', { status: 413, message: /too large/ });
  });

  test('ws: a 1 MB message closes the socket with 1009 (the mutation in it does not run)', async () => {
    const outcome = await wsOnce(suite.server.url, { query: megabyte, variables: { id: target } }, { authorization: `Bearer ${admin}` });
    expect(outcome.closed?.code).toBe(1009);
    expect(outcome.errors).toBeUndefined();
  });

  test('http: a document just under the body limit but over the token limit: 400 BAD_USER_INPUT, at once', async () => {
    const query = `{ me { ${'id '.repeat(Math.floor((LIMITS.maxBodyBytes - 1024) / 3))}} }`;
    expect(JSON.stringify({ query }).length).toBeLessThan(LIMITS.maxBodyBytes);
    const outcome = await http(suite.server.url, { headers: bearer(admin), body: { query } });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /tokens/ });
    expect(outcome.ms).toBeLessThan(FAST_MS);
  });

  test('ws: a message just under 64 KB but over the token limit: BAD_USER_INPUT, the socket stays open', async () => {
    const query = `{ me { ${'id '.repeat(Math.floor((64 * 1024 - 1024) / 3))}} }`;
    const outcome = await wsOnce(suite.server.url, { query }, { authorization: `Bearer ${admin}` });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /tokens/ });
    expect(outcome.ms).toBeLessThan(FAST_MS);
  });
});

/** The hostile strings, each set in turn into every String, ID and DateTime argument, and into every JSON argument. */
const HOSTILE: ReadonlyArray<readonly [string, string]> = [
  ['SQL: quote, paren, DROP TABLE, comment', "x'); DROP TABLE jobs; --"],
  ['SQL: LIKE wildcards and a backslash', '%_\\'],
  ["SQL: ' OR '1'='1", "' OR '1'='1"],
  ['a 100,000-character string of quotes, wildcards and backslashes', `'%_\\"`.repeat(20_000)],
  ['odd unicode (RTL override, BOM, zero-width, combining, astral, lone surrogate)', 'a\u202eb\ufeffc\u200dd e\u0301 \u{1F4A9} \ud800 ☃'],
  ['a NUL byte', 'nul\u0000byte'],
];

type Column = 'name' | 'asset' | 'approvers' | 'config' | 'secrets';
type ProbeKind = 'string' | 'json';
interface Probe {
  readonly label: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
  /** createJob with a hostile free-text field or JSON object legitimately creates a job. */
  readonly creates?: { readonly column: Column; readonly sent: unknown } | undefined;
}

/** A hostile JSON value for a JSON argument: rules get a rule whose condition holds the string. */
function hostileJson(typeName: string, where: readonly string[], hostile: string): unknown {
  if (where.at(-1) === 'rules')
    return [{ action: 'view_monitor', subject: 'Job', conditions: { scope: { $in: [hostile] }, ownerId: hostile } }];
  return typeName === 'JSONObject'
    ? { note: hostile, [hostile.slice(0, 200)]: [hostile] }
    : [hostile, { [hostile.slice(0, 200)]: hostile }];
}

/**
 * How each object type is reached from Query through fields without required arguments (lists
 * asked for one item), e.g. Job by `jobs(first: 1) { nodes`: where its fields' arguments are
 * probed, on real rows.
 */
function pathsFromQuery(schema: GraphQLSchema): Map<string, string[]> {
  const query = schema.getQueryType() as GraphQLObjectType;
  const paths = new Map<string, string[]>([[query.name, []]]);
  const queue: GraphQLObjectType[] = [query];
  for (let type = queue.shift(); type !== undefined; type = queue.shift()) {
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      if (!isObjectType(named) || paths.has(named.name)) continue;
      if (field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined)) continue;
      const step = field.args.some((arg) => arg.name === 'first') ? `${field.name}(first: 1)` : field.name;
      paths.set(named.name, [...(paths.get(type.name) as string[]), step]);
      queue.push(named);
    }
  }
  return paths;
}

/**
 * Every field with a String/ID/DateTime argument (kind "string") or a JSON argument (kind
 * "json"), top-level or inside an input object, lists included: the fields of Query, Mutation
 * and Subscription, and the fields of the object types below them (reached on real rows, see
 * pathsFromQuery). One probe per such argument, with the hostile value there and sane values
 * elsewhere, through variables. Sane values never change anything: ids and leases nothing has
 * (a real job's id for subscriptions, which only read), a role name that exists (createRole
 * conflicts), role names that do not (grantRole, updateRole, deleteRole: NOT_FOUND), start:
 * false, bulk actions filtered to a type nobody has.
 */
function probesFor(schema: GraphQLSchema, hostile: string, kind: ProbeKind = 'string'): Probe[] {
  const isTarget = (scalar: string) =>
    kind === 'string' ? ['String', 'ID', 'DateTime'].includes(scalar) : scalar === 'JSON' || scalar === 'JSONObject';
  const sane = (typeName: string, where: string[], operation: string): unknown => {
    const path = where.join('.');
    const named = schema.getType(typeName);
    if (named !== undefined && isEnumType(named)) return named.getValues()[0]!.value;
    switch (typeName) {
      case 'Int':
      case 'Float':
        return 1;
      case 'Boolean':
        return false;
      case 'DateTime':
        return '2099-01-01T00:00:00.000Z';
      case 'JSON':
        return [{ action: 'view_monitor', subject: 'Job' }];
      case 'JSONObject':
        return {};
      case 'ID':
        return operation === 'subscription' ? target : MISSING;
      default: {
        const last = where.at(-1) ?? '';
        if (last === 'lease') return `${MISSING}.${MISSING}`;
        if (path === 'createRole.input.name' || path === 'updateRole.input.name') return 'viewer';
        if (last === 'name' && where[0] !== 'createJob' && where.length <= 2) return 'no-such-role';
        if (last === 'role') return 'no-such-role';
        if (last === 'scope') return 'acme/probe';
        if (last === 'type') return 'probe-type';
        if (last === 'userId') return 'nobody';
        if (last === 'workerId') return 'probe-worker';
        return 'probe';
      }
    }
  };
  /** A value of `type`, with the hostile value at `hostilePath` (relative), if given. */
  const valueOf = (type: GraphQLInputType, hostilePath: string[] | undefined, where: string[], operation: string): unknown => {
    if (isNonNullType(type)) return valueOf(type.ofType, hostilePath, where, operation);
    if (isListType(type)) return [valueOf(type.ofType, hostilePath, where, operation)];
    if (isInputObjectType(type)) {
      const value: Record<string, unknown> = {};
      for (const field of Object.values(type.getFields())) {
        if (hostilePath?.[0] === field.name)
          value[field.name] = valueOf(field.type, hostilePath.slice(1), [...where, field.name], operation);
        else if (isNonNullType(field.type)) value[field.name] = valueOf(field.type, undefined, [...where, field.name], operation);
      }
      return value;
    }
    const scalar = getNamedType(type).name;
    if (hostilePath !== undefined && hostilePath.length === 0) return kind === 'string' ? hostile : hostileJson(scalar, where, hostile);
    return sane(scalar, where, operation);
  };
  const targetPaths = (type: GraphQLInputType, prefix: string[], seen: ReadonlySet<string>): string[][] => {
    const named = getNamedType(type);
    if (isScalarType(named)) return isTarget(named.name) ? [prefix] : [];
    if (!isInputObjectType(named) || seen.has(named.name)) return [];
    return Object.values(named.getFields()).flatMap((field) =>
      targetPaths(field.type, [...prefix, field.name], new Set([...seen, named.name])),
    );
  };

  const roots = new Map<GraphQLObjectType, string>();
  for (const [operation, root] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ] as const) {
    if (root != null) roots.set(root, operation);
  }
  const below = [...pathsFromQuery(schema)].filter(([name]) => name !== schema.getQueryType()?.name);
  const owners: Array<{ type: GraphQLObjectType; operation: string; path: string[] }> = [
    ...[...roots].map(([type, operation]) => ({ type, operation, path: [] })),
    ...below.map(([name, path]) => ({ type: schema.getType(name) as GraphQLObjectType, operation: 'query', path })),
  ];
  const probes: Probe[] = [];
  for (const { type, operation, path: reach } of owners) {
    for (const field of Object.values(type.getFields())) {
      const selection = isLeafType(getNamedType(field.type))
        ? ''
        : getNamedType(field.type).name === 'Job'
          ? ' { __typename id }'
          : ' { __typename }';
      for (const argument of field.args) {
        for (const path of targetPaths(argument.type, [argument.name], new Set())) {
          const variables: Record<string, unknown> = {};
          for (const other of field.args) {
            if (other.name === argument.name)
              variables[other.name] = valueOf(other.type, path.slice(1), [field.name, other.name], operation);
            else if (isNonNullType(other.type)) variables[other.name] = valueOf(other.type, undefined, [field.name, other.name], operation);
            // Bulk actions without a filter would act on every job: keep them to a type nobody has.
            else if (operation === 'mutation' && other.name === 'filter') variables[other.name] = { types: ['no-such-type'] };
          }
          // Even with the hostile value in their filter (a name: it could match a job another
          // probe has just created), unless the hostile value is the types themselves.
          if (operation === 'mutation' && argument.name === 'filter' && path[1] !== 'types') {
            variables['filter'] = { ...(variables['filter'] as Record<string, unknown>), types: ['no-such-type'] };
          }
          const used = field.args.filter((arg) => arg.name in variables);
          const definitions = used.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
          const args = used.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
          const call = `${field.name}${args === '' ? '' : `(${args})`}${selection}`;
          const column = field.name === 'createJob' ? path[1] : undefined;
          const sent = column === undefined ? undefined : (variables['input'] as Record<string, unknown>)[column];
          probes.push({
            label: `${reach.length === 0 ? '' : `${type.name}.`}${field.name}(${path.join('.')})`,
            query: `${operation} Probe${definitions === '' ? '' : `(${definitions})`} { ${reach.map((step) => `${step} { `).join('')}${call}${' }'.repeat(reach.length)} }`,
            variables,
            creates:
              column === 'name' || column === 'asset' || column === 'approvers' || column === 'config' || column === 'secrets'
                ? { column, sent }
                : undefined,
          });
        }
      }
    }
  }
  return probes;
}

/** A value as it comes back after a trip through UTF-8 (lone surrogates become U+FFFD). */
function viaUtf8(value: unknown): unknown {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('utf8');
  if (Array.isArray(value)) return value.map(viaUtf8);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [viaUtf8(key), viaUtf8(item)]));
  return value;
}

/** The socket's limit is 64 KB a message: the hostile string cut until every probe's subscribe message fits. */
function fitForSocket(schema: GraphQLSchema, hostile: string, kind: ProbeKind): string {
  const fits = (value: string) =>
    probesFor(schema, value, kind).every(
      (probe) =>
        Buffer.byteLength(JSON.stringify({ id: '1000', type: 'subscribe', payload: { query: probe.query, variables: probe.variables } })) <
        63 * 1024,
    );
  let value = hostile;
  while (!fits(value)) value = value.slice(0, Math.floor(value.length * 0.8));
  return value;
}

/**
 * Runs every probe over the transport (over the socket one connection, 20 operations at once).
 * Answers what went wrong: a 5xx or a closed socket, a code outside DOMAIN.md, a leak. A job
 * createJob legitimately made must hold exactly what was sent; it is removed at once.
 */
async function sweep(
  probes: readonly Probe[],
  hostile: string,
  transport: Transport,
): Promise<{ problems: Array<Record<string, unknown>>; created: number }> {
  const problems: Array<Record<string, unknown>> = [];
  let created = 0;
  const session = transport === 'ws' ? wsSession(suite.server.url, `Bearer ${admin}`) : undefined;
  const check = async (probe: Probe) => {
    const payload = { query: probe.query, variables: probe.variables };
    const outcome =
      session === undefined
        ? await http(suite.server.url, { headers: bearer(admin), body: payload })
        : await session.run(payload, { subscriptionWaitMs: 200 });
    const codes = codesOf(outcome);
    const leak = LEAK.exec(withoutEcho(outcome.text, hostile))?.[0];
    const broken = transport === 'http' ? (outcome.status ?? 500) >= 500 : outcome.closed !== undefined;
    // A name filter is a literal substring: jobUpdated's snapshot finds nothing.
    const matched =
      probe.label === 'jobUpdated(filter.name)' && transport === 'ws' && outcome.errors === undefined && outcome.silent !== true;
    if (broken || matched || codes.some((code) => !CODES.includes(code as string)) || leak !== undefined) {
      problems.push({
        probe: probe.label,
        status: outcome.status,
        closed: outcome.closed,
        codes,
        message: messagesOf(outcome).slice(0, 200),
        leak,
        matched,
      });
    }
    const job = (outcome.data as { createJob?: { id: string } } | null | undefined)?.createJob;
    if (job !== undefined) {
      const column = probe.creates?.column ?? 'name';
      const { rows } = await suite.db.pool.query<{ value: unknown; status: string }>(
        `SELECT ${column === 'secrets' ? 'secrets IS NOT NULL' : column} AS value, status FROM jobs WHERE id = $1`,
        [job.id],
      );
      await removeJob(suite.db.pool, job.id);
      created += 1;
      // Exactly what was sent, as UTF-8 carries it (a lone surrogate becomes U+FFFD on the wire).
      const expected = column === 'secrets' ? true : viaUtf8(probe.creates?.sent);
      expect({ probe: probe.label, rows }).toEqual({ probe: probe.label, rows: [{ value: expected, status: 'CREATED' }] });
    }
  };
  try {
    if (session === undefined) for (const probe of probes) await check(probe);
    else for (let i = 0; i < probes.length; i += 20) await Promise.all(probes.slice(i, i + 20).map(check));
  } finally {
    await session?.close();
  }
  return { problems, created };
}

describe('5. SQL metacharacters and very long strings in every string argument', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await jobwatchSchema();
  });

  test('the sweep covers every field with a string argument (roots, subscriptions, object fields), and the input objects', () => {
    const labels = probesFor(schema, 'x').map((probe) => probe.label);
    for (const expected of [
      'jobs(filter.name)',
      'jobs(filter.scope)',
      'jobs(filter.types)',
      'jobs(filter.owners)',
      'jobs(after)',
      'job(id)',
      'jobCounts(filter.name)',
      'jobTypeStats(type)',
      'grants(userId)',
      'createJob(input.name)',
      'createJob(input.type)',
      'createJob(input.scope)',
      'createJob(input.asset)',
      'createJob(input.approvers)',
      'createJob(input.scheduledAt)',
      'cancelJob(reason)',
      'cancelJobs(filter.name)',
      'cancelJobs(reason)',
      'createRole(input.name)',
      'createRole(input.description)',
      'updateRole(name)',
      'grantRole(userId)',
      'grantRole(role)',
      'grantRole(scope)',
      'revokeGrant(id)',
      'claimJob(workerId)',
      'claimJob(types)',
      'heartbeat(lease)',
      'reportProgress(reports.lease)',
      'reportProgress(reports.log)',
      'reportProgress(reports.tasks.name)',
      'reportProgress(reports.tasks.message)',
      'failJob(error)',
      'failJob(stack)',
      'trapJob(error)',
      'startRollback(reason)',
      'confirmCancel(lease)',
      'rescheduleJob(id)',
      'approveJob(comment)',
      'rescheduleJob(scheduledAt)',
      'rescheduleJob(maxStartAt)',
      'jobProgress(id)',
      'jobTimeline(id)',
      'jobTimeline(after)',
      'jobUpdated(filter.name)',
      'jobUpdated(filter.scope)',
      'jobUpdated(filter.types)',
      'Job.timeline(after)',
    ]) {
      expect(labels).toContain(expected);
    }
    expect(labels.length).toBeGreaterThan(90);
    const timeline = probesFor(schema, 'x').find((probe) => probe.label === 'Job.timeline(after)');
    expect(timeline?.query).toMatch(
      /^query Probe\(\$after: String, \$first: Int!\) \{ jobs\(first: 1\) \{ .*timeline\(after: \$after, first: \$first\)/,
    );
  });

  const CASES = TRANSPORTS.flatMap((transport) => HOSTILE.map(([label, hostile]) => [transport, label, hostile] as const));

  test.each(CASES)(
    '%s: every string argument set to %s: refused or harmless, never an internal error',
    async (transport, _label, hostile) => {
      const value = transport === 'ws' ? fitForSocket(schema, hostile, 'string') : hostile;
      if (hostile.length > 50_000) expect(value.length).toBeGreaterThan(transport === 'ws' ? 10_000 : 50_000);
      const { problems, created } = await sweep(probesFor(schema, value, 'string'), value, transport);
      expect(problems).toEqual([]);
      // Nothing else changed (afterEach compares every table); the jobs table is still there.
      const { rows } = await suite.db.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM jobs');
      expect(rows[0]!.count).toBe(before['jobs']!.count);
      expect(created).toBeLessThanOrEqual(3);
    },
  );

  test.each(CASES)(
    '%s: every JSON argument carrying %s (keys, values, rule conditions): refused or stored as sent, never an internal error',
    async (transport, _label, hostile) => {
      const value = transport === 'ws' ? fitForSocket(schema, hostile, 'json') : hostile;
      const probes = probesFor(schema, value, 'json');
      expect(probes.map((probe) => probe.label)).toEqual(
        expect.arrayContaining([
          'createJob(input.config)',
          'createJob(input.secrets)',
          'restartJob(secrets)',
          'createRole(input.rules)',
          'updateRole(input.rules)',
        ]),
      );
      const { problems, created } = await sweep(probes, value, transport);
      expect(problems).toEqual([]);
      expect(created).toBeLessThanOrEqual(2);
    },
  );

  test.each([
    ['%', '%'],
    ['_', '_'],
    ['%_\\', '%_\\'],
    ["' OR '1'='1", "' OR '1'='1"],
  ])('http: a name filter of %s is a literal substring: it matches no job', async (_label, name) => {
    for (const query of [
      'query($f: JobFilter) { jobs(filter: $f) { totalCount } }',
      'query($f: JobFilter) { jobCounts(filter: $f) { count } }',
    ]) {
      const response = await suite.server.gql<{ jobs?: { totalCount: number }; jobCounts?: Array<{ count: number }> }>(admin, query, {
        f: { name },
      });
      expect(response.errors).toBeUndefined();
      const total = response.data?.jobs?.totalCount ?? response.data?.jobCounts?.reduce((sum, row) => sum + row.count, 0);
      expect(total).toBe(0);
    }
  });

  test('ws: jobUpdated refuses the filters the jobs list refuses (a name over 200 characters, 101 types)', async () => {
    const seen: Array<Record<string, unknown>> = [];
    for (const filter of [{ name: 'x'.repeat(201) }, { types: Array.from({ length: 101 }, (_, i) => `t${i}`) }]) {
      const list = await http(suite.server.url, {
        headers: bearer(admin),
        body: { query: 'query($f: JobFilter) { jobs(filter: $f) { totalCount } }', variables: { f: filter } },
      });
      // "Silent" means nothing came within the wait: on a busy machine the refusal can take longer than the default 300 ms.
      const outcome = await wsOnce(
        suite.server.url,
        { query: 'subscription($f: JobFilter) { jobUpdated(filter: $f) { id } }', variables: { f: filter } },
        { authorization: `Bearer ${admin}`, subscriptionWaitMs: FAST_MS },
      );
      seen.push({
        filter: Object.keys(filter)[0],
        list: codesOf(list),
        jobUpdated: outcome.silent === true ? 'accepted (live, silent)' : codesOf(outcome),
      });
    }
    expect(seen).toEqual([
      { filter: 'name', list: ['BAD_USER_INPUT'], jobUpdated: ['BAD_USER_INPUT'] },
      { filter: 'types', list: ['BAD_USER_INPUT'], jobUpdated: ['BAD_USER_INPUT'] },
    ]);
  });

  test.each(TRANSPORTS)(
    '%s: JSON nested 10,000 levels deep (20 KB) in createJob config and secrets: a client error, never an internal one',
    async (transport) => {
      const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
      const seen: Array<Record<string, unknown>> = [];
      for (const field of ['config', 'secrets']) {
        // Written by hand: JSON.stringify itself overflows on such a value.
        const payload = `{"query":"mutation($i: CreateJobInput!) { createJob(input: $i) { id } }","variables":{"i":{"name":"deep","type":"deep","scope":"acme","start":false,"${field}":{"deep":${deep}}}}}`;
        const outcome =
          transport === 'http'
            ? await http(suite.server.url, { headers: { ...bearer(admin), 'content-type': 'application/json' }, body: payload })
            : await wsOnce(
                suite.server.url,
                { query: 'mutation { __typename }' },
                { authorization: `Bearer ${admin}`, rawMessage: `{"id":"1","type":"subscribe","payload":${payload}}` },
              );
        const job = (outcome.data as { createJob?: { id: string } } | null | undefined)?.createJob;
        if (job !== undefined) {
          await removeJob(suite.db.pool, job.id);
        }
        const notClientCodes = codesOf(outcome).filter((code) => !CODES.includes(code as string));
        seen.push({ field, under500: (outcome.status ?? 200) < 500, closed: outcome.closed, notClientCodes });
      }
      expect(seen).toEqual(['config', 'secrets'].map((field) => ({ field, under500: true, closed: undefined, notClientCodes: [] })));
    },
  );

  test('ws: a 100,000-character argument is over the socket limit: the socket closes with 1009', async () => {
    const outcome = await wsOnce(
      suite.server.url,
      { query: 'query($v: String) { jobs(filter: { name: $v }) { totalCount } }', variables: { v: 'x'.repeat(100_000) } },
      { authorization: `Bearer ${admin}` },
    );
    expect(outcome.closed?.code).toBe(1009);
  });

  test.each(TRANSPORTS)('%s: a variable of the wrong type is BAD_USER_INPUT (as the same error over HTTP)', async (transport) => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['an unknown enum value', 'query($f: JobFilter) { jobs(filter: $f) { totalCount } }', { f: { statuses: ['DONE'] } }],
      ['an operator object for a string', 'query($f: JobFilter) { jobs(filter: $f) { totalCount } }', { f: { name: { $ne: null } } }],
      ['a missing required variable', 'query($id: ID!) { job(id: $id) { id } }', {}],
      ['an object for an ID', 'query($id: ID!) { job(id: $id) { id } }', { id: { toString: 'x' } }],
      ['an object for a mutation argument', 'mutation($id: ID!) { cancelJob(id: $id) { id } }', { id: [target] }],
    ];
    const seen: Array<Record<string, unknown>> = [];
    for (const [label, query, variables] of cases) {
      const outcome = await send(transport, suite.server, admin, { query, variables });
      expectNoLeak({ ...outcome, text: outcome.text.replace(/INTERNAL_SERVER_ERROR/g, '') });
      seen.push({ label, status: outcome.status, closed: outcome.closed, codes: codesOf(outcome) });
    }
    expect(seen).toEqual(
      cases.map(([label]) => ({ label, status: transport === 'http' ? 400 : undefined, closed: undefined, codes: ['BAD_USER_INPUT'] })),
    );
  });

  test('ws and http: CASL rules holding hostile strings compile to harmless SQL', async () => {
    // A role whose conditions carry the hostile strings (as an admin could write them), granted
    // to a user who then lists, counts and subscribes: the conditions are values, never SQL.
    // (NUL bytes and lone surrogates in JSON have a test of their own: the JSON sweep above.)
    const hostileValues = HOSTILE.filter(([label]) => label !== 'a NUL byte').map(([, value]) => value.slice(0, 300).replace('\ud800', ''));
    const rules = [
      {
        action: 'view_monitor',
        subject: 'Job',
        conditions: { scope: { $in: hostileValues }, type: { $nin: hostileValues }, ownerId: { $ne: hostileValues[0] } },
      },
    ];
    const created = await suite.server.gql(admin, 'mutation($i: RoleInput!) { createRole(input: $i) { name } }', {
      i: { name: 'hostile-rules', rules },
    });
    try {
      expect(created.errors).toBeUndefined();
      await suite.server.gql(admin, 'mutation { grantRole(userId: "hostile-rules-user", role: "hostile-rules") { id } }');
      const user = await token('hostile-rules-user');
      for (const transport of TRANSPORTS) {
        const list = await send(transport, suite.server, user, { query: '{ jobs { totalCount nodes { id } } jobCounts { count } }' });
        expect({ errors: list.errors, data: list.data }).toMatchObject({ errors: undefined, data: { jobs: { totalCount: 0, nodes: [] } } });
      }
      const updates = await wsOnce(
        suite.server.url,
        { query: 'subscription { jobUpdated { id } }' },
        { authorization: `Bearer ${user}`, subscriptionWaitMs: 200 },
      );
      expect(updates.silent).toBe(true);
    } finally {
      await suite.db.pool.query(`DELETE FROM grants WHERE role_name = 'hostile-rules'`);
      await suite.db.pool.query(`DELETE FROM roles WHERE name = 'hostile-rules'`);
      // Creating and granting the role moved the permissions version on (it never goes back), and
      // taking them away is recorded in permission_losses (what a re-subscribing viewer lost sight of).
      const after = await snapshot(suite.db.pool);
      for (const table of ['permissions_version', 'permission_losses']) {
        const state = after[table];
        if (state !== undefined) before[table] = state;
      }
    }
  });
});

describe('6. bad tokens over both transports', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const secret = new TextEncoder().encode(TEST_JWT_SECRET);
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const BAD: Array<[string, () => Promise<string>]> = [
    ['malformed (three dots of junk)', async () => 'abc.def.ghi'],
    ['not a JWT at all', async () => "'; DROP TABLE jobs; --"],
    [
      'alg: none',
      async () =>
        new UnsecuredJWT({})
          .setSubject('admin-user')
          .setExpirationTime(now() + 600)
          .encode(),
    ],
    ['alg: HS256 with the signature stripped', async () => `${(await token('admin-user')).split('.').slice(0, 2).join('.')}.`],
    [
      'alg: HS256 in the header, no signature, claims swapped in',
      async () => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'admin-user', exp: now() + 600 })}.`,
    ],
    [
      'expired',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('admin-user')
          .setExpirationTime(now() - 60)
          .sign(secret),
    ],
    ['signed with another secret', async () => token('admin-user', { secret: 'someone-elses-secret-0123456789abcdef' })],
    [
      'signed RS256 with an unknown key',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT({})
          .setProtectedHeader({ alg: 'RS256' })
          .setSubject('admin-user')
          .setExpirationTime(now() + 600)
          .sign(privateKey);
      },
    ],
    [
      'without sub',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime(now() + 600)
          .sign(secret),
    ],
    [
      'with an empty sub',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('')
          .setExpirationTime(now() + 600)
          .sign(secret),
    ],
    // Correctly signed: refused only for its size.
    [
      'over 8 KB (otherwise valid)',
      async () =>
        new SignJWT({ pad: 'x'.repeat(9_000) })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('admin-user')
          .setExpirationTime(now() + 600)
          .sign(secret),
    ],
  ];

  test.each(BAD)('http: %s: 401 UNAUTHENTICATED, the mutation does not run', async (_label, make) => {
    const jwt = await make();
    const outcome = await http(suite.server.url, {
      headers: { authorization: `Bearer ${jwt}` },
      body: { query: CANCEL, variables: { id: target } },
    });
    expectRefused(outcome, 'UNAUTHENTICATED', { status: 401 });
  });

  test.each(BAD)('ws: %s: connection_init is answered with close 4403, no ack', async (_label, make) => {
    const jwt = await make();
    const outcome = await wsOnce(suite.server.url, { query: CANCEL, variables: { id: target } }, { authorization: `Bearer ${jwt}` });
    expect(outcome.closed?.code).toBe(4403);
    expect(outcome.text).not.toContain('connection_ack');
    expect(outcome.text).not.toMatch(LEAK);
  });

  test.each([
    ['no authorization', undefined],
    ['a number', 12345],
    ['an object', { toString: 'Bearer x' }],
    ['a list', [`Bearer x`]],
    ['another scheme', 'Basic YWRtaW46YWRtaW4='],
  ])('ws: connection_init with %s as the authorization: close 4403', async (_label, authorization) => {
    const outcome = await wsOnce(suite.server.url, { query: CANCEL, variables: { id: target } }, { authorization });
    expect(outcome.closed?.code).toBe(4403);
  });
});

describe('7. transport rules', () => {
  const withTarget = () => ({ query: CANCEL, variables: { id: target } });

  test('http: a batch (JSON array) of two mutations is refused with 400 and a code; neither runs', async () => {
    const outcome = await http(suite.server.url, { headers: bearer(admin), body: [withTarget(), withTarget()] });
    expectRefused(outcome, 'BAD_USER_INPUT', { status: 400, message: /batch/i });
  });

  test('http: a GET query without a preflight header is refused (CSRF): 400 with a code', async () => {
    const outcome = await http(suite.server.url, {
      method: 'GET',
      headers: bearer(admin),
      search: `?query=${encodeURIComponent('{ me { id } }')}`,
    });
    expectRefused(outcome, 'BAD_USER_INPUT', { status: 400, message: /CSRF/ });
  });

  test.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'http: a POST with content-type %s (a "simple" request) is refused (CSRF): 400, the mutation does not run',
    async (contentType) => {
      const outcome = await http(suite.server.url, {
        headers: { ...bearer(admin), 'content-type': contentType },
        body: JSON.stringify(withTarget()),
      });
      expectRefused(outcome, 'BAD_USER_INPUT', { status: 400 });
    },
  );

  test('http: a mutation over GET (with apollo-require-preflight) is refused (405) and does not run', async () => {
    const search = `?query=${encodeURIComponent(CANCEL)}&variables=${encodeURIComponent(JSON.stringify({ id: target }))}`;
    const outcome = await http(suite.server.url, { method: 'GET', headers: { ...bearer(admin), 'apollo-require-preflight': '1' }, search });
    expect([400, 405]).toContain(outcome.status);
    expect(codesOf(outcome)).toEqual(['BAD_USER_INPUT']);
    expectNoLeak(outcome);
  });

  test.each(['https://evil.example', 'null', 'http://127.0.0.1.evil.example', 'http://localhost'])(
    'http: a POST from the foreign origin %s answers 403 FORBIDDEN before GraphQL; the mutation does not run',
    async (origin) => {
      const outcome = await http(suite.server.url, { headers: { ...bearer(admin), origin }, body: withTarget() });
      expectRefused(outcome, 'FORBIDDEN', { status: 403, message: /origin/ });
      expect(outcome.headers?.get('access-control-allow-origin')).toBeNull();
    },
  );

  test("http: the server's own origin passes", async () => {
    const outcome = await http(suite.server.url, {
      headers: { ...bearer(admin), origin: new URL(suite.server.url).origin },
      body: { query: '{ me { id } }' },
    });
    expect({ status: outcome.status, data: outcome.data }).toEqual({ status: 200, data: { me: { id: 'admin-user' } } });
  });

  test('ws: an upgrade from a foreign origin is refused at the handshake; without an Origin (not a browser) it opens', async () => {
    const foreign = await wsOnce(
      suite.server.url,
      { query: CANCEL, variables: { id: target } },
      { authorization: `Bearer ${admin}`, origin: 'https://evil.example' },
    );
    expect(foreign.handshakeRefused).toMatch(/Unexpected server response: 403/);
    const own = await wsOnce(
      suite.server.url,
      { query: '{ me { id } }' },
      { authorization: `Bearer ${admin}`, origin: new URL(suite.server.url).origin },
    );
    expect(own.data).toEqual({ me: { id: 'admin-user' } });
  });

  test.each([
    ['jobUpdated', 'subscription { jobUpdated { id } }', undefined],
    ['jobProgress of the real job', 'subscription($id: ID!) { jobProgress(id: $id) { id status } }', 'target'],
    [
      'jobTimeline, named, beside a fragment',
      'subscription S($id: ID!) { ...T } fragment T on Subscription { jobTimeline(id: $id) { id } }',
      'target',
    ],
  ])(
    'http: a subscription (%s) sent as a POST is refused with 400 BAD_USER_INPUT pointing to graphql-ws; no resolver runs',
    async (_label, query, id) => {
      const outcome = await http(suite.server.url, {
        headers: bearer(admin),
        body: { query, variables: id === undefined ? {} : { id: target } },
      });
      expectRefused(outcome, 'BAD_USER_INPUT', { status: 400, message: /subscriptions are served over graphql-ws on this path/ });
      expect(outcome.data ?? null).toBeNull();
    },
  );

  test('http: a subscription over GET (with apollo-require-preflight) is refused too (405, as any non-query over GET)', async () => {
    const search = `?query=${encodeURIComponent('subscription { jobUpdated { id } }')}`;
    const outcome = await http(suite.server.url, { method: 'GET', headers: { ...bearer(admin), 'apollo-require-preflight': '1' }, search });
    expectRefused(outcome, 'BAD_USER_INPUT', { status: 405, message: /only support query operations/ });
  });

  describe('with CORS_ORIGINS=*', () => {
    let open: TestServer;
    beforeAll(async () => {
      open = await suite.startServer({ CORS_ORIGINS: '*' });
    });
    afterAll(async () => {
      await open?.close();
    });

    test.each(['https://anywhere.example', 'http://localhost:5173'])(
      'http: %s passes: the preflight and the request carry Access-Control-Allow-Origin',
      async (origin) => {
        const preflight = await http(open.url, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
        });
        expect({ status: preflight.status, allowOrigin: preflight.headers?.get('access-control-allow-origin') }).toEqual({
          status: 204,
          allowOrigin: '*',
        });
        expect(preflight.headers?.get('access-control-allow-headers')).toMatch(/authorization/i);
        const outcome = await http(open.url, { headers: { ...bearer(admin), origin }, body: { query: '{ me { id } }' } });
        expect({ status: outcome.status, data: outcome.data, allowOrigin: outcome.headers?.get('access-control-allow-origin') }).toEqual({
          status: 200,
          data: { me: { id: 'admin-user' } },
          allowOrigin: '*',
        });
      },
    );

    test('ws: any origin opens', async () => {
      const outcome = await wsOnce(
        open.url,
        { query: '{ me { id } }' },
        { authorization: `Bearer ${admin}`, origin: 'https://anywhere.example' },
      );
      expect(outcome.data).toEqual({ me: { id: 'admin-user' } });
    });
  });

  describe('with CORS_ORIGINS=https://monitor.example', () => {
    let cors: TestServer;
    const listed = 'https://monitor.example';
    beforeAll(async () => {
      cors = await suite.startServer({ CORS_ORIGINS: listed });
    });
    afterAll(async () => {
      await cors?.close();
    });

    test('http: the listed origin passes with CORS headers, preflight included', async () => {
      const outcome = await http(cors.url, { headers: { ...bearer(admin), origin: listed }, body: { query: '{ me { id } }' } });
      expect({ status: outcome.status, data: outcome.data }).toEqual({ status: 200, data: { me: { id: 'admin-user' } } });
      expect(outcome.headers?.get('access-control-allow-origin')).toBe(listed);
      const preflight = await http(cors.url, {
        method: 'OPTIONS',
        headers: {
          origin: listed,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(preflight.status).toBeLessThan(300);
      expect(preflight.headers?.get('access-control-allow-origin')).toBe(listed);
    });

    test("http: the server's own origin passes; look-alikes of the listed one and foreign preflights are refused", async () => {
      const own = await http(cors.url, {
        headers: { ...bearer(admin), origin: new URL(cors.url).origin },
        body: { query: '{ me { id } }' },
      });
      expect(own.status).toBe(200);
      for (const origin of [
        'https://monitor.example.evil.com',
        'http://monitor.example',
        'https://monitor.example:8443',
        'https://evil.example',
      ]) {
        const outcome = await http(cors.url, { headers: { ...bearer(admin), origin }, body: withTarget() });
        expectRefused(outcome, 'FORBIDDEN', { status: 403 });
      }
      const preflight = await http(cors.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(403);
      expect(preflight.headers?.get('access-control-allow-origin')).toBeNull();
    });

    test('ws: the listed origin and the own origin open; a foreign one is refused at the handshake', async () => {
      for (const origin of [listed, new URL(cors.url).origin]) {
        const outcome = await wsOnce(cors.url, { query: '{ me { id } }' }, { authorization: `Bearer ${admin}`, origin });
        expect(outcome.data).toEqual({ me: { id: 'admin-user' } });
      }
      for (const origin of ['https://monitor.example.evil.com', 'https://evil.example', 'null']) {
        const foreign = await wsOnce(cors.url, { query: CANCEL, variables: { id: target } }, { authorization: `Bearer ${admin}`, origin });
        expect(foreign.handshakeRefused).toMatch(/Unexpected server response: 403/);
      }
    });
  });
});

describe('8. the cost limit', () => {
  const NESTED = '{ jobs(first: 500) { nodes { timeline(first: 500) { nodes { id } } } } }';

  test.each(TRANSPORTS)('%s: 500 jobs × 500 timeline events is refused with BAD_USER_INPUT naming the cost', async (transport) => {
    const outcome = await send(transport, suite.server, admin, { query: NESTED });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: new RegExp(`cost \\d+, limit ${LIMITS.maxCost}`) });
  });

  test.each(TRANSPORTS)('%s: the same with `first` from variables', async (transport) => {
    const outcome = await send(transport, suite.server, admin, {
      query: 'query($n: Int, $m: Int!) { jobs(first: $n) { nodes { timeline(first: $m) { nodes { id } } } } }',
      variables: { n: 500, m: 500 },
    });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /cost/ });
  });

  test.each(TRANSPORTS)('%s: the same with `first` from the default values of the variables', async (transport) => {
    const outcome = await send(transport, suite.server, admin, {
      query: 'query($n: Int = 500, $m: Int! = 500) { jobs(first: $n) { nodes { timeline(first: $m) { nodes { id } } } } }',
    });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /cost/ });
  });

  test.each(TRANSPORTS)('%s: the same spread over aliases and fragments', async (transport) => {
    const aliases = Array.from({ length: 10 }, (_, i) => `a${i}: jobs(first: 100) { ...J }`).join(' ');
    const outcome = await send(transport, suite.server, admin, {
      query: `{ ${aliases} } fragment J on JobConnection { nodes { timeline(first: 30) { nodes { id } } } }`,
    });
    expectRefused(outcome, 'BAD_USER_INPUT', { message: /cost/ });
  });

  test.each(TRANSPORTS)('%s: jobs(first: 500) { nodes { id name } } is accepted', async (transport) => {
    const outcome = await send(transport, suite.server, admin, { query: '{ jobs(first: 500) { nodes { id name } } }' });
    expect(outcome.errors).toBeUndefined();
    expect((outcome.data as { jobs: { nodes: unknown[] } }).jobs.nodes.length).toBeGreaterThan(0);
  });
});

describe('9. rate limiting (RATE_LIMIT_PER_SECOND=1, RATE_LIMIT_BURST=3, WORKER_RATE_LIMIT_PER_SECOND=1, WORKER_RATE_LIMIT_BURST=3)', () => {
  let strict: TestServer;
  rateLimitClockStandsStill();
  const heartbeat = {
    query: 'mutation($l: String!) { heartbeat(lease: $l) { cancelRequested } }',
    variables: { l: `${MISSING}.${MISSING}` },
  };
  const missingCancel = { query: CANCEL, variables: { id: MISSING } };
  beforeAll(async () => {
    strict = await suite.startServer({
      RATE_LIMIT_PER_SECOND: '1',
      RATE_LIMIT_BURST: '3',
      WORKER_RATE_LIMIT_PER_SECOND: '1',
      WORKER_RATE_LIMIT_BURST: '3',
    });
  });
  afterAll(async () => {
    await strict?.close();
  });
  afterEach(async () => {
    await expectAlive(strict);
  });

  test.each(TRANSPORTS)(
    '%s: the 4th mutation is RATE_LIMITED with retryAfterSeconds; queries, other principals and worker calls are not',
    async (transport) => {
      const principal = await token(`rl-${transport}-${randomUUID()}`);
      for (let i = 0; i < 3; i += 1) {
        expect(codesOf(await send(transport, strict, principal, missingCancel))).toEqual(['NOT_FOUND']);
      }
      const limited = await send(transport, strict, principal, missingCancel);
      expectRefused(limited, 'RATE_LIMITED');
      const retryAfter = limited.errors?.[0]?.extensions?.['retryAfterSeconds'];
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      if (transport === 'http') expect(limited.headers?.get('retry-after')).toBe(String(retryAfter));

      // Queries are not limited.
      const query = await send(transport, strict, principal, { query: '{ me { id } jobs(first: 1) { totalCount } }' });
      expect(query.errors).toBeUndefined();
      // Another principal is not affected.
      expect(codesOf(await send(transport, strict, await token(`rl-other-${randomUUID()}`), missingCancel))).toEqual(['NOT_FOUND']);
      // Worker calls have their own budget: three heartbeats (a lease nobody holds) get their real answer, the 4th is limited.
      for (let i = 0; i < 3; i += 1) {
        const beat = await send(transport, strict, principal, heartbeat);
        expect(codesOf(beat)).not.toContain('RATE_LIMITED');
        expect(codesOf(beat).every((code) => CODES.includes(code as string))).toBe(true);
      }
      expectRefused(await send(transport, strict, principal, heartbeat), 'RATE_LIMITED');
    },
  );

  test.each(TRANSPORTS)(
    "%s: worker mutations inside a fragment are charged to the workers' budget, not the people's",
    async (transport) => {
      const principal = await token(`rl-worker-fragment-${transport}-${randomUUID()}`);
      const beats = await send(transport, strict, principal, {
        query: `mutation($l: String!) { ...Beats } fragment Beats on Mutation { ${['h0', 'h1', 'h2'].map((alias) => `${alias}: heartbeat(lease: $l) { cancelRequested }`).join(' ')} }`,
        variables: heartbeat.variables,
      });
      expect(codesOf(beats)).not.toContain('RATE_LIMITED');
      expect(codesOf(beats).every((code) => CODES.includes(code as string))).toBe(true);
      // The people's budget is whole: three mutations get their real answer.
      for (let i = 0; i < 3; i += 1) expect(codesOf(await send(transport, strict, principal, missingCancel))).toEqual(['NOT_FOUND']);
      // The workers' budget was spent by the three in the fragment.
      expectRefused(await send(transport, strict, principal, heartbeat), 'RATE_LIMITED');
    },
  );

  test('the worker protocol is marked on every mutation of WorkerResolver: it holds every worker call and no operator action', async () => {
    const schema = await jobwatchSchema();
    const names = [...workerMutations(schema)].sort();
    const declared = getMetadataStorage()
      .mutations.filter((mutation) => mutation.target === WorkerResolver)
      .map((mutation) => mutation.schemaName);
    expect(names).toEqual([...declared].sort());
    expect(names).toEqual(
      expect.arrayContaining([
        'claimJob',
        'completeJob',
        'confirmCancel',
        'failJob',
        'heartbeat',
        'reportProgress',
        'startRollback',
        'trapJob',
      ]),
    );
    expect(names).not.toContain('cancelJob');
    expect(names).not.toContain('createJob');
  });

  test('the budget is per principal across transports: spent over HTTP, limited over the socket', async () => {
    const principal = await token(`rl-both-${randomUUID()}`);
    for (let i = 0; i < 3; i += 1) await send('http', strict, principal, missingCancel);
    expectRefused(await send('ws', strict, principal, missingCancel), 'RATE_LIMITED');
  });
});

describe('10. production mode (NODE_ENV=production)', () => {
  let prod: Awaited<ReturnType<typeof startLoggedServer>>;
  beforeAll(async () => {
    prod = await startLoggedServer(suite.db, { NODE_ENV: 'production' });
  });
  afterAll(async () => {
    await prod?.close();
  });
  afterEach(async () => {
    await expectAlive(prod);
  });

  test.each(TRANSPORTS)('%s: introspection is refused with BAD_USER_INPUT', async (transport) => {
    for (const query of [
      '{ __schema { types { name } } }',
      '{ __type(name: "Job") { fields { name } } }',
      '{ me { id } __schema { queryType { name } } }',
    ]) {
      const outcome = await send(transport, prod, admin, { query });
      expectRefused(outcome, 'BAD_USER_INPUT', { message: /introspection/i });
      expect(outcome.data ?? null).toBeNull();
    }
    // __typename is not introspection of the schema.
    expect((await send(transport, prod, admin, { query: '{ __typename }' })).data).toEqual({ __typename: 'Query' });
  });

  test.each(TRANSPORTS)('%s: misspellings get no "Did you mean" suggestion', async (transport) => {
    const cases: Array<[string, Record<string, unknown>?]> = [
      ['{ me { idd } }'],
      ['{ jobz { totalCount } }'],
      ['{ jobs(firts: 1) { totalCount } }'],
      ['{ jobs(filter: { tab: ACTIV }) { totalCount } }'],
      ['{ jobs(filter: { nme: "x" }) { totalCount } }'],
      ['query($f: JobFiltr) { jobs(filter: $f) { totalCount } }', { f: {} }],
      ['query($f: JobFilter) { jobs(filter: $f) { totalCount } }', { f: { statuses: ['PENDIN'] } }],
      ['query($f: JobFilter) { jobs(filter: $f) { totalCount } }', { f: { nme: 'x' } }],
    ];
    const seen: Array<Record<string, unknown>> = [];
    for (const [query, variables] of cases) {
      const outcome = await send(transport, prod, admin, { query, variables });
      expect(outcome.text).not.toMatch(LEAK);
      seen.push({ query, codes: codesOf(outcome), suggestion: /did you mean/i.test(outcome.text) });
    }
    expect(seen).toEqual(cases.map(([query]) => ({ query, codes: ['BAD_USER_INPUT'], suggestion: false })));
  });

  test.each(TRANSPORTS)(
    '%s: an internal error is masked with an errorId that is in the server log, on the line of its request id; no SQL, no stack',
    async (transport) => {
      // Cache the admin's permissions first, so that only the roles query meets the missing table.
      expect((await send(transport, prod, admin, { query: '{ me { id } }' })).errors).toBeUndefined();
      await suite.db.pool.query('ALTER TABLE roles RENAME TO roles_gone');
      let outcome: Outcome;
      const requestId = `trace-${transport}-${randomUUID()}`;
      try {
        outcome = await send(transport, prod, admin, { query: '{ roles { name rules } }' }, { requestId });
      } finally {
        await suite.db.pool.query('ALTER TABLE roles_gone RENAME TO roles');
      }
      expect(codesOf(outcome)).toEqual(['INTERNAL_SERVER_ERROR']);
      const errorId = outcome.errors?.[0]?.extensions?.['errorId'];
      expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
      expect(outcome.errors?.[0]?.message).toBe(`Internal server error (error id ${errorId as string})`);
      expect(outcome.text).not.toMatch(LEAK);
      expect(outcome.text).not.toMatch(/roles_gone|does not exist|stack/i);
      // One line, with the cause, the errorId, and the request's id (over the socket: the upgrade's
      // X-Request-Id and the operation's id), so the client's errorId leads to the request.
      const lines = prod.logLines().filter((line) => line.includes(errorId as string));
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(line).toMatchObject({
        errorId,
        requestId: transport === 'http' ? requestId : `ws-${requestId}-1`,
        userId: 'admin-user',
        msg: 'internal error',
      });
      expect(JSON.stringify(line['err'])).toMatch(/relation/);
    },
  );
});
