import type { JobStatus } from '../src/jobs/job-status';
import { createRole, grant, insertJobs } from './support/fixtures';
import { type GraphQLResponse, token } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * A job the user may not view does not exist for them: not in lists, counts, pages, nor job(id).
 * Each user below sees a known set; every read path must agree with it exactly.
 */

interface Seed {
  id: string;
  scope: string;
  owner: string;
  type: string;
  status: JobStatus;
}
const jobs: Seed[] = [];

// acme/payments has siblings sharing its prefix: one sorting after '/' ('x') and two sorting
// before it ('-' and '.'), which a subtree written as a range of scopes must leave out.
const SCOPES = [
  'acme/payments/prod',
  'acme/payments/staging',
  'acme/payments',
  'acme/paymentsx/prod',
  'acme/payments-eu/prod',
  'acme/payments.old',
  'acme/crm/prod',
  'globex/shop/prod',
];
const OWNERS = ['owen', 'alice', 'bob'];
const TYPES = ['deployment', 'masking'];
const STATUSES: JobStatus[] = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'];

const under = (scope: string, root: string) => scope === root || scope.startsWith(`${root}/`);

/** Who sees what, stated plainly. */
const USERS: Record<string, (job: Seed) => boolean> = {
  admin: () => true,
  viewer: () => true,
  operator: () => true,
  scoped: (job) => under(job.scope, 'acme/payments'),
  'scoped-eu': (job) => under(job.scope, 'acme/payments-eu'),
  'scoped-old': (job) => under(job.scope, 'acme/payments.old'),
  owen: (job) => job.owner === 'owen',
  nobody: () => false,
  worker: () => false,
  'two-scopes': (job) => under(job.scope, 'acme/crm') || under(job.scope, 'globex'),
  'deploy-viewer': (job) => job.type === 'deployment' && under(job.scope, 'acme'),
  'not-prod': (job) => !job.scope.endsWith('/prod'),
  'own-plus-viewer-in-globex': (job) => job.owner === 'own-plus-viewer-in-globex' || under(job.scope, 'globex'),
};

const suite = apiSuite({ grants: [] });
beforeAll(async () => {
  const seeds = [];
  for (const scope of SCOPES) {
    for (const owner of [...OWNERS, 'own-plus-viewer-in-globex']) {
      for (const type of TYPES) {
        for (const status of STATUSES) seeds.push({ scope, owner_id: owner, type, status, name: `${type} in ${scope}` });
      }
    }
  }
  const inserted = await insertJobs(suite.db.pool, seeds);
  for (const row of inserted) {
    jobs.push({ id: row.id, scope: row.scope!, owner: row.owner_id!, type: row.type!, status: row.status! });
  }
  await grant(suite.db.pool, 'admin', 'admin');
  await grant(suite.db.pool, 'viewer', 'viewer');
  await grant(suite.db.pool, 'operator', 'operator');
  await grant(suite.db.pool, 'scoped', 'viewer', 'acme/payments');
  await grant(suite.db.pool, 'scoped-eu', 'viewer', 'acme/payments-eu');
  await grant(suite.db.pool, 'scoped-old', 'operator', 'acme/payments.old');
  await grant(suite.db.pool, 'owen', 'own-jobs');
  await grant(suite.db.pool, 'worker', 'worker');
  await grant(suite.db.pool, 'two-scopes', 'viewer', 'acme/crm');
  await grant(suite.db.pool, 'two-scopes', 'viewer', 'globex');
  await createRole(suite.db.pool, 'deploy-viewer', [{ action: 'view_monitor', subject: 'Job', conditions: { type: 'deployment' } }]);
  await grant(suite.db.pool, 'deploy-viewer', 'deploy-viewer', 'acme');
  await createRole(suite.db.pool, 'no-prod', [
    { action: 'view_monitor', subject: 'Job' },
    { action: 'view_monitor', subject: 'Job', inverted: true, conditions: { scope: { $in: SCOPES.filter((s) => s.endsWith('/prod')) } } },
  ]);
  await grant(suite.db.pool, 'not-prod', 'no-prod');
  await grant(suite.db.pool, 'own-plus-viewer-in-globex', 'own-jobs');
  await grant(suite.db.pool, 'own-plus-viewer-in-globex', 'viewer', 'globex');
});

