import type { Sql } from '../../db/sql';

/** Marks a user's unread notifications read: these ids, or all of them (null). Answers how many changed. */
export function markUserNotificationsRead(sql: Sql, userId: string, ids: readonly string[] | null): Promise<number> {
  return sql.execute(
    `UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL ${ids == null ? '' : 'AND id = ANY($2::bigint[])'}`,
    ids == null ? [userId] : [userId, ids],
  );
}
