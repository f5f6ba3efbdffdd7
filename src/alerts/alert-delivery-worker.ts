import type { Logger } from 'pino';
import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import type { SecretBox } from '../jobs/secret-box';
import { jobSubject } from '../permissions/ability';
import type { PermissionStore } from '../permissions/permission-store';
import { recordAlertAttempt } from '../metrics/hooks';
import { BackgroundLoop } from '../util/background-loop';
import { signatureHeader } from './signature';
import { postWebhook } from './webhook-sender';
import { alertEmail } from './alert-email';
import { type EmailSender, SmtpRefusedError } from './email-sender';

export const DELIVERIES_CHANNEL = 'jobwatch_alert_deliveries';

export interface DeliverySettings {
  /** Per attempt; a receiver slower than this counts as failed. */
  readonly timeoutMs: number;
  /** Wait before the second attempt; doubles with every attempt, up to an hour. */
  readonly retryBaseMs: number;
  /** Attempts before a delivery is marked FAILED. */
  readonly maxAttempts: number;
  /** Deliveries sent at once by this instance (and never more than one per rule). */
  readonly concurrency: number;
  /** False: receivers on private, loopback or link-local addresses are refused. */
  readonly allowPrivateNetworks: boolean;
}

interface Due {
  id: string;
  rule_id: string;
  event: string;
  payload: Record<string, unknown>;
  attempts: number;
  webhook_url: string | null;
  email: string | null;
  secret: Buffer;
  owner_id: string;
}

/**
 * Due deliveries, the oldest first, at most one per rule and none of a rule with one under way.
 * Each enabled rule's oldest due delivery is read from the (rule, next attempt) index: a rule
 * whose receiver has been down for a day, with a hundred thousand waiting, costs one index
 * probe per poll, not a sort of its whole backlog.
 */
export const TAKE_DUE_SQL = `
  WITH due AS (
    SELECT first.id
      FROM alert_rules r
      CROSS JOIN LATERAL (
        SELECT d.id FROM alert_deliveries d
         WHERE d.rule_id = r.id AND d.status IN ('PENDING', 'DELIVERING')
           AND ((d.status = 'PENDING' AND d.next_attempt_at <= now()) OR (d.status = 'DELIVERING' AND d.locked_until < now()))
         ORDER BY d.next_attempt_at, d.id LIMIT 1
      ) first
     WHERE r.enabled
       AND NOT EXISTS (SELECT 1 FROM alert_deliveries busy
                        WHERE busy.rule_id = r.id AND busy.status = 'DELIVERING' AND busy.locked_until >= now())
  ),
  next AS (
    -- The status is checked again on the row as locked: another instance may have just taken it.
    SELECT d.id FROM alert_deliveries d
     WHERE d.id IN (SELECT id FROM due)
       AND ((d.status = 'PENDING' AND d.next_attempt_at <= now()) OR (d.status = 'DELIVERING' AND d.locked_until < now()))
     ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
  )
  UPDATE alert_deliveries d SET status = 'DELIVERING', attempts = d.attempts + 1,
         locked_until = now() + make_interval(secs => $2)
    FROM next, alert_rules r
   WHERE d.id = next.id AND r.id = d.rule_id
  RETURNING d.id, d.rule_id, d.event, d.payload, d.attempts, r.webhook_url, r.email, r.secret, r.owner_id`;

/**
 * Sends alert deliveries. A delivery is taken (FOR UPDATE SKIP LOCKED) and marked DELIVERING
 * with a lock that expires: if this instance dies mid-send, another takes it again after the
 * lock. Each outcome is written only by the attempt that took it. A receiver that fails, times
 * out or closes the connection is retried with exponential backoff, then the delivery is
 * FAILED; none of this ever waits inside a job transition. A rule has at most one attempt in
 * flight, so a receiver that hangs holds up its own rule only, never the others' deliveries.
 * Before each attempt the owner's permissions of now are checked (retries can run for hours).
 * Receivers see at-least-once delivery and deduplicate on X-Jobwatch-Delivery.
 */
export class AlertDeliveryWorker {
  private readonly loop: BackgroundLoop;
  private stopped = false;
  /** Attempts under way: each runs on its own, so a receiver that hangs holds up only itself. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Attempts finished so far: a round that overlapped one may have read its rule as still busy. */
  private finished = 0;

