import type { Pool } from 'pg';
import { apiSuite } from './support/api-suite';
import { eventually } from './support/eventually';
import { createRole, grant, insertJobs } from './support/fixtures';
import { token } from './support/test-server';

/**
 * The hot reads (`jobs`, `job`) trust the instance's cached ability only as far as their own
 * statement confirms it: Postgres answers the permissions version beside the rows, and a read
 * that ran under an older one is done again. Everything else reads the version first. So a
 * change of grants or roles counts from the next request whether or not its NOTIFY arrives, and
 * while the LISTEN connection is down the instance reads the version on every request.
 */
const ids: Record<'acme' | 'globex', string> = { acme: '', globex: '' };

const VERSION_READ = 'SELECT version FROM permissions_version WHERE id';

const suite = apiSuite({
  faultProxy: true,
  // No alert delivery polling: every statement through the pool is then a request's.
  alerts: false,
  // Every user here is granted by the test that uses them.
  grants: [],
});

beforeAll(async () => {
  const [acme, globex] = await insertJobs(suite.db.pool, [
    { name: 'Mask customers', scope: 'acme/payments/prod', status: 'PENDING' },
    { name: 'Deploy shop', scope: 'globex/shop/prod', status: 'PENDING' },
  ]);
  ids.acme = acme!.id;
  ids.globex = globex!.id;
});

/** The statements the server sends through its pool while `run` runs (observed, passed through). */
async function statementsDuring(run: () => Promise<void>): Promise<string[]> {
  const pool = suite.server.services.pool as Pool & { query: (...args: unknown[]) => unknown };
  const original = pool.query;
  const seen: string[] = [];
  pool.query = function (this: Pool, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
    // The change relay's polling is the instance's background work, not the requests'.
    if (text !== undefined && !text.includes('jobwatch_relay_changes')) seen.push(text);
    return original.apply(this, args);
  } as typeof pool.query;
  try {
    await run();
  } finally {
    pool.query = original;
  }
  return seen;
}

async function visible(user: string): Promise<string[]> {
  const answer = await suite.server.gql<{ jobs: { nodes: Array<{ id: string }> } }>(await token(user), '{ jobs { nodes { id } } }');
  expect(answer.errors).toBeUndefined();
  return answer.data!.jobs.nodes.map((node) => node.id).sort();
}

async function jobById(user: string, id: string): Promise<string | null> {
  const answer = await suite.server.gql<{ job: { id: string } | null }>(await token(user), 'query($id: ID!) { job(id: $id) { id } }', {
    id,
  });
  expect(answer.errors).toBeUndefined();
  return answer.data!.job?.id ?? null;
}

const sorted = (...values: string[]) => [...values].sort();

/**
 * Grants, and waits until the server has heard the grant's NOTIFY. Until then it may drop the
 * user's cached ability at any moment (the NOTIFY is sent at commit but handled whenever it
 * arrives), so an ability cached before a count of statements could be gone during it.
 */
async function grantHeard(user: string, role: string, scope: string | null): Promise<void> {
  let heard = false;
  // Handlers run in the order they were added: the permission store's first, then this one.
  const stop = suite.server.services.listener.on('jobwatch_permissions', (payload) => {
    if (payload === user) heard = true;
  });
  try {
    await grant(suite.db.pool, user, role, scope);
    await eventually(
      () => heard,
      (done) => done,
      15_000,
      `the NOTIFY of ${user}'s grant`,
    );
  } finally {
    stop();
  }
}

/** Changes made with a trigger off never send their NOTIFY: as if it were lost on the way. */
async function withoutNotify(table: 'grants' | 'roles', run: () => Promise<void>): Promise<void> {
  const trigger = table === 'grants' ? 'grants_notify' : 'roles_notify';
  await suite.db.pool.query(`ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`);
  try {
    await run();
  } finally {
    await suite.db.pool.query(`ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`);
  }
}

test('with a cached ability, a list and a job page are one statement each, which reads the permissions version itself', async () => {
  await grantHeard('steady', 'viewer', 'acme');
  expect(await visible('steady')).toEqual([ids.acme]);
  const statements = await statementsDuring(async () => {
    for (let i = 0; i < 3; i += 1) {
      expect(await visible('steady')).toEqual([ids.acme]);
      expect(await jobById('steady', ids.acme)).toBe(ids.acme);
    }
  });
  expect(statements).toHaveLength(6);
  expect(statements.every((text) => text.includes('AS permissions_version'))).toBe(true);
});

test('any other operation reads the permissions version before it runs', async () => {
  await grantHeard('other-ops', 'viewer', 'acme');
  expect(await visible('other-ops')).toEqual([ids.acme]);
  const bearer = await token('other-ops');
  const statements = await statementsDuring(async () => {
    const me = await suite.server.gql<{ me: { id: string } }>(bearer, '{ me { id } }');
    expect(me.errors).toBeUndefined();
    // Two root fields: each would act on the other's ability, so the version is read first.
    const both = await suite.server.gql(bearer, '{ jobs { nodes { id } } jobCounts { status count } }');
    expect(both.errors).toBeUndefined();
  });
  expect(statements.filter((text) => text === VERSION_READ)).toHaveLength(2);
  expect(statements.filter((text) => text.includes('AS permissions_version'))).toEqual([]);
});

