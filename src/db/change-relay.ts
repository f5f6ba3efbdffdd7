import type { Sql } from './sql';

/** Where a relay says what went wrong: a pino logger, or the messages of a relay thread. */
export interface RelayLog {
  warn(fields: { err: unknown }, msg: string): void;
}

/** What wakes a relay: RELAY_CHANNEL's notifications, and the LISTEN connection coming back (a PgListener, or the messages a relay thread gets). */
export interface RelayWakes {
  on(channel: string, handler: (payload: string) => void): () => void;
  onConnect(handler: () => void): () => void;
}

/** Writers notify this (empty payload) while the relay is armed, to wake it. */
export const RELAY_CHANNEL = 'jobwatch_relay';

export interface ChangeRelayOptions {
  /** While changes keep coming: how often to drain (one notifying commit per drain at most). */
  readonly busyIntervalMs?: number;
  /**
   * When idle (armed): how often to look anyway. A writer that read the flag just before a
   * relay armed it, and committed just after that relay's last drain, wakes nobody; this
   * bounds how long its change can wait.
   */
  readonly idleIntervalMs?: number;
  /** Rows of the outbox taken per drain: no statement is unbounded. */
  readonly maxRows?: number;
  /** VACUUM the outbox after this many rows drained (it is emptied by DELETE all day long). */
  readonly vacuumAfterRows?: number;
}

/**
 * Sends the change notifications the triggers recorded in `change_outbox`, in batches
 * (migrations/1796573100990-BatchedChangeNotifications.ts): the writers' transactions notify
 * nothing while a relay is busy, so their commits no longer queue one behind another on
 * Postgres's notification lock. Every instance runs one; an advisory lock lets one drain at a
 * time, and each drain is one statement, all or nothing: what is deleted from the outbox is
 * notified in the same commit. Listeners get the same channels and payloads as before.
 */
export class ChangeRelay {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private sinceVacuum = 0;
  private readonly offs: Array<() => void> = [];
  readonly stats = { drains: 0, relayed: 0, vacuums: 0, failures: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly listener: RelayWakes,
    private readonly log: RelayLog,
    private readonly options: ChangeRelayOptions = {},
  ) {}

  start(): void {
    this.offs.push(this.listener.on(RELAY_CHANNEL, () => this.schedule(0)));
    // Back after a loss: whatever waited meanwhile goes out now.
    this.offs.push(this.listener.onConnect(() => this.schedule(0)));
    this.schedule(0);
  }

  /** Sends everything committed so far (tests; shutdown). */
  async flush(): Promise<void> {
    for (;;) {
      await this.running;
      const result = await this.drainOnce();
      if (result.drained === 0) return;
      // -1: another instance's relay holds the lock; wait for it to finish.
      if (result.drained < 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.drainOnce().catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      if (delayMs === 0) this.again = true;
      return;
    }
    const at = Date.now() + delayMs;
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.running = this.run().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    let next = this.options.idleIntervalMs ?? 500;
    try {
      this.again = false;
      const result = await this.drainOnce();
      // Busy (something drained, someone else draining, or not yet armed): look again soon.
      if (result.drained !== 0 || !result.armed) next = this.options.busyIntervalMs ?? 10;
    } catch (error) {
      this.stats.failures += 1;
      // The rows stay in the outbox: the next drain sends them.
      this.log.warn({ err: error }, 'could not relay change notifications; retrying');
      next = 1_000;
    }
    if (this.again) next = 0;
    this.running = undefined;
    this.schedule(next);
  }

  private async drainOnce(): Promise<{ drained: number; armed: boolean }> {
    const row = await this.sql.one<{ drained: number; armed: boolean }>('SELECT drained, armed FROM jobwatch_relay_changes($1)', [
      this.options.maxRows ?? 10_000,
    ]);
    const result = row ?? { drained: 0, armed: true };
    this.stats.drains += 1;
    if (result.drained > 0) {
      this.stats.relayed += result.drained;
      this.sinceVacuum += result.drained;
      if (this.sinceVacuum >= (this.options.vacuumAfterRows ?? 20_000)) {
        this.sinceVacuum = 0;
        await this.sql.execute('VACUUM (SKIP_LOCKED) change_outbox');
        this.stats.vacuums += 1;
      }
    }
    return result;
  }
}
