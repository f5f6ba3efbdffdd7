/**
 * The time constant of the smoothing: a change of rate shows within about 20 s (after 20 s the
 * old rate weighs e^-3.3, 4 %: a 5x slowdown is then shown within 15 %), while a blip of one
 * 5-second report interval moves it less than the blip itself.
 */
export const TIME_CONSTANT_MS = 6_000;
/** Samples closer together than this are merged, so bursts of reports do not make noise. */
const MIN_INTERVAL_MS = 1_000;

/**
 * An exponentially weighted rate of a counter, in units per minute, weighted by elapsed time
 * (so irregular reports weigh what they cover). Until one time constant is covered it is the
 * plain average since the counter started: a first short sample (a fast first second) weighs
 * what it covers, never the whole estimate. The ETA of a job comes from it.
 */
export class SmoothedRate {
  private firstValue = 0;
  private firstAt = 0;
  private lastValue: number | undefined;
  private lastAt = 0;
  private rate: number | null = null;

  /** Feeds the counter's value at `now`; a counter that went down starts over. */
  observe(value: number, now: number): void {
    if (this.lastValue === undefined || value < this.lastValue) {
      this.firstValue = this.lastValue = value;
      this.firstAt = this.lastAt = now;
      return;
    }
    const elapsed = now - this.lastAt;
    if (elapsed < MIN_INTERVAL_MS) return;
    const span = now - this.firstAt;
    if (span <= TIME_CONSTANT_MS || this.rate === null) {
      this.rate = ((value - this.firstValue) / span) * 60_000;
    } else {
      const instant = ((value - this.lastValue) / elapsed) * 60_000;
      this.rate += (1 - Math.exp(-elapsed / TIME_CONSTANT_MS)) * (instant - this.rate);
    }
    this.lastValue = value;
    this.lastAt = now;
  }

  get perMinute(): number | null {
    return this.rate === null ? null : Math.round(this.rate * 100) / 100;
  }
}

/** For this long after the stored rate was computed, it stands (a worker reports far more often). */
export const RATE_GRACE_MS = 5_000;

/** Under this share of the rate it decayed from, the rate is 0: the job has stopped. */
const STOPPED = 0.01;

/**
 * The smoothed rate `rate`, computed at `rateAt`, as of `now`: once RATE_GRACE_MS has passed
 * without news, it decays as the smoothing would had the worker reported no progress since;
 * 0 once under 1 % of it. So a worker that stalls (or vanished, until the daemon ABENDs it)
 * shows a falling rate and a growing ETA, then none, instead of its last figures forever. The
 * daemon writes the same decay (DECAYED_RATE_SQL) so that subscribers are told.
 */
export function currentRate(rate: number | null, rateAt: Date | string | null, now: number): number | null {
  if (rate === null || rateAt === null) return rate;
  const quiet = now - new Date(rateAt).getTime() - RATE_GRACE_MS;
  if (!(quiet > 0)) return rate;
  const factor = Math.exp(-quiet / TIME_CONSTANT_MS);
  return factor < STOPPED ? 0 : Math.round(rate * factor * 100) / 100;
}

/**
 * The same decay in SQL, for the daemon: the rate as of now (`rate`, `rateAt` columns), stored
 * with `now() - RATE_GRACE_MS` as its new moment so that reading it later decays on seamlessly.
 */
export const DECAYED_RATE_SQL = (rate: string, rateAt: string) => `(CASE
  WHEN exp(-greatest(0, extract(epoch FROM now() - ${rateAt}) * 1000 - ${RATE_GRACE_MS}) / ${TIME_CONSTANT_MS}) < ${STOPPED} THEN 0
  ELSE round((${rate} * exp(-greatest(0, extract(epoch FROM now() - ${rateAt}) * 1000 - ${RATE_GRACE_MS}) / ${TIME_CONSTANT_MS}))::numeric, 2)::float8 END)`;
