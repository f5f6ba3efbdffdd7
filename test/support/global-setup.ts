import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { createDataSource } from '../../src/db/data-source';
import { migrate } from '../../src/db/database';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

/**
 * Once per test run: find a Postgres (TEST_DATABASE_URL or DATABASE_URL, else an embedded one
 * started for the run), and build a template database with every migration applied. Each test
 * file then clones the template into a database of its own (see test-database.ts).
 */
export default async function globalSetup(): Promise<void> {
  const log = pino({ level: 'warn' });
  let adminUrl = process.env['TEST_DATABASE_URL'] ?? process.env['DATABASE_URL'];
  if (adminUrl === undefined || adminUrl === '') {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'jobwatch-test-'));
    const embedded = await startEmbeddedPostgres(dataDir, log);
    (globalThis as { __embeddedTestPostgres?: typeof embedded }).__embeddedTestPostgres = embedded;
    (globalThis as { __embeddedTestDataDir?: string }).__embeddedTestDataDir = dataDir;
    adminUrl = embedded.url;
  }
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const template = `jw_tpl_${runId}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${template}`);
  } finally {
    await admin.end();
  }
  const dataSource = createDataSource({ url: withDatabase(adminUrl, template), poolSize: 2 });
  await dataSource.initialize();
  try {
    await migrate(dataSource, log);
  } finally {
    await dataSource.destroy();
  }
  process.env['JOBWATCH_TEST_ADMIN_URL'] = adminUrl;
  process.env['JOBWATCH_TEST_TEMPLATE'] = template;
  process.env['JOBWATCH_TEST_RUN'] = runId;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
