import { createMongoAbility, type RawRuleOf, type MongoAbility, subject } from '@casl/ability';
import { type PackRule, unpackRules } from '@casl/ability/extra';
import { apiSuite } from './support/api-suite';
import { grant, insertJobs } from './support/fixtures';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';
import { type GraphQLResponse, token, type TestServer } from './support/test-server';

/**
 * Role and grant administration through the API, as an admin's client does it: every answer is
 * checked, and so is the database afterwards, so that a refused change leaves nothing behind.
 */
const suite = apiSuite({
  // Manages permissions without holding the admin role itself (for the last-admin races).
  roles: { 'permission-admin': [{ action: 'manage_permissions', subject: 'Permission' }] },
  grants: [
    ['admin', 'admin'],
    ['operator', 'operator'],
    ['viewer', 'viewer'],
    ['scoped-admin', 'admin', 'acme'],
    ['root', 'permission-admin'],
  ],
});
/**
 * A second instance on the same database, behind a proxy that can hold back its NOTIFY traffic:
 * it then learns of a change only from the permissions version it reads on every request.
 */
let serverB: TestServer;
let proxyB: FaultProxy;

interface Seed {
  id: string;
  scope: string;
  owner: string;
  type: string;
}
const jobs: Seed[] = [];
const SCOPES = ['acme/payments', 'acme/payments/prod', 'acme/paymentsx', 'acme/paymentsx/prod', 'acme/crm/prod', 'globex/shop'];
const OWNERS = ['alice', 'fe'];
const BUILT_IN = ['admin', 'operator', 'own-jobs', 'viewer', 'worker'];

const under = (scope: string, root: string) => scope === root || scope.startsWith(`${root}/`);
const idsWhere = (keep: (job: Seed) => boolean) =>
  jobs
    .filter(keep)
    .map((job) => job.id)
    .sort();

beforeAll(async () => {
  proxyB = await startFaultProxy(suite.db.url);
  serverB = await suite.startServer({}, { databaseUrl: proxyB.via(suite.db.url) });
  // A held listener would keep serverB from closing.
  suite.disposeFirst(() => proxyB.releaseListener());
  const inserted = await insertJobs(
    suite.db.pool,
    SCOPES.flatMap((scope) => OWNERS.map((owner) => ({ scope, owner_id: owner, type: 'deployment', name: `deploy ${scope}` }))),
  );
  for (const row of inserted) jobs.push({ id: row.id, scope: row.scope!, owner: row.owner_id!, type: row.type! });
});
// After the suite's afterAll: serverB is closed by then.
afterAll(() => proxyB?.close());

// ---------------------------------------------------------------------------------------------
// Operations and helpers

const ROLE_FIELDS = 'name description rules builtIn';
const CREATE_ROLE = `mutation($input: RoleInput!) { createRole(input: $input) { ${ROLE_FIELDS} } }`;
const UPDATE_ROLE = `mutation($name: String!, $input: RoleInput!) { updateRole(name: $name, input: $input) { ${ROLE_FIELDS} } }`;
const DELETE_ROLE = 'mutation($name: String!) { deleteRole(name: $name) }';
const GRANT_FIELDS = 'id userId role scope grantedBy createdAt';
const GRANT_ROLE = `mutation($userId: String!, $role: String!, $scope: String) {
  grantRole(userId: $userId, role: $role, scope: $scope) { ${GRANT_FIELDS} }
}`;
const REVOKE = 'mutation($id: ID!) { revokeGrant(id: $id) }';
const ROLES = `{ roles { ${ROLE_FIELDS} } }`;
const GRANTS = `query($userId: String) { grants(userId: $userId) { ${GRANT_FIELDS} } }`;
const ME = `{ me { id actions rules grants { ${GRANT_FIELDS} } } }`;
const JOBS = '{ jobs(first: 500) { totalCount nodes { id } } }';

interface RoleAnswer {
  name: string;
  description: string;
  rules: unknown;
  builtIn: boolean;
}
interface GrantAnswer {
  id: string;
  userId: string;
  role: string;
  scope: string | null;
  grantedBy: string | null;
  createdAt: string;
}
interface MeAnswer {
  me: { id: string; actions: string[]; rules: unknown; grants: GrantAnswer[] };
}

async function as<T = Record<string, unknown>>(
  user: string,
  query: string,
  variables?: Record<string, unknown>,
  on: TestServer = suite.server,
) {
  return on.gql<T>(await token(user), query, variables);
}

async function createRoleAs(user: string, input: Record<string, unknown>) {
  return as<{ createRole: RoleAnswer }>(user, CREATE_ROLE, { input });
}

async function grantAs(user: string, userId: string, role: string, scope?: string | null, on: TestServer = suite.server) {
  return as<{ grantRole: GrantAnswer }>(user, GRANT_ROLE, { userId, role, scope: scope ?? null }, on);
}

/** Grants through the API and answers the grant, failing the test if it was refused. */
async function granted(userId: string, role: string, scope?: string | null, by = 'admin'): Promise<GrantAnswer> {
  const response = await grantAs(by, userId, role, scope);
  expect(response.errors).toBeUndefined();
  return response.data!.grantRole;
}

async function revokeAs(user: string, id: string, on: TestServer = suite.server) {
  return as<{ revokeGrant: boolean }>(user, REVOKE, { id }, on);
}

/** The one error of a refused operation: its code, and a message that names the problem. */
function expectError(response: GraphQLResponse<unknown>, code: string, ...fragments: Array<string | RegExp>): void {
  expect(response.errors).toHaveLength(1);
  const error = response.errors![0]!;
  expect({ code: error.extensions?.['code'], message: error.message }).toEqual({ code, message: expect.any(String) });
  for (const fragment of fragments) {
    if (typeof fragment === 'string') expect(error.message).toContain(fragment);
    else expect(error.message).toMatch(fragment);
  }
  expect(response.data ?? null).toBeNull();
}

/** Both permission tables, whole: what a refused change must leave exactly as it was. */
async function permissionTables() {
  const roles = await suite.db.pool.query(`SELECT name, description, rules, built_in, created_at, updated_at FROM roles ORDER BY name`);
  const grants = await suite.db.pool.query(`SELECT id, user_id, role_name, scope, granted_by, created_at FROM grants ORDER BY id`);
  return { roles: roles.rows, grants: grants.rows };
}

async function roleRow(name: string) {
  const { rows } = await suite.db.pool.query<{ name: string; description: string; rules: unknown; built_in: boolean; updated_at: Date }>(
    `SELECT name, description, rules, built_in, updated_at FROM roles WHERE name = $1`,
    [name],
  );
  return rows[0];
}

async function grantRows(userId: string) {
  const { rows } = await suite.db.pool.query<{ id: string; role_name: string; scope: string | null; granted_by: string | null }>(
    `SELECT id, role_name, scope, granted_by FROM grants WHERE user_id = $1 ORDER BY created_at, id`,
    [userId],
  );
  return rows;
}

