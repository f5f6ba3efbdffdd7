import pino from 'pino';
import { ChangeRelay, RELAY_CHANNEL } from '../src/db/change-relay';
import { PgListener } from '../src/db/pg-listener';
import { sqlOf } from '../src/db/sql';
import { JOBS_CHANNEL } from '../src/realtime/job-event-hub';
import { LEASES_CHANNEL } from '../src/workers/progress/lease-cache';
import { eventually } from './support/eventually';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The change relay: writers record changed ids, the relay notifies them in batches on the same
 * channels as before. Every change is heard; while the relay is busy the writers' transactions
 * notify nothing; a payload repeated in a batch comes once, at its last place.
 */
let db: TestDatabase;
let listener: PgListener;
let relay: ChangeRelay;
const heard: Array<{ channel: string; payload: string }> = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const log = pino({ level: 'silent' });
  listener = new PgListener({ url: db.url, channels: [RELAY_CHANNEL, JOBS_CHANNEL, LEASES_CHANNEL], log });
  for (const channel of [RELAY_CHANNEL, JOBS_CHANNEL, LEASES_CHANNEL]) listener.on(channel, (payload) => heard.push({ channel, payload }));
  await listener.start();
  relay = new ChangeRelay(sqlOf(db.pool), listener, log, { idleIntervalMs: 60_000 });
  relay.start();
});
afterAll(async () => {
  await relay?.stop();
  await listener?.stop();
  await db?.drop();
});

async function newJobs(count: number): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO jobs (name, type, scope, owner_id, status) SELECT 'relay ' || i, 'relay', 'acme', 'owner', 'PENDING' FROM generate_series(1, $1) i RETURNING id`,
    [count],
  );
  return rows.map((row) => row.id);
}

const idsHeard = (channel: string) => heard.filter((h) => h.channel === channel).flatMap((h) => h.payload.split(','));

test('an idle relay is woken by the first change, and the change is heard', async () => {
  await eventually(
    () => db.pool.query<{ armed: boolean }>('SELECT armed FROM change_relay'),
    (r) => r.rows[0]?.armed === true,
    10_000,
    'the relay to arm',
  );
  heard.length = 0;
  const [id] = await newJobs(1);
  await eventually(
    () => idsHeard(JOBS_CHANNEL),
    (ids) => ids.includes(id!),
    10_000,
    'the new job to be heard',
  );
  expect(heard.filter((h) => h.channel === RELAY_CHANNEL).length).toBe(1);
});

test('changes committed one by one while the relay is busy are all heard, in far fewer notifications, and the writers notify nothing', async () => {
  const ids = await newJobs(300);
  await relay.flush();
  heard.length = 0;
  // 300 transactions, 4 at a time, each changing one job: the relay stays busy meanwhile.
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        await db.pool.query(`UPDATE jobs SET message = 'changed', updated_at = clock_timestamp() WHERE id = $1`, [id]);
      }
    }),
  );
  await relay.flush();
  await eventually(
    () => new Set(idsHeard(JOBS_CHANNEL)),
    (set) => ids.every((id) => set.has(id)),
    10_000,
    'every change to be heard',
  );
  const jobNotifications = heard.filter((h) => h.channel === JOBS_CHANNEL).length;
  const wakeUps = heard.filter((h) => h.channel === RELAY_CHANNEL).length;
  expect(jobNotifications).toBeLessThan(ids.length / 2);
  expect(wakeUps).toBeLessThan(ids.length / 2);
});

test("a lease changed several times in one batch is heard once per state, the job's latest state last", async () => {
  const [id] = await newJobs(1);
  const token = '00000000-0000-4000-8000-000000000001';
  await relay.flush();
  heard.length = 0;
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`UPDATE jobs SET status = 'RUNNING', lease_token = $2 WHERE id = $1`, [id, token]);
    await client.query(`UPDATE jobs SET lease_token = NULL WHERE id = $1`, [id]);
    await client.query(`UPDATE jobs SET lease_token = $2 WHERE id = $1`, [id, token]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  await relay.flush();
  const items = await eventually(
    () => idsHeard(LEASES_CHANNEL).filter((item) => item.startsWith(id!)),
    (found) => found.length >= 2,
    10_000,
    'the lease changes',
  );
  expect(items).toEqual([`${id}.`, `${id}.${token}`]);
});

test('statements that change nothing record nothing', async () => {
  await relay.flush();
  await db.pool.query(`UPDATE jobs SET heartbeat_at = now() WHERE type = 'relay'`);
  await db.pool.query(`UPDATE jobs SET message = 'none' WHERE false`);
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM change_outbox');
  expect(rows[0]?.n).toBe(0);
});
