import { type Sql, sqlOf } from '../src/db/sql';
import { PermissionsVersion } from '../src/permissions/permissions-version';
import { grant } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The permissions version read shared by concurrent requests. Sharing is only safe one way: a
 * caller may share a read that has not started yet, never one already under way, whose snapshot
 * may predate a change the caller was told about. The reads here are real; a gate holds back
 * their answers, as a slow link would, to put a change between a read and its answer.
 */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** The real database, with a count of version reads and a gate on their answers. */
function gatedSql() {
  const real = sqlOf(db.pool);
  let reads = 0;
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  let answered: () => void = () => undefined;
  const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
  const sql: Sql = {
    ...real,
    async one(text, params) {
      reads += 1;
      const row = await real.one(text, params);
      answered();
      await gate;
      return row as never;
    },
  };
  return {
    sql,
    reads: () => reads,
    /** Resolves once Postgres has answered the first read (its answer may still be held at the gate). */
    firstAnswer,
    close: () => {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    open: () => open(),
  };
}

const current = async () => (await db.pool.query<{ version: string }>('SELECT version FROM permissions_version')).rows[0]!.version;

test('callers of the same tick share one read', async () => {
  const gated = gatedSql();
  const version = new PermissionsVersion(gated.sql);
  const answers = await Promise.all(Array.from({ length: 20 }, () => version.read()));
  expect(new Set(answers)).toEqual(new Set([await current()]));
  expect(gated.reads()).toBe(1);
});

test('a caller arriving while a read is under way gets a later read, which sees a change made meanwhile', async () => {
  const gated = gatedSql();
  const version = new PermissionsVersion(gated.sql);
  const before = await current();
  gated.close();
  const early = version.read();
  // The early read has run in Postgres, before the grant below; its answer is held back.
  await gated.firstAnswer;
  await grant(db.pool, `meanwhile-${Date.now()}`, 'viewer');
  const after = await current();
  expect(BigInt(after)).toBeGreaterThan(BigInt(before));

  const late = Array.from({ length: 10 }, () => version.read());
  gated.open();
  expect(await early).toBe(before);
  expect(new Set(await Promise.all(late))).toEqual(new Set([after]));
  // The ten late callers shared one read between them.
  expect(gated.reads()).toBe(2);
});

test('every caller of a failed read is told, and the next read works', async () => {
  const version = new PermissionsVersion(sqlOf(db.pool));
  // A real failure of this file's own database: the table is briefly away.
  await db.pool.query('ALTER TABLE permissions_version RENAME TO permissions_version_away');
  try {
    const answers = await Promise.allSettled([version.read(), version.read(), version.read()]);
    expect(answers.map((answer) => answer.status)).toEqual(['rejected', 'rejected', 'rejected']);
  } finally {
    await db.pool.query('ALTER TABLE permissions_version_away RENAME TO permissions_version');
  }
  expect(await version.read()).toBe(await current());
});
