import type { Client } from 'pg';
import type { Logger } from 'pino';

/** Within this window, further lost connections are counted into the next line instead of each logged. */
const LOG_WINDOW_MS = 10_000;

/**
 * Logs lost database connections: each connection once, and while connections are being lost
 * in a burst (Postgres restarting, a network cut, backends terminated), one line per window
 * saying how many more were lost since the last one.
 */
export class ConnectionLossLog {
  private windowStart = 0;
  private unlogged = 0;
  private readonly seen = new WeakSet<object>();

  constructor(private readonly log: Logger) {}

  lost(connection: object, error: unknown, what: string): void {
    if (this.seen.has(connection)) return;
    this.seen.add(connection);
    const now = Date.now();
    if (now - this.windowStart < LOG_WINDOW_MS) {
      this.unlogged += 1;
      return;
    }
    const alsoLost = this.unlogged;
    this.windowStart = now;
    this.unlogged = 0;
    this.log.warn(
      { err: error, connection: what, ...(alsoLost > 0 ? { alsoLostSinceLastLine: alsoLost } : {}) },
      'database connection lost',
    );
  }
}

/**
 * Pool options that give every connection an error listener for its whole life. pg-pool listens
 * for errors only on idle connections: one checked out (a transaction, a migration) whose
 * backend is terminated or whose socket is reset emits 'error' with nobody listening, and the
 * process dies. With these, the error is logged once; the statement in flight (or the next one)
 * fails with a connection error that requests turn into the retryable DATABASE_UNAVAILABLE; and
 * the broken connection is dropped on release (pg-pool never reuses one that is not queryable),
 * so the pool opens a fresh one for the next caller. `onConnect` runs for every connection the
 * pool opens, the very first included (TypeORM opens that one before anyone could listen).
 */
export function guardedPoolOptions(losses: ConnectionLossLog | undefined, what = 'pool') {
  const lost = (connection: object, error: unknown) => losses?.lost(connection, error, what);
  return {
    onConnect: (client: Client) => {
      client.on('error', (error) => lost(client, error));
    },
    // pg-pool re-emits an idle connection's error on the pool after removing it (already logged above).
    poolErrorHandler: (error: Error, client?: Client) => lost(client ?? error, error),
  };
}

/** The same for a connection of one's own (not from a pool): its error is logged, never thrown at the process. */
export function guardClient(client: Client, losses: ConnectionLossLog | undefined, what: string): void {
  client.on('error', (error) => losses?.lost(client, error, what));
}
