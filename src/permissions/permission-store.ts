import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import { buildAbility, type AppAbility, type GrantRules } from './ability';
import type { RawRule } from './rules';

export const PERMISSIONS_CHANNEL = 'jobwatch_permissions';
const MAX_CACHED_USERS = 10_000;

/**
 * Each user's ability, built from their grants and cached per user. The cache is only trusted
 * while the LISTEN connection is up: triggers on `grants` and `roles` notify every instance,
 * which drops the affected entries, so a change takes effect on the user's next request.
 */
export class PermissionStore {
  private readonly cache = new Map<string, Promise<AppAbility>>();

  constructor(
    private readonly sql: Sql,
    private readonly listener: PgListener | undefined,
  ) {
    if (listener !== undefined) {
      listener.on(PERMISSIONS_CHANNEL, (userId) => this.invalidate(userId === '*' ? undefined : userId));
      listener.onConnect(() => this.invalidate());
      listener.onDisconnect(() => this.invalidate());
    }
  }

  abilityFor(userId: string): Promise<AppAbility> {
    if (this.listener?.connected !== true) return this.load(userId);
    let ability = this.cache.get(userId);
    if (ability === undefined) {
      if (this.cache.size >= MAX_CACHED_USERS) this.cache.delete(this.cache.keys().next().value as string);
      ability = this.load(userId);
      ability.catch(() => this.cache.delete(userId));
      this.cache.set(userId, ability);
    }
    return ability;
  }

  /** Forgets one user's ability, or everyone's. */
  invalidate(userId?: string): void {
    if (userId === undefined) this.cache.clear();
    else this.cache.delete(userId);
  }

  private async load(userId: string): Promise<AppAbility> {
    const grants = await this.sql.rows<{ scope: string | null; rules: RawRule[] }>(
      `SELECT g.scope, r.rules FROM grants g JOIN roles r ON r.name = g.role_name
        WHERE g.user_id = $1 ORDER BY g.created_at, g.id`,
      [userId],
    );
    return buildAbility(userId, grants satisfies GrantRules[]);
  }
}
