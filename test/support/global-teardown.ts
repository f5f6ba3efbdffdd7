import { rmSync } from 'node:fs';
import { Client } from 'pg';

/** Drops whatever this run created (files drop their own databases; this catches crashes), stops the embedded Postgres and removes its files. */
export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env['JOBWATCH_TEST_ADMIN_URL'];
  const runId = process.env['JOBWATCH_TEST_RUN'];
  if (adminUrl !== undefined && runId !== undefined) {
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname LIKE $2`, [
        `jw_t_${runId}_%`,
        `jw_tpl_${runId}`,
      ]);
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
  const embedded = (globalThis as { __embeddedTestPostgres?: { stop(): Promise<void> } }).__embeddedTestPostgres;
  await embedded?.stop();
  // The embedded cluster's files (some 126 MB): nothing of a run is left in the temp folder.
  const dataDir = (globalThis as { __embeddedTestDataDir?: string }).__embeddedTestDataDir;
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
}
