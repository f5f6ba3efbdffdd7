import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestServer, token, type TestServer } from './support/test-server';

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db, { BOOTSTRAP_ADMINS: 'root-user' });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const base = () => server.url.replace(/\/graphql$/, '');

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
  const again = await startTestServer(db, { BOOTSTRAP_ADMINS: 'root-user' });
  await again.close();
  const { rows } = await db.pool.query(`SELECT role_name, scope FROM grants WHERE user_id = 'root-user'`);
  expect(rows).toEqual([{ role_name: 'admin', scope: null }]);
  const me = await server.gql<{ me: { id: string; actions: string[] } }>(await token('root-user'), '{ me { id actions } }');
  expect(me.data?.me.actions).toContain('manage_permissions');
});
