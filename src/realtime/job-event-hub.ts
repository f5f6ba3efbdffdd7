import type { Logger } from 'pino';
import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import { jobSubject } from '../permissions/ability';
import type { PermissionStore } from '../permissions/permission-store';
import { JOB_COLUMNS, type JobRow } from '../jobs/job.row';
import { TIMELINE_COLUMNS, type TimelineRow } from '../jobs/timeline.types';
import { EventBatch, SharedTypeStats } from './event-batch';

export const JOBS_CHANNEL = 'jobwatch_jobs';
export const TIMELINE_CHANNEL = 'jobwatch_timeline';

/** Rows read per query when fanning out: no read is unbounded. */
const PAGE = 1_000;
/** Rows per page of a resync (each page scans the jobs changed in the window: fewer, larger pages). */
const RESYNC_PAGE = 5_000;
/**
 * After a reconnect, changes are read again from this long before the newest change seen. An
 * updated_at is taken when the row is written, not when the transaction commits: a change
 * committed after a newer one was seen (a longer transaction) still falls in the window.
 * Subscribers drop what they already have.
 */
export const RESYNC_SLACK_MS = 10_000;
/** The jobs a jobUpdated group remembers having shown (the least recently changed go first). */
export const MAX_SHOWN_PER_GROUP = 10_000;

/** One job change as subscribers receive it. The same object goes to every subscriber of a batch. */
export interface JobEvent {
  readonly row: JobRow;
  /** The fan-out batch it came in: its loaders are shared by every subscriber. Snapshots have none. */
  readonly batch?: EventBatch;
  /**
   * The job left the subscriber's sight: it was deleted or may no longer be viewed. `row` is
   * then the last state the subscription was shown, nothing newer.
   */
  readonly removed?: boolean;
}

/** A subscriber to job changes: all jobs (jobUpdated) or one job (jobProgress). */
export interface JobSubscriber {
  readonly userId: string;
  deliver(event: JobEvent): void;
  /** The job is gone (deleted, or no longer visible to this user). */
  gone?(jobId: string): void;
}

export interface TimelineSubscriber {
  readonly userId: string;
  /** The last event id it has seen; only later ones are delivered. */
  lastEventId: bigint;
  /** False while it replays the past by itself: the hub then leaves it alone. */
  live: boolean;
  deliver(event: TimelineEventRow): void;
}

export type TimelineEventRow = TimelineRow & { job_scope: string; job_type: string; job_owner_id: string };

/** What a jobUpdated subscriber holds: its way out, and the snapshot it was sent. */
export interface GroupMembership {
  unsubscribe(): void;
  /** The snapshot rows sent to this subscriber: when one of them leaves the view, it hears of it. */
  saw(rows: readonly JobRow[]): void;
}

/**
 * A group of jobUpdated subscribers with the same user and filter: the filter and the
 * permission check run once per group, and what the group has shown is remembered once for all
 * its members.
 */
interface Group {
  readonly userId: string;
  readonly wants: (row: JobRow) => boolean;
  readonly members: Set<JobSubscriber>;
  /**
   * The last row shown for each job in the group's view (by the hub, or a member's snapshot):
   * a job that stops matching is sent once more, with its new state; one that is deleted or
   * becomes invisible is announced as removed, with this row. Also the group's order key: a
   * version not newer than the one shown is not sent again.
   */
  readonly shown: Map<string, JobRow>;
}

/**
 * The instance's fan-out of job changes. Postgres notifies ids only; the hub batches them,
 * reads each changed job once per batch (one query whatever the number of subscribers), and
 * hands it to every subscriber that may see it, deciding permissions with each user's current
 * ability (so a revoked grant stops the events). When the LISTEN connection comes back after a
 * loss, it reads what changed meanwhile and delivers that, so nothing terminal is missed.
 */
