/**
 * What bench:subscriptions' processes share: the subscription document the clients send (to the
 * API and to the floor alike), the latency histogram, and the messages between the runner and
 * its client processes.
 */

/** The fields a progress bar needs: the same selection against the API and the floor. */
export const SUBSCRIPTION_QUERY = `subscription BenchProgress($id: ID!) {
  jobProgress(id: $id) { id status updatedAt progress { done percent updatedAt } }
}`;

/** What the clients read of each message. */
export interface ProgressMessage {
  readonly jobProgress?: {
    readonly id: string;
    readonly updatedAt: string;
    readonly progress: { readonly done: number; readonly percent: number | null; readonly updatedAt: string | null };
  };
}

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

/** Runner → client process. Every request carries an id; the reply carries it back. */
export type ClientRequest =
  | {
      readonly id: number;
      readonly type: 'open';
      readonly url: string;
      /** Sent as connectionParams.authorization when set. */
      readonly authorization: string | null;
      /** Subscriber `i` (global numbering) watches jobIds[i % jobIds.length]. */
      readonly jobIds: readonly string[];
      readonly from: number;
      readonly to: number;
      /** Sockets opened at once, each batch waited for (first message, error or timeout). */
      readonly batch: number;
      readonly timeoutMs: number;
    }
  | { readonly id: number; readonly type: 'window-start' }
  | { readonly id: number; readonly type: 'window-stop' }
  | { readonly id: number; readonly type: 'status' }
  | { readonly id: number; readonly type: 'close' };

export interface OpenReply {
  readonly subscribed: number;
  readonly failed: number;
  readonly seconds: number;
  /** The first few distinct failures, for the report. */
  readonly failures: readonly string[];
}

export interface WindowReply {
  readonly seconds: number;
  readonly messages: number;
  /** Messages without a progress.updatedAt (no latency for them). */
  readonly undated: number;
  readonly histogram: SparseHistogram;
  /** The client process's own event-loop delay during the window, ms. */
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
  /** CPU the client process used during the window, seconds. */
  readonly cpuSeconds: number;
}

export interface StatusReply {
  /** Connected, acknowledged, subscribed (first message received), not ended. */
  readonly held: number;
  readonly total: number;
  readonly closedCodes: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
}

export type ClientReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };
