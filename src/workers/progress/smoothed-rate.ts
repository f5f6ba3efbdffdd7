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

/** For this long after the last progress write, the stored rate stands (a worker reports far more often). */
export const STALL_GRACE_MS = 60_000;

/**
 * The rate to show for a held job, `now`: the stored smoothed rate while progress keeps coming,
 * then, once nothing has been written for STALL_GRACE_MS, decaying the way the smoothed rate
 * would had the worker kept reporting no progress; 0 once under 1 % of it. So a worker that
 * stalls (or vanished, until the daemon ABENDs it) shows a falling rate and a growing ETA, then
 * none, instead of its last figures forever. Computed when read, never written.
 */
export function currentRate(rate: number | null, updatedAt: Date | string | null, now: number): number | null {
  if (rate === null || updatedAt === null) return rate;
  const stalled = now - new Date(updatedAt).getTime() - STALL_GRACE_MS;
  if (!(stalled > 0)) return rate;
  const factor = Math.exp(-stalled / TIME_CONSTANT_MS);
  return factor < 0.01 ? 0 : Math.round(rate * factor * 100) / 100;
}