  constructor(
    private readonly sql: Sql,
    private readonly secrets: SecretBox,
    private readonly permissions: PermissionStore,
    private readonly settings: DeliverySettings,
    private readonly log: Logger,
    listener: PgListener,
    /** Sends email deliveries; undefined without SMTP_URL (they then fail, saying so). */
    private readonly email: EmailSender | undefined = undefined,
    intervalMs = 500,
  ) {
    // The loop only starts attempts: a receiver that hangs never delays the next round.
    this.loop = new BackgroundLoop(
      () => this.startRound(),
      intervalMs,
      (error) => log.warn({ err: error }, 'alert delivery round failed'),
    );
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
      const finishedBefore = this.finished;
      const started = await this.startRound();
      total += started.length;
      if (started.length === 0) {
        if (this.stopped) return total;
        // Nothing started and nothing under way: done, unless an attempt ended while the round
        // read (its rule looked busy to the round's snapshot, and its next delivery may be due).
        if (this.inFlight.size === 0 && this.finished === finishedBefore) return total;
        if (this.inFlight.size > 0) await Promise.race(this.inFlight);
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
    const due = await this.sql.rows<Due>(TAKE_DUE_SQL, [room, lockMs / 1000]);
    return due.map((delivery) => {
      const attempt: Promise<void> = this.attempt(delivery)
        .catch((error: unknown) => this.log.warn({ err: error, deliveryId: delivery.id }, 'could not record a delivery attempt'))
        .finally(() => {
          this.finished += 1;
          this.inFlight.delete(attempt);
          this.loop.wake();
        });
      this.inFlight.add(attempt);
      return attempt;
    });
  }

  private async attempt(delivery: Due): Promise<void> {
    const refusal = await this.refusal(delivery);
    if (refusal !== undefined) {
      // Not an attempt: nothing was sent. Final, like a failure, and says why.
      await this.sql.execute(
        `UPDATE alert_deliveries SET status = 'FAILED', attempts = attempts - 1, last_error = $3, last_status_code = NULL, locked_until = NULL
          WHERE id = $1 AND attempts = $2 AND status = 'DELIVERING'`,
        [delivery.id, delivery.attempts, refusal],
      );
      this.log.info({ deliveryId: delivery.id, ruleId: delivery.rule_id, reason: refusal }, 'alert delivery no longer allowed');
      recordAlertAttempt('refused');
      return;
    }
    let statusCode: number | null = null;
    let error: string | null = null;
    let final = delivery.attempts >= this.settings.maxAttempts;
    try {
      if (delivery.email === null) {
        statusCode = await this.post(delivery);
        if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
      } else {
        statusCode = await this.mail(delivery, delivery.email);
      }
    } catch (cause) {
      error = describe(cause);
      if (cause instanceof SmtpRefusedError) statusCode = cause.responseCode;
      // A receiver where webhooks may not go, or email with no server to send it, is not retried.
      const code = (cause as { code?: unknown }).code;
      if (code === 'EREFUSEDADDRESS' || code === 'ENOSMTP') final = true;
    }
    // Written only by the attempt that took the delivery (its attempt number), never twice.
    if (error === null) {
      await this.sql.execute(
        `UPDATE alert_deliveries SET status = 'DELIVERED', delivered_at = now(), last_status_code = $3, last_error = NULL, locked_until = NULL
          WHERE id = $1 AND attempts = $2 AND status = 'DELIVERING'`,
        [delivery.id, delivery.attempts, statusCode],
      );
      recordAlertAttempt('delivered');
      return;
    }
    const backoffMs = Math.min(3_600_000, this.settings.retryBaseMs * 2 ** (delivery.attempts - 1)) * (0.8 + Math.random() * 0.4);
    // A rule disabled while this attempt was under way: its delivery is cancelled, not retried.
    await this.sql.execute(
      `UPDATE alert_deliveries d SET last_status_code = $4, last_error = $5, locked_until = NULL,
              next_attempt_at = now() + make_interval(secs => $6),
              status = CASE WHEN $3 THEN 'FAILED'
                            WHEN (SELECT r.enabled FROM alert_rules r WHERE r.id = d.rule_id) THEN 'PENDING'
                            ELSE 'CANCELLED' END
        WHERE id = $1 AND attempts = $2 AND status = 'DELIVERING'`,
      [delivery.id, delivery.attempts, final, statusCode, error.slice(0, 1000), backoffMs / 1000],
    );
    if (final) this.log.warn({ deliveryId: delivery.id, ruleId: delivery.rule_id, error }, 'alert delivery failed for good');
    recordAlertAttempt(final ? 'failed' : 'retrying');
  }

  /** POSTs a webhook delivery, signed with the rule's secret; answers the HTTP status. */
  private async post(delivery: Due): Promise<number> {
    const secret = String(this.secrets.open(delivery.rule_id, delivery.secret)['secret']);
    const body = JSON.stringify({ id: String(delivery.id), ...delivery.payload });
    return postWebhook(
      delivery.webhook_url as string,
      {
        'content-type': 'application/json',
        'user-agent': 'Jobwatch-Webhooks/1',
        'x-jobwatch-delivery': String(delivery.id),
        'x-jobwatch-event': delivery.event,
        'x-jobwatch-signature': signatureHeader(secret, body),
      },
      body,
      { timeoutMs: this.settings.timeoutMs, allowPrivateNetworks: this.settings.allowPrivateNetworks },
    );
  }

  /** Emails a delivery through SMTP_URL; answers the server's reply code once it accepted the message (a refusal throws). */
  private async mail(delivery: Due, to: string): Promise<number> {
    if (this.email === undefined) throw Object.assign(new Error('not sent: this server has no SMTP_URL'), { code: 'ENOSMTP' });
    return this.email.send({ to, deliveryId: String(delivery.id), ...alertEmail(delivery.event, delivery.payload) });
  }

  /** Why the rule's owner may no longer have this delivery sent, if so (their ability of now). */
  private async refusal(delivery: Due): Promise<string | undefined> {
    const ability = await this.permissions.abilityFor(delivery.owner_id);
    if (!ability.can('manage_alerts', 'Alert')) return `not sent: the rule's owner ${delivery.owner_id} no longer has manage_alerts`;
    const job = (delivery.payload['job'] ?? {}) as { scope?: unknown; type?: unknown; owner?: unknown };
    const facts = { scope: String(job.scope), type: String(job.type), ownerId: String(job.owner) };
    if (!ability.can('view_monitor', jobSubject(facts)))
      return `not sent: the rule's owner ${delivery.owner_id} may no longer view this job`;
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    if (error.name === 'RefusedAddressError' || error.name === 'SmtpRefusedError' || (error as { code?: unknown }).code === 'ENOSMTP')
      return error.message;
    // nodemailer's own timeouts (connection, greeting, socket) read as ours.
    if ((error as { code?: unknown }).code === 'ETIMEDOUT') return 'timed out';
    const { code, cause } = error as { code?: string; cause?: { code?: string; message?: string } };
    return code ?? cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
