import { Client } from 'pg';

type Handler = (payload: string) => void;

/** Where a listener reports its connection's story: a pino logger, or a relay thread's messages. */
export interface ListenerLog {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export interface PgListenerOptions {
  readonly url: string;
  readonly channels: readonly string[];
  readonly log: ListenerLog;
  /** How the connection names itself in pg_stat_activity (default `jobwatch-listener`). */
  readonly applicationName?: string;
  /** First retry delay; doubles up to `maxBackoffMs`, with jitter. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How often an idle connection is probed, so a silently dead one is noticed. */
  readonly probeIntervalMs?: number;
  /** A probe not answered within this is taken for a lost connection. */
  readonly probeTimeoutMs?: number;
}

/** TCP keepalive starts probing a connection idle this long (the OS default is two hours). */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/**
 * The instance's one LISTEN connection. It reconnects with backoff when Postgres restarts or
 * the backend is terminated, and tells `onConnect` handlers every time it is (re)connected:
 * notifications sent while it was away are lost, so consumers resynchronise there.
 */
export class PgListener {
  private client: Client | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly connectHandlers = new Set<() => void>();
  private readonly disconnectHandlers = new Set<() => void>();
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readyWaiters: Array<() => void> = [];

  constructor(private readonly options: PgListenerOptions) {
    for (const channel of options.channels) {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
      this.handlers.set(channel, new Set());
    }
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  on(channel: string, handler: Handler): () => void {
    const set = this.handlers.get(channel);
    if (set === undefined) throw new Error(`channel ${channel} is not listened to`);
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Called after every successful (re)connection. */
  onConnect(handler: () => void): () => void {
    this.connectHandlers.add(handler);
    return () => this.connectHandlers.delete(handler);
  }

  /** Called when the connection is lost. */
  onDisconnect(handler: () => void): () => void {
    this.disconnectHandlers.add(handler);
    return () => this.disconnectHandlers.delete(handler);
  }

  /** Connects, retrying until it succeeds or `stop` is called. Resolves once listening. */
  start(): Promise<void> {
    const ready = new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    void this.connect();
    return ready;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.probeTimer);
    const client = this.client;
    this.client = undefined;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.options.url,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
      application_name: this.options.applicationName ?? 'jobwatch-listener',
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (message) => {
      const set = this.handlers.get(message.channel);
      if (set === undefined) return;
      for (const handler of set) {
        try {
          handler(message.payload ?? '');
        } catch (error) {
          this.options.log.error({ err: error, channel: message.channel }, 'notification handler failed');
        }
      }
    });
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      this.scheduleRetry(error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    if (this.attempt > 0) this.options.log.info({ attempts: this.attempt }, 'LISTEN connection restored');
    this.client = client;
    this.attempt = 0;
    this.startProbe(client);
    for (const handler of this.connectHandlers) {
      try {
        handler();
      } catch (error) {
        this.options.log.error({ err: error }, 'listener connect handler failed');
      }
    }
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  /**
   * Probes the connection now and then. A connection that died without a word (a peer gone, a
   * network cut) answers nothing and fails nothing: a probe that is not answered in time counts
   * as a loss, so the instance reconnects and resynchronises instead of waiting forever.
   */
  private startProbe(client: Client): void {
    clearInterval(this.probeTimer);
    let probing = false;
    this.probeTimer = setInterval(() => {
      if (probing) return;
      probing = true;
      let timer: NodeJS.Timeout | undefined;
      const timeoutMs = this.options.probeTimeoutMs ?? 5_000;
      const timedOut = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the LISTEN connection did not answer a probe within ${timeoutMs} ms`)), timeoutMs);
      });
      Promise.race([client.query('SELECT 1'), timedOut])
        .catch((error: unknown) => this.lost(client, error))
        .finally(() => {
          clearTimeout(timer);
          probing = false;
        });
    }, this.options.probeIntervalMs ?? 10_000);
    this.probeTimer.unref();
  }

  private lost(client: Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.probeTimer);
    // A dead peer would never answer the goodbye that end() sends: cut the socket as well.
    client.end().catch(() => undefined);
    (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
    if (this.stopped) return;
    this.options.log.warn({ err: error }, 'LISTEN connection lost; reconnecting');
    for (const handler of this.disconnectHandlers) handler();
    this.scheduleRetry(error);
  }

  private scheduleRetry(error: unknown): void {
    if (this.stopped) return;
    this.attempt += 1;
    const min = this.options.minBackoffMs ?? 100;
    const max = this.options.maxBackoffMs ?? 5_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.attempt - 1, 16)) * (0.5 + Math.random() / 2);
    if (this.attempt === 1 || this.attempt % 10 === 0) {
      this.options.log.warn({ err: error, attempt: this.attempt, delayMs: Math.round(delay) }, 'LISTEN connection failed; retrying');
    }
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }
}
