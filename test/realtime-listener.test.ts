import pino from 'pino';
import { PgListener } from '../src/db/pg-listener';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The LISTEN connection against a connection that dies without a word: no error, no close,
 * nothing answered. Only the probe's deadline can notice it.
 */
let db: TestDatabase;
let proxy: FaultProxy;

beforeAll(async () => {
  db = await createTestDatabase();
  proxy = await startFaultProxy(db.url);
});
afterAll(async () => {
  await proxy?.close();
  await db?.drop();
});

test('a silently dead LISTEN connection is noticed by the probe deadline, then replaced, and listens again', async () => {
  const listener = new PgListener({
    url: proxy.via(db.url),
    channels: ['realtime_probe'],
    log: pino({ level: 'silent' }),
    minBackoffMs: 20,
    maxBackoffMs: 100,
    probeIntervalMs: 100,
    // Long enough that a probe slow to come back on a busy machine is not taken for a dead
    // connection (a spurious loss before the stall would drop the NOTIFYs this test waits for);
    // the stalled connection never answers, so it is still noticed well within the waits below.
    probeTimeoutMs: 2_000,
  });
  const events: string[] = [];
  let waiters: Array<() => void> = [];
  const record = (event: string) => {
    events.push(event);
    for (const wake of waiters.splice(0)) wake();
  };
  const until = async (predicate: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${events.join(', ')}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  listener.on('realtime_probe', (payload) => record(`notified ${payload}`));
  listener.onConnect(() => record('connected'));
  listener.onDisconnect(() => record('lost'));
  try {
    await listener.start();
    await db.pool.query(`NOTIFY realtime_probe, 'before'`);
    await until(() => events.includes('notified before'), 'the first notification');

    // Nothing was lost before the stall (the notification above came on the first connection).
    expect(events).toEqual(['connected', 'notified before']);
    proxy.stall();
    await until(() => events.includes('lost'), 'the loss to be noticed');
    expect(listener.connected).toBe(false);

    // New connections pass: it comes back and listens again.
    await until(() => events.filter((event) => event === 'connected').length >= 2, 'the reconnection');
    await db.pool.query(`NOTIFY realtime_probe, 'after'`);
    await until(() => events.includes('notified after'), 'a notification on the new connection');
    expect(events.slice(0, 4)).toEqual(['connected', 'notified before', 'lost', 'connected']);
  } finally {
    await listener.stop();
    waiters = [];
  }
});
