import type { Sql } from '../../db/sql';
import { SqlParams } from '../../db/sql-params';
import { jobTypeStats } from './job-type-stats';

const FRESH_MS = 60_000;

/**
 * Each type's p95 duration over all its recent runs, for the "slower than usual" flag on running
 * jobs. Kept for a minute per type: the flag needs an order of magnitude, not the last second.
 */
export class TypeP95Cache {
  private readonly cache = new Map<string, { p95: number | null; at: number }>();
  private readonly loading = new Map<string, Promise<number | null>>();

  constructor(private readonly sql: Sql) {}

  async p95(types: readonly string[]): Promise<Map<string, number | null>> {
    const now = Date.now();
    const stale = [...new Set(types)].filter((type) => {
      const entry = this.cache.get(type);
      return (entry === undefined || now - entry.at > FRESH_MS) && !this.loading.has(type);
    });
    if (stale.length > 0) {
      const load = jobTypeStats(this.sql, stale, new SqlParams(), 'TRUE').then((stats) => {
        for (const stat of stats) this.cache.set(stat.type, { p95: stat.p95Duration, at: Date.now() });
        return null;
      });
      for (const type of stale) this.loading.set(type, load);
      try {
        await load;
      } finally {
        for (const type of stale) this.loading.delete(type);
      }
    }
    await Promise.all(types.map((type) => this.loading.get(type)));
    return new Map(types.map((type) => [type, this.cache.get(type)?.p95 ?? null]));
  }
}
