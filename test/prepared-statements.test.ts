import { Pool } from 'pg';
import { sqlOf } from '../src/db/sql';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * Hot reads (`{ prepare: true }`) run as named prepared statements once their text has run a few
 * times: each connection parses and plans them once. What must hold: the same answers, nothing
 * prepared that is not hot or not asked for, and a connection that is lost or a table that
 * changes under a prepared statement costs nothing but a new preparation.
 */

let db: TestDatabase;
/** One connection, so that pg_prepared_statements (per session) shows what the statements did. */
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 1 });
  pool.on('error', () => undefined);
  await pool.query(`CREATE TABLE hot_things (id int PRIMARY KEY, label text NOT NULL)`);
  await pool.query(`INSERT INTO hot_things SELECT n, 'thing ' || n FROM generate_series(1, 20) n`);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const prepared = async (): Promise<string[]> =>
  (await pool.query<{ statement: string }>(`SELECT statement FROM pg_prepared_statements ORDER BY prepare_time`)).rows.map((row) =>
    row.statement.replace(/\s+/g, ' '),
  );

test('a hot read is prepared from its third run, answers the same, and is not prepared twice', async () => {
  const sql = sqlOf(pool);
  const text = 'SELECT id, label FROM hot_things WHERE id <= $1 ORDER BY id';
  const answers = [];
  for (let i = 0; i < 2; i += 1) answers.push(await sql.rows(text, [3], { prepare: true }));
  expect(await prepared()).toEqual([]);
  for (let i = 0; i < 4; i += 1) answers.push(await sql.rows(text, [3], { prepare: true }));
  expect(await prepared()).toEqual([text]);
  for (const answer of answers) expect(answer).toEqual([1, 2, 3].map((id) => ({ id, label: `thing ${id}` })));
  // Other values, the same statement.
  expect(await sql.one(text, [1], { prepare: true })).toEqual({ id: 1, label: 'thing 1' });
  expect(await prepared()).toEqual([text]);
});

test('statements not marked hot are never prepared, however often they run', async () => {
  const sql = sqlOf(pool);
  const before = await prepared();
  for (let i = 0; i < 6; i += 1) await sql.rows('SELECT label FROM hot_things WHERE id = $1', [i + 1]);
  expect(await prepared()).toEqual(before);
});

test('a table changed under a prepared statement, and a lost connection, only mean preparing again', async () => {
  const sql = sqlOf(pool);
  const text = 'SELECT id, label FROM hot_things WHERE id = $1';
  for (let i = 0; i < 4; i += 1) await sql.one(text, [2], { prepare: true });
  expect(await prepared()).toContain(text);

  // Postgres plans it again after a change of the table (a migration of a running instance).
  await pool.query(`ALTER TABLE hot_things ADD COLUMN weight int NOT NULL DEFAULT 7`);
  await pool.query(`CREATE INDEX hot_things_label ON hot_things (label)`);
  expect(await sql.one(text, [2], { prepare: true })).toEqual({ id: 2, label: 'thing 2' });

  // The session that held it is gone: the pool's next connection prepares it again.
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
  // The pool may hand out the dead connection once (it learns of the loss when it uses it).
  const third = await sql.one(text, [3], { prepare: true }).catch(() => sql.one(text, [3], { prepare: true }));
  expect(third).toEqual({ id: 3, label: 'thing 3' });
  const { rows: now } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  expect(now[0]!.pid).not.toBe(rows[0]!.pid);
  expect(await prepared()).toEqual([text]);
});
