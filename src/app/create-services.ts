import type { Logger } from 'pino';
import type { Config } from '../config';
import type { OpenDatabase } from '../db/database';
import { PgListener } from '../db/pg-listener';
import { ThreadedRelay } from '../db/threaded-relay';
import { sqlOf } from '../db/sql';
import { JOBS_CHANNEL, JobEventHub, TIMELINE_CHANNEL } from '../realtime/job-event-hub';
import { SendPacer } from '../realtime/send-pacer';
import { SecretBox } from '../jobs/secret-box';
import { bootstrapAdmins } from '../permissions/bootstrap-admins';
import { PERMISSIONS_CHANNEL, PermissionStore } from '../permissions/permission-store';
import { resolveJwtSecret } from '../auth/signing-key';
import { TokenVerifier } from '../auth/token-verifier';
import type { Services } from './services';
import { LEASES_CHANNEL, LeaseCache } from '../workers/progress/lease-cache';
import { Daemon } from '../daemon/daemon';
import { NOTIFICATIONS_CHANNEL, NotificationFeed } from '../notifications/notification-feed';
import { AlertDispatcher, JOB_EVENTS_CHANNEL } from '../alerts/alert-dispatcher';
import { EmailSender } from '../alerts/email-sender';
import { AlertDeliveryWorker, DELIVERIES_CHANNEL } from '../alerts/alert-delivery-worker';
import { ProgressBuffer } from '../workers/progress/progress-buffer';

/**
 * Makes the services an instance runs on the open database: the LISTEN connection and its
 * relay, permissions, tokens, progress, the daemon (not started), the hub, notifications and
 * alerts (not started). Grants the bootstrap admins. Each thing to stop is pushed on `cleanups`.
 */
export async function createServices(
  config: Config,
  log: Logger,
  database: OpenDatabase,
  cleanups: Array<() => Promise<void>>,
): Promise<{ services: Services; admins: readonly string[] }> {
  const sql = sqlOf(database.pool);
  const listener = new PgListener({
    url: database.url,
    channels: [
      PERMISSIONS_CHANNEL,
      JOBS_CHANNEL,
      TIMELINE_CHANNEL,
      NOTIFICATIONS_CHANNEL,
      JOB_EVENTS_CHANNEL,
      DELIVERIES_CHANNEL,
      LEASES_CHANNEL,
    ],
    log: log.child({ component: 'listener' }),
  });
  cleanups.push(() => listener.stop());
  await listener.start();
  // The triggers record changes; the relay notifies them in batches, in a thread of its own (docs/SCALING.md).
  const relay = new ThreadedRelay(database.url, log.child({ component: 'relay' }));
  relay.start();
  cleanups.push(() => relay.stop());

  const admins = config.bootstrapAdmins.length > 0 ? config.bootstrapAdmins : database.embedded && !config.production ? ['admin'] : [];
  const granted = await bootstrapAdmins(sql, admins);
  if (granted > 0) log.info({ admins }, 'granted the admin role (BOOTSTRAP_ADMINS)');

  const jwt = config.jwksUrl === undefined ? resolveJwtSecret(config.jwtSecret, config.dataDir) : undefined;
  if (jwt?.source === 'dev-file') log.warn('JWT_SECRET is not set: using the development secret in the data directory');
  const leases = new LeaseCache(sql, listener);
  const progress = new ProgressBuffer(sql, leases, config.progressFlushMs, log.child({ component: 'progress' }));
  progress.start();
  cleanups.push(() => progress.stop());
  const daemon = new Daemon(
    database.pool,
    { ...config, intervalMs: config.daemonIntervalMs, outageMs: config.daemonOutageMs },
    log.child({ component: 'daemon' }),
    (jobs) => {
      for (const job of jobs) {
        progress.forget(job.id);
        leases.forget(job.id);
      }
    },
  );
  const permissions = new PermissionStore(sql, listener);
  const hub = new JobEventHub(sql, listener, permissions, log.child({ component: 'hub' }));
  const secrets = SecretBox.fromConfig(config.secretsKey, config.dataDir);
  const { smtpUrl, emailFrom, timeoutMs } = config.alerts;
  const emailSender = smtpUrl === undefined ? undefined : new EmailSender({ smtpUrl, from: emailFrom as string, timeoutMs });
  if (emailSender !== undefined) cleanups.push(async () => emailSender.close());
  const alerts = {
    dispatcher: new AlertDispatcher(database.pool, permissions, log.child({ component: 'alerts' }), listener, config.publicUrl),
    deliveries: new AlertDeliveryWorker(
      sql,
      secrets,
      permissions,
      config.alerts,
      log.child({ component: 'webhooks' }),
      listener,
      emailSender,
    ),
  };
  const services: Services = {
    config,
    log,
    dataSource: database.dataSource,
    pool: database.pool,
    sql,
    listener,
    relay,
    permissions,
    secrets,
    tokens: new TokenVerifier(
      jwt === undefined ? { kind: 'jwks', url: config.jwksUrl as string } : { kind: 'secret', secret: jwt.secret },
      {
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
      },
    ),
    leases,
    progress,
    daemon,
    hub,
    sendPacer: new SendPacer(() => permissions.currentVersion(), log.child({ component: 'subscriptions' })),
    notificationFeed: new NotificationFeed(sql, listener, permissions, log.child({ component: 'notifications' })),
    alerts,
  };
  return { services, admins };
}
