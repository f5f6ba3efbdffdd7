import type { Logger } from 'pino';
import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import type { SecretBox } from '../jobs/secret-box';
import { BackgroundLoop } from '../util/background-loop';
import { signatureHeader } from './signature';

export const DELIVERIES_CHANNEL = 'jobwatch_alert_deliveries';

export interface DeliverySettings {
  /** Per attempt; a receiver slower than this counts as failed. */
  readonly timeoutMs: number;
  /** Wait before the second attempt; doubles with every attempt, up to an hour. */
  readonly retryBaseMs: number;
  /** Attempts before a delivery is marked FAILED. */
  readonly maxAttempts: number;
  /** Deliveries sent at once by this instance. */
  readonly concurrency: number;
}

interface Due {
  id: string;
  rule_id: string;
  event: string;
  payload: Record<string, unknown>;
  attempts: number;
  webhook_url: string;
  secret: Buffer;
}

/**
 * Sends alert deliveries. A delivery is taken (FOR UPDATE SKIP LOCKED) and marked DELIVERING
 * with a lock that expires: if this instance dies mid-send, another takes it again after the
 * lock. Each outcome is written only by the attempt that took it. A receiver that fails, times
 * out or closes the connection is retried with exponential backoff, then the delivery is
 * FAILED; none of this ever waits inside a job transition. Receivers see at-least-once
 * delivery and deduplicate on X-Jobwatch-Delivery.
 */
export class AlertDeliveryWorker {
  private readonly loop: BackgroundLoop;
  private stopped = false;

  constructor(
    private readonly sql: Sql,
    private readonly secrets: SecretBox,
    private readonly settings: DeliverySettings,
    private readonly log: Logger,
    listener: PgListener,
    intervalMs = 500,
  ) {
    this.loop = new BackgroundLoop(() => this.drain(), intervalMs, (error) => log.warn({ err: error }, 'alert delivery round failed'));
    listener.on(DELIVERIES_CHANNEL, () => this.loop.wake());
  }

  start(): void {
    this.stopped = false;
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
  }

  /** Sends what is due until nothing is; answers how many attempts were made. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await this.runOnce();
      total += sent;
      if (sent === 0 || this.stopped) return total;
    }
  }

  /** One round: take up to `concurrency` due deliveries and attempt them all. */
  async runOnce(): Promise<number> {
    const lockMs = this.settings.timeoutMs + 5_000;
    const due = await this.sql.rows<Due>(
      `WITH next AS (
         SELECT id FROM alert_deliveries
          WHERE (status = 'PENDING' AND next_attempt_at <= now()) OR (status = 'DELIVERING' AND locked_until < now())
          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
       )
       UPDATE alert_deliveries d SET status = 'DELIVERING', attempts = d.attempts + 1,
              locked_until = now() + make_interval(secs => $2)
         FROM next, alert_rules r
        WHERE d.id = next.id AND r.id = d.rule_id
       RETURNING d.id, d.rule_id, d.event, d.payload, d.attempts, r.webhook_url, r.secret`,
      [this.settings.concurrency, lockMs / 1000],
    );
    await Promise.all(due.map((delivery) => this.attempt(delivery)));
    return due.length;
  }

  private async attempt(delivery: Due): Promise<void> {
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const secret = String(this.secrets.open(delivery.rule_id, delivery.secret)['secret']);
      const body = JSON.stringify({ id: String(delivery.id), ...delivery.payload });
      const response = await fetch(delivery.webhook_url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Jobwatch-Webhooks/1',
          'x-jobwatch-delivery': String(delivery.id),
          'x-jobwatch-event': delivery.event,
          'x-jobwatch-signature': signatureHeader(secret, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      statusCode = response.status;
      await response.arrayBuffer().catch(() => undefined);
      if (response.status < 200 || response.status >= 300) error = `HTTP ${response.status}`;
    } catch (cause) {
      error = describe(cause);
    }
    // Written only by the attempt that took the delivery (its attempt number), never twice.
    if (error === null) {
      await this.sql.execute(
        `UPDATE alert_deliveries SET status = 'DELIVERED', delivered_at = now(), last_status_code = $3, last_error = NULL, locked_until = NULL
          WHERE id = $1 AND attempts = $2 AND status = 'DELIVERING'`,
        [delivery.id, delivery.attempts, statusCode],
      );
      return;
    }
    const final = delivery.attempts >= this.settings.maxAttempts;
    const backoffMs = Math.min(3_600_000, this.settings.retryBaseMs * 2 ** (delivery.attempts - 1)) * (0.8 + Math.random() * 0.4);
    await this.sql.execute(
      `UPDATE alert_deliveries SET status = $3, last_status_code = $4, last_error = $5, locked_until = NULL,
              next_attempt_at = now() + make_interval(secs => $6)
        WHERE id = $1 AND attempts = $2 AND status = 'DELIVERING'`,
      [delivery.id, delivery.attempts, final ? 'FAILED' : 'PENDING', statusCode, error.slice(0, 1000), backoffMs / 1000],
    );
    if (final) this.log.warn({ deliveryId: delivery.id, ruleId: delivery.rule_id, error }, 'alert delivery failed for good');
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
