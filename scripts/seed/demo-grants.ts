/** The demo users and their roles, granted by `npm run seed`. */
import type { Pool } from 'pg';

/** The demo users' grants (DOMAIN.md's built-in roles), idempotent. */
const DEMO_GRANTS: ReadonlyArray<readonly [user: string, role: string, scope: string | null]> = [
  ['alice', 'admin', null],
  ['bob', 'operator', null],
  ['carol', 'viewer', null],
  ['dave', 'own-jobs', null],
  ['erin', 'viewer', 'acme'],
  ['worker-1', 'worker', null],
];

/** Grants the demo users their roles; answers how many grants were new. */
export async function seedDemoGrants(pool: Pool): Promise<number> {
  let added = 0;
  for (const [user, role, scope] of DEMO_GRANTS) {
    const result = await pool.query(
      `INSERT INTO grants (user_id, role_name, scope, granted_by) VALUES ($1, $2, $3, 'seed')
       ON CONFLICT (user_id, role_name, (coalesce(scope, ''))) DO NOTHING`,
      [user, role, scope],
    );
    added += result.rowCount ?? 0;
  }
  return added;
}
