import type { Logger } from 'pino';
import type { Releasable } from '../util/coalescing-stream';

/** Subscription events released per slice: about 20 ms of serialising and sending at a time. */
export const SLICE = 256;
/** How long to wait before asking again when the permissions version could not be read. */
const RETRY_MS = 500;
/** One warning per this long during an outage, not one per retry. */
const WARN_EVERY_MS = 10_000;

/**
 * When each subscription's next event goes out. A stream with an event for a waiting client
 * asks to be released and waits in line; the pacer reads the permissions version (one read for
 * the whole slice), then releases the next SLICE streams in the order they asked (streams with
 * a status change first), and each checks its viewer against that version and sends its
 * newest event, and whatever else it holds (a snapshot's rows) in the same turn. Then the next
 * slice, after another read.
 *
 * Two things follow. A fan-out larger than a slice is sent a slice at a time, with the event
 * loop free between slices: a change committed meanwhile is read and handed to the streams
 * still in line, and they send it instead of the older state (their streams coalesce per job),
 * so under load a subscriber gets the newest state at its turn, not a state as old as the
 * whole fan-out before it. And every event is checked against permissions read after its
 * stream asked for its turn, and at most a slice before it is sent: a revoked grant stops the
 * events within a slice, not a whole fan-out. When the version cannot be read (the database is away), nothing
 * is released until it can: events are held, never sent unchecked.
 */
export class SendPacer {
  private readonly urgent: Releasable[] = [];
  private readonly queue: Releasable[] = [];
  private running = false;
  /** The turn being given (one per slice), and whether its slice is still running. */
  private turn = 0;
  private on = false;
  private lastWarning = 0;
  readonly stats = { slices: 0, released: 0 };

  constructor(
    private readonly readVersion: () => Promise<string>,
    private readonly log: Logger,
    private readonly slice = SLICE,
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

  private async run(): Promise<void> {
    try {
      while (this.urgent.length > 0 || this.queue.length > 0) {
        // Only streams that asked before the read began: their checks use a version read after they asked.
        const urgent = this.urgent.length;
        const waiting = this.queue.length;
        const version = await this.read();
        if (version === undefined) continue;
        this.release(version, urgent, waiting);
        // The slice's sends are promise reactions of the releases: they run before this resumes,
        // and a stream with more to send (a snapshot) sends it in the same turn.
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.on = false;
      }
    } finally {
      this.running = false;
      this.on = false;
    }
  }

  private async read(): Promise<string | undefined> {
    try {
      return await this.readVersion();
    } catch (error) {
      if (Date.now() - this.lastWarning >= WARN_EVERY_MS) {
        this.lastWarning = Date.now();
        this.log.warn({ err: error }, 'could not check permissions before subscription events; holding them and retrying');
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      return undefined;
    }
  }

  stillOn(turn: number): boolean {
    return this.on && turn === this.turn;
  }

  private release(version: string, urgent: number, waiting: number): void {
    this.turn += 1;
    this.on = true;
    const fromUrgent = Math.min(urgent, this.slice);
    const streams = [...this.urgent.splice(0, fromUrgent), ...this.queue.splice(0, Math.min(waiting, this.slice - fromUrgent))];
    this.stats.slices += 1;
    this.stats.released += streams.length;
    for (const stream of streams) {
      try {
        stream.release(version, this.turn);
      } catch (error) {
        this.log.error({ err: error }, 'subscription stream failed to take its turn');
      }
    }
  }
}