export class JobEventHub {
  private readonly groups = new Map<string, Group>();
  private readonly byJob = new Map<string, Set<JobSubscriber>>();
  private readonly timelines = new Map<string, Set<TimelineSubscriber>>();
  private readonly pendingJobs = new Set<string>();
  private readonly pendingTimelines = new Set<string>();
  /** Rows that came from a subscriber's snapshot, and whose: shown to that member only, never an order key for the others. */
  private readonly snapshotRows = new WeakMap<JobRow, JobSubscriber>();
  private readonly typeStats: SharedTypeStats;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** The newest updated_at seen: after a reconnect, everything since (less the slack) is read again. */
  private watermark: Date | undefined;
  private lostAt: Date | undefined;
  readonly stats = { batches: 0, rowsFetched: 0, delivered: 0, resyncs: 0 };

  constructor(
    private readonly sql: Sql,
    listener: PgListener,
    private readonly permissions: PermissionStore,
    private readonly log: Logger,
    private readonly batchMs = 10,
  ) {
    this.typeStats = new SharedTypeStats(sql);
    listener.on(JOBS_CHANNEL, (payload) => this.noted(this.pendingJobs, payload));
    listener.on(TIMELINE_CHANNEL, (payload) => this.noted(this.pendingTimelines, payload));
    listener.onDisconnect(() => (this.lostAt ??= this.watermark ?? new Date()));
    listener.onConnect(() => {
      if (this.lostAt === undefined) return;
      const since = this.lostAt;
      this.lostAt = undefined;
      void this.resync(since);
    });
  }

  get subscriberCount(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.members.size;
    for (const set of this.byJob.values()) count += set.size;
    for (const set of this.timelines.values()) count += set.size;
    return count;
  }