test('a grant, a revocation and a role change whose NOTIFY never arrives count from the next request', async () => {
  await createRole(suite.db.pool, 'watch-acme', [
    { action: ['view_monitor', 'cancel'], subject: ['Job'], conditions: { scope: 'acme/payments/prod' } },
  ]);
  await grant(suite.db.pool, 'unheard', 'watch-acme');
  expect(await visible('unheard')).toEqual([ids.acme]);
  expect(await jobById('unheard', ids.globex)).toBeNull();

  await withoutNotify('grants', async () => {
    await grant(suite.db.pool, 'unheard', 'viewer', 'globex');
    expect(await visible('unheard')).toEqual(sorted(ids.acme, ids.globex));
    expect(await jobById('unheard', ids.globex)).toBe(ids.globex);
    await suite.db.pool.query(`DELETE FROM grants WHERE user_id = 'unheard' AND role_name = 'viewer'`);
    expect(await jobById('unheard', ids.globex)).toBeNull();
    expect(await visible('unheard')).toEqual([ids.acme]);
  });

  await withoutNotify('roles', async () => {
    await suite.db.pool.query(`UPDATE roles SET rules = $1 WHERE name = 'watch-acme'`, [
      JSON.stringify([{ action: ['view_monitor'], subject: ['Job'], conditions: { scope: 'globex/shop/prod' } }]),
    ]);
    expect(await visible('unheard')).toEqual([ids.globex]);
    // A mutation checks the version before it runs: the cancel permission went with the change.
    const cancel = await suite.server.gql(await token('unheard'), `mutation { cancelJob(id: "${ids.acme}") { status } }`);
    expect(cancel.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });
  expect((await suite.db.pool.query('SELECT status FROM jobs WHERE id = $1', [ids.acme])).rows).toEqual([{ status: 'PENDING' }]);
});

test('while the LISTEN connection is down every request reads the version, and a change made meanwhile counts; once it is back the cache serves again', async () => {
  await grant(suite.db.pool, 'through-outage', 'viewer', 'acme');
  expect(await visible('through-outage')).toEqual([ids.acme]);
  const listener = suite.server.services.listener;
  await suite.proxy.refuseNew();
  try {
    await suite.db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'jobwatch-listener'`,
    );
    await eventually(
      () => listener.connected,
      (connected) => !connected,
      10_000,
      'the LISTEN connection to be lost',
    );
    // The grant's NOTIFY goes nowhere: no connection listens.
    await grant(suite.db.pool, 'through-outage', 'viewer', 'globex');
    const statements = await statementsDuring(async () => {
      expect(await visible('through-outage')).toEqual(sorted(ids.acme, ids.globex));
      expect(await jobById('through-outage', ids.globex)).toBe(ids.globex);
    });
    expect(statements.filter((text) => text === VERSION_READ)).toHaveLength(2);
  } finally {
    await suite.proxy.up();
  }
  await eventually(
    () => listener.connected,
    (connected) => connected,
    15_000,
    'the LISTEN connection to be back',
  );
  await suite.db.pool.query(`DELETE FROM grants WHERE user_id = 'through-outage' AND scope = 'globex'`);
  expect(await visible('through-outage')).toEqual([ids.acme]);
  await eventually(
    () => statementsDuring(async () => void (await visible('through-outage'))),
    (statements) => statements.length === 1 && statements[0]!.includes('AS permissions_version'),
    10_000,
    'a list to be one statement again',
  );
});

test('a hot read that cannot reach the database (LISTEN still up) is refused as retryable, HTTP 503, as one whose version read fails', async () => {
  await grantHeard('away', 'viewer', 'acme');
  expect(await visible('away')).toEqual([ids.acme]);
  expect(suite.server.services.listener.connected).toBe(true);
  await suite.proxy.refuseNew();
  try {
    // The pool's connections go; the LISTEN connection stays: the cached ability is still trusted.
    await suite.db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'jobwatch'`,
    );
    const answer = await suite.server.gql(await token('away'), '{ jobs { nodes { id } } }');
    expect({ status: answer.status, extensions: answer.errors?.[0]?.extensions }).toMatchObject({
      status: 503,
      extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'DATABASE_UNAVAILABLE', retryable: true },
    });
    expect(answer.errors?.[0]?.extensions?.['outcome']).toBeUndefined();
  } finally {
    await suite.proxy.up();
  }
  await eventually(
    () => visible('away').catch(() => []),
    (ids) => ids.length === 1,
    15_000,
    'the list to answer again',
  );
});
