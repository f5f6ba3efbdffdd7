import { buildSchema, GraphQLError, parse } from 'graphql';
import { CompiledExecution } from '../src/graphql/compiled-execution';
import { grant, insertJobs } from './support/fixtures';
import { type GraphQLResponse, token } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * A query document that keeps coming back runs compiled (graphql-jit) from its third run on:
 * its answers, errors included, must be exactly what graphql-js answered.
 */

let admin: string;

const suite = apiSuite({ grants: [['jit-admin', 'admin']] });
beforeAll(async () => {
  admin = await token('jit-admin');
  await insertJobs(
    suite.db.pool,
    Array.from({ length: 12 }, (_, i) => ({
      name: `Job ${i}`,
      status: i % 3 === 0 ? ('FAILED' as const) : ('SUCCEEDED' as const),
      created_at: new Date(Date.UTC(2026, 0, 1, 0, i)),
      started_at: new Date(Date.UTC(2026, 0, 1, 0, i, 30)),
      finished_at: new Date(Date.UTC(2026, 0, 1, 1, i)),
      progress_done: i,
      progress_total: 12,
    })),
  );
});

/** Sends the same request `times` times; answers each response and how many ran compiled. */
async function repeat(times: number, query: string, variables?: Record<string, unknown>, bearer = admin) {
  const before = suite.server.queryExecutions.compiled;
  const answers: GraphQLResponse[] = [];
  for (let i = 0; i < times; i += 1) answers.push(await suite.server.gql(bearer, query, variables));
  return { answers, compiled: suite.server.queryExecutions.compiled - before };
}

test('a list document runs compiled from its third run, answering exactly what graphql-js answered', async () => {
  const query = `query Page($first: Int!, $after: String, $filter: JobFilter) {
    jobs(first: $first, after: $after, filter: $filter) {
      totalCount
      nodes { id name status progress { percent done total indeterminate } createdAt duration viewerCan { cancel restart } }
      edges { cursor }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  const { answers, compiled } = await repeat(6, query, { first: 5, after: null, filter: { statuses: ['SUCCEEDED', 'FAILED'] } });
  expect(compiled).toBe(4);
  expect(answers[0]!.errors).toBeUndefined();
  expect((answers[0]!.data as { jobs: { nodes: unknown[] } }).jobs.nodes).toHaveLength(5);
  for (const answer of answers) expect(answer).toEqual(answers[0]);
  // Compiled, the next page follows the cursor as before.
  const endCursor = (answers[0]!.data as { jobs: { pageInfo: { endCursor: string } } }).jobs.pageInfo.endCursor;
  const next = await repeat(4, query, { first: 5, after: endCursor, filter: null });
  expect(next.compiled).toBe(4);
  expect((next.answers[3]!.data as { jobs: { nodes: Array<{ name: string }> } }).jobs.nodes.map((node) => node.name)).toEqual([
    'Job 6',
    'Job 5',
    'Job 4',
    'Job 3',
    'Job 2',
  ]);
});

test('errors are the same compiled or not: a bad argument in a resolver, a bad variable, a bad cursor', async () => {
  const job = 'query One($id: ID!) { job(id: $id) { id name } }';
  const badId = await repeat(5, job, { id: 'not-a-uuid' });
  expect(badId.compiled).toBe(3);
  expect(badId.answers[0]!.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  for (const answer of badId.answers) expect(answer).toEqual(badId.answers[0]);

  // Variables that do not coerce are answered by graphql-js every time, word for word.
  const badVariable = await repeat(5, job, { id: { not: 'an id' } });
  expect(badVariable.compiled).toBe(0);
  expect(badVariable.answers[0]!.status).toBe(400);
  for (const answer of badVariable.answers) expect(answer).toEqual(badVariable.answers[0]);

  const page = 'query Page($after: String) { jobs(first: 2, after: $after) { nodes { id } } }';
  const badCursor = await repeat(5, page, { after: 'j1:garbage' });
  expect(badCursor.compiled).toBe(3);
  expect(badCursor.answers[0]!.errors?.[0]).toMatchObject({ path: ['jobs'], extensions: { code: 'BAD_USER_INPUT' } });
  for (const answer of badCursor.answers) expect(answer).toEqual(badCursor.answers[0]);
});

test('a job the viewer may not see is null, compiled or not; mutations never run compiled', async () => {
  const [hidden] = await insertJobs(suite.db.pool, [{ name: 'Hidden', scope: 'globex/secret' }]);
  await grant(suite.db.pool, 'jit-viewer', 'viewer', 'acme');
  const viewer = await token('jit-viewer');
  const seen = await repeat(5, 'query One($id: ID!) { job(id: $id) { id } }', { id: hidden!.id }, viewer);
  expect(seen.compiled).toBe(3);
  for (const answer of seen.answers) expect(answer).toEqual({ status: 200, data: { job: null } });

  const cancel = `mutation Cancel($id: ID!) { cancelJob(id: $id) { status } }`;
  const [first, second] = await insertJobs(suite.db.pool, [{ status: 'PENDING' }, { status: 'PENDING' }]);
  const before = suite.server.queryExecutions.compiled;
  for (const id of [first!.id, second!.id, first!.id, second!.id]) await suite.server.gql(admin, cancel, { id });
  expect(suite.server.queryExecutions.compiled).toBe(before);
});

test('an error without extensions thrown by a compiled resolver (a lost pg connection) is the GraphQLError graphql-js makes', async () => {
  const schema = buildSchema('type Query { count: Int }');
  const lost = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  schema.getQueryType()!.getFields()['count']!.resolve = () => Promise.reject(lost);
  const execution = new CompiledExecution(schema);
  const document = parse('query Hot { count }');
  const operation = document.definitions[0] as Parameters<CompiledExecution['run']>[1];
  const answers = [];
  for (let i = 0; i < 4; i += 1) {
    answers.push(await execution.run(document, operation, 'Hot', {}, undefined));
  }
  expect(execution.stats.compiled).toBe(2);
  for (const answer of answers) {
    const [error] = answer.errors ?? [];
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error!.extensions).toEqual({});
    expect(error!.originalError).toBe(lost);
    expect(error!.path).toEqual(['count']);
    expect(error!.locations).toEqual([{ line: 1, column: 13 }]);
    expect(error!.toJSON()).toEqual(answers[0]!.errors![0]!.toJSON());
  }
});
