import type { Context } from '../app/context';
import type { JobRow } from '../jobs/job.row';
import { CoalescingStream, type Pacer } from '../util/coalescing-stream';
import { newer, newerThan, type JobEvent } from './hub-subscribers';
import { mayViewAt } from './may-view';

/**
 * What one jobUpdated or jobProgress subscriber is sent: the snapshot first, then the hub's
 * events, coalesced per job while the client is busy (the latest state of a job is what
 * matters; the last one always comes out). Live events that arrive while the snapshot is read
 * wait for it, and those older than it are dropped. Each event is checked against the viewer's
 * ability again when it is about to be sent, so a grant revoked while events queued up for a
 * slow client stops them.
 *
 * `single` (jobProgress): one job, whose last version sent is kept to drop repeats and older
 * rows, and the feed ends when the viewer may no longer see it. Otherwise (jobUpdated) the hub
 * keeps the order per job once per group, and the feed keeps nothing per job once started.
 */
export class JobFeed implements AsyncIterableIterator<JobEvent> {
  private readonly stream: CoalescingStream<JobEvent>;
  private buffered: JobEvent[] | undefined = [];
  /**
   * single: the last version queued (see newer) and its status (a status change is sent at once).
   * Not the row: a subscriber of a job that does not change would hold its snapshot's row, its
   * strings and dates, for hours, and thousands are held at once.
   */
  private lastAttempt = 0; // none yet (attempts count from 1)
  private lastUpdatedAtMs = 0;
  private lastStatus = '';
  private closed = false;

  constructor(
    private readonly ctx: Context,
    private readonly single: boolean,
    minIntervalMs: number,
    onClose: () => void,
    /** jobUpdated(statusChangesOnly): what arrived during the snapshot goes out only if its status differs from it. */
    private readonly statusChangesOnly = false,
    /** The instance's send pacer: when this feed's events go out, and the permissions version they are checked with. */
    pacer?: Pacer,
  ) {
    this.stream = new CoalescingStream<JobEvent>(onClose, { minIntervalMs, pacer });
  }

  /** For the hub. */
  readonly deliver = (event: JobEvent): void => {
    if (this.buffered === undefined) this.push(event);
    else this.buffered.push(event);
  };

  /**
   * Queues the snapshot, then `left` (jobs that left the view before it: resynchronisation), then
   * what arrived meanwhile (unless older than what was queued for its job), then goes live.
   */
  start(snapshot: readonly JobRow[], left: readonly JobEvent[] = []): void {
    const waiting = this.buffered ?? [];
    this.buffered = undefined;
    const versions = new Map(snapshot.map((row) => [row.id, row]));
    for (const row of snapshot) this.push({ row });
    for (const event of left) {
      if (versions.has(event.row.id)) continue;
      if (event.removed !== true) versions.set(event.row.id, event.row);
      this.push(event);
    }
    for (const event of waiting) {
      const version = versions.get(event.row.id);
      if (event.removed !== true && version !== undefined) {
        if (!newer(event.row, version)) continue;
        if (this.statusChangesOnly && event.row.status === version.status) continue;
      }
      this.push(event);
    }
  }

  /** Ends after what is queued (the job is gone). */
  end(): void {
    this.stream.end();
  }

  /**
   * The next event the viewer may see. Not an async function: a subscriber waits here for hours,
   * and waiting should hold one promise reaction, not a suspended frame made again for every
   * event (see mapStream in shared-execution.ts).
   */
  next(): Promise<IteratorResult<JobEvent>> {
    return this.stream.next().then(this.admitted);
  }

  /** A result from the stream, if the viewer may see it; else the one after it (or the end, for one job). */
  private readonly admitted = (result: IteratorResult<JobEvent>): IteratorResult<JobEvent> | Promise<IteratorResult<JobEvent>> => {
    if (result.done === true) return result;
    const may = this.admit(result.value);
    if (may === true) return result;
    if (may === false) return this.refused();
    return may.then((yes) => (yes ? result : this.refused()));
  };

  private refused(): Promise<IteratorResult<JobEvent>> {
    if (!this.single) return this.next();
    return this.return().then(() => ({ value: undefined, done: true }));
  }

  return(): Promise<IteratorResult<JobEvent>> {
    this.closed = true;
    return this.stream.return();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<JobEvent> {
    return this;
  }

  private push(event: JobEvent): void {
    if (this.single) {
      const row = event.row;
      const first = this.lastAttempt === 0;
      if (!first && !newerThan(row, this.lastAttempt, this.lastUpdatedAtMs)) return;
      const statusChanged = !first && this.lastStatus !== row.status;
      this.lastAttempt = row.attempt;
      this.lastUpdatedAtMs = row.updated_at.getTime();
      this.lastStatus = row.status;
      // Progress waits for the interval; a status change (a job finishing) goes out at once.
      this.stream.push(row.id, event, statusChanged);
      return;
    }
    this.stream.push(event.row.id, event);
  }

  /** Whether the viewer may still see the job now; a removal (the last state they were shown) always passes. */
  private admit(event: JobEvent): Promise<boolean> | boolean {
    if (event.removed === true) return true;
    const row = event.row;
    const job = { scope: row.scope, type: row.type, ownerId: row.owner_id, approvers: row.approvers };
    return mayViewAt(this.ctx, job, this.stream.pass, () => this.closed);
  }
}