async function unscopedAdminGrants() {
  const { rows } = await suite.db.pool.query<{ id: string; user_id: string }>(
    `SELECT id, user_id FROM grants WHERE role_name = 'admin' AND scope IS NULL ORDER BY user_id`,
  );
  return rows;
}

async function visibleIds(user: string, on: TestServer = suite.server): Promise<string[]> {
  const response = await as<{ jobs: { totalCount: number; nodes: Array<{ id: string }> } }>(user, JOBS, undefined, on);
  expect(response.errors).toBeUndefined();
  const ids = response.data!.jobs.nodes.map((node) => node.id).sort();
  expect(response.data!.jobs.totalCount).toBe(ids.length);
  return ids;
}

async function me(user: string, on: TestServer = suite.server): Promise<MeAnswer['me']> {
  const response = await as<MeAnswer>(user, ME, undefined, on);
  expect(response.errors).toBeUndefined();
  return response.data!.me;
}

/**
 * The ability a frontend builds from `me.rules`. The JSON is re-parsed here because Node's fetch
 * builds objects in another realm than jest's sandbox, and CASL does not treat such objects as
 * plain condition objects; in a browser both live in one realm.
 */
function frontendAbility(rules: unknown) {
  return createMongoAbility(unpackRules(JSON.parse(JSON.stringify(rules)) as PackRule<RawRuleOf<MongoAbility>>[]));
}

// ---------------------------------------------------------------------------------------------

