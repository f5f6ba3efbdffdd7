/** Latencies in whole milliseconds, counted in buckets, merged across processes in a sparse form. */

/** Whole milliseconds from 0 to 60 s; anything later lands in the last bucket. */
export const HISTOGRAM_BUCKETS = 60_001;

export class LatencyHistogram {
  readonly counts: Uint32Array;
  total = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  sum = 0;

  constructor(counts?: Uint32Array) {
    this.counts = counts ?? new Uint32Array(HISTOGRAM_BUCKETS);
  }

  add(ms: number): void {
    const bucket = Math.min(HISTOGRAM_BUCKETS - 1, Math.max(0, Math.round(ms)));
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.total += 1;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  /** Sparse form for IPC: [bucket, count] pairs. */
  toSparse(): SparseHistogram {
    const buckets: Array<[number, number]> = [];
    this.counts.forEach((count, bucket) => {
      if (count > 0) buckets.push([bucket, count]);
    });
    return { buckets, total: this.total, sum: this.sum, min: this.min, max: this.max };
  }

  merge(sparse: SparseHistogram): void {
    for (const [bucket, count] of sparse.buckets) this.counts[bucket] = (this.counts[bucket] ?? 0) + count;
    this.total += sparse.total;
    this.sum += sparse.sum;
    if (sparse.total > 0) {
      this.min = Math.min(this.min, sparse.min);
      this.max = Math.max(this.max, sparse.max);
    }
  }

  /** The smallest bucket at or below which `fraction` of the values fall (NaN when empty). */
  percentile(fraction: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let bucket = 0; bucket < this.counts.length; bucket += 1) {
      seen += this.counts[bucket] ?? 0;
      if (seen >= rank) return bucket;
    }
    return HISTOGRAM_BUCKETS - 1;
  }

  get mean(): number {
    return this.total === 0 ? Number.NaN : this.sum / this.total;
  }
}

export interface SparseHistogram {
  readonly buckets: ReadonlyArray<readonly [number, number]>;
  readonly total: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}
