/** Seconds over which the rate forgets: a stall shows within a minute, a blip does not swing the ETA. */
const TIME_CONSTANT_MS = 30_000;
/** Samples closer together than this are merged, so bursts of reports do not make noise. */
const MIN_INTERVAL_MS = 1_000;

/**
 * An exponentially weighted rate of a counter, in units per minute, weighted by elapsed time
 * (so irregular reports weigh what they cover). The ETA of a job comes from it.
 */
export class SmoothedRate {
  private lastValue: number | undefined;
  private lastAt = 0;
  private rate: number | null = null;

  /** Feeds the counter's value at `now`; a counter that went down starts over. */
  observe(value: number, now: number): void {
    if (this.lastValue === undefined || value < this.lastValue) {
      this.lastValue = value;
      this.lastAt = now;
      return;
    }
    const elapsed = now - this.lastAt;
    if (elapsed < MIN_INTERVAL_MS) return;
    const instant = ((value - this.lastValue) / elapsed) * 60_000;
    const weight = 1 - Math.exp(-elapsed / TIME_CONSTANT_MS);
    this.rate = this.rate === null ? instant : this.rate + weight * (instant - this.rate);
    this.lastValue = value;
    this.lastAt = now;
  }

  get perMinute(): number | null {
    return this.rate === null ? null : Math.round(this.rate * 100) / 100;
  }
}
