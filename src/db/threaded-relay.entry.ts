import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'pg';
import { ChangeRelay, RELAY_CHANNEL, type RelayLog } from './change-relay';
import { type ListenerLog, PgListener } from './pg-listener';
import { sqlOf } from './sql';
import type { FromRelayThread, RelayThreadData, ToRelayThread } from './threaded-relay';

/** The relay thread (threaded-relay.ts): its own connections, one to drain, one to be woken. */
const port = parentPort;
if (port === null) throw new Error('threaded-relay.entry runs as a worker thread');
const data = workerData as RelayThreadData;
const send = (message: FromRelayThread) => port.postMessage(message);
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
const errorOf = (fields: { readonly err?: unknown }) => (fields.err === undefined ? {} : { error: describe(fields.err) });

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

// Its own LISTEN connection for the writers' wake-ups: they reach the relay even while the
// instance's event loop is saturated (a wake-up that went through it waited as long as its
// event-loop delay: the write-to-NOTIFY p99 followed the loop's p99). Back after a loss, the
// listener's onConnect makes the relay drain what waited meanwhile.
const listenerLog =
  (level: 'info' | 'warn' | 'error'): ListenerLog[typeof level] =>
  (fields, msg) =>
    send({ kind: 'log', level, msg, ...errorOf(fields) });
const listener = new PgListener({
  url: data.url,
  channels: [RELAY_CHANNEL],
  applicationName: 'jobwatch-relay',
  log: { info: listenerLog('info'), warn: listenerLog('warn'), error: listenerLog('error') },
});
void listener.start();
const log: RelayLog = { warn: listenerLog('warn') };
const relay = new ChangeRelay(sqlOf(pool), listener, log, data.options);
relay.start();

const statsTimer = setInterval(() => send({ kind: 'stats', stats: { ...relay.stats } }), 1_000);

port.on('message', (message: ToRelayThread) => {
  switch (message.kind) {
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
        .then(() => Promise.all([listener.stop(), pool.end()]))
        .catch(() => undefined)
        .finally(() => {
          send({ kind: 'stats', stats: { ...relay.stats } });
          send({ kind: 'stopped' });
          port.close();
        });
      return;
  }
});
