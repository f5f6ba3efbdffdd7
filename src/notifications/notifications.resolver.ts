import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { Context } from '../app/context';
import { BadUserInputError } from '../errors';
import { SqlParams } from '../db/sql-params';
import { CoalescingStream } from '../util/coalescing-stream';
import { toldPredicate } from './notification-visibility';
import { Notification, NotificationConnection, type NotificationRow, toNotification } from './notification.types';
import { countUnreadNotifications, listNotifications } from './sql/list-notifications';
import { markUserNotificationsRead } from './sql/mark-notifications-read';

const CURSOR = /^n1:(\d{1,19})$/;
const encode = (id: string) => Buffer.from(`n1:${id}`).toString('base64url');

function decode(after: string): string {
  const match = CURSOR.exec(Buffer.from(after, 'base64url').toString('utf8'));
  if (match === null) throw new BadUserInputError('`after` is not a cursor returned by this list', 'after');
  return match[1] as string;
}

/** The viewer's own notifications they may be told (see mayBeTold), as a SQL condition. */
function visibleNotifications(ctx: Context, params: SqlParams): string {
  return toldPredicate(ctx.ability, ctx.principal.id, params, 'n');
}

@Resolver()
export class NotificationsResolver {
  @Query(() => NotificationConnection, {
    description:
      "The viewer's notifications, newest first: their jobs started, finished, failed or were cancelled (and by whom), and jobs waiting for their approval (as a named approver allowed to approve, or through approve_all when the job names no approvers). Only about jobs they may view, with their permissions of now.",
  })
  async notifications(
    @Ctx() ctx: Context,
    @Arg('unreadOnly', () => Boolean, { nullable: true, description: 'Only unread notifications.' }) unreadOnly: boolean | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: 'Page size, 0 to 500.' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the previous page.' }) after: string | null,
  ): Promise<NotificationConnection> {
    const size = first ?? 50;
    if (size < 0 || size > 500) throw new BadUserInputError(`first must be between 0 and 500, got ${size}`, 'first');
    const params = new SqlParams();
    const rows = await listNotifications(ctx.services.sql, params, visibleNotifications(ctx, params), {
      unreadOnly: unreadOnly === true,
      beforeId: after == null ? null : decode(after),
      limit: size + 1,
    });
    const unreadCount = await countUnreadNotifications(ctx.services.sql, (countParams) => visibleNotifications(ctx, countParams));
    const hasNextPage = rows.length > size;
    if (hasNextPage) rows.pop();
    const nodes = rows.map((row) => toNotification(row, ctx.services.config.publicUrl));
    return {
      nodes,
      pageInfo: {
        hasNextPage,
        hasPreviousPage: after != null,
        startCursor: nodes[0] === undefined ? null : encode(nodes[0].id),
        endCursor: nodes.length === 0 ? null : encode((nodes[nodes.length - 1] as Notification).id),
      },
      unreadCount,
    };
  }

  @Mutation(() => Int, {
    description: "Marks the viewer's notifications read: the given ones, or all with `all: true`. Answers how many changed.",
  })
  async markNotificationsRead(
    @Ctx() ctx: Context,
    @Arg('ids', () => [ID], { nullable: true, description: 'These notifications (at most 1000).' }) ids: string[] | null,
    @Arg('all', () => Boolean, { nullable: true, description: 'Every unread notification of the viewer.' }) all: boolean | null,
  ): Promise<number> {
    if ((ids == null) === (all !== true)) throw new BadUserInputError('give either ids or all: true', 'ids');
    if (ids != null) {
      if (ids.length > 1000) throw new BadUserInputError('at most 1000 ids at once', 'ids');
      if (!ids.every((id) => /^\d{1,19}$/.test(id))) throw new BadUserInputError('ids must be notification ids', 'ids');
    }
    return markUserNotificationsRead(ctx.services.sql, ctx.principal.id, ids);
  }

  @Subscription(() => Notification, {
    name: 'notifications',
    description: "The viewer's new notifications as they happen (only about jobs they may view).",
    subscribe: async ({ context }: SubscribeResolverData<unknown, Record<string, unknown>, Context>) => {
      const { notificationFeed: feed } = context.services;
      let unsubscribe = () => {};
      const stream = new CoalescingStream<NotificationRow>(() => unsubscribe());
      unsubscribe = feed.subscribe({
        userId: context.principal.id,
        lastId: await feed.latestId(context.principal.id),
        deliver: (row) => stream.push(String(row.id), row),
      });
      await feed.catchUp(context.principal.id);
      return stream;
    },
  })
  notificationAdded(@Root() row: NotificationRow, @Ctx() ctx: Context): Notification {
    return toNotification(row, ctx.services.config.publicUrl);
  }
}
