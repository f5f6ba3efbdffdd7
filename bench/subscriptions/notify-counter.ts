import { Client as PgClient } from 'pg';
import { LatencyHistogram } from '../support/latency-histogram';

/**
 * Listens like the API does: counts the job ids the database notifies (one per job written by a
 * progress flush) and, for each notification, how long after the write (the first job's
 * progress_updated_at) it arrived: the database's share of the latency.
 */
export class NotifyCounter {
  private client: PgClient | undefined;
  private query: PgClient | undefined;
  private counting = false;
  ids = 0;
  notifications = 0;
  readonly delay = new LatencyHistogram();

  async start(url: string): Promise<void> {
    this.client = new PgClient({ connectionString: url });
    this.query = new PgClient({ connectionString: url });
    await this.client.connect();
    await this.query.connect();
    this.client.on('notification', (message) => {
      const received = Date.now();
      if (!this.counting || message.payload === undefined) return;
      const ids = message.payload.split(',').filter((id) => id !== '');
      this.notifications += 1;
      this.ids += ids.length;
      void this.query
        ?.query<{ at: Date | null }>('SELECT progress_updated_at AS at FROM jobs WHERE id = $1', [ids[0]])
        .then(({ rows }) => {
          const at = rows[0]?.at;
          if (at != null) this.delay.add(received - at.getTime());
        })
        .catch(() => undefined);
    });
    await this.client.query('LISTEN jobwatch_jobs');
  }

  begin(): void {
    this.ids = 0;
    this.notifications = 0;
    this.delay.reset();
    this.counting = true;
  }

  end(): { ids: number; notifications: number; p50: number; p99: number } {
    this.counting = false;
    return { ids: this.ids, notifications: this.notifications, p50: this.delay.percentile(0.5), p99: this.delay.percentile(0.99) };
  }

  async stop(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    await this.query?.end().catch(() => undefined);
    this.client = undefined;
    this.query = undefined;
  }
}
