import 'reflect-metadata';
import { DataSource } from 'typeorm';
import type { Client, Pool } from 'pg';
import { migrations } from '../../migrations';
import { guardedPoolOptions, type ConnectionLossLog } from './connection-errors';
import { installTimestampParser } from './pg-timestamps';

export interface DataSourceOptions {
  readonly url: string;
  readonly poolSize?: number;
  readonly applicationName?: string;
  /** Where lost connections are logged (once each); without it they are only dropped and replaced. */
  readonly losses?: ConnectionLossLog;
  /** Told of every connection the pool opens (to wait for their sockets at shutdown). */
  readonly connections?: OpenConnections;
}

/**
 * The pool's connections whose sockets are still open. pg-pool's `end()` resolves once it has
 * asked each connection to end, not once they have: a Postgres stopped right after it (the
 * embedded one) can still find their backends there, terminate them, and their clients report
 * a lost connection in the middle of a clean shutdown. `closed()` waits for the sockets.
 */
export class OpenConnections {
  private readonly open = new Set<Client>();

  add(client: Client): void {
    this.open.add(client);
    client.once('end', () => this.open.delete(client));
  }

  /** Resolves when every connection has ended, or after `timeoutMs` at the latest. */
  async closed(timeoutMs = 5_000): Promise<void> {
    if (this.open.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const ends = [...this.open].map((client) => new Promise<void>((resolve) => client.once('end', () => resolve())));
    await Promise.race([Promise.all(ends), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }
}

/** The one TypeORM DataSource of a process: migrations only, never `synchronize`. */
export function createDataSource({ url, poolSize = 10, applicationName = 'jobwatch', losses, connections }: DataSourceOptions): DataSource {
  installTimestampParser();
  const guarded = guardedPoolOptions(losses);
  const poolErrorHandler = guarded.poolErrorHandler;
  const onConnect = (client: Client) => {
    guarded.onConnect(client);
    connections?.add(client);
  };
  return new DataSource({
    type: 'postgres',
    url,
    entities: [],
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolErrorHandler,
    extra: {
      onConnect,
      max: poolSize,
      application_name: applicationName,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      // A runaway statement must not hold a connection forever.
      options: '-c statement_timeout=30000 -c lock_timeout=10000',
    },
  });
}

/** The pg Pool that TypeORM opened: raw, parameterised SQL for the hot paths goes through it. */
export function poolOf(dataSource: DataSource): Pool {
  const driver = dataSource.driver as unknown as { master?: Pool };
  if (driver.master === undefined) throw new Error('the data source is not initialised');
  return driver.master;
}
