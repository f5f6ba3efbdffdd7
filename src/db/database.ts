import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { ConnectionLossLog } from './connection-errors';
import { createDataSource, OpenConnections, poolOf } from './data-source';
import { startEmbeddedPostgres } from './embedded-postgres';

/** Any constant works; it only has to be the same for every instance. */
const MIGRATION_LOCK = 0x6a6f6277; // "jobw"

export interface OpenDatabase {
  readonly url: string;
  readonly embedded: boolean;
  readonly dataSource: DataSource;
  readonly pool: Pool;
  /** Where lost connections are logged, once each: the pool's, and other connections' of the process. */
  readonly losses: ConnectionLossLog;
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or starts the embedded Postgres when it is unset, then applies
 * pending migrations under an advisory lock so that instances starting together take turns.
 */
export async function openDatabase(config: Config, log: Logger, poolSize?: number): Promise<OpenDatabase> {
  const losses = new ConnectionLossLog(log.child({ component: 'db' }));
  const embedded = config.databaseUrl === undefined ? await startEmbeddedPostgres(config.dataDir, log) : undefined;
  const url = config.databaseUrl ?? (embedded as { url: string }).url;
  const connections = new OpenConnections();
  const dataSource = createDataSource({ url, losses, connections, ...(poolSize === undefined ? {} : { poolSize }) });
  try {
    await initializeWithRetry(dataSource, log);
    await migrate(dataSource, log);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    if (embedded !== undefined) {
      await connections.closed();
      await embedded.stop();
    }
    throw error;
  }
  return {
    url,
    embedded: embedded !== undefined,
    dataSource,
    pool: poolOf(dataSource),
    losses,
    close: async () => {
      await dataSource.destroy();
      // The embedded Postgres stops once the pool's connections are gone, not while they say goodbye.
      if (embedded !== undefined) {
        await connections.closed();
        await embedded.stop();
      }
    },
  };
}

/** Postgres may still be starting (docker compose): retry for up to a minute. */
async function initializeWithRetry(dataSource: DataSource, log: Logger): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await dataSource.initialize();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      log.warn({ err: error, attempt }, 'database not reachable yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 200 * attempt)));
    }
  }
}

export async function migrate(dataSource: DataSource, log: Logger): Promise<void> {
  const client = await poolOf(dataSource).connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}
