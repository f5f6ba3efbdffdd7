import * as validation from 'graphql/validation/validate';
import { grant, insertJobs } from './support/fixtures';
import { scrape } from './support/prometheus';
import { apiSuite } from './support/api-suite';

/**
 * The hot-query path (src/app/hot-queries.ts) answers a query document that keeps coming back
 * without Apollo's per-request machinery. What a client sees must not change: the same bytes,
 * headers and status as Apollo's answer, the same errors, the same permission checks.
 */

const suite = apiSuite({
  grants: [
    ['hot-admin', 'admin'],
    ['hot-viewer', 'viewer', 'acme'],
  ],
  users: ['hot-admin', 'hot-viewer', 'hot-stranger'],
});

const PAGE = `query HotPage($first: Int!, $filter: JobFilter) {
  jobs(first: $first, filter: $filter) {
    nodes { id name status scope createdAt progress { percent done total } viewerCan { cancel } }
    pageInfo { hasNextPage endCursor }
  }
}`;

beforeAll(async () => {
  await insertJobs(
    suite.db.pool,
    Array.from({ length: 8 }, (_, i) => ({
      name: `Hot ${i}`,
      scope: i % 2 === 0 ? 'acme/reports' : 'globex/reports',
      status: i % 3 === 0 ? ('FAILED' as const) : ('SUCCEEDED' as const),
      created_at: new Date(Date.UTC(2026, 0, 2, 0, i)),
    })),
  );
});

interface Raw {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
}

async function post(body: unknown, bearer: string | undefined, headers: Record<string, string> = {}): Promise<Raw> {
  const response = await fetch(suite.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }), ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

/** Sends the same request `times` times; answers the responses and how many the hot path answered. */
async function repeat(times: number, body: unknown, bearer: string | undefined, headers: Record<string, string> = {}) {
  const answers: Raw[] = [];
  const before = await hotAnswers();
  for (let i = 0; i < times; i += 1) answers.push(await post(body, bearer, headers));
  return { answers, hot: (await hotAnswers()) - before };
}

/** Answers the hot path gave so far. */
async function hotAnswers(): Promise<number> {
  return suite.server.queryExecutions.hot;
}

test('a hot list page is answered byte for byte as Apollo answered it, with its headers', async () => {
  const body = { query: PAGE, operationName: 'HotPage', variables: { first: 5, filter: { statuses: ['FAILED', 'SUCCEEDED'] } } };
  const { answers, hot } = await repeat(6, body, suite.tokens['hot-admin']);
  // The first three runs are Apollo's on graphql-js (the hot path prepares a text the second time it
  // comes, and compiles it on its third run there); then it is answered hot.
  expect(hot).toBe(3);
  const [first] = answers;
  expect(first!.status).toBe(200);
  expect(first!.contentType).toBe('application/json; charset=utf-8');
  expect(JSON.parse(first!.body).data.jobs.nodes).toHaveLength(5);
  for (const answer of answers) expect(answer).toEqual(first);
});

test('the content type follows Accept on both paths: graphql-response+json when asked first', async () => {
  const body = { query: 'query Accepting { jobs(first: 1) { nodes { id } } }' };
  const accept = { accept: 'application/graphql-response+json, application/json' };
  const { answers } = await repeat(5, body, suite.tokens['hot-admin'], accept);
  expect(answers[0]!.contentType).toBe('application/graphql-response+json; charset=utf-8');
  for (const answer of answers) expect(answer).toEqual(answers[0]);
});

