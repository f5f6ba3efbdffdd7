import type { Sql } from '../../db/sql';

/** Deletes an owner's rule and (by cascade) its delivery log; answers whether there was one. */
export async function deleteAlertRule(sql: Sql, id: string, ownerId: string): Promise<boolean> {
  return (await sql.execute('DELETE FROM alert_rules WHERE id = $1 AND owner_id = $2', [id, ownerId])) > 0;
}
