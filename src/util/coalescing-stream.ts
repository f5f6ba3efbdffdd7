/** A stream that waits for its turn to send (see Pacer). */
export interface Releasable {
  /**
   * Its turn: it hands its newest value to the waiting consumer, with `pass` (see
   * CoalescingStream.pass); while the turn is on, the values after it go out too.
   */
  release(pass: string, turn: number): void;
}

/**
 * Decides when streams send: a stream with a value for a waiting consumer asks, and sends when
 * released (realtime/send-pacer.ts). `urgent`: a value pushed as urgent is waiting.
 */
export interface Pacer {
  enqueue(stream: Releasable, urgent: boolean): void;
  /** Whether the turn given with release() is still on. */
  stillOn(turn: number): boolean;
}

/** How many values a throttled stream may send back to back after a quiet spell. */
const BURST = 2;

/**
 * An async iterator fed by pushes, coalescing by key: while the consumer is busy, a newer value
 * for a key replaces the older one (the latest state of a job is what matters), so a slow client
 * costs memory per job, not per event. Optionally no faster than one value every
 * `minIntervalMs` on average: a token bucket holding two, so a value that arrives a little early
 * (the producer runs at the same pace, with jitter) goes out at once instead of waiting out the
 * rest of an interval, and a stream never settles into being late by a fixed phase. The latest
 * value always comes out in the end (nothing terminal is lost). With a `pacer`, a value ready
 * for a waiting consumer waits for the stream's turn, and newer values pushed meanwhile replace
 * it.
 */
export class CoalescingStream<T> implements AsyncIterableIterator<T>, Releasable {
  private readonly pending = new Map<string, T>();
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private failure: ((error: unknown) => void) | undefined;
  private ended = false;
  private closed = false;
  private error: unknown;
  /** Sends the throttle allows at `creditAt` (at most BURST); one per minIntervalMs accrues. */
  private credit = BURST;
  private creditAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Its place in the pacer's line, if it is in it; `urgentWaiting`: an urgent value is pending. */
  private queued: 'no' | 'waiting' | 'urgent' = 'no';
  private urgentWaiting = false;
  /** During release(): what the pacer passed. */
  private releasing: string | undefined;
  /** The last turn it was given. */
  private turn = 0;
  /**
   * What the pacer passed with the turn that released the last value (the permissions version
   * read for it): the consumer checks that value with it. Undefined without a pacer.
   */
  pass: string | undefined;

  constructor(
    private readonly onClose: () => void,
    private readonly options: { minIntervalMs?: number; maxPending?: number; pacer?: Pacer | undefined } = {},
  ) {}

  /** `urgent`: emit without waiting out the interval (a status change, say). */
  push(key: string, value: T, urgent = false): void {
    if (this.ended) return;
    if (urgent) {
      this.credit = Math.max(this.creditNow(Date.now()), 1);
      this.creditAt = Date.now();
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    }
    if (urgent) this.urgentWaiting = true;
    this.pending.delete(key);
    this.pending.set(key, value);
    if (this.pending.size > (this.options.maxPending ?? 10_000)) {
      this.fail(new Error('The subscriber is too far behind; subscribe again for a fresh snapshot'));
      return;
    }
    this.wake();
  }

  /** Ends the stream after what is pending (or at once, with an error). */
  end(error?: unknown): void {
    if (error !== undefined) {
      this.fail(error);
      return;
    }
    this.ended = true;
    this.wake();
  }

  next(): Promise<IteratorResult<T>> {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the error the stream was ended with, as given
    if (this.error !== undefined) return Promise.reject(this.error);
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.waiter = resolve;
      this.failure = reject;
      this.wake();
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** For the pacer: this stream's turn. */
  release(pass: string, turn: number): void {
    this.queued = 'no';
    this.turn = turn;
    this.releasing = pass;
    try {
      this.wake();
    } finally {
      this.releasing = undefined;
    }
  }

  private wake(): void {
    if (this.waiter === undefined || this.timer !== undefined) return;
    if (this.pending.size === 0) {
      if (this.ended) this.settle({ value: undefined, done: true });
      return;
    }
    const interval = this.options.minIntervalMs ?? 0;
    const now = Date.now();
    const credit = interval > 0 ? this.creditNow(now) : BURST;
    const wait = Math.ceil((1 - credit) * interval);
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake();
      }, wait);
      return;
    }
    const pacer = this.options.pacer;
    if (pacer !== undefined && this.releasing === undefined && !pacer.stillOn(this.turn)) {
      // In line once, and once more ahead of the others when an urgent value comes (the later turn finds nothing to send).
      if (this.queued === 'no' || (this.queued === 'waiting' && this.urgentWaiting)) {
        pacer.enqueue(this, this.urgentWaiting);
        this.queued = this.urgentWaiting ? 'urgent' : 'waiting';
      }
      return;
    }
    this.pass = this.releasing ?? this.pass;
    const [key, value] = this.pending.entries().next().value as [string, T];
    this.pending.delete(key);
    if (this.pending.size === 0) this.urgentWaiting = false;
    this.credit = credit - 1;
    this.creditAt = now;
    this.settle({ value, done: false });
  }

  private creditNow(now: number): number {
    const interval = this.options.minIntervalMs ?? 0;
    if (interval <= 0) return BURST;
    return Math.min(BURST, this.credit + (now - this.creditAt) / interval);
  }

  private settle(result: IteratorResult<T>): void {
    const resolve = this.waiter;
    this.waiter = undefined;
    this.failure = undefined;
    resolve?.(result);
    if (result.done === true) this.close();
  }

  private fail(error: unknown): void {
    this.error = error;
    const reject = this.failure;
    this.waiter = undefined;
    this.failure = undefined;
    reject?.(error);
    this.close();
  }

  private close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.ended = true;
    if (!this.closed) {
      this.closed = true;
      this.onClose();
    }
  }
}
