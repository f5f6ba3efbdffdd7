import { spawnSync } from 'node:child_process';
import type { Worker } from 'node:worker_threads';
import pino from 'pino';
import { PgListener } from '../src/db/pg-listener';
import { ThreadedRelay } from '../src/db/threaded-relay';
import { JOBS_CHANNEL } from '../src/realtime/job-event-hub';
import { eventually } from './support/eventually';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The change relay in a thread of its own: notifications leave while the instance's event loop
 * is blocked, and a thread that dies is started again with nothing lost.
 */
let db: TestDatabase;
let listener: PgListener;
let relay: ThreadedRelay;
const heard: string[] = [];
const logged: Array<{ level: string; msg: string }> = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const log = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { level: number; msg: string };
        logged.push({ level: pino.levels.labels[entry.level] ?? String(entry.level), msg: entry.msg });
      },
    },
  );
  listener = new PgListener({ url: db.url, channels: [JOBS_CHANNEL], log });
  listener.on(JOBS_CHANNEL, (payload) => heard.push(...payload.split(',')));
  await listener.start();
  // No drain on the idle clock within a test: only a writer's wake-up can start one.
  relay = new ThreadedRelay(db.url, log, { idleIntervalMs: 600_000 });
  relay.start();
});
afterAll(async () => {
  await relay?.stop();
  await listener?.stop();
  await db?.drop();
});

async function newJob(): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO jobs (name, type, scope, owner_id, status) VALUES ('threaded', 'threaded', 'acme', 'owner', 'PENDING') RETURNING id`,
  );
  return rows[0]!.id;
}

/** Runs `sql` in another process while this one's event loop stays blocked; answers the first column of its first row. */
function sqlBlocking(sql: string): string {
  const script = `const { Client } = require('pg');
    const client = new Client({ connectionString: process.argv[1] });
    client.connect().then(() => client.query(process.argv[2])).then((r) => { process.stdout.write(String(Object.values(r.rows[0] ?? {})[0] ?? '')); return client.end(); });`;
  const result = spawnSync(process.execPath, ['-e', script, db.url, sql], { encoding: 'utf8', cwd: process.cwd() });
  return result.stdout;
}

test('a change is relayed while the instance event loop is blocked', async () => {
  const id = await newJob();
  await eventually(
    () => heard,
    (ids) => ids.includes(id),
    15_000,
    'the first change to be heard (the thread is up)',
  );
  // The relay idle and armed: from now on only a writer's wake-up starts a drain (the idle clock is ten minutes).
  await eventually(
    async () => (await db.pool.query<{ armed: boolean }>('SELECT armed FROM change_relay')).rows[0]?.armed,
    (armed) => armed === true,
    15_000,
    'the relay to be armed',
  );
  // From here this thread is blocked: changes are committed and the outbox read by other processes, so only the
  // relay's own thread can send them (a relay on this event loop could not run until the end).
  const written = sqlBlocking(
    `WITH j AS (INSERT INTO jobs (name, type, scope, owner_id, status) VALUES ('blocked 1', 'threaded', 'acme', 'owner', 'PENDING'), ('blocked 2', 'threaded', 'acme', 'owner', 'PENDING') RETURNING id) SELECT string_agg(id::text, ',') FROM j`,
  ).split(',');
  const started = Date.now();
  let waiting = Number(sqlBlocking('SELECT count(*) FROM change_outbox'));
  while (waiting > 0 && Date.now() - started < 20_000) waiting = Number(sqlBlocking('SELECT count(*) FROM change_outbox'));
  expect(waiting).toBe(0);
  expect(written).toHaveLength(2);
  await relay.flush();
  expect(relay.stats.relayed).toBeGreaterThanOrEqual(3);
});

test('a relay thread that dies is started again, and what was written meanwhile is heard', async () => {
  const thread = (relay as unknown as { worker: Worker }).worker;
  await thread.terminate();
  const id = await newJob();
  await eventually(
    () => heard,
    (ids) => ids.includes(id),
    15_000,
    'the change written while the thread was down to be heard',
  );
  expect(logged).toContainEqual({ level: 'error', msg: 'the change relay thread ended: starting it again' });
  expect((relay as unknown as { worker: Worker }).worker).not.toBe(thread);
});
