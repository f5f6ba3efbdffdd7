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
  /** Attempts under way: each runs on its own, so a receiver that hangs holds up only itself. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly sql: Sql,
    private readonly secrets: SecretBox,
    private readonly settings: DeliverySettings,
    private readonly log: Logger,
    listener: PgListener,
    intervalMs = 500,
  ) {
    // The loop only starts attempts: a receiver that hangs never delays the next round.
    this.loop = new BackgroundLoop(() => this.startRound(), intervalMs, (error) => log.warn({ err: error }, 'alert delivery round failed'));
    listener.on(DELIVERIES_CHANNEL, () => this.loop.wake());
  }

  start(): void {
    this.stopped = false;
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
    await Promise.all(this.inFlight);
  }

  /** Sends what is due, and waits, until nothing is due or under way; answers how many attempts were made. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const started = await this.startRound();
      total += started.length;
      if (started.length === 0) {
        if (this.inFlight.size === 0 || this.stopped) return total;
        await Promise.race(this.inFlight);
      }
    }
  }

  /** One round: takes what is due (while there is room) and waits for those attempts; answers how many. */
  async runOnce(): Promise<number> {
    const started = await this.startRound();
    await Promise.all(started);
    return started.length;
  }

  /** Takes due deliveries while there is room and starts their attempts; answers them. */
  private async startRound(): Promise<Array<Promise<void>>> {
    const room = this.settings.concurrency - this.inFlight.size;
    if (room <= 0 || this.stopped) return [];
    const lockMs = this.settings.timeoutMs + 5_000;
    const due = await this.sql.rows<Due>(
      `WITH next AS (
         SELECT id FROM alert_deliveries
          WHERE ((status = 'PENDING' AND next_attempt_at <= now()) OR (status = 'DELIVERING' AND locked_until < now()))
            AND rule_id IN (SELECT id FROM alert_rules WHERE enabled)
          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
       )
       UPDATE alert_deliveries d SET status = 'DELIVERING', attempts = d.attempts + 1,
              locked_until = now() + make_interval(secs => $2)
         FROM next, alert_rules r
        WHERE d.id = next.id AND r.id = d.rule_id
       RETURNING d.id, d.rule_id, d.event, d.payload, d.attempts, r.webhook_url, r.secret`,
      [room, lockMs / 1000],
    );
    return due.map((delivery) => {
      const attempt: Promise<void> = this.attempt(delivery)
        .catch((error: unknown) => this.log.warn({ err: error, deliveryId: delivery.id }, 'could not record a delivery attempt'))
        .finally(() => {
          this.inFlight.delete(attempt);
          this.loop.wake();
        });
      this.inFlight.add(attempt);
      return attempt;
    });
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
