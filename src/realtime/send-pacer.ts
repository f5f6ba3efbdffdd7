import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Releasable } from '../util/coalescing-stream';
import { heldForPermissions } from './may-view';

/** Subscription events released per slice at least: about 20 ms of serialising and sending on this machine. */
export const SLICE = 256;
/** The first guess of one stream's send (serialise and write one message), before any is measured. */
const FIRST_SEND_MS = 0.1;

export interface SliceOptions {
  /** Streams released per slice at least. */
  readonly min: number;
  /** Larger slices while the version reads are slow, so that a slow database does not throttle the sends. */
  readonly adaptive: boolean;
}

/**
 * When each subscription's next event goes out. A stream with an event for a waiting client
 * asks to be released and waits in line; the pacer reads the permissions version (one read for
 * the whole slice), then releases the next slice of streams in the order they asked (streams
 * with a status change first), and each checks its viewer against that version and sends its
 * newest event, and whatever else it holds (a snapshot's rows) in the same turn. Then the next
 * slice, after another read. A slice holds SLICE streams, more while the reads are slow (see
 * sizeFor).
 *
 * Two things follow. A fan-out larger than a slice is sent a slice at a time, with the event
 * loop free between slices: a change committed meanwhile is read and handed to the streams
 * still in line, and they send it instead of the older state (their streams coalesce per job),
 * so under load a subscriber gets the newest state at its turn, not a state as old as the
 * whole fan-out before it. And every event is checked against permissions read after its
 * stream asked for its turn, and at most a slice before it is sent: a revoked grant stops the
 * events within a slice, not a whole fan-out. When the version cannot be read (the database is
 * away), nothing is released until it can: events are held, never sent unchecked.
 */
export class SendPacer {
  private readonly urgent: Releasable[] = [];
  private readonly queue: Releasable[] = [];
  private running = false;
  /** The turn being given (one per slice), and whether its slice is still running. */
  private turn = 0;
  private on = false;
  /** One stream's send, measured (a moving average of the slices'). */
  private sendMs = FIRST_SEND_MS;
  readonly stats = { slices: 0, released: 0 };

  constructor(
    private readonly readVersion: () => Promise<string>,
    private readonly log: Logger,
    private readonly slice: SliceOptions = { min: SLICE, adaptive: true },
  ) {}

  /** Streams in line now. */
  get waiting(): number {
    return this.urgent.length + this.queue.length;
  }

  /** Queues `stream` to be released; `urgent` (a status change) goes before the others. */
  enqueue(stream: Releasable, urgent: boolean): void {
    (urgent ? this.urgent : this.queue).push(stream);
    if (this.running) return;
    this.running = true;
    // After the current task: the other streams of the same fan-out ask before the read begins.
    queueMicrotask(() => void this.run());
  }

  stillOn(turn: number): boolean {
    return this.on && turn === this.turn;
  }

  private async run(): Promise<void> {
    try {
      while (this.waiting > 0) {
        // Only streams in line now may be released with this read: their checks use a version read after they asked.
        const urgent = this.urgent.length;
        const waiting = this.queue.length;
        const began = performance.now();
        const version = await this.read();
        if (version === undefined) continue;
        const released = this.release(version, urgent, waiting, this.sizeFor(performance.now() - began));
        const sending = performance.now();
        // The slice's sends are promise reactions of the releases: they run before this resumes,
        // and a stream with more to send (a snapshot) sends it in the same turn.
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.on = false;
        if (released > 0) this.sendMs = 0.8 * this.sendMs + (0.2 * (performance.now() - sending)) / released;
      }
    } finally {
      this.running = false;
      this.on = false;
    }
  }

  /**
   * SLICE; while a read takes longer than a slice's sends, twice as many streams as are sent in
   * the time of a read: the sends then take two thirds of the time at least, whatever the
   * database's pace, and a slice stays as short as the read allows.
   */
  private sizeFor(readMs: number): number {
    if (!this.slice.adaptive) return this.slice.min;
    return Math.max(this.slice.min, Math.ceil((2 * readMs) / this.sendMs));
  }

  private async read(): Promise<string | undefined> {
    try {
      return await this.readVersion();
    } catch (error) {
      await heldForPermissions(this.log, error);
      return undefined;
    }
  }

  private release(version: string, urgent: number, waiting: number, size: number): number {
    this.turn += 1;
    this.on = true;
    const fromUrgent = Math.min(urgent, size);
    const streams = [...this.urgent.splice(0, fromUrgent), ...this.queue.splice(0, Math.min(waiting, size - fromUrgent))];
    this.stats.slices += 1;
    this.stats.released += streams.length;
    for (const stream of streams) {
      try {
        stream.release(version, this.turn);
      } catch (error) {
        this.log.error({ err: error }, 'subscription stream failed to take its turn');
      }
    }
    return streams.length;
  }
}