  /** jobUpdated: every change of every job the subscriber wants and may see. */
  subscribeAll(groupKey: string, wants: (row: JobRow) => boolean, subscriber: JobSubscriber): GroupMembership {
    const key = `${subscriber.userId}\u0000${groupKey}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { userId: subscriber.userId, wants, members: new Set(), shown: new Map() };
      this.groups.set(key, group);
    }
    const joined = group;
    joined.members.add(subscriber);
    return {
      unsubscribe: () => {
        joined.members.delete(subscriber);
        if (joined.members.size === 0 && this.groups.get(key) === joined) this.groups.delete(key);
      },
      saw: (rows) => {
        for (const row of rows) {
          if (joined.shown.has(row.id)) continue;
          this.snapshotRows.set(row, subscriber);
          remember(joined, row);
        }
      },
    };
  }

  /** jobProgress: the changes of one job. */
  subscribeJob(jobId: string, subscriber: JobSubscriber): () => void {
    return addTo(this.byJob, jobId, subscriber);
  }

  /** jobTimeline: the new events of one job. */
  subscribeTimeline(jobId: string, subscriber: TimelineSubscriber): () => void {
    return addTo(this.timelines, jobId, subscriber);
  }

  /**
   * Resolves once every batch begun before this call has been delivered: a subscriber that read
   * its snapshot, then waits for this, receives only rows read after its snapshot.
   */
  settled(): Promise<void> {
    return this.serial(async () => undefined);
  }

  /** Delivers pending changes now (tests; shutdown). */
  async drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private noted(pending: Set<string>, payload: string): void {
    for (const id of payload.split(',')) if (id !== '') pending.add(id);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.batchMs);
  }

  /** Runs tasks one after the other; a failed task never stops the ones after it. */
  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.flushing.then(task);
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private flush(): Promise<void> {
    return this.serial(async () => {
      const jobIds = [...this.pendingJobs].filter((id) => this.groups.size > 0 || this.byJob.has(id));
      const timelineIds = [...this.pendingTimelines].filter((id) => this.timelines.has(id));
      this.pendingJobs.clear();
      this.pendingTimelines.clear();
      try {
        if (jobIds.length > 0) await this.fanOutJobs(jobIds);
        if (timelineIds.length > 0) await this.fanOutTimelines(timelineIds);
      } catch (error) {
        // The rows are read again on the next notification or resync; a subscriber never sees half a batch.
        this.log.warn({ err: error }, 'could not read changed jobs for subscribers');
        for (const id of jobIds) this.pendingJobs.add(id);
        for (const id of timelineIds) this.pendingTimelines.add(id);
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          void this.flush();
        }, 1000);
      }
    });
  }

  private async fanOutJobs(ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += PAGE) {
      const chunk = ids.slice(start, start + PAGE);
      const rows = await this.sql.rows<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ANY($1::uuid[])`, [chunk]);
      await this.deliverJobs(rows, chunk);
    }
  }

  /**
   * Hands rows read in one query to every subscriber; `asked` are ids that were looked for
   * (those without a row were deleted).
   */
  private async deliverJobs(rows: readonly JobRow[], asked: readonly string[]): Promise<void> {
    this.stats.batches += 1;
    this.stats.rowsFetched += rows.length;
    const batch = new EventBatch(this.sql, this.typeStats);
    const abilities = await this.permissions.abilitiesFor([
      ...[...this.groups.values()].map((group) => group.userId),
      ...[...rows.map((row) => row.id), ...asked].flatMap((id) => [...(this.byJob.get(id) ?? [])].map((subscriber) => subscriber.userId)),
    ]);
    for (const row of rows) {
      if (this.watermark === undefined || row.updated_at > this.watermark) this.watermark = row.updated_at;
      const subject = jobSubject({ scope: row.scope, type: row.type, ownerId: row.owner_id, approvers: row.approvers });
      let event: JobEvent | undefined;
      for (const group of this.groups.values()) {
        const last = group.shown.get(row.id);
        // Already shown: to the whole group, or (a snapshot row) to the member whose snapshot it was.
        const seenBy = last === undefined || newer(row, last) ? undefined : (this.snapshotRows.get(last) ?? 'all');
        if (seenBy === 'all') continue;
        const visible = abilities.get(group.userId)?.can('view_monitor', subject) === true;
        if (visible && group.wants(row)) {
          remember(group, row);
          this.send(group.members, (event ??= { row, batch }), seenBy);
        } else if (last !== undefined) {
          // It leaves the view: once more with its new state if the user may still see it, else as removed.
          group.shown.delete(row.id);
          this.send(group.members, visible ? (event ??= { row, batch }) : { row: last, batch, removed: true });
        }
      }
      for (const subscriber of this.byJob.get(row.id) ?? []) {
        if (abilities.get(subscriber.userId)?.can('view_monitor', subject) === true) this.send([subscriber], (event ??= { row, batch }));
        else subscriber.gone?.(row.id);
      }
    }
    if (asked.length === rows.length) return;
    const found = new Set(rows.map((row) => row.id));
    for (const id of asked) {
      if (found.has(id)) continue;
      for (const group of this.groups.values()) {
        const last = group.shown.get(id);
        if (last === undefined) continue;
        group.shown.delete(id);
        this.send(group.members, { row: last, batch, removed: true });
      }
      for (const subscriber of this.byJob.get(id) ?? []) subscriber.gone?.(id);
    }
  }

  private send(subscribers: Iterable<JobSubscriber>, event: JobEvent, except?: JobSubscriber): void {
    for (const subscriber of subscribers) {
      if (subscriber === except) continue;
      this.stats.delivered += 1;
      try {
        subscriber.deliver(event);
      } catch (error) {
        this.log.error({ err: error }, 'subscriber failed to take an event');
      }
    }
  }

  /** Delivers a job's events newer than what its live timeline subscribers have seen (one going live). */
  catchUpTimeline(jobId: string): Promise<void> {
    return this.serial(() => this.fanOutTimelines([jobId]));
  }

  /**
   * Each job's events after the oldest cursor among its live subscribers, a page per job per
   * query, until every job's page comes back short: a quiet job's old cursor never holds back
   * a chatty one, and nothing is cut at a page.
   */
  private async fanOutTimelines(jobIds: readonly string[]): Promise<void> {
    let cursors = new Map<string, bigint>();
    const users: string[] = [];
    for (const id of jobIds) {
      for (const subscriber of this.timelines.get(id) ?? []) {
        if (!subscriber.live) continue;
        users.push(subscriber.userId);
        const current = cursors.get(id);
        if (current === undefined || subscriber.lastEventId < current) cursors.set(id, subscriber.lastEventId);
      }
    }
    if (cursors.size === 0) return;
    const abilities = await this.permissions.abilitiesFor(users);
    while (cursors.size > 0) {
      const ids = [...cursors.keys()];
      const events = await this.sql.rows<TimelineEventRow>(
        `SELECT e.* FROM unnest($1::uuid[], $2::bigint[]) AS k(job_id, after)
           CROSS JOIN LATERAL (SELECT ${TIMELINE_COLUMNS}, job_scope, job_type, job_owner_id FROM timeline_events t
                                WHERE t.job_id = k.job_id AND t.id > k.after ORDER BY t.id LIMIT $3) e
          ORDER BY e.id`,
        [ids, ids.map((id) => String(cursors.get(id))), PAGE],
      );
      const pages = new Map<string, { count: number; last: bigint }>();
      for (const event of events) {
        const id = BigInt(event.id);
        const page = pages.get(event.job_id) ?? { count: 0, last: id };
        page.count += 1;
        page.last = id;
        pages.set(event.job_id, page);
        const subject = jobSubject({ scope: event.job_scope, type: event.job_type, ownerId: event.job_owner_id });
        for (const subscriber of this.timelines.get(event.job_id) ?? []) {
          if (!subscriber.live || id <= subscriber.lastEventId || abilities.get(subscriber.userId)?.can('view_monitor', subject) !== true) continue;
          subscriber.lastEventId = id;
          subscriber.deliver(event);
        }
      }
      cursors = new Map([...pages].filter(([, page]) => page.count >= PAGE).map(([jobId, page]) => [jobId, page.last]));
    }
  }

  /** After the LISTEN connection was lost: deliver every change since, then carry on. */
  private async resync(since: Date): Promise<void> {
    const from = new Date(since.getTime() - RESYNC_SLACK_MS);
    try {
      await this.serial(async () => {
        await this.fanOutJobs([...this.byJob.keys()]);
        if (this.groups.size > 0) {
          // Oldest first, a page at a time, to the end: the newest changes (the terminal ones) are never cut off.
          let after = { at: from, id: '00000000-0000-0000-0000-000000000000' };
          for (;;) {
            const rows = await this.sql.rows<JobRow>(
              `SELECT ${JOB_COLUMNS} FROM jobs WHERE (updated_at, id) > ($1::timestamptz, $2::uuid) ORDER BY updated_at, id LIMIT ${RESYNC_PAGE}`,
              [after.at, after.id],
            );
            await this.deliverJobs(rows, []);
            const last = rows.at(-1);
            if (last === undefined || rows.length < RESYNC_PAGE) break;
            after = { at: last.updated_at, id: last.id };
          }
          await this.announceDeleted();
        }
        await this.fanOutTimelines([...this.timelines.keys()]);
      });
      this.stats.resyncs += 1;
      this.log.info({ since: from }, 'subscribers resynchronised after the LISTEN connection came back');
    } catch (error) {
      this.log.warn({ err: error }, 'resync after reconnect failed; retrying');
      setTimeout(() => void this.resync(since), 1000).unref();
    }
  }

  /** The jobs groups had shown that were deleted while notifications were lost. */
  private async announceDeleted(): Promise<void> {
    const shown = new Set<string>();
    for (const group of this.groups.values()) for (const id of group.shown.keys()) shown.add(id);
    const ids = [...shown];
    for (let start = 0; start < ids.length; start += RESYNC_PAGE) {
      const chunk = ids.slice(start, start + RESYNC_PAGE);
      const gone = await this.sql.rows<{ id: string }>(
        `SELECT x.id::text AS id FROM unnest($1::uuid[]) AS x(id) WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = x.id)`,
        [chunk],
      );
      if (gone.length > 0) await this.deliverJobs([], gone.map((row) => row.id));
    }
  }

}

/** Whether `row` is a later version of the job than `than` (updated_at follows commit order per job). */
export function newer(row: JobRow, than: JobRow): boolean {
  return row.attempt > than.attempt || (row.attempt === than.attempt && row.updated_at.getTime() > than.updated_at.getTime());
}

function remember(group: Group, row: JobRow): void {
  group.shown.delete(row.id);
  group.shown.set(row.id, row);
  if (group.shown.size > MAX_SHOWN_PER_GROUP) group.shown.delete(group.shown.keys().next().value as string);
}

function addTo<V>(map: Map<string, Set<V>>, key: string, value: V): () => void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
  return () => {
    const current = map.get(key);
    current?.delete(value);
    if (current?.size === 0) map.delete(key);
  };
}
