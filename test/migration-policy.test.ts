import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '../migrations';
import { checkMigrationPolicy, migrationFiles, readManifest } from '../scripts/migrations/migration-policy';
import { withDatabase } from './support/global-setup';

/**
 * Migrations, once released, never change: the policy check (CI runs it) and an upgrade from the
 * last release's schema, with data in it, to HEAD that must end with exactly the schema a fresh
 * database gets.
 */
const MIGRATIONS = path.resolve(__dirname, '..', 'migrations');

describe('the migration policy', () => {
  let copy: string;
  beforeEach(() => {
    copy = mkdtempSync(path.join(tmpdir(), 'jw-migrations-'));
    cpSync(MIGRATIONS, copy, { recursive: true });
  });
  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  test("the repository's migrations keep it", () => {
    expect(checkMigrationPolicy(MIGRATIONS)).toEqual([]);
    expect(readManifest(MIGRATIONS).length).toBeGreaterThan(0);
  });

  test('a released migration edited, removed or renamed is refused', () => {
    const [first, second, third] = readManifest(copy);
    writeFileSync(path.join(copy, first!.file), `${readFileSync(path.join(copy, first!.file), 'utf8')}\n// an innocent edit\n`);
    rmSync(path.join(copy, second!.file));
    renameSync(path.join(copy, third!.file), path.join(copy, third!.file.replace(/^(\d+)-/, '$1-Renamed')));
    const problems = checkMigrationPolicy(copy).join('\n');
    expect(problems).toContain(`${first!.file}: released, so it may not change`);
    expect(problems).toContain(`${second!.file}: released, so it may not be removed or renamed`);
    expect(problems).toContain(`${third!.file}: released, so it may not be removed or renamed`);
  });

  test('a new migration that sorts before the last released one, or shares a timestamp, or is not in index.ts, is refused', () => {
    const released = readManifest(copy);
    const lastTimestamp = released[released.length - 1]!.file.slice(0, 13);
    const early = `${String(Number(lastTimestamp) - 1)}-Early.ts`;
    writeFileSync(path.join(copy, early), `export class Early${early.slice(0, 13)} {}\n`);
    writeFileSync(path.join(copy, `${lastTimestamp}-Twin.ts`), `export class Twin${lastTimestamp} {}\n`);
    writeFileSync(path.join(copy, 'badname.ts'), 'export class X {}\n');
    const problems = checkMigrationPolicy(copy).join('\n');
    expect(problems).toContain(`${early}: a new migration must sort after the last released one`);
    expect(problems).toContain(`${lastTimestamp}-Twin.ts: a new migration must sort after the last released one`);
    expect(problems).toMatch(/its timestamp is also/);
    expect(problems).toContain('badname.ts: a migration file is named');
    expect(problems).toContain('index.ts: `migrations` must list every migration class in timestamp order');
  });

  test('index.ts lists the classes it exports, in the order of the files', () => {
    expect(migrations.map((migration) => migration.name)).toEqual(migrationFiles(MIGRATIONS).files.map((file) => file.className));
  });
});

/** What a schema is made of, as Postgres prints it: a database built by another path must print the same. */
async function schemaOf(url: string): Promise<Record<string, string[]>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const list = async (sql: string) => (await client.query<{ item: string }>(sql)).rows.map((row) => row.item);
    return {
      tables: await list(`SELECT c.relname || ' ' || c.relkind::text AS item FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY 1`),
      columns:
        await list(`SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                                  || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') || CASE WHEN a.attgenerated <> '' THEN ' GENERATED' ELSE '' END AS item
                             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1`),
      indexes: await list(`SELECT indexdef || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END AS item FROM pg_indexes x
                             JOIN pg_class c ON c.relname = x.indexname JOIN pg_index i ON i.indexrelid = c.oid
                            WHERE x.schemaname = 'public' ORDER BY 1`),
      constraints: await list(`SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS item FROM pg_constraint
                                WHERE connamespace = 'public'::regnamespace ORDER BY 1`),
      triggers: await list(`SELECT pg_get_triggerdef(oid) AS item FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`),
      functions: await list(
        `SELECT pg_get_functiondef(p.oid) AS item FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1`,
      ),
    };
  } finally {
    await client.end();
  }
}

describe('an upgrade from the last release', () => {
  const adminUrl = () => process.env['JOBWATCH_TEST_ADMIN_URL']!;
  const names = [`jw_t_${process.env['JOBWATCH_TEST_RUN']}_upgraded`, `jw_t_${process.env['JOBWATCH_TEST_RUN']}_fresh`];

  async function admin(sql: string): Promise<void> {
    const client = new Client({ connectionString: adminUrl() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  async function migrateWith(url: string, list: typeof migrations): Promise<void> {
    const dataSource = new DataSource({
      type: 'postgres',
      url,
      migrations: list,
      migrationsTableName: 'migrations',
      entities: [],
      extra: { max: 1 },
    });
    await dataSource.initialize();
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await dataSource.destroy();
    }
  }

  beforeAll(async () => {
    for (const name of names) await admin(`CREATE DATABASE ${name}`);
  });
  afterAll(async () => {
    for (const name of names) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  test('a database built by the released migrations, with jobs in it, migrates to exactly the schema of a fresh one', async () => {
    const [upgraded, fresh] = names.map((name) => withDatabase(adminUrl(), name)) as [string, string];
    const releasedClasses = new Set(readManifest(MIGRATIONS).map((entry) => entry.file.replace(/^(\d{13})-(\w+)\.ts$/, '$2$1')));
    const released = migrations.filter((migration) => releasedClasses.has(migration.name));
    expect(released.length).toBe(releasedClasses.size);
    await migrateWith(upgraded, released);

    // The last release in use: jobs in every state, their history, roles and grants.
    const client = new Client({ connectionString: upgraded });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO roles (name, rules) VALUES ('upgrade-viewer', '[{"action": "read", "subject": "Job"}]') ON CONFLICT DO NOTHING`,
      );
      await client.query(`INSERT INTO grants (user_id, role_name) VALUES ('upgrade-user', 'upgrade-viewer')`);
      await client.query(`INSERT INTO jobs (name, type, scope, owner_id, status)
                          SELECT 'upgrade ' || s, 'upgrade', 'acme/upgrade', 'upgrade-user', (ARRAY['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'])[1 + s % 4]
                            FROM generate_series(1, 40) s`);
    } finally {
      await client.end();
    }

    await migrateWith(upgraded, migrations);
    await migrateWith(fresh, migrations);
    const [after, expected] = await Promise.all([schemaOf(upgraded), schemaOf(fresh)]);
    expect(after.tables).toContain('jobs r');
    expect(after).toEqual(expected);
  });
});
