import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import { buildAbility, type AppAbility, type GrantRules } from './ability';
import { PermissionsVersion } from './permissions-version';
import type { RawRule } from './rules';

export const PERMISSIONS_CHANNEL = 'jobwatch_permissions';
const MAX_CACHED_USERS = 10_000;

interface Cached {
  /** The permissions version read before this ability was loaded: it holds every change up to it. */
  readonly version: string;
  readonly ability: Promise<AppAbility>;
}

/**
 * Each user's ability, built from their grants and cached per user. A cached ability is used
 * only while the permissions version (bumped by every grant or role change, in its own
 * transaction) is the one it was loaded at; the version is read after the request arrived, so
 * a change committed anywhere takes effect on the user's very next request, on every instance.
 * NOTIFY from the same changes only frees memory early; correctness never waits for it.
 */
export class PermissionStore {
  private readonly cache = new Map<string, Cached>();
  private readonly version: PermissionsVersion;
  private lastVersion: string | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly listener: PgListener | undefined,
  ) {
    this.version = new PermissionsVersion(sql);
    if (listener !== undefined) {
      listener.on(PERMISSIONS_CHANNEL, (userId) => this.invalidate(userId === '*' ? undefined : userId));
      // What changed while the connection was away was not heard: nothing cached before counts.
      listener.onConnect(() => this.invalidate());
      listener.onDisconnect(() => this.invalidate());
    }
  }

  /**
   * The user's cached ability and the version it was loaded at, without reading the version:
   * only for a read that checks that version in its own statement (`PERMISSIONS_VERSION_COLUMN`)
   * and calls `abilityFor` when it differs. Undefined when nothing is cached, or while the LISTEN
   * connection is down (then changes are not even heard, and the per-request read is cheaper
   * than a read that has to be redone).
   */
  cachedAbility(userId: string): { readonly ability: Promise<AppAbility>; readonly version: string } | undefined {
    if (this.listener === undefined || !this.listener.connected) return undefined;
    const cached = this.cache.get(userId);
    return cached !== undefined && cached.version === this.lastVersion ? cached : undefined;
  }

  async abilityFor(userId: string): Promise<AppAbility> {
    return this.abilityAt(userId, await this.currentVersion());
  }

  /**
   * The permissions version as of a moment after this call. Reads are answered in order, so a
   * new version means every cached ability is stale: they are dropped.
   */
  async currentVersion(): Promise<string> {
    const version = await this.version.read();
    if (version !== this.lastVersion) {
      this.cache.clear();
      this.lastVersion = version;
    }
    return version;
  }

  /**
   * The user's ability under `version`, which the caller read with currentVersion() after the
   * moment it asks about (one read for many users: a slice of subscription events). When a
   * newer version has been read since, it is read again: never an ability older than a version
   * already seen.
   */
  abilityAt(userId: string, version: string): Promise<AppAbility> {
    if (version !== this.lastVersion) return this.abilityFor(userId);
    const cached = this.cache.get(userId);
    if (cached !== undefined && cached.version === version) return cached.ability;
    if (this.cache.size >= MAX_CACHED_USERS) this.cache.delete(this.cache.keys().next().value as string);
    const ability = this.load(userId);
    ability.catch(() => {
      if (this.cache.get(userId)?.ability === ability) this.cache.delete(userId);
    });
    this.cache.set(userId, { version, ability });
    return ability;
  }

  /** Several users' abilities at once: one permissions-version read for all of them, not one each. */
  async abilitiesFor(userIds: Iterable<string>): Promise<Map<string, AppAbility>> {
    const unique = [...new Set(userIds)];
    const loaded = await Promise.all(unique.map((userId) => this.abilityFor(userId)));
    return new Map(unique.map((userId, index) => [userId, loaded[index] as AppAbility]));
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