const PAGE = `query($after: String, $filter: JobFilter) {
  jobs(first: 7, after: $after, filter: $filter) { totalCount nodes { id } pageInfo { hasNextPage endCursor } }
}`;

interface Page {
  totalCount: number;
  nodes: Array<{ id: string }>;
  pageInfo: { hasNextPage: boolean; endCursor: string };
}

async function everyPage(bearer: string, filter?: Record<string, unknown>) {
  const ids: string[] = [];
  let after: string | null = null;
  let totalCount: number;
  for (;;) {
    const response: GraphQLResponse<{ jobs: Page }> = await suite.server.gql<{ jobs: Page }>(bearer, PAGE, { after, filter });
    expect(response.errors).toBeUndefined();
    const page: Page = response.data!.jobs;
    totalCount = page.totalCount;
    ids.push(...page.nodes.map((node) => node.id));
    if (!page.pageInfo.hasNextPage) return { ids, totalCount };
    after = page.pageInfo.endCursor;
  }
}

test('the fixture gives every user a different view', () => {
  const sizes = Object.values(USERS).map((sees) => jobs.filter(sees).length);
  expect(new Set(sizes).size).toBeGreaterThanOrEqual(7);
});

describe.each(Object.entries(USERS))('user %s', (user, sees) => {
  const visible = () => jobs.filter(sees);

  test('lists, pages and totalCount show exactly the visible jobs', async () => {
    const { ids, totalCount } = await everyPage(await token(user));
    expect(new Set(ids)).toEqual(new Set(visible().map((job) => job.id)));
    expect(ids).toHaveLength(visible().length);
    expect(totalCount).toBe(visible().length);
  });

  test('jobCounts count only visible jobs', async () => {
    const response = await suite.server.gql<{ jobCounts: Array<{ status: JobStatus; count: number }> }>(
      await token(user),
      '{ jobCounts { status count } }',
    );
    expect(response.errors).toBeUndefined();
    for (const { status, count } of response.data!.jobCounts) {
      expect([status, count]).toEqual([status, visible().filter((job) => job.status === status).length]);
    }
  });

  test('job(id) is null for every invisible job and the job for every visible one', async () => {
    const bearer = await token(user);
    const sample = jobs.filter((_, index) => index % 5 === 0);
    for (const job of sample) {
      const response = await suite.server.gql<{ job: { id: string } | null }>(bearer, 'query($id: ID!) { job(id: $id) { id } }', {
        id: job.id,
      });
      expect(response.errors).toBeUndefined();
      expect([job.scope, job.owner, response.data!.job?.id ?? null]).toEqual([job.scope, job.owner, sees(job) ? job.id : null]);
    }
  });

  test('a filter narrows within what is visible, never beyond it', async () => {
    const { ids, totalCount } = await everyPage(await token(user), { scope: 'acme', statuses: ['FAILED'] });
    const expected = visible().filter((job) => under(job.scope, 'acme') && job.status === 'FAILED');
    expect(new Set(ids)).toEqual(new Set(expected.map((job) => job.id)));
    expect(totalCount).toBe(expected.length);
  });
});

test('a grant given or revoked takes effect on the next request', async () => {
  const bearer = await token('latecomer');
  expect((await everyPage(bearer)).totalCount).toBe(0);
  await grant(suite.db.pool, 'latecomer', 'viewer', 'globex');
  const expected = jobs.filter((job) => under(job.scope, 'globex')).length;
  await eventually(async () => expect((await everyPage(bearer)).totalCount).toBe(expected));
  await suite.db.pool.query(`DELETE FROM grants WHERE user_id = 'latecomer'`);
  await eventually(async () => expect((await everyPage(bearer)).totalCount).toBe(0));
});

async function eventually(check: () => Promise<void>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
