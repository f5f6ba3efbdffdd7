import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'pg';
import { ChangeRelay, RELAY_CHANNEL, type RelayLog, type RelayWakes } from './change-relay';
import { sqlOf } from './sql';
import type { FromRelayThread, RelayThreadData, ToRelayThread } from './threaded-relay';

/** The relay thread (threaded-relay.ts): its own connection, woken by the instance's messages. */
const port = parentPort;
if (port === null) throw new Error('threaded-relay.entry runs as a worker thread');
const data = workerData as RelayThreadData;
const send = (message: FromRelayThread) => port.postMessage(message);
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

// One connection, replaced by the pool when it is lost (a failed drain is retried by the relay).
const pool = new Pool({
  connectionString: data.url,
  max: 1,
  application_name: 'jobwatch',
  connectionTimeoutMillis: 10_000,
  options: '-c statement_timeout=30000 -c lock_timeout=10000',
});
// An idle connection that is cut emits 'error' on the pool: the next drain opens another.
pool.on('error', () => undefined);

const wakeHandlers = new Set<(payload: string) => void>();
const connectHandlers = new Set<() => void>();
const wakes: RelayWakes = {
  on(channel, handler) {
    if (channel !== RELAY_CHANNEL) return () => undefined;
    wakeHandlers.add(handler);
    return () => wakeHandlers.delete(handler);
  },
  onConnect(handler) {
    connectHandlers.add(handler);
    return () => connectHandlers.delete(handler);
  },
};
const log: RelayLog = { warn: (fields, msg) => send({ kind: 'log', msg, error: describe(fields.err) }) };
const relay = new ChangeRelay(sqlOf(pool), wakes, log, data.options);
relay.start();

const statsTimer = setInterval(() => send({ kind: 'stats', stats: { ...relay.stats } }), 1_000);

port.on('message', (message: ToRelayThread) => {
  switch (message.kind) {
    case 'wake':
      for (const handler of wakeHandlers) handler('');
      return;
    case 'connected':
      for (const handler of connectHandlers) handler();
      return;
    case 'flush':
      relay.flush().then(
        () => {
          send({ kind: 'stats', stats: { ...relay.stats } });
          send({ kind: 'flushed', id: message.id });
        },
        (error: unknown) => send({ kind: 'flushed', id: message.id, error: describe(error) }),
      );
      return;
    case 'stop':
      clearInterval(statsTimer);
      void relay
        .stop()
        .then(() => pool.end())
        .catch(() => undefined)
        .finally(() => {
          send({ kind: 'stats', stats: { ...relay.stats } });
          send({ kind: 'stopped' });
          port.close();
        });
      return;
  }
});
