import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import type { ThreadedRelay } from '../db/threaded-relay';
import type { PermissionStore } from '../permissions/permission-store';
import type { SecretBox } from '../jobs/secret-box';
import type { TokenVerifier } from '../auth/token-verifier';
import type { LeaseCache } from '../workers/progress/lease-cache';
import type { ProgressBuffer } from '../workers/progress/progress-buffer';
import type { Daemon } from '../daemon/daemon';
import type { JobEventHub } from '../realtime/job-event-hub';
import type { SendPacer } from '../realtime/send-pacer';
import type { NotificationFeed } from '../notifications/notification-feed';
import type { AlertDispatcher } from '../alerts/alert-dispatcher';
import type { AlertDeliveryWorker } from '../alerts/alert-delivery-worker';

/** The long-lived parts of a running server, shared by every request. */
export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly dataSource: DataSource;
  readonly pool: Pool;
  readonly sql: Sql;
  readonly listener: PgListener;
  /** Sends the change notifications the triggers record, in batches. */
  readonly relay: ThreadedRelay;
  readonly permissions: PermissionStore;
  readonly secrets: SecretBox;
  readonly tokens: TokenVerifier;
  readonly leases: LeaseCache;
  readonly progress: ProgressBuffer;
  readonly daemon: Daemon;
  readonly hub: JobEventHub;
  /** When subscription events go out: a slice at a time, each after a read of the permissions version. */
  readonly sendPacer: SendPacer;
  readonly notificationFeed: NotificationFeed;
  readonly alerts: { readonly dispatcher: AlertDispatcher; readonly deliveries: AlertDeliveryWorker };
}
