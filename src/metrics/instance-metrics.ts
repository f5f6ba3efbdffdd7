import type { Pool } from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import { processRegistry, totalCounter } from './registry';

/** What the instance metrics read, at scrape time (structural: plumbing names no domain). */
export interface InstanceSources {
  readonly pool: Pool;
  readonly listener: { readonly connected: boolean; onConnect(handler: () => void): unknown; onDisconnect(handler: () => void): unknown };
  /** WebSockets open now. */
  readonly sockets: () => number;
  readonly hub: {
    readonly stats: { readonly batches: number; readonly rowsFetched: number; readonly delivered: number; readonly resyncs: number };
  };
  readonly progress: { readonly stats: { readonly reportsAccepted: number; readonly failedFlushes: number } };
  readonly sendPacer: { readonly waiting: number; readonly stats: { readonly slices: number; readonly released: number } };
}

/** The alert outbox, read at scrape time (every instance reads the same tables: the figures are cluster-wide). */
const BACKLOG_SQL = `
  SELECT (SELECT count(*) FROM job_events WHERE processed_at IS NULL)::int AS undispatched,
         count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
         count(*) FILTER (WHERE status = 'DELIVERING')::int AS delivering,
         coalesce(extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE status = 'PENDING' AND next_attempt_at <= now())), 0)::float8 AS oldest_due
    FROM alert_deliveries WHERE status IN ('PENDING', 'DELIVERING')`;
const BACKLOG_TIMEOUT_MS = 2_000;

/**
 * One server's metrics: its state read at scrape time (pool, LISTEN connection, sockets, the
 * alert backlog) and the running totals its parts keep, merged with the process's.
 */
export function instanceRegistry(sources: InstanceSources): Registry {
  const registry = new Registry();
  const { pool, listener, hub, progress, sendPacer } = sources;

  new Gauge({
    name: 'jobwatch_db_pool_connections',
    help: 'Connections of the database pool, by state: busy (lent out) or idle',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'busy' }, pool.totalCount - pool.idleCount);
      this.set({ state: 'idle' }, pool.idleCount);
    },
  });
  gauge(registry, 'jobwatch_db_pool_max_connections', 'The most connections the database pool opens', () => pool.options.max ?? 10);
  gauge(registry, 'jobwatch_db_pool_waiting_requests', 'Queries waiting for a pool connection (all are busy)', () => pool.waitingCount);

  gauge(registry, 'jobwatch_listen_connected', 'Whether the LISTEN connection is up (1) or being re-established (0)', () =>
    listener.connected ? 1 : 0,
  );
  const losses = new Counter({ name: 'jobwatch_listen_losses_total', help: 'Times the LISTEN connection was lost', registers: [registry] });
  listener.onDisconnect(() => losses.inc());

  gauge(registry, 'jobwatch_websocket_connections', 'WebSocket connections open on this instance', sources.sockets);

  totalCounter(
    registry,
    'jobwatch_fanout_batches_total',
    'Batches of job changes read for subscribers (one query each)',
    () => hub.stats.batches,
  );
  totalCounter(registry, 'jobwatch_fanout_rows_total', 'Job rows read for subscribers', () => hub.stats.rowsFetched);
  totalCounter(registry, 'jobwatch_fanout_deliveries_total', 'Job events handed to subscribers', () => hub.stats.delivered);
  totalCounter(
    registry,
    'jobwatch_fanout_resyncs_total',
    'Resynchronisations after the LISTEN connection came back',
    () => hub.stats.resyncs,
  );

  gauge(
    registry,
    'jobwatch_subscription_sends_waiting',
    "Subscriptions with an event waiting for their turn to be sent (the send pacer's line)",
    () => sendPacer.waiting,
  );
  totalCounter(
    registry,
    'jobwatch_subscription_send_slices_total',
    'Turns given to subscriptions, a slice at a time, one permissions-version read each',
    () => sendPacer.stats.slices,
  );
  totalCounter(registry, 'jobwatch_subscription_sends_released_total', 'Turns given to subscriptions', () => sendPacer.stats.released);

  totalCounter(registry, 'jobwatch_progress_reports_total', 'Progress reports accepted from workers', () => progress.stats.reportsAccepted);
  totalCounter(
    registry,
    'jobwatch_progress_flush_failures_total',
    'Progress flushes that failed (and were retried)',
    () => progress.stats.failedFlushes,
  );

  // One query for both gauges (and for scrapes less than a second apart).
  let read: { readonly at: number; readonly row: Promise<BacklogRow | undefined> } | undefined;
  const readBacklog = () => {
    if (read === undefined || Date.now() - read.at > 1_000) read = { at: Date.now(), row: backlog(pool) };
    return read.row;
  };
  new Gauge({
    name: 'jobwatch_alert_backlog',
    help: 'Alert work waiting, cluster-wide: job events not yet matched to rules (undispatched), deliveries waiting (pending) or being sent (delivering)',
    labelNames: ['stage'] as const,
    registers: [registry],
    async collect() {
      const row = await readBacklog();
      this.reset();
      if (row === undefined) return;
      this.set({ stage: 'undispatched' }, row.undispatched);
      this.set({ stage: 'pending' }, row.pending);
      this.set({ stage: 'delivering' }, row.delivering);
    },
  });
  new Gauge({
    name: 'jobwatch_alert_oldest_due_seconds',
    help: 'How long the oldest due delivery has been waiting for its attempt, cluster-wide (0: none is late)',
    registers: [registry],
    async collect() {
      const row = await readBacklog();
      this.reset();
      if (row !== undefined) this.set(row.oldest_due);
    },
  });

  return Registry.merge([processRegistry, registry]);
}

function gauge(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

interface BacklogRow {
  readonly undispatched: number;
  readonly pending: number;
  readonly delivering: number;
  readonly oldest_due: number;
}

/** The backlog row, or undefined when the database does not answer in time (the scrape still answers). */
async function backlog(pool: Pool): Promise<BacklogRow | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      pool.query<BacklogRow>(BACKLOG_SQL),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), BACKLOG_TIMEOUT_MS))),
    ]);
    return result?.rows[0];
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
