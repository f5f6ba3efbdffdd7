import { compileFilter } from '../src/jobs/job-filter.match';
import type { JobFilter } from '../src/jobs/job-filter.input';
import { JOB_COLUMNS, type JobRow } from '../src/jobs/job.row';
import { ALL_STATUSES, type JobStatus, TAB_STATUSES, type JobTab } from '../src/jobs/job-status';
import { insertJobs, type JobSeed } from './support/fixtures';
import { token } from './support/test-server';
import { random } from './support/random';
import { apiSuite } from './support/api-suite';

let admin: string;

type Seeded = Required<Pick<JobSeed, 'id' | 'name' | 'type' | 'scope' | 'owner_id' | 'status' | 'created_at'>> &
  Pick<JobSeed, 'started_at' | 'finished_at'> & { attributes: Record<string, string>; asset: string | null };
const jobs: Seeded[] = [];

const NAMES = ['Mask customers', 'Import products.csv', 'Deploy billing-api', 'Migrate mailbox', 'Export orders_50%', 'Tag PII columns'];
const TYPES = ['masking', 'import', 'deployment', 'mail-migration', 'export'];
const OWNERS = ['alice', 'bob', 'carol', 'dave'];
// Siblings of acme/payments that share its prefix, with characters sorting after it ('x') and
// before '/' ('-', '.'): a subtree filter written as a range must leave them all out.
const SCOPES = [
  'acme',
  'acme/payments',
  'acme/payments/prod',
  'acme/paymentsx/prod',
  'acme/payments-eu/prod',
  'acme/payments.old',
  'acme/crm/prod',
  'globex/shop/dev',
];
const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

const suite = apiSuite({ grants: [['admin-user', 'admin']] });
beforeAll(async () => {
  admin = await token('admin-user');
  const rnd = random(42);
  for (let i = 0; i < 400; i += 1) {
    const status = rnd.pick(ALL_STATUSES);
    const created = T0 + rnd.int(60) * DAY + rnd.int(DAY);
    const started = ['CREATED', 'PENDING', 'WAITING_APPROVAL', 'REJECTED', 'EXPIRED'].includes(status) ? null : created + rnd.int(DAY);
    const finished = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'ABENDED', 'REJECTED', 'EXPIRED'].includes(status)
      ? (started ?? created) + rnd.int(DAY)
      : null;
    jobs.push({
      id: undefined as unknown as string, // assigned by insertJobs below
      name: `${rnd.pick(NAMES)} #${i}`,
      type: rnd.pick(TYPES),
      scope: rnd.pick(SCOPES),
      owner_id: rnd.pick(OWNERS),
      status,
      created_at: new Date(created),
      started_at: started === null ? null : new Date(started),
      finished_at: finished === null ? null : new Date(finished),
      // Labels in the shapes of Delphix's job detail: always an environment, sometimes a connector.
      attributes: {
        environment: rnd.pick(['prod', 'staging', 'dev']),
        ...(rnd.int(2) === 0 ? {} : { connector: rnd.pick(['oracle', 'postgres']) }),
      },
      asset: rnd.pick(['db-1', 'db-2', 'db-10', null]),
    });
  }
  const inserted = await insertJobs(suite.db.pool, jobs);
  inserted.forEach((row, index) => ((jobs[index] as Seeded).id = row.id));
});

interface Filter {
  name?: string;
  types?: string[];
  owners?: string[];
  statuses?: JobStatus[];
  tab?: JobTab;
  scope?: string;
  createdAfter?: string;
  createdBefore?: string;
  startedAfter?: string;
  startedBefore?: string;
  finishedAfter?: string;
  finishedBefore?: string;
  attributes?: Record<string, string>;
  asset?: string;
}

/** What the filter means, written plainly: the API must agree with it. */
function reference(filter: Filter): Set<string> {
  const within = (value: Date | null | undefined, after?: string, before?: string) =>
    (after === undefined || (value != null && value.getTime() >= Date.parse(after))) &&
    (before === undefined || (value != null && value.getTime() < Date.parse(before)));
  return new Set(
    jobs
      .filter(
        (job) =>
          (filter.name === undefined || job.name.toLowerCase().includes(filter.name.toLowerCase())) &&
          (filter.types === undefined || filter.types.includes(job.type)) &&
          (filter.owners === undefined || filter.owners.includes(job.owner_id)) &&
          (filter.statuses === undefined || filter.statuses.includes(job.status)) &&
          (filter.tab === undefined || TAB_STATUSES[filter.tab].includes(job.status)) &&
          (filter.scope === undefined || job.scope === filter.scope || job.scope.startsWith(`${filter.scope}/`)) &&
          within(job.created_at, filter.createdAfter, filter.createdBefore) &&
          within(job.started_at, filter.startedAfter, filter.startedBefore) &&
          within(job.finished_at, filter.finishedAfter, filter.finishedBefore) &&
          Object.entries(filter.attributes ?? {}).every(([key, value]) => job.attributes[key] === value) &&
          (filter.asset === undefined || job.asset === filter.asset),
      )
      .map((job) => job.id),
  );
}

const LIST = `query($filter: JobFilter, $after: String) {
  jobs(filter: $filter, first: 500, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } }
  jobCounts(filter: $filter) { status count }
}`;

async function listAll(filter: Filter) {
  const response = await suite.server.gql<{
    jobs: { totalCount: number; nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean } };
    jobCounts: Array<{ status: JobStatus; count: number }>;
  }>(admin, LIST, { filter });
  expect(response.errors).toBeUndefined();
  const data = response.data!;
  expect(data.jobs.pageInfo.hasNextPage).toBe(false);
  return { ids: data.jobs.nodes.map((node) => node.id), totalCount: data.jobs.totalCount, counts: data.jobCounts };
}

