/**
 * The DataSource for the TypeORM CLI (e.g. `npx typeorm-ts-node-commonjs migration:show -d ormconfig.ts`).
 * The server itself builds the same DataSource in src/db/data-source.ts and migrates at start.
 */
import 'reflect-metadata';
import { createDataSource } from './src/db/data-source';

const url = process.env['DATABASE_URL'];
if (url === undefined || url === '') throw new Error('set DATABASE_URL to use the TypeORM CLI');

export default createDataSource({ url, poolSize: 2, applicationName: 'jobwatch-cli' });
