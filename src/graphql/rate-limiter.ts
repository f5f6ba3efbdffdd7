/**
 * Token buckets per key (a principal): `ratePerSecond` sustained, `burst` at once. In memory,
 * per instance: behind N instances a principal gets up to N times the rate, which is fine for
 * protecting each instance and the database from one runaway client.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * The seconds to wait before `cost` tokens are there (0: now), without taking them. Infinity
   * when `cost` is more than the bucket ever holds: waiting would never help.
   */
  wait(key: string, cost = 1, now = Date.now()): number {
    if (cost > this.burst) return Number.POSITIVE_INFINITY;
    const tokens = this.tokens(key, now);
    return tokens >= cost ? 0 : Math.max(1, Math.ceil((cost - tokens) / this.ratePerSecond));
  }

  /** Takes `cost` tokens; answers 0 when allowed, else what `wait` answers (nothing is taken). */
  take(key: string, cost = 1, now = Date.now()): number {
    const wait = this.wait(key, cost, now);
    if (wait === 0) (this.buckets.get(key) as { tokens: number }).tokens -= cost;
    return wait;
  }

  /** The key's tokens now, refilled since its last use; the bucket is created and kept in last-use order. */
  private tokens(key: string, now: number): number {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
      bucket = { tokens: this.burst, at: now };
    } else {
      this.buckets.delete(key); // re-inserted below: the map stays ordered by last use
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((Math.max(now, bucket.at) - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = Math.max(now, bucket.at);
    }
    this.buckets.set(key, bucket);
    return bucket.tokens;
  }
}