test('errors of a hot document are Apollo’s: a bad argument, a bad token, no token, variables that do not coerce', async () => {
  const body = { query: PAGE, variables: { first: 3 } };
  await repeat(4, body, suite.tokens['hot-admin']);

  const tooMany = await repeat(3, { ...body, variables: { first: 501 } }, suite.tokens['hot-admin']);
  for (const answer of tooMany.answers) expect(answer).toEqual(tooMany.answers[0]);
  expect(JSON.parse(tooMany.answers[0]!.body)).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }], data: null });

  const anonymous = await post(body, undefined);
  expect(anonymous.status).toBe(401);
  expect(JSON.parse(anonymous.body)).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  const forged = await post(body, `${suite.tokens['hot-admin']!.slice(0, -4)}AAAA`);
  expect(forged.status).toBe(401);
  expect(JSON.parse(forged.body)).toEqual({
    errors: [{ message: 'The token is invalid (bad signature)', extensions: { code: 'UNAUTHENTICATED' } }],
  });

  const uncoerced = await repeat(3, { ...body, variables: { first: 'three' } }, suite.tokens['hot-admin']);
  expect(uncoerced.answers[0]!.status).toBe(400);
  expect(JSON.parse(uncoerced.answers[0]!.body)).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
  for (const answer of uncoerced.answers) expect(answer).toEqual(uncoerced.answers[0]);
});

test('what a viewer may see is checked on every hot answer: a grant revoked counts at once', async () => {
  const body = { query: PAGE, variables: { first: 20 } };
  const viewer = suite.tokens['hot-viewer'];
  const before = await repeat(4, body, viewer);
  const scopes = (raw: Raw) => (JSON.parse(raw.body).data.jobs.nodes as Array<{ scope: string }>).map((node) => node.scope);
  expect(before.hot).toBeGreaterThan(0);
  expect(scopes(before.answers[3]!).length).toBe(4);
  expect(new Set(scopes(before.answers[3]!))).toEqual(new Set(['acme/reports']));

  await suite.db.pool.query(`DELETE FROM grants WHERE user_id = 'hot-viewer'`);
  await suite.db.pool.query(`UPDATE permissions_version SET version = version + 1`);
  const after = await post(body, viewer);
  expect(JSON.parse(after.body)).toEqual({ data: { jobs: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } });

  // Someone with no grant at all sees nothing, hot or not.
  const stranger = await repeat(4, body, suite.tokens['hot-stranger']);
  for (const answer of stranger.answers) expect(answer).toEqual(after);
  await grant(suite.db.pool, 'hot-viewer', 'viewer', 'acme');
});

test('hot answers are counted in the metrics like any other', async () => {
  const body = { query: 'query Counted { jobs(first: 1) { nodes { id } } }' };
  const labels = { transport: 'http', type: 'query', operation: 'Counted' };
  const { hot } = await repeat(7, body, suite.tokens['hot-admin']);
  expect(hot).toBe(4);
  const metrics = await scrape(suite.server.url);
  expect(metrics.sum('jobwatch_graphql_requests_total', labels)).toBe(7);
  expect(metrics.sum('jobwatch_graphql_request_duration_seconds_count', { type: 'query', operation: 'Counted' })).toBe(7);
});

test('mutations, subscriptions sent over HTTP and GET requests are never answered hot', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ status: 'PENDING' }]);
  const cancel = { query: 'mutation Stop($id: ID!) { cancelJob(id: $id) { status } }', variables: { id: job!.id } };
  const cancels = await repeat(4, cancel, suite.tokens['hot-admin']);
  expect(cancels.hot).toBe(0);
  expect(JSON.parse(cancels.answers[0]!.body)).toEqual({ data: { cancelJob: { status: 'CANCELLED' } } });
  for (const answer of cancels.answers.slice(1)) expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('CONFLICT');

  const subscription = await repeat(4, { query: 'subscription { jobUpdated { id } }' }, suite.tokens['hot-admin']);
  expect(subscription.hot).toBe(0);
  for (const answer of subscription.answers) expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_USER_INPUT');
});

