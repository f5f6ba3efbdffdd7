import 'reflect-metadata';
import { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { migrations } from '../../migrations';
import { guardedPoolOptions, type ConnectionLossLog } from './connection-errors';
import { installTimestampParser } from './pg-timestamps';

export interface DataSourceOptions {
  readonly url: string;
  readonly poolSize?: number;
  readonly applicationName?: string;
  /** Where lost connections are logged (once each); without it they are only dropped and replaced. */
  readonly losses?: ConnectionLossLog;
}

/** The one TypeORM DataSource of a process: migrations only, never `synchronize`. */
export function createDataSource({ url, poolSize = 10, applicationName = 'jobwatch', losses }: DataSourceOptions): DataSource {
  installTimestampParser();
  const { onConnect, poolErrorHandler } = guardedPoolOptions(losses);
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
