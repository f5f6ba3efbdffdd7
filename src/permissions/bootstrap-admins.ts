import type { Sql } from '../db/sql';

/** Grants the built-in `admin` role to each user, once (BOOTSTRAP_ADMINS). */
export async function bootstrapAdmins(sql: Sql, userIds: readonly string[]): Promise<number> {
  let granted = 0;
  for (const userId of userIds) {
    granted += await sql.execute(
      `INSERT INTO grants (user_id, role_name) VALUES ($1, 'admin')
       ON CONFLICT (user_id, role_name, (coalesce(scope, ''))) DO NOTHING`,
      [userId],
    );
  }
  return granted;
}