describe('createRole', () => {
  test('stores valid rules as given; roles lists it after the built-in roles', async () => {
    const rules = [
      {
        action: ['view_monitor', 'cancel'],
        subject: ['Job'],
        conditions: { scope: { $in: ['acme/payments', 'acme/crm/prod'] }, type: 'deployment' },
      },
      {
        action: ['view_monitor'],
        subject: ['Job'],
        conditions: { ownerId: { $ne: '${user.id}' }, type: { $nin: ['secret-ops'] } },
        inverted: true,
        reason: 'not the secret ones',
      },
      { action: ['restart'], subject: ['Job'], conditions: { ownerId: '${user.id}', scope: { $eq: 'globex/shop' } } },
      { action: ['manage_permissions'], subject: ['Permission'] },
    ];
    const response = await createRoleAs('admin', { name: 'payments-ops', description: 'Payments on-call', rules });
    expect(response.errors).toBeUndefined();
    expect(response.data?.createRole).toEqual({ name: 'payments-ops', description: 'Payments on-call', rules, builtIn: false });
    expect(await roleRow('payments-ops')).toMatchObject({ name: 'payments-ops', description: 'Payments on-call', rules, built_in: false });

    const listed = await as<{ roles: RoleAnswer[] }>('admin', ROLES);
    expect(listed.errors).toBeUndefined();
    const roles = listed.data!.roles;
    expect(roles.find((role) => role.name === 'payments-ops')).toEqual({
      name: 'payments-ops',
      description: 'Payments on-call',
      rules,
      builtIn: false,
    });
    // Built-in roles first, then the custom ones; each group by name.
    const builtIn = roles.filter((role) => role.builtIn).map((role) => role.name);
    expect(builtIn).toEqual(BUILT_IN);
    expect(roles.slice(0, BUILT_IN.length).map((role) => role.name)).toEqual(BUILT_IN);
    const custom = roles.slice(BUILT_IN.length).map((role) => role.name);
    expect(custom).toEqual([...custom].sort());
    expect(custom).toEqual(expect.arrayContaining(['payments-ops', 'permission-admin']));
    const { rows } = await suite.db.pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM roles`);
    expect(roles).toHaveLength(rows[0]!.count);
  });

  test('accepts rules written inline in the query', async () => {
    const response = await as<{ createRole: RoleAnswer }>(
      'admin',
      `mutation { createRole(input: { name: "inline-viewer", rules: [{ action: ["view_monitor"], subject: ["Job"], conditions: { type: "masking" } }] }) { ${ROLE_FIELDS} } }`,
    );
    expect(response.errors).toBeUndefined();
    const rules = [{ action: ['view_monitor'], subject: ['Job'], conditions: { type: 'masking' } }];
    expect(response.data?.createRole).toEqual({ name: 'inline-viewer', description: '', rules, builtIn: false });
    expect((await roleRow('inline-viewer'))?.rules).toEqual(rules);
  });

  test('needs manage_permissions: operators, viewers, strangers and scoped admins are FORBIDDEN', async () => {
    const before = await permissionTables();
    for (const user of ['operator', 'viewer', 'stranger', 'scoped-admin']) {
      const response = await createRoleAs(user, { name: `by-${user}`, rules: [{ action: ['view_monitor'], subject: ['Job'] }] });
      expectError(response, 'FORBIDDEN', 'manage_permissions');
    }
    expect(await permissionTables()).toEqual(before);
  });

  test('a duplicate name is a CONFLICT and the first role stays as it was', async () => {
    const first = await createRoleAs('admin', {
      name: 'dup-role',
      description: 'first',
      rules: [{ action: ['view_monitor'], subject: ['Job'] }],
    });
    expect(first.errors).toBeUndefined();
    const before = await permissionTables();
    const second = await createRoleAs('admin', {
      name: 'dup-role',
      description: 'second',
      rules: [{ action: ['cancel'], subject: ['Job'] }],
    });
    expectError(second, 'CONFLICT', '"dup-role"', 'already exists');
    const builtIn = await createRoleAs('admin', { name: 'viewer', rules: [{ action: ['cancel'], subject: ['Job'] }] });
    expectError(builtIn, 'CONFLICT', '"viewer"', 'already exists');
    expect(await permissionTables()).toEqual(before);
    expect(await roleRow('dup-role')).toMatchObject({ description: 'first', rules: [{ action: ['view_monitor'], subject: ['Job'] }] });
  });

  test('an invalid role name or an over-long description is BAD_USER_INPUT', async () => {
    const before = await permissionTables();
    for (const name of ['Upper', '1st', 'has space', 'x'.repeat(64), '']) {
      expectError(await createRoleAs('admin', { name, rules: [{ action: ['view_monitor'], subject: ['Job'] }] }), 'BAD_USER_INPUT', 'name');
    }
    expectError(
      await createRoleAs('admin', { name: 'long-text', description: 'x'.repeat(501), rules: [VIEW] }),
      'BAD_USER_INPUT',
      'description',
    );
    expect(await permissionTables()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------

const VIEW = { action: ['view_monitor'], subject: ['Job'] };
const only = (conditions: unknown) => ({ action: ['view_monitor'], subject: ['Job'], conditions });

/** [what, rules, fragments the message must contain] */
const MALFORMED: Array<[string, unknown, Array<string | RegExp>]> = [
  ['not an array (an object)', { action: 'view_monitor', subject: 'Job' }, ['must be a JSON array']],
  ['not an array (a string)', 'view_monitor', ['must be a JSON array']],
  ['no rules at all (null)', null, ['input.rules']],
  ['an empty array', [], ['at least one rule']],
  ['a rule that is not an object', [VIEW, 'view_monitor'], ['rules[1] must be an object']],
  [
    'an unknown action',
    [VIEW, VIEW, { action: ['view_monitor', 'explode'], subject: ['Job'] }],
    ['rules[2].action', '"explode"', 'unknown'],
  ],
  ['the action manage', [{ action: 'manage', subject: 'Job' }], ['rules[0].action', '"manage"', 'over-broad']],
  [
    'the action manage among others',
    [VIEW, { action: ['cancel', 'manage'], subject: ['Job'] }],
    ['rules[1].action', '"manage"', 'over-broad'],
  ],
  ['the subject all', [{ action: ['view_monitor'], subject: 'all' }], ['rules[0].subject', '"all"', 'over-broad']],
  ['manage on all', [VIEW, { action: 'manage', subject: 'all' }], ['rules[1]', 'over-broad']],
  ['an unknown subject', [VIEW, { action: ['view_monitor'], subject: ['User'] }], ['rules[1].subject', '"User"', 'unknown']],
  ['an empty action list', [{ action: [], subject: ['Job'] }], ['rules[0].action', 'non-empty']],
  ['a missing subject', [{ action: ['view_monitor'] }], ['rules[0].subject']],
  [
    'manage_permissions on Job',
    [VIEW, { action: ['manage_permissions'], subject: ['Job'] }],
    ['rules[1]', '"manage_permissions"', '"Permission"'],
  ],
  ['a job action on Permission', [{ action: ['cancel'], subject: ['Permission'] }], ['rules[0]', '"cancel"', '"Job"']],
  [
    'both subjects at once',
    [{ action: ['view_monitor'], subject: ['Job', 'Permission'] }],
    ['rules[0]', '"view_monitor"', 'subject "Job" only'],
  ],
  ['a condition on name', [only({ name: 'Mask customers' })], ['rules[0].conditions.name', 'no such field']],
  ['a condition on status', [VIEW, only({ scope: 'acme', status: 'RUNNING' })], ['rules[1].conditions.status', 'no such field']],
  ['a condition on secrets', [only({ secrets: { $ne: 'x' } })], ['rules[0].conditions.secrets', 'no such field']],
  ['a condition on approvers', [only({ approvers: 'bob' })], ['rules[0].conditions.approvers', 'no such field']],
  ['operator $regex', [only({ scope: { $regex: '.*' } })], ['rules[0].conditions.scope', '$regex', 'not allowed']],
  ['operator $where (in a field)', [only({ scope: { $where: 'sleep(1000)' } })], ['rules[0].conditions.scope', '$where', 'not allowed']],
  ['operator $where (top level)', [only({ $where: 'this.scope.length > 0' })], ['rules[0].conditions.$where']],
  ['operator $elemMatch', [VIEW, only({ type: { $elemMatch: { $eq: 'x' } } })], ['rules[1].conditions.type', '$elemMatch', 'not allowed']],
  ['operator $exists', [only({ ownerId: { $exists: true } })], ['rules[0].conditions.ownerId', '$exists', 'not allowed']],
  ['operator $gt', [only({ scope: { $gt: 'a' } })], ['rules[0].conditions.scope', '$gt', 'not allowed']],
  ['operator $or (top level)', [only({ $or: [{ scope: 'a' }] })], ['rules[0].conditions.$or']],
  ['$in with a string', [only({ scope: { $in: 'acme' } })], ['rules[0].conditions.scope.$in', 'must be an array']],
  ['$in with an empty array', [only({ type: { $in: [] } })], ['rules[0].conditions.type.$in', 'must be an array']],
  ['$in with a number item', [only({ type: { $in: ['deployment', 5] } })], ['rules[0].conditions.type.$in[1]', 'string']],
  ['$nin with a null item', [only({ type: { $nin: [null] } })], ['rules[0].conditions.type.$nin[0]', 'string']],
  ['$in with an object item', [only({ scope: { $in: [{ $regex: '.' }] } })], ['rules[0].conditions.scope.$in[0]', 'string']],
  ['a number value', [only({ type: 42 })], ['rules[0].conditions.type', 'string']],
  ['a boolean value', [only({ ownerId: true })], ['rules[0].conditions.ownerId', 'string']],
  ['a null value', [only({ scope: null })], ['rules[0].conditions.scope', 'string']],
  ['an array value', [only({ scope: ['acme'] })], ['rules[0].conditions.scope', 'string']],
  ['an empty string value', [only({ type: '' })], ['rules[0].conditions.type', 'non-empty string']],
  ['a number after $eq', [only({ type: { $eq: 1 } })], ['rules[0].conditions.type.$eq', 'string']],
  ['an operator with no operand', [only({ type: {} })], ['rules[0].conditions.type', 'operator']],
  ['empty conditions', [only({})], ['rules[0].conditions', 'non-empty object']],
  ['conditions that are not an object', [only('scope = acme')], ['rules[0].conditions', 'non-empty object']],
  ['an extra key fields', [VIEW, { ...VIEW, fields: ['name'] }], ['rules[1].fields', 'not allowed']],
  ['an extra key priority', [{ ...VIEW, priority: 1 }], ['rules[0].priority', 'not allowed']],
  [
    'conditions on a Permission rule',
    [{ action: ['manage_permissions'], subject: ['Permission'], conditions: { scope: 'acme' } }],
    ['rules[0].conditions', 'Permission'],
  ],
  ['${user.id} on scope', [only({ scope: '${user.id}' })], ['rules[0].conditions.scope', '${user.id}', 'ownerId']],
  [
    '${user.id} on type in a list',
    [VIEW, only({ type: { $in: ['deployment', '${user.id}'] } })],
    ['rules[1].conditions.type.$in[1]', '${user.id}', 'ownerId'],
  ],
  ['a non-boolean inverted', [{ ...VIEW, inverted: 'yes' }], ['rules[0].inverted', 'boolean']],
  ['a non-string reason', [{ ...VIEW, reason: 7 }], ['rules[0].reason', 'string']],
  ['more than 50 rules', Array.from({ length: 51 }, () => VIEW), ['at most 50 rules']],
  // A denial wins over every grant, admin's too: granted to the last admin it would lock everyone out.
  [
    'a rule denying manage_permissions',
    [VIEW, { action: ['manage_permissions'], subject: ['Permission'], inverted: true }],
    ['rules[1]', 'denying manage_permissions', 'lock'],
  ],
];

describe('malformed or over-broad rules are BAD_USER_INPUT and store nothing', () => {
  let before: Awaited<ReturnType<typeof permissionTables>>;
  beforeAll(async () => {
    before = await permissionTables();
  });
  afterAll(async () => {
    expect(await permissionTables()).toEqual(before);
  });

  test.each(MALFORMED)('createRole refuses %s', async (_what, rules, fragments) => {
    const response = await createRoleAs('admin', { name: 'malformed', description: 'should never exist', rules });
    expectError(response, 'BAD_USER_INPUT', ...fragments);
    expect(response.errors?.[0]?.message).not.toMatch(/Internal|SQL|stack/i);
    expect(await roleRow('malformed')).toBeUndefined();
  });

  test('inline literals in the query are checked the same way', async () => {
    const refused: Array<[string, string[]]> = [
      ['[{ action: "manage", subject: "all" }]', ['rules[0].action', '"manage"', 'over-broad']],
      [
        '[{ action: ["view_monitor"], subject: ["Job"] }, { action: ["view_monitor"], subject: ["Job"], conditions: { name: "x" } }]',
        ['rules[1].conditions.name'],
      ],
      ['[{ action: ["view_monitor"], subject: ["Job"], fields: ["secrets"] }]', ['rules[0].fields', 'not allowed']],
      ['{ action: "view_monitor", subject: "Job" }', ['must be a JSON array']],
      ['[]', ['at least one rule']],
      ['[{ action: ["view_monitor"], subject: ["Job"], conditions: { type: 3 } }]', ['rules[0].conditions.type', 'string']],
    ];
    for (const [literal, fragments] of refused) {
      const response = await as('admin', `mutation { createRole(input: { name: "inline-bad", rules: ${literal} }) { name } }`);
      expectError(response, 'BAD_USER_INPUT', ...fragments);
    }
    expect(await roleRow('inline-bad')).toBeUndefined();
  });

  test('updateRole checks its rules the same way and leaves the role unchanged', async () => {
    const stored = await roleRow('dup-role');
    expect(stored).toBeDefined();
    for (const [, rules, fragments] of MALFORMED.filter((_, index) => index % 4 === 0)) {
      const response = await as('admin', UPDATE_ROLE, { name: 'dup-role', input: { name: 'dup-role', description: 'changed', rules } });
      expectError(response, 'BAD_USER_INPUT', ...fragments);
    }
    expect(await roleRow('dup-role')).toEqual(stored);
  });
});

// ---------------------------------------------------------------------------------------------

describe('updateRole and deleteRole', () => {
  test('updateRole changes the rules, description and name; grants follow the rename', async () => {
    const rules = [{ action: ['view_monitor'], subject: ['Job'], conditions: { scope: { $in: ['acme/crm/prod'] } } }];
    expect((await createRoleAs('admin', { name: 'crm-watch', description: 'CRM', rules })).errors).toBeUndefined();
    const g1 = await granted('rename-1', 'crm-watch');
    const g2 = await granted('rename-2', 'crm-watch', 'acme');
    const old = await roleRow('crm-watch');

    const next = [{ action: ['view_monitor', 'cancel'], subject: ['Job'], conditions: { type: 'deployment' } }];
    const response = await as<{ updateRole: RoleAnswer }>('admin', UPDATE_ROLE, {
      name: 'crm-watch',
      input: { name: 'crm-deploys', description: 'CRM deployments', rules: next },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.updateRole).toEqual({ name: 'crm-deploys', description: 'CRM deployments', rules: next, builtIn: false });
    expect(await roleRow('crm-watch')).toBeUndefined();
    const renamed = await roleRow('crm-deploys');
    expect(renamed).toMatchObject({ description: 'CRM deployments', rules: next, built_in: false });
    expect(renamed!.updated_at.getTime()).toBeGreaterThanOrEqual(old!.updated_at.getTime());
    expect(await grantRows('rename-1')).toEqual([{ id: g1.id, role_name: 'crm-deploys', scope: null, granted_by: 'admin' }]);
    expect(await grantRows('rename-2')).toEqual([{ id: g2.id, role_name: 'crm-deploys', scope: 'acme', granted_by: 'admin' }]);
    const listed = await as<{ grants: GrantAnswer[] }>('admin', GRANTS, { userId: 'rename-1' });
    expect(listed.data?.grants.map((g) => g.role)).toEqual(['crm-deploys']);

    // Without a description, the description is kept.
    const kept = await as<{ updateRole: RoleAnswer }>('admin', UPDATE_ROLE, { name: 'crm-deploys', input: { name: 'crm-deploys', rules } });
    expect(kept.data?.updateRole).toEqual({ name: 'crm-deploys', description: 'CRM deployments', rules, builtIn: false });
  });

  test('renaming to a name in use is a CONFLICT and changes nothing', async () => {
    const before = await permissionTables();
    const response = await as('admin', UPDATE_ROLE, { name: 'crm-deploys', input: { name: 'dup-role', rules: [VIEW] } });
    expectError(response, 'CONFLICT', '"dup-role"');
    const builtIn = await as('admin', UPDATE_ROLE, { name: 'crm-deploys', input: { name: 'admin', rules: [VIEW] } });
    expectError(builtIn, 'CONFLICT', '"admin"');
    expect(await permissionTables()).toEqual(before);
  });

  test('built-in roles cannot be updated, renamed or deleted (CONFLICT), even by an admin', async () => {
    const before = await permissionTables();
    for (const name of BUILT_IN) {
      expectError(await as('admin', UPDATE_ROLE, { name, input: { name, rules: [VIEW] } }), 'CONFLICT', `"${name}"`, 'built-in');
      expectError(await as('admin', UPDATE_ROLE, { name, input: { name: `${name}-2`, rules: [VIEW] } }), 'CONFLICT', 'built-in');
      expectError(await as('admin', DELETE_ROLE, { name }), 'CONFLICT', `"${name}"`, 'built-in');
    }
    expect(await permissionTables()).toEqual(before);
  });

  test('an unknown role is NOT_FOUND for update and delete', async () => {
    const before = await permissionTables();
    expectError(
      await as('admin', UPDATE_ROLE, { name: 'no-such-role', input: { name: 'no-such-role', rules: [VIEW] } }),
      'NOT_FOUND',
      '"no-such-role"',
    );
    expectError(await as('admin', DELETE_ROLE, { name: 'no-such-role' }), 'NOT_FOUND', '"no-such-role"');
    expect(await permissionTables()).toEqual(before);
  });

  test('update and delete need manage_permissions', async () => {
    const before = await permissionTables();
    for (const user of ['operator', 'scoped-admin', 'stranger']) {
      expectError(
        await as(user, UPDATE_ROLE, { name: 'dup-role', input: { name: 'dup-role', rules: [VIEW] } }),
        'FORBIDDEN',
        'manage_permissions',
      );
      expectError(await as(user, DELETE_ROLE, { name: 'dup-role' }), 'FORBIDDEN', 'manage_permissions');
    }
    expect(await permissionTables()).toEqual(before);
  });

  test('a role still granted cannot be deleted: CONFLICT naming how many grants hold it', async () => {
    // crm-deploys is held by rename-1 and rename-2.
    const before = await permissionTables();
    expectError(await as('admin', DELETE_ROLE, { name: 'crm-deploys' }), 'CONFLICT', '"crm-deploys"', 'granted 2 time');
    expect(await permissionTables()).toEqual(before);

    // Once one grant is revoked the count follows; once both are, the role can go.
    const [first, second] = await grantRows('rename-1').then(async (a) => [...a, ...(await grantRows('rename-2'))]);
    expect((await revokeAs('admin', first!.id)).data?.revokeGrant).toBe(true);
    expectError(await as('admin', DELETE_ROLE, { name: 'crm-deploys' }), 'CONFLICT', 'granted 1 time');
    expect((await revokeAs('admin', second!.id)).data?.revokeGrant).toBe(true);
    const deleted = await as<{ deleteRole: boolean }>('admin', DELETE_ROLE, { name: 'crm-deploys' });
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data?.deleteRole).toBe(true);
    expect(await roleRow('crm-deploys')).toBeUndefined();
  });

  test('an unused custom role is deleted; deleting it again is NOT_FOUND', async () => {
    expect((await createRoleAs('admin', { name: 'short-lived', rules: [VIEW] })).errors).toBeUndefined();
    const response = await as<{ deleteRole: boolean }>('admin', DELETE_ROLE, { name: 'short-lived' });
    expect(response.errors).toBeUndefined();
    expect(response.data?.deleteRole).toBe(true);
    expect(await roleRow('short-lived')).toBeUndefined();
    expectError(await as('admin', DELETE_ROLE, { name: 'short-lived' }), 'NOT_FOUND', '"short-lived"');
  });
});

// ---------------------------------------------------------------------------------------------

describe('grantRole', () => {
  test('an unknown role is NOT_FOUND and stores nothing', async () => {
    const before = await permissionTables();
    expectError(await grantAs('admin', 'grantee', 'no-such-role'), 'NOT_FOUND', '"no-such-role"');
    expectError(await grantAs('admin', 'grantee', 'no-such-role', 'acme'), 'NOT_FOUND', '"no-such-role"');
    expect(await permissionTables()).toEqual(before);
    expect(await grantRows('grantee')).toEqual([]);
  });

  test.each(['acme//x', '../etc', 'a%', '/acme', 'acme/', 'acme/pay ments', '', 'acme/*', `${'a/'.repeat(20)}a`])(
    'an invalid scope %p is BAD_USER_INPUT and stores nothing',
    async (scope) => {
      const before = await permissionTables();
      expectError(await grantAs('admin', 'grantee', 'viewer', scope), 'BAD_USER_INPUT', 'scope');
      expect(await permissionTables()).toEqual(before);
    },
  );

  test('an empty user id is BAD_USER_INPUT', async () => {
    const before = await permissionTables();
    expectError(await grantAs('admin', '', 'viewer'), 'BAD_USER_INPUT', 'userId');
    expectError(await grantAs('admin', '   ', 'viewer'), 'BAD_USER_INPUT', 'userId');
    expect(await permissionTables()).toEqual(before);
  });

  test('granting twice answers the same grant (one row); grantedBy is the caller', async () => {
    const first = await granted('grantee', 'viewer', 'acme/payments');
    expect(first).toMatchObject({ userId: 'grantee', role: 'viewer', scope: 'acme/payments', grantedBy: 'admin' });
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    const again = await granted('grantee', 'viewer', 'acme/payments');
    expect(again).toEqual(first);
    // Another manager granting the same thing gets the same grant, still credited to its granter.
    const byRoot = await granted('grantee', 'viewer', 'acme/payments', 'root');
    expect(byRoot).toEqual(first);
    expect(await grantRows('grantee')).toEqual([{ id: first.id, role_name: 'viewer', scope: 'acme/payments', granted_by: 'admin' }]);

    // The same role unscoped, or in another scope, is another grant.
    const unscoped = await granted('grantee', 'viewer', null, 'root');
    expect(unscoped).toMatchObject({ scope: null, grantedBy: 'root' });
    expect(unscoped.id).not.toBe(first.id);
    expect(await granted('grantee', 'viewer', null)).toEqual(unscoped);
    expect(await grantRows('grantee')).toHaveLength(2);
  });

  test('concurrent identical grants make one row and all answer it', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => grantAs('admin', 'twins', 'operator', 'globex', i % 2 === 0 ? suite.server : serverB)),
    );
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    const ids = new Set(answers.map((answer) => answer.data!.grantRole.id));
    expect(ids.size).toBe(1);
    expect((await grantRows('twins')).map((row) => row.id)).toEqual([...ids]);
  });

  test('needs manage_permissions (a scoped admin is not enough)', async () => {
    const before = await permissionTables();
    for (const user of ['operator', 'viewer', 'scoped-admin', 'stranger']) {
      expectError(await grantAs(user, user, 'admin'), 'FORBIDDEN', 'manage_permissions');
    }
    expect(await permissionTables()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------

describe('revokeGrant', () => {
  test('an unknown id is NOT_FOUND; a malformed id is BAD_USER_INPUT', async () => {
    const before = await permissionTables();
    expectError(await revokeAs('admin', '00000000-0000-4000-8000-000000000000'), 'NOT_FOUND', '00000000-0000-4000-8000-000000000000');
    for (const id of ['nope', '1', "' OR 1=1 --", '00000000-0000-4000-8000-00000000000']) {
      expectError(await revokeAs('admin', id), 'BAD_USER_INPUT', 'id');
    }
    expect(await permissionTables()).toEqual(before);
  });

  test('needs manage_permissions', async () => {
    const target = await granted('victim', 'viewer');
    for (const user of ['operator', 'scoped-admin', 'victim'])
      expectError(await revokeAs(user, target.id), 'FORBIDDEN', 'manage_permissions');
    expect(await grantRows('victim')).toHaveLength(1);
  });

  test('the last unscoped admin grant cannot be revoked; scoped ones and other admins can', async () => {
    expect((await unscopedAdminGrants()).map((row) => row.user_id)).toEqual(['admin']);
    const [last] = await unscopedAdminGrants();
    const before = await permissionTables();
    expectError(await revokeAs('admin', last!.id), 'CONFLICT', 'last admin grant');
    expectError(await revokeAs('root', last!.id), 'CONFLICT', 'last admin grant');
    expect(await permissionTables()).toEqual(before);

    // A scoped admin grant is not an administrator's: it can go.
    const scoped = await granted('deputy', 'admin', 'globex');
    const gone = await revokeAs('admin', scoped.id);
    expect(gone.errors).toBeUndefined();
    expect(gone.data?.revokeGrant).toBe(true);
    expect(await grantRows('deputy')).toEqual([]);

    // With a second unscoped admin, either may be revoked, but never both.
    const second = await granted('deputy', 'admin');
    expect((await unscopedAdminGrants()).map((row) => row.user_id)).toEqual(['admin', 'deputy']);
    const revoked = await revokeAs('admin', second.id);
    expect(revoked.data?.revokeGrant).toBe(true);
    expect((await unscopedAdminGrants()).map((row) => row.user_id)).toEqual(['admin']);
    expectError(await revokeAs('admin', last!.id), 'CONFLICT', 'last admin grant');

    // The admin may even revoke their own grant once someone else holds admin.
    const third = await granted('deputy', 'admin');
    expect((await revokeAs('admin', last!.id)).data?.revokeGrant).toBe(true);
    expect((await unscopedAdminGrants()).map((row) => row.id)).toEqual([third.id]);
    expectError(await revokeAs('deputy', third.id), 'CONFLICT', 'last admin grant');
    // Put things back: admin holds it again, deputy gives it up.
    await granted('admin', 'admin', null, 'deputy');
    expect((await revokeAs('admin', third.id)).data?.revokeGrant).toBe(true);
    expect((await unscopedAdminGrants()).map((row) => row.user_id)).toEqual(['admin']);
  });

  test('only unscoped grants of the built-in admin role count: a custom manage_permissions role neither keeps the guard off nor is guarded', async () => {
    // root holds the custom `permission-admin` role (manage_permissions) and may administer...
    expect((await me('root')).actions).toEqual(['manage_permissions']);
    const [last] = await unscopedAdminGrants();
    expect((await unscopedAdminGrants()).map((row) => row.user_id)).toEqual(['admin']);
    // ...yet the last admin grant stays: a custom role can be edited or deleted at any time.
    const before = await permissionTables();
    expectError(await revokeAs('root', last!.id), 'CONFLICT', 'last admin grant');
    expectError(await revokeAs('admin', last!.id), 'CONFLICT', 'last admin grant');
    // A scoped admin grant does not count either (it carries no Permission rules).
    expect((await grantRows('scoped-admin')).map((row) => [row.role_name, row.scope])).toEqual([['admin', 'acme']]);
    expect(await permissionTables()).toEqual(before);

    // Custom manage_permissions grants are never guarded: they can all go while admin remains.
    const deputy = await granted('deputy-root', 'permission-admin');
    expect((await me('deputy-root')).actions).toEqual(['manage_permissions']);
    expect((await revokeAs('root', deputy.id)).data?.revokeGrant).toBe(true);
    expect(await grantRows('deputy-root')).toEqual([]);
    expect((await me('deputy-root')).actions).toEqual([]);
    expectError(await grantAs('deputy-root', 'someone', 'viewer'), 'FORBIDDEN', 'manage_permissions');
  });

  test('two concurrent revocations of the last two unscoped admin grants: exactly one wins (10 rounds)', async () => {
    const winners: string[] = [];
    for (let round = 0; round < 10; round += 1) {
      // Idempotent grants: whichever survived the last round is answered as it is.
      const a = await granted('admin', 'admin', null, 'root');
      const b = await granted('racer', 'admin', null, 'root');
      expect((await unscopedAdminGrants()).map((row) => row.id).sort()).toEqual([a.id, b.id].sort());

      // Half of the rounds race on one instance, half across both instances.
      const [ra, rb] = await Promise.all([revokeAs('root', a.id), revokeAs('root', b.id, round % 2 === 0 ? suite.server : serverB)]);
      const outcomes = [ra, rb].map((response) =>
        response.errors === undefined ? 'revoked' : String(response.errors[0]?.extensions?.['code']),
      );
      expect(outcomes.sort()).toEqual(['CONFLICT', 'revoked']);
      const loser = ra.errors === undefined ? rb : ra;
      expect(loser.errors?.[0]?.message).toContain('last admin grant');
      const remaining = await unscopedAdminGrants();
      expect(remaining).toHaveLength(1);
      expect(remaining[0]!.id).toBe(ra.errors === undefined ? b.id : a.id);
      winners.push(remaining[0]!.user_id);
    }
    // Restore: admin holds the only unscoped admin grant.
    await granted('admin', 'admin', null, 'root');
    for (const row of await unscopedAdminGrants())
      if (row.user_id !== 'admin') expect((await revokeAs('root', row.id)).data?.revokeGrant).toBe(true);
    expect((await unscopedAdminGrants()).map((row) => row.user_id)).toEqual(['admin']);
    expect(winners).toHaveLength(10);
  });
});

// ---------------------------------------------------------------------------------------------

describe('a change of grants takes effect on the next request', () => {
  const paymentsIds = () => idsWhere((job) => under(job.scope, 'acme/payments'));

  test('grantRole and revokeGrant change what the user sees on their very next request, me included', async () => {
    const user = 'newbie';
    expect(await visibleIds(user)).toEqual([]);
    const before = await me(user);
    expect(before).toMatchObject({ id: user, actions: [], grants: [] });
    expect(unpackRules(before.rules as PackRule<RawRuleOf<MongoAbility>>[])).toEqual([]);

    const grant = await granted(user, 'viewer', 'acme/payments');
    expect(await visibleIds(user)).toEqual(paymentsIds());
    expect(paymentsIds()).toHaveLength(4);
    const after = await me(user);
    expect(after.actions).toEqual(['view_monitor']);
    expect(after.grants).toEqual([grant]);
    const rules = unpackRules(after.rules as PackRule<RawRuleOf<MongoAbility>>[]);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ action: ['view_monitor'], subject: ['Job'], conditions: { scope: expect.anything() } });
    const ownGrants = await as<{ grants: GrantAnswer[] }>(user, GRANTS, { userId: user });
    expect(ownGrants.data?.grants).toEqual([grant]);

    // A second grant adds to the first at once.
    const second = await granted(user, 'own-jobs');
    expect((await me(user)).actions).toEqual(['view_monitor', 'create', 'cancel', 'delete']);
    expect(await visibleIds(user)).toEqual(paymentsIds());

    expect((await revokeAs('admin', grant.id)).data?.revokeGrant).toBe(true);
    expect((await revokeAs('admin', second.id)).data?.revokeGrant).toBe(true);
    expect(await visibleIds(user)).toEqual([]);
    expect(await me(user)).toMatchObject({ actions: [], grants: [], rules: [] });
  });

  test('updateRole changes what existing grantees see on their next request', async () => {
    const rules = [{ action: ['view_monitor'], subject: ['Job'], conditions: { scope: { $in: ['acme/crm/prod'] } } }];
    expect((await createRoleAs('admin', { name: 'moving-watch', rules })).errors).toBeUndefined();
    await granted('watcher', 'moving-watch');
    await granted('scoped-watcher', 'moving-watch', 'globex');
    expect(await visibleIds('watcher')).toEqual(idsWhere((job) => job.scope === 'acme/crm/prod'));
    expect(await visibleIds('scoped-watcher')).toEqual([]);
    expect((await me('watcher')).actions).toEqual(['view_monitor']);

    const next = [
      { action: ['view_monitor', 'cancel'], subject: ['Job'], conditions: { scope: { $in: ['globex/shop', 'acme/paymentsx'] } } },
    ];
    const updated = await as('admin', UPDATE_ROLE, { name: 'moving-watch', input: { name: 'moving-watch', rules: next } });
    expect(updated.errors).toBeUndefined();
    expect(await visibleIds('watcher')).toEqual(idsWhere((job) => job.scope === 'globex/shop' || job.scope === 'acme/paymentsx'));
    expect(await visibleIds('scoped-watcher')).toEqual(idsWhere((job) => job.scope === 'globex/shop'));
    expect((await me('watcher')).actions).toEqual(['view_monitor', 'cancel']);
  });

  // Instance B's NOTIFY traffic is held in each of these: without the permissions version read
  // on every request, B would go on answering from the abilities it cached before the change.
  test('a grant and a revocation made on instance A hold on instance B from its very next request, NOTIFY still in flight', async () => {
    expect(serverB.services.listener.connected).toBe(true);
    const user = 'remote';
    const [job] = await insertJobs(suite.db.pool, [
      { scope: 'globex/remote', status: 'PENDING', name: 'remote job', owner_id: 'alice', type: 'deployment' },
    ]);
    jobs.push({ id: job!.id, scope: 'globex/remote', owner: 'alice', type: 'deployment' });
    // B has now loaded (and cached) the user's empty ability.
    expect(await visibleIds(user, serverB)).toEqual([]);
    expect((await me(user, serverB)).actions).toEqual([]);

    proxyB.holdListener();
    try {
      const grant = await granted(user, 'operator', 'globex');
      const globex = idsWhere((seed) => under(seed.scope, 'globex'));
      expect(globex).toContain(job!.id);
      expect(await visibleIds(user, serverB)).toEqual(globex);
      const seen = await me(user, serverB);
      expect(seen.actions).toEqual([
        'view_monitor',
        'create',
        'restart',
        'cancel',
        'delete',
        'reschedule',
        'approve',
        'resolve_trap',
        'manage_alerts',
      ]);
      expect(seen.grants).toEqual([grant]);

      expect((await revokeAs('admin', grant.id)).data?.revokeGrant).toBe(true);
      const refused = await as(user, `mutation { cancelJob(id: "${job!.id}") { status } }`, undefined, serverB);
      expect(refused.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
      expect((await suite.db.pool.query('SELECT status FROM jobs WHERE id = $1', [job!.id])).rows).toEqual([{ status: 'PENDING' }]);
      expect(await visibleIds(user, serverB)).toEqual([]);
      expect((await me(user, serverB)).actions).toEqual([]);
      // The NOTIFY of those changes was indeed still on its way to B.
      await proxyB.holdingListener();
    } finally {
      proxyB.releaseListener();
    }
  });

  test('while instance B is busy (its version reads always in flight), each change still holds from the next request', async () => {
    const user = 'busy-remote';
    const globex = idsWhere((seed) => under(seed.scope, 'globex'));
    let current = await granted(user, 'viewer', 'globex');
    expect(await visibleIds(user, serverB)).toEqual(globex);
    proxyB.holdListener();
    let running = true;
    const traffic = Array.from({ length: 4 }, async () => {
      while (running) await visibleIds('viewer', serverB);
    });
    try {
      for (let round = 0; round < 10; round += 1) {
        expect((await revokeAs('admin', current.id)).data?.revokeGrant).toBe(true);
        expect([round, await visibleIds(user, serverB)]).toEqual([round, []]);
        current = await granted(user, 'viewer', 'globex');
        expect([round, await visibleIds(user, serverB)]).toEqual([round, globex]);
      }
    } finally {
      running = false;
      await Promise.all(traffic);
      proxyB.releaseListener();
    }
  });

  test('a role updated on instance A changes what its grantees see on instance B at once', async () => {
    const rules = [{ action: ['view_monitor'], subject: ['Job'], conditions: { scope: 'acme/crm/prod' } }];
    expect((await createRoleAs('admin', { name: 'remote-watch', rules })).errors).toBeUndefined();
    await granted('remote-2', 'remote-watch');
    expect(await visibleIds('remote-2', serverB)).toEqual(idsWhere((job) => job.scope === 'acme/crm/prod'));

    proxyB.holdListener();
    try {
      const next = [{ action: ['view_monitor'], subject: ['Job'], conditions: { scope: 'acme/paymentsx/prod' } }];
      expect(
        (await as('admin', UPDATE_ROLE, { name: 'remote-watch', input: { name: 'remote-watch', rules: next } })).errors,
      ).toBeUndefined();
      expect(await visibleIds('remote-2', serverB)).toEqual(idsWhere((job) => job.scope === 'acme/paymentsx/prod'));
      await proxyB.holdingListener();
    } finally {
      proxyB.releaseListener();
    }
  });

  test("a grant written straight into the table (not through the API) takes effect on both instances' next request", async () => {
    const user = 'hand-granted';
    expect(await visibleIds(user)).toEqual([]);
    expect(await visibleIds(user, serverB)).toEqual([]);
    proxyB.holdListener();
    try {
      await grant(suite.db.pool, user, 'viewer', 'acme/crm');
      const crm = idsWhere((job) => under(job.scope, 'acme/crm'));
      expect(await visibleIds(user)).toEqual(crm);
      expect(await visibleIds(user, serverB)).toEqual(crm);
      await suite.db.pool.query('DELETE FROM grants WHERE user_id = $1', [user]);
      expect(await visibleIds(user)).toEqual([]);
      expect(await visibleIds(user, serverB)).toEqual([]);
    } finally {
      proxyB.releaseListener();
    }
  });

  test('the permissions version moves with committed changes only, and not for changes that change nothing', async () => {
    const version = async () =>
      (await suite.db.pool.query<{ version: string }>('SELECT version FROM permissions_version')).rows[0]!.version;
    const start = await version();
    // A rolled-back grant leaves no trace; an idempotent grant (as at every start) bumps nothing.
    const client = await suite.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO grants (user_id, role_name) VALUES ('rolled-back', 'viewer')`);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    await suite.db.pool.query(
      `INSERT INTO grants (user_id, role_name) VALUES ('admin', 'admin') ON CONFLICT (user_id, role_name, (coalesce(scope, ''))) DO NOTHING`,
    );
    expect(await version()).toBe(start);
    const viewerGrant = await granted('versioned', 'viewer');
    const afterGrant = await version();
    expect(BigInt(afterGrant)).toBeGreaterThan(BigInt(start));
    expect((await revokeAs('admin', viewerGrant.id)).data?.revokeGrant).toBe(true);
    expect(BigInt(await version())).toBeGreaterThan(BigInt(afterGrant));
  });

  test('a grant made on instance B also takes effect on instance B at once', async () => {
    expect(await visibleIds('local-b', serverB)).toEqual([]);
    const response = await grantAs('admin', 'local-b', 'viewer', 'acme/crm', serverB);
    expect(response.errors).toBeUndefined();
    expect(await visibleIds('local-b', serverB)).toEqual(idsWhere((job) => under(job.scope, 'acme/crm')));
  });
});

