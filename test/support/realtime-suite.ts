import type { Client } from 'graphql-ws';
import { grant } from './fixtures';
import { createTestDatabase, type TestDatabase } from './test-database';
import { startTestServer, token, type TestServer } from './test-server';
import { wsClient } from './ws-client';

/**
 * What a realtime test file shares, set in beforeAll: its own database, a server on it, the
 * tokens of the users `admin` (role admin) and `worker` (role worker), and `client(bearer)`,
 * graphql-ws clients of that server. afterAll disposes the clients, closes the server and drops
 * the database.
 */
export interface RealtimeSuite {
  readonly db: TestDatabase;
  readonly server: TestServer;
  readonly admin: string;
  readonly worker: string;
  client(bearer: string): Client;
}

/**
 * Registers the hooks of a RealtimeSuite at the top of a test file; read its fields inside tests
 * and hooks only. The server flushes progress every 20 ms unless `env` says otherwise.
 */
export function realtimeSuite(env: Record<string, string> = { PROGRESS_FLUSH_MS: '20' }): RealtimeSuite {
  const clients: Client[] = [];
  const suite = {
    client(bearer: string): Client {
      const created = wsClient(suite.server.url, bearer);
      clients.push(created);
      return created;
    },
  } as { -readonly [K in keyof RealtimeSuite]: RealtimeSuite[K] };

  beforeAll(async () => {
    suite.db = await createTestDatabase();
    suite.server = await startTestServer(suite.db, env);
    await grant(suite.db.pool, 'admin', 'admin');
    await grant(suite.db.pool, 'worker', 'worker');
    suite.admin = await token('admin');
    suite.worker = await token('worker');
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await suite.server?.close();
    await suite.db?.drop();
  });
  return suite;
}
