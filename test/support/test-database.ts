import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { withDatabase } from './global-setup';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A small pool for fixtures and assertions straight against the tables. */
  readonly pool: Pool;
  drop(): Promise<void>;
}

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set: run the tests through jest (global-setup)`);
  return value;
}

async function connectedAdmin(): Promise<Client> {
  const client = new Client({ connectionString: env('JOBWATCH_TEST_ADMIN_URL') });
  await client.connect();
  return client;
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectedAdmin();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A database of this test file's own, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  return (await beginTestDatabase()).ready;
}

/**
 * Starts cloning the test file's database and returns once Postgres has the statement: the caller
 * may block the event loop meanwhile (loading modules), and then awaits `ready`.
 */
export async function beginTestDatabase(): Promise<{ readonly ready: Promise<TestDatabase> }> {
  const name = `jw_t_${env('JOBWATCH_TEST_RUN')}_${randomBytes(4).toString('hex')}`;
  const client = await connectedAdmin();
  // pg writes the query to the socket at once (the client is idle): Postgres works from here on.
  const created = client.query(`CREATE DATABASE ${name} TEMPLATE ${env('JOBWATCH_TEST_TEMPLATE')}`).finally(() => client.end());
  return { ready: created.then(() => openTestDatabase(name)) };
}

function openTestDatabase(name: string): TestDatabase {
  const url = withDatabase(env('JOBWATCH_TEST_ADMIN_URL'), name);
  const pool = new Pool({ connectionString: url, max: 4 });
  // An idle connection can be terminated (tests that kill backends, DROP ... WITH (FORCE));
  // the pool replaces it. Without a listener the error would crash the test run.
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
