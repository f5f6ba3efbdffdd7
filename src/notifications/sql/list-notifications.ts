import type { Sql } from '../../db/sql';
import { SqlParams } from '../../db/sql-params';
import { NOTIFICATION_COLUMNS, type NotificationRow } from '../notification.types';

/**
 * A page of notifications matching `visible` (a condition over `n`, written into the given
 * params), newest first: up to `limit` rows with ids below `beforeId` when given, unread only
 * when asked.
 */
export function listNotifications(
  sql: Sql,
  params: SqlParams,
  visible: string,
  page: { readonly unreadOnly: boolean; readonly beforeId: string | null; readonly limit: number },
): Promise<NotificationRow[]> {
  const conditions = [visible];
  if (page.unreadOnly) conditions.push('n.read_at IS NULL');
  if (page.beforeId !== null) conditions.push(`n.id < ${params.add(page.beforeId)}`);
  return sql.rows<NotificationRow>(
    `SELECT ${NOTIFICATION_COLUMNS.split(', ')
      .map((column) => `n.${column}`)
      .join(', ')} FROM notifications n
      WHERE ${conditions.join(' AND ')} ORDER BY n.id DESC LIMIT ${params.add(page.limit)}`,
    params.values,
  );
}

/** How many notifications matching `visible` (a condition over `n`, given its own params) are unread. */
export async function countUnreadNotifications(sql: Sql, visible: (params: SqlParams) => string): Promise<number> {
  const params = new SqlParams();
  const unread = await sql.one<{ count: number }>(
    `SELECT count(*)::int AS count FROM notifications n WHERE ${visible(params)} AND n.read_at IS NULL`,
    params.values,
  );
  return unread?.count ?? 0;
}
