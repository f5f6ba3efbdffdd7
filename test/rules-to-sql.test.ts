import { buildAbility, jobSubject, type GrantRules } from '../src/permissions/ability';
import { jobPredicate } from '../src/permissions/rules-to-sql';
import type { RawRule } from '../src/permissions/rules';
import { scopeFromRegex, scopeRegex } from '../src/permissions/scope';
import { SqlParams } from '../src/db/sql-params';
import { insertJobs } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * Lists decide visibility in SQL; single-row checks and subscriptions decide it with CASL in
 * memory. For many rule sets and jobs, both must give the same answer for every job.
 */
let db: TestDatabase;
const jobs: Array<{ id: string; scope: string; type: string; ownerId: string; approvers: string[] }> = [];

const SCOPES = ['acme', 'acme/pay', 'acme/pay/prod', 'acme/pay.x/prod', 'acme/payx', 'acme/crm/prod', 'globex/a-b/prod', 'globex'];

beforeAll(async () => {
  db = await createTestDatabase();
  const seeds = [];
  for (const scope of SCOPES) {
    for (const type of ['deployment', 'masking', 'import']) {
      for (const owner of ['u1', 'u2']) seeds.push({ scope, type, owner_id: owner, approvers: owner === 'u1' ? ['u2'] : [] });
    }
  }
  for (const row of await insertJobs(db.pool, seeds)) {
    jobs.push({ id: row.id, scope: row.scope!, type: row.type!, ownerId: row.owner_id!, approvers: row.approvers ?? [] });
  }
});

afterAll(async () => {
  await db?.drop();
});

const rule = (conditions?: Record<string, unknown>, inverted = false, action = 'view_monitor'): RawRule =>
  ({ action, subject: 'Job', ...(conditions === undefined ? {} : { conditions }), ...(inverted ? { inverted } : {}) }) as RawRule;

const CASES: Array<[string, GrantRules[]]> = [
  ['no grants', []],
  ['unconditional', [{ scope: null, rules: [rule()] }]],
  ['manage all', [{ scope: null, rules: [{ action: 'manage', subject: 'all' }] }]],
  ['scoped to acme/pay (not acme/payx, not acme/pay.x)', [{ scope: 'acme/pay', rules: [rule()] }]],
  ['scoped manage all is limited to the scope', [{ scope: 'globex', rules: [{ action: 'manage', subject: 'all' }] }]],
  ['owner placeholder', [{ scope: null, rules: [rule({ ownerId: '${user.id}' })] }]],
  ['type $in', [{ scope: null, rules: [rule({ type: { $in: ['deployment', 'import'] } })] }]],
  ['type $nin', [{ scope: null, rules: [rule({ type: { $nin: ['deployment'] } })] }]],
  ['type $ne', [{ scope: null, rules: [rule({ type: { $ne: 'masking' } })] }]],
  ['two conditions', [{ scope: null, rules: [rule({ type: 'masking', ownerId: 'u2' })] }]],
  ['a cannot after a can', [{ scope: null, rules: [rule(), rule({ scope: 'acme/pay/prod' }, true)] }]],
  ['an unconditional cannot', [{ scope: null, rules: [rule(), rule(undefined, true)] }]],
  [
    'a cannot in one role wins over a can in another',
    [
      { scope: null, rules: [rule()] },
      { scope: 'acme', rules: [rule({ type: 'deployment' }, true)] },
    ],
  ],
  ['scoped with its own scope condition', [{ scope: 'acme', rules: [rule({ scope: { $in: ['acme/pay', 'globex'] } })] }]],
  ['approvers contain the user', [{ scope: null, rules: [rule({ approvers: '${user.id}' })] }]],
  [
    'several scoped grants',
    [
      { scope: 'acme/crm', rules: [rule()] },
      { scope: 'globex/a-b', rules: [rule({ type: 'masking' })] },
    ],
  ],
  ['a rule for another action does not leak', [{ scope: null, rules: [rule(undefined, false, 'cancel')] }]],
];

test.each(CASES)('%s: SQL and CASL agree on every job', async (_label, grants) => {
  const ability = buildAbility('u2', grants);
  const params = new SqlParams();
  const predicate = jobPredicate(ability, 'view_monitor', params);
  const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM jobs WHERE ${predicate}`, params.values);
  const inSql = new Set(rows.map((row) => row.id));
  const mismatches = jobs
    .filter((job) => ability.can('view_monitor', jobSubject(job)) !== inSql.has(job.id))
    .map((job) => `${job.scope} ${job.type} ${job.ownerId}`);
  expect(mismatches).toEqual([]);
});

test('the cases are not all the same answer', async () => {
  const sizes = new Set<number>();
  for (const [, grants] of CASES) {
    const ability = buildAbility('u2', grants);
    sizes.add(jobs.filter((job) => ability.can('view_monitor', jobSubject(job))).length);
  }
  expect(sizes.size).toBeGreaterThan(8);
});

test('scope regexes round-trip, and nothing else is taken for one', () => {
  for (const scope of SCOPES) {
    expect(scopeFromRegex(scopeRegex(scope))).toBe(scope);
    expect(scopeFromRegex(new RegExp(scopeRegex(scope)).source)).toBe(scope);
  }
  expect(scopeFromRegex('^acme.*(/|$)')).toBeUndefined();
  expect(scopeFromRegex('.*')).toBeUndefined();
  expect(scopeFromRegex('^acme')).toBeUndefined();
});