const at = (days: number) => new Date(T0 + days * DAY).toISOString();

const CASES: Array<[string, Filter]> = [
  ['no filter', {}],
  ['name substring, any case', { name: 'MASK' }],
  ['name with LIKE metacharacters taken literally', { name: '50%' }],
  ['name that matches nothing', { name: 'no such job' }],
  ['one type', { types: ['masking'] }],
  ['several types', { types: ['import', 'export'] }],
  ['owners', { owners: ['bob', 'dave'] }],
  ['statuses', { statuses: ['FAILED', 'ABENDED'] }],
  ['tab ACTIVE', { tab: 'ACTIVE' }],
  ['tab COMPLETED', { tab: 'COMPLETED' }],
  ['tab FAILED', { tab: 'FAILED' }],
  ['tab ALL', { tab: 'ALL' }],
  ['tab and statuses must both hold', { tab: 'FAILED', statuses: ['FAILED', 'SUCCEEDED'] }],
  ['tab and statuses with nothing in common', { tab: 'COMPLETED', statuses: ['FAILED'] }],
  ['scope covers its subtree, not a sibling sharing its prefix', { scope: 'acme/payments' }],
  ['scope at the root', { scope: 'acme' }],
  ['created range', { createdAfter: at(10), createdBefore: at(20) }],
  ['started after', { startedAfter: at(30) }],
  ['started before: a job not started never matches', { startedBefore: at(30) }],
  ['a started range', { startedAfter: at(10), startedBefore: at(40) }],
  ['finished after', { finishedAfter: at(30) }],
  ['finished before: a job not finished never matches', { finishedBefore: at(15) }],
  ['a finished range', { finishedAfter: at(20), finishedBefore: at(50) }],
  ['one attribute', { attributes: { environment: 'prod' } }],
  ['every attribute pair must match', { attributes: { environment: 'prod', connector: 'oracle' } }],
  ['an attribute value nobody has', { attributes: { connector: 'mysql' } }],
  ['no attribute pairs: every job', { attributes: {} }],
  ['asset, exactly (db-1 is not db-10)', { asset: 'db-1' }],
  ['asset and attributes together', { asset: 'db-2', attributes: { environment: 'staging' } }],
  ['combined: type, owner, tab and scope', { types: ['masking', 'import'], owners: ['alice', 'carol'], tab: 'ALL', scope: 'acme' }],
  [
    'combined: name, statuses and every range',
    {
      name: 'o',
      statuses: ['SUCCEEDED', 'FAILED', 'CANCELLED'],
      createdAfter: at(5),
      createdBefore: at(55),
      startedAfter: at(5),
      finishedBefore: at(58),
    },
  ],
];

test.each(CASES)('filter: %s', async (_label, filter) => {
  const expected = reference(filter);
  const { ids, totalCount, counts } = await listAll(filter);
  expect(new Set(ids)).toEqual(expected);
  expect(ids).toHaveLength(expected.size);
  expect(totalCount).toBe(expected.size);
  const byStatus = Object.fromEntries(counts.map((count) => [count.status, count.count]));
  for (const status of ALL_STATUSES) {
    const want = jobs.filter((job) => expected.has(job.id) && job.status === status).length;
    expect([status, byStatus[status]]).toEqual([status, want]);
  }
});

test('the reference itself is not trivial: the cases select different, non-empty sets', () => {
  const sizes = CASES.map(([, filter]) => reference(filter).size);
  expect(new Set(sizes).size).toBeGreaterThan(10);
  expect(reference({ scope: 'acme/payments' }).size).toBeGreaterThan(0);
  for (const sibling of ['acme/paymentsx/prod', 'acme/payments-eu/prod', 'acme/payments.old']) {
    expect([sibling, jobs.some((job) => job.scope === sibling)]).toEqual([sibling, true]);
  }
  // Jobs not started or not finished exist, so the "before" cases above can tell them apart.
  expect(jobs.some((job) => job.started_at == null) && jobs.some((job) => job.finished_at == null)).toBe(true);
});

test('jobCounts lists every status, zeros included, for an empty result', async () => {
  const { counts } = await listAll({ name: 'no such job' });
  expect(counts.map((count) => count.status)).toEqual([...ALL_STATUSES]);
  expect(counts.every((count) => count.count === 0)).toBe(true);
});

test('job(id) returns the job with its fields', async () => {
  const job = jobs[0] as Seeded;
  const response = await suite.server.gql<{ job: Record<string, unknown> }>(
    admin,
    `query($id: ID!) { job(id: $id) { id name type scope owner status createdAt terminal progress { indeterminate } tasks { name } timeline { nodes { id } } } }`,
    { id: job.id },
  );
  expect(response.errors).toBeUndefined();
  expect(response.data?.job).toMatchObject({
    id: job.id,
    name: job.name,
    type: job.type,
    scope: job.scope,
    owner: job.owner_id,
    status: job.status,
    createdAt: job.created_at.toISOString(),
    tasks: [],
    timeline: { nodes: [] },
  });
});

test.each(CASES)('subscriptions evaluate the filter in memory exactly like SQL: %s', async (_label, filter) => {
  const { rows } = await suite.db.pool.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs`);
  const matches = compileFilter({
    ...filter,
    ...Object.fromEntries(
      Object.entries(filter)
        .filter(([key]) => key.endsWith('After') || key.endsWith('Before'))
        .map(([key, value]) => [key, new Date(value as string)]),
    ),
  } as unknown as JobFilter); // the DateTime strings of the cases, parsed as the resolvers get them
  expect(new Set(rows.filter(matches).map((row) => row.id))).toEqual(reference(filter));
});
