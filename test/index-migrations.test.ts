import { FilterOrderIndexes1763900006000 } from '../migrations/1763900006000-FilterOrderIndexes';
import { TAKE_DUE_SQL } from '../src/alerts/alert-delivery-worker';
import { createDataSource } from '../src/db/data-source';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * Indexes a live database depends on: the list indexes are built CONCURRENTLY (and a build left
 * INVALID by an interruption is built again), and the alert delivery poll reads each rule's
 * oldest due delivery from the (rule, next attempt) index, whatever one rule's backlog.
 */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const LIST_INDEXES = ['jobs_owner_started_idx', 'jobs_owner_finished_idx', 'jobs_status_name_idx'];

async function indexStates(): Promise<Record<string, boolean>> {
  const { rows } = await db.pool.query<{ name: string; valid: boolean }>(
    `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY($1) ORDER BY 1`,
    [LIST_INDEXES],
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.valid]));
}

test('the filter and order indexes: a missing one is built, an INVALID one rebuilt, a valid one kept; down drops them', async () => {
  const allValid = Object.fromEntries(LIST_INDEXES.map((name) => [name, true]));
  expect(await indexStates()).toEqual(allValid);
  const {
    rows: [kept],
  } = await db.pool.query<{ oid: number }>(`SELECT 'jobs_owner_finished_idx'::regclass::oid AS oid`);
  await db.pool.query('DROP INDEX jobs_owner_started_idx');
  // What an interrupted CREATE INDEX CONCURRENTLY leaves behind.
  await db.pool.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'jobs_status_name_idx'::regclass`);

  const dataSource = createDataSource({ url: db.url, poolSize: 1 });
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    const migration = new FilterOrderIndexes1763900006000();
    expect(migration.transaction).toBe(false); // CONCURRENTLY cannot run in a transaction
    await migration.up(runner);
    expect(await indexStates()).toEqual(allValid);
    const {
      rows: [after],
    } = await db.pool.query<{ oid: number }>(`SELECT 'jobs_owner_finished_idx'::regclass::oid AS oid`);
    expect(after!.oid).toBe(kept!.oid);
    await migration.down(runner);
    expect(await indexStates()).toEqual({});
    await migration.up(runner);
    expect(await indexStates()).toEqual(allValid);
  } finally {
    await runner.release();
    await dataSource.destroy();
  }
});

test("the delivery poll probes each rule's index entry, not the whole backlog of one rule", async () => {
  await db.pool.query(
    `INSERT INTO alert_rules (owner_id, name, filter, events, webhook_url, secret, enabled)
     SELECT 'owner-' || g, 'rule ' || g, '{}', '{FAILED}', 'http://127.0.0.1:9/', '\\x00', true FROM generate_series(1, 50) g`,
  );
  // One rule whose receiver has been down: 100,000 deliveries waiting, all due.
  await db.pool.query(
    `INSERT INTO alert_deliveries (rule_id, job_event_id, job_id, event, payload, next_attempt_at)
     SELECT (SELECT id FROM alert_rules ORDER BY name LIMIT 1), g, gen_random_uuid(), 'FAILED', '{}', now() - interval '1 hour' + g * interval '1 ms'
       FROM generate_series(1, 100000) g`,
  );
  await db.pool.query('ANALYZE alert_rules');
  await db.pool.query('ANALYZE alert_deliveries');
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${TAKE_DUE_SQL}`, [10, 60]);
    await client.query('ROLLBACK');
    const plan = JSON.stringify(rows[0]!['QUERY PLAN']);
    expect(plan).toContain('alert_deliveries_rule_due_idx');
    // Rows the plan looked at and threw away: a walk of the backlog would discard ~100,000.
    const removed = [...plan.matchAll(/"Rows Removed by Filter":(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(removed).toBeLessThan(1_000);
  } finally {
    client.release();
  }
});
