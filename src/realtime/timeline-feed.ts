import type { Context } from '../app/context';
import { TIMELINE_COLUMNS } from '../jobs/timeline.types';
import { CoalescingStream } from '../util/coalescing-stream';
import type { JobEventHub } from './job-event-hub';
import type { TimelineEventRow, TimelineSubscriber } from './hub-subscribers';
import { mayViewAt } from './may-view';

/** Events replayed per query: the next page is read only once the client has taken this one. */
const REPLAY_PAGE = 500;

/**
 * One jobTimeline subscriber. With `after`, it first replays the past itself, a page at a time
 * and only as fast as the client takes it (however long the history), while the hub leaves it
 * alone; then it goes live: the hub catches it up from where the replay ended and from then on
 * hands it each new event. Every event is checked against the viewer's ability when it is about
 * to be sent; the feed ends when the viewer may no longer see the job, and after DELETED.
 */
export class TimelineFeed implements AsyncIterableIterator<TimelineEventRow>, TimelineSubscriber {
  readonly userId: string;
  live = false;
  private readonly stream: CoalescingStream<TimelineEventRow>;
  private page: TimelineEventRow[] = [];
  private replayed = false;
  private finished = false;
  private unsubscribe: () => void = () => undefined;

  constructor(
    private readonly ctx: Context,
    private readonly hub: JobEventHub,
    private readonly jobId: string,
    /** The last event the client has; `replay`: read what follows it first. */
    public lastEventId: bigint,
    replay: boolean,
  ) {
    this.userId = ctx.principal.id;
    this.replayed = !replay;
    this.stream = new CoalescingStream<TimelineEventRow>(() => this.unsubscribe(), { pacer: ctx.services.sendPacer });
  }

  /** Registers with the hub; live at once unless replaying. */
  async open(): Promise<void> {
    this.unsubscribe = this.hub.subscribeTimeline(this.jobId, this);
    if (this.replayed) await this.goLive();
  }

  /** For the hub (live only). */
  deliver(event: TimelineEventRow): void {
    this.stream.push(event.id, event);
  }

  /** For the hub: the viewer lost sight of the job; ends once what is queued is sent (or refused). */
  end(): void {
    this.finished = true;
    this.stream.end();
  }

  async next(): Promise<IteratorResult<TimelineEventRow>> {
    for (;;) {
      if (this.finished) {
        await this.return();
        return { value: undefined, done: true };
      }
      let event: TimelineEventRow | undefined;
      // A live event has the permissions version read for its turn (send-pacer.ts); a replayed one reads its own.
      let version: string | undefined;
      if (!this.live) {
        event = await this.replayNext();
        if (event === undefined) continue;
      } else {
        const result = await this.stream.next();
        if (result.done === true) return result;
        event = result.value;
        version = this.stream.pass;
      }
      if (!(await this.admit(event, version))) {
        await this.return();
        return { value: undefined, done: true };
      }
      if (event.kind === 'DELETED') this.finished = true;
      return { value: event, done: false };
    }
  }

  return(): Promise<IteratorResult<TimelineEventRow>> {
    this.finished = true;
    return this.stream.return();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TimelineEventRow> {
    return this;
  }

  /** The next replayed event, or undefined once the replay has gone live. */
  private async replayNext(): Promise<TimelineEventRow | undefined> {
    const queued = this.page.shift();
    if (queued !== undefined) {
      this.lastEventId = BigInt(queued.id);
      return queued;
    }
    if (this.replayed) {
      await this.goLive();
      return undefined;
    }
    this.page = await this.ctx.services.sql.rows<TimelineEventRow>(
      `SELECT ${TIMELINE_COLUMNS}, job_scope, job_type, job_owner_id FROM timeline_events
        WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT ${REPLAY_PAGE}`,
      [this.jobId, this.lastEventId.toString()],
    );
    this.replayed = this.page.length < REPLAY_PAGE;
    return undefined;
  }

  private async goLive(): Promise<void> {
    this.live = true;
    await this.hub.catchUpTimeline(this.jobId);
  }

  private admit(event: TimelineEventRow, version: string | undefined): Promise<boolean> | boolean {
    const job = { scope: event.job_scope, type: event.job_type, ownerId: event.job_owner_id };
    return mayViewAt(this.ctx, job, version, () => this.finished);
  }
}
