import type { Logger } from 'pino';
import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import { jobSubject } from '../permissions/ability';
import type { PermissionStore } from '../permissions/permission-store';
import { NOTIFICATION_COLUMNS, type NotificationRow } from './notification.types';

export const NOTIFICATIONS_CHANNEL = 'jobwatch_notifications';

export interface NotificationSubscriber {
  readonly userId: string;
  lastId: bigint;
  deliver(row: NotificationRow): void;
}

/**
 * Live notifications: Postgres names the users who got new ones; the feed reads them once per
 * batch for the users subscribed here, and gives each subscriber those of jobs it may still
 * view. After a lost LISTEN connection it reads everything after each subscriber's last id.
 */
export class NotificationFeed {
  private readonly subscribers = new Map<string, Set<NotificationSubscriber>>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    listener: PgListener,
    private readonly permissions: PermissionStore,
    private readonly log: Logger,
  ) {
    listener.on(NOTIFICATIONS_CHANNEL, (payload) => {
      for (const userId of payload.split(',')) if (this.subscribers.has(userId)) this.pending.add(userId);
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        const users = [...this.pending];
        this.pending.clear();
        void this.read(users);
      }, 10);
    });
    listener.onConnect(() => void this.read([...this.subscribers.keys()]));
  }

  subscribe(subscriber: NotificationSubscriber): () => void {
    let set = this.subscribers.get(subscriber.userId);
    if (set === undefined) {
      set = new Set();
      this.subscribers.set(subscriber.userId, set);
    }
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) this.subscribers.delete(subscriber.userId);
    };
  }

  /** The newest notification id of a user (a new subscriber starts after it). */
  async latestId(userId: string): Promise<bigint> {
    const row = await this.sql.one<{ id: string | null }>('SELECT max(id)::text AS id FROM notifications WHERE user_id = $1', [userId]);
    return BigInt(row?.id ?? 0);
  }

  /** Delivers what a user has after their subscribers' last ids (on subscribe, to close the gap). */
  catchUp(userId: string): Promise<void> {
    return this.read([userId]);
  }

  private read(userIds: readonly string[]): Promise<void> {
    const run = this.chain.then(async () => {
      const wanted = userIds.filter((userId) => this.subscribers.has(userId));
      if (wanted.length === 0) return;
      let after = -1n;
      for (const userId of wanted) {
        for (const subscriber of this.subscribers.get(userId) ?? []) {
          if (after === -1n || subscriber.lastId < after) after = subscriber.lastId;
        }
      }
      const rows = await this.sql.rows<NotificationRow>(
        `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = ANY($1::text[]) AND id > $2 ORDER BY id LIMIT 10000`,
        [wanted, after.toString()],
      );
      for (const row of rows) {
        const ability = await this.permissions.abilityFor(row.user_id);
        if (!ability.can('view_monitor', jobSubject({ scope: row.job_scope, type: row.job_type, ownerId: row.job_owner_id }))) continue;
        const id = BigInt(row.id);
        for (const subscriber of this.subscribers.get(row.user_id) ?? []) {
          if (id <= subscriber.lastId) continue;
          subscriber.lastId = id;
          subscriber.deliver(row);
        }
      }
    });
    this.chain = run.catch((error: unknown) => this.log.warn({ err: error }, 'could not read notifications for subscribers'));
    return run;
  }
}
