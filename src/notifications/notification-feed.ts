import type { Logger } from 'pino';
import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import type { AppAbility } from '../permissions/ability';
import type { PermissionStore } from '../permissions/permission-store';
import { NOTIFICATION_COLUMNS, type NotificationRow } from './notification.types';
import { mayBeTold } from './notification-visibility';

export const NOTIFICATIONS_CHANNEL = 'jobwatch_notifications';
/** Rows per user per read; a user with more is read again from where the page ended. */
const PAGE = 1000;

export interface NotificationSubscriber {
  readonly userId: string;
  lastId: bigint;
  deliver(row: NotificationRow): void;
}

/**
 * Live notifications: Postgres names the users who got new ones; the feed reads them once per
 * batch for the users subscribed here, and gives each subscriber those it may be told now
 * (mayBeTold). After a lost LISTEN connection it reads everything after each subscriber's last id.
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

  /** How many live notification subscriptions a user has on this instance. */
  subscriptionsOf(userId: string): number {
    return this.subscribers.get(userId)?.size ?? 0;
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

  /**
   * Reads, for each user, what comes after the lowest last id of their subscribers (each user
   * from their own position, never from another user's), page by page until a short page.
   * Every row read moves the subscribers' last ids, told or not: a notification someone may not
   * see is read once, never again, and never holds back what comes after it.
   */
  private read(userIds: readonly string[]): Promise<void> {
    const run = this.chain.then(async () => {
      let wanted = userIds.filter((userId) => this.subscribers.has(userId));
      while (wanted.length > 0) {
        const afters = wanted.map((userId) => this.lowestLastId(userId).toString());
        const rows = await this.sql.rows<NotificationRow>(
          `SELECT n.* FROM unnest($1::text[], $2::bigint[]) AS u(user_id, after)
             CROSS JOIN LATERAL (
               SELECT ${NOTIFICATION_COLUMNS} FROM notifications
                WHERE notifications.user_id = u.user_id AND notifications.id > u.after ORDER BY notifications.id LIMIT $3) n
            ORDER BY n.id`,
          [wanted, afters, PAGE],
        );
        const read = new Map<string, number>();
        const abilities = await this.permissions.abilitiesFor(
          rows.filter((row) => this.subscribers.has(row.user_id)).map((row) => row.user_id),
        );
        for (const row of rows) {
          read.set(row.user_id, (read.get(row.user_id) ?? 0) + 1);
          const subscribers = this.subscribers.get(row.user_id);
          if (subscribers === undefined) continue;
          const ability = abilities.get(row.user_id) as AppAbility;
          const told = mayBeTold(ability, row.user_id, row);
          const id = BigInt(row.id);
          for (const subscriber of subscribers) {
            if (id <= subscriber.lastId) continue;
            subscriber.lastId = id;
            if (told) subscriber.deliver(row);
          }
        }
        wanted = wanted.filter((userId) => read.get(userId) === PAGE && this.subscribers.has(userId));
      }
    });
    this.chain = run.catch((error: unknown) => this.log.warn({ err: error }, 'could not read notifications for subscribers'));
    return run;
  }

  private lowestLastId(userId: string): bigint {
    let lowest: bigint | undefined;
    for (const subscriber of this.subscribers.get(userId) ?? []) {
      if (lowest === undefined || subscriber.lastId < lowest) lowest = subscriber.lastId;
    }
    return lowest ?? 0n;
  }
}