// ---------------------------------------------------------------------------------------------

describe('me.rules are packed CASL rules the frontend can use', () => {
  test('the unpacked ability agrees with the server for a scoped viewer who also has own-jobs', async () => {
    const user = 'fe';
    await granted(user, 'viewer', 'acme/payments');
    await granted(user, 'own-jobs');
    const answer = await me(user);
    const ability = frontendAbility(answer.rules);
    const job = (scope: string, ownerId = 'alice') => subject('Job', { scope, type: 'deployment', ownerId });

    expect(ability.can('view_monitor', job('acme/payments'))).toBe(true);
    expect(ability.can('view_monitor', job('acme/payments/prod'))).toBe(true);
    expect(ability.can('view_monitor', job('acme/payments/prod/eu-1'))).toBe(true);
    expect(ability.can('view_monitor', job('acme/paymentsx'))).toBe(false);
    expect(ability.can('view_monitor', job('acme/paymentsx/prod'))).toBe(false);
    expect(ability.can('view_monitor', job('acme/payments-old'))).toBe(false);
    expect(ability.can('view_monitor', job('acme'))).toBe(false);
    expect(ability.can('view_monitor', job('globex/shop'))).toBe(false);
    expect(ability.can('view_monitor', job('globex/shop', 'fe'))).toBe(true);
    expect(ability.can('cancel', job('acme/payments'))).toBe(false);
    expect(ability.can('cancel', job('globex/shop', 'fe'))).toBe(true);
    expect(ability.can('restart', job('globex/shop', 'fe'))).toBe(false);
    expect(ability.can('manage_permissions', 'Permission')).toBe(false);

    // Job by job, the frontend's answer is the server's.
    const query = 'query($id: ID!) { job(id: $id) { id viewerCan { cancel restart delete } } }';
    for (const seed of jobs) {
      const response = await as<{ job: { id: string; viewerCan: { cancel: boolean; restart: boolean; delete: boolean } } | null }>(
        user,
        query,
        { id: seed.id },
      );
      expect(response.errors).toBeUndefined();
      const facts = job(seed.scope, seed.owner);
      expect([seed.scope, seed.owner, response.data!.job !== null]).toEqual([seed.scope, seed.owner, ability.can('view_monitor', facts)]);
      if (response.data!.job !== null) {
        // Every fixture job is PENDING: cancellable by status, not restartable or deletable.
        expect([seed.scope, seed.owner, response.data!.job.viewerCan.cancel]).toEqual([
          seed.scope,
          seed.owner,
          ability.can('cancel', facts),
        ]);
      }
    }
    expect(await visibleIds(user)).toEqual(idsWhere((seed) => under(seed.scope, 'acme/payments') || seed.owner === 'fe'));
  });

  test('an admin gets rules that allow everything, including manage_permissions', async () => {
    const ability = frontendAbility((await me('admin')).rules);
    expect(ability.can('manage_permissions', 'Permission')).toBe(true);
    expect(ability.can('delete', subject('Job', { scope: 'anything/at/all', type: 'x', ownerId: 'y' }))).toBe(true);
    expect((await me('admin')).actions).toEqual([
      'view_monitor',
      'create',
      'restart',
      'cancel',
      'delete',
      'reschedule',
      'approve',
      'approve_all',
      'resolve_trap',
      'manage_permissions',
      'manage_alerts',
      'execute',
    ]);
    // A scoped admin administers jobs in its scope only, and never permissions.
    const scoped = frontendAbility((await me('scoped-admin')).rules);
    expect(scoped.can('manage_permissions', 'Permission')).toBe(false);
    expect(scoped.can('delete', subject('Job', { scope: 'acme/x', type: 'x', ownerId: 'y' }))).toBe(true);
    expect(scoped.can('delete', subject('Job', { scope: 'acmex', type: 'x', ownerId: 'y' }))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('roles and grants queries', () => {
  test('roles needs manage_permissions', async () => {
    for (const user of ['operator', 'viewer', 'scoped-admin', 'stranger']) {
      const response = await as(user, ROLES);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      expect(response.errors?.[0]?.message).toContain('manage_permissions');
      expect(response.data ?? null).toBeNull();
    }
    for (const user of ['admin', 'root']) {
      const response = await as<{ roles: RoleAnswer[] }>(user, ROLES);
      expect(response.errors).toBeUndefined();
      expect(response.data!.roles.length).toBeGreaterThanOrEqual(BUILT_IN.length);
    }
  });

  test('grants needs manage_permissions, except a user asking for their own', async () => {
    await granted('asker', 'viewer', 'acme');
    for (const user of ['operator', 'viewer', 'asker', 'stranger']) {
      for (const variables of [{}, { userId: null }, { userId: 'admin' }]) {
        const response = await as(user, GRANTS, variables);
        expect([user, variables, response.errors?.[0]?.extensions?.['code']]).toEqual([user, variables, 'FORBIDDEN']);
      }
    }
    const own = await as<{ grants: GrantAnswer[] }>('asker', GRANTS, { userId: 'asker' });
    expect(own.errors).toBeUndefined();
    expect(own.data!.grants).toEqual([expect.objectContaining({ userId: 'asker', role: 'viewer', scope: 'acme', grantedBy: 'admin' })]);
    const none = await as<{ grants: GrantAnswer[] }>('stranger', GRANTS, { userId: 'stranger' });
    expect(none.errors).toBeUndefined();
    expect(none.data!.grants).toEqual([]);

    const all = await as<{ grants: GrantAnswer[] }>('root', GRANTS);
    expect(all.errors).toBeUndefined();
    const { rows } = await suite.db.pool.query<{ id: string }>('SELECT id FROM grants');
    expect(all.data!.grants.map((g) => g.id).sort()).toEqual(rows.map((row) => row.id).sort());
    const one = await as<{ grants: GrantAnswer[] }>('admin', GRANTS, { userId: 'asker' });
    expect(one.data!.grants).toEqual(own.data!.grants);
  });
});