test('a document written for one request (its literals in the text) is validated once, by Apollo; hot ones only before they are', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ name: 'One-off', scope: 'acme/reports' }]);
  // graphql-js's validate, which Apollo and the hot path both call through the graphql package.
  const validate = jest.spyOn(validation, 'validate');
  try {
    const read = await post({ query: `{ job(id: "${job!.id}") { name } }` }, suite.tokens['hot-admin']);
    expect(JSON.parse(read.body)).toEqual({ data: { job: { name: 'One-off' } } });
    const cancel = await post({ query: `mutation { cancelJob(id: "${job!.id}") { status } }` }, suite.tokens['hot-admin']);
    expect(JSON.parse(cancel.body)).toEqual({ data: { cancelJob: { status: 'CANCELLED' } } });
    expect(validate).toHaveBeenCalledTimes(2);

    // A document that comes back: Apollo validates it the first time, the hot path the second, then nobody.
    validate.mockClear();
    const { hot } = await repeat(6, { query: 'query Returning { jobs(first: 1) { nodes { id } } }' }, suite.tokens['hot-admin']);
    expect(hot).toBe(3);
    expect(validate).toHaveBeenCalledTimes(2);
  } finally {
    validate.mockRestore();
  }
});

test('the server reads hot requests before express as express would: request ids, origins, bodies that are not JSON', async () => {
  const body = { query: 'query Fronted { jobs(first: 1) { nodes { id } } }' };
  const bearer = suite.tokens['hot-admin'];
  const { answers, hot } = await repeat(4, body, bearer, { 'x-request-id': 'hot-request-1' });
  expect(hot).toBe(1);
  expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200]));
  const echoed = await fetch(suite.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, 'x-request-id': 'hot-request-2' },
    body: JSON.stringify(body),
  });
  expect(echoed.headers.get('x-request-id')).toBe('hot-request-2');

  // A page of the API's own origin is answered; a foreign one is refused, hot document or not.
  const host = new URL(suite.server.url).host;
  const own = await post(body, bearer, { origin: `http://${host}` });
  expect(own).toEqual(answers[0]);
  const foreign = await post(body, bearer, { origin: 'https://evil.example' });
  expect(foreign.status).toBe(403);
  expect(JSON.parse(foreign.body).errors[0].extensions.code).toBe('FORBIDDEN');

  const raw = async (text: string) => {
    const response = await fetch(suite.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: text,
    });
    return {
      status: response.status,
      body: (await response.json()) as { errors?: Array<{ message: string; extensions: { code: string } }> },
    };
  };
  for (const text of ['{"query": ', '"just a string"', '42']) {
    const refused = await raw(text);
    expect(refused).toEqual({
      status: 400,
      body: { errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT' } }] },
    });
  }
  // A byte-order mark before the JSON is dropped, as body-parser drops it.
  const marked = await raw(`\uFEFF${JSON.stringify(body)}`);
  expect(marked.status).toBe(200);
  expect(marked.body).toEqual(JSON.parse(answers[0]!.body));
});

test('the guard still sees every new set of variables of a hot document: unstorable text and too costly pages are refused', async () => {
  const query = `query Guarded($first: Int!, $filter: JobFilter) {
    jobs(first: $first, filter: $filter) { nodes { id timeline(first: 500) { nodes { id } } } }
  }`;
  const bearer = suite.tokens['hot-admin'];
  const fine = await repeat(5, { query, variables: { first: 2, filter: { name: 'Hot' } } }, bearer);
  expect(fine.hot).toBe(2);
  const nul = await post({ query, variables: { first: 2, filter: { name: 'Hot\u0000' } } }, bearer);
  expect(nul.status).toBe(400);
  expect(JSON.parse(nul.body).errors[0].message).toMatch(/NUL character/);
  const costly = await post({ query, variables: { first: 500, filter: { name: 'Hot' } } }, bearer);
  expect(JSON.parse(costly.body).errors[0].message).toMatch(/too expensive/);
  // And the variables that passed still pass.
  expect(await post({ query, variables: { first: 2, filter: { name: 'Hot' } } }, bearer)).toEqual(fine.answers[0]);
});
