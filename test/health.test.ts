import { apiSuite } from './support/api-suite';
import { startFaultProxy } from './support/fault-proxy';

// No grants: root-user's come from BOOTSTRAP_ADMINS alone.
const suite = apiSuite({ env: { BOOTSTRAP_ADMINS: 'root-user' }, grants: [], users: ['root-user'] });

const base = () => suite.server.url.replace(/\/graphql$/, '');

test('healthz answers while the process lives, readyz once the database is migrated', async () => {
  const health = await fetch(`${base()}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  const ready = await fetch(`${base()}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready' });
});

test('every response carries a request id, and a sane incoming one is kept', async () => {
  const fresh = await fetch(`${base()}/healthz`);
  expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  const kept = await fetch(`${base()}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
  expect(kept.headers.get('x-request-id')).toBe('trace-123');
  const replaced = await fetch(`${base()}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
  expect(replaced.headers.get('x-request-id')).not.toBe('bad id with spaces');
});

test('BOOTSTRAP_ADMINS grants the admin role, once, however often the server starts', async () => {
  const again = await suite.startServer({ BOOTSTRAP_ADMINS: 'root-user' });
  await again.close();
  const { rows } = await suite.db.pool.query(`SELECT role_name, scope FROM grants WHERE user_id = 'root-user'`);
  expect(rows).toEqual([{ role_name: 'admin', scope: null }]);
  const me = await suite.server.gql<{ me: { id: string; actions: string[] } }>(suite.tokens['root-user'], '{ me { id actions } }');
  expect(me.data?.me.actions).toContain('manage_permissions');
});

test('readyz fails while the LISTEN connection is down although the database answers, and passes once it is back', async () => {
  // Through a proxy that can refuse new connections while keeping the open ones: the pool keeps
  // its connection, the listener (its backend terminated) cannot reconnect.
  const proxy = await startFaultProxy(suite.db.url);
  const proxied = await suite.startServer({}, { databaseUrl: proxy.via(suite.db.url) });
  const readyz = async () => {
    const response = await fetch(`${proxied.url.replace(/\/graphql$/, '')}/readyz`);
    return { status: response.status, body: await response.json() };
  };
  try {
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready' } });
    const lost = new Promise<void>((resolve) => proxied.services.listener.onDisconnect(resolve));
    await proxy.refuseNew();
    // Every listener of this database (the file's other server reconnects directly, at once).
    await suite.db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'jobwatch-listener'`,
    );
    await lost;
    expect(proxied.services.listener.connected).toBe(false);
    expect(await readyz()).toEqual({ status: 503, body: { status: 'unavailable', reason: 'LISTEN connection down' } });
    // The database itself answers all along (the check above did not fail for it).
    expect((await proxied.services.pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    const back = new Promise<void>((resolve) => proxied.services.listener.onConnect(resolve));
    await proxy.up();
    await back;
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready' } });
  } finally {
    await proxied.close();
    await proxy.close();
  }
}, 90_000);
