/**
 * Token buckets per key (a principal): `ratePerSecond` sustained, `burst` at once. In memory,
 * per instance: behind N instances a principal gets up to N times the rate, which is fine for
 * protecting each instance and the database from one runaway client.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes `cost` tokens; answers 0 when allowed, else the seconds to wait before retrying. */
  take(key: string, cost = 1, now = Date.now()): number {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
      bucket = { tokens: this.burst, at: now };
    } else {
      this.buckets.delete(key); // re-inserted below: the map stays ordered by last use
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = now;
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((cost - bucket.tokens) / this.ratePerSecond));
  }
}
