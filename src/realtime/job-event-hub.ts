import type { Logger } from 'pino';
import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import type { JobFilter } from '../jobs/job-filter.input';
import { jobSubject, type AppAbility } from '../permissions/ability';
import { PERMISSIONS_CHANNEL, type PermissionStore } from '../permissions/permission-store';
import { JOB_COLUMNS, type JobRow } from '../jobs/job.row';
import { EventBatch, SharedTypeStats } from './event-batch';
import { recordFanOut } from '../metrics/hooks';
import {
  addTo,
  announceDeleted,
  FAN_OUT_PAGE,
  newer,
  remember,
  send,
  type Group,
  type GroupMembership,
  type HubState,
  type JobEvent,
  type JobSubscriber,
  type TimelineSubscriber,
} from './hub-subscribers';
import { reviewPermissions } from './permission-review';
import { fanOutTimelines } from './timeline-fan-out';
import { resyncAfterReconnect } from './listen-resync';

export const JOBS_CHANNEL = 'jobwatch_jobs';
export const TIMELINE_CHANNEL = 'jobwatch_timeline';

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
  /** Subscriptions made so far, and which one each jobProgress subscriber was (see deliverJobs). */
  private joins = 0;
  private readonly jobJoins = new WeakMap<JobSubscriber, number>();
  /** The maps above and where to read and log, for the hub's parts (timeline fan-out, permission review). */
  private readonly state: HubState;
  private timer: NodeJS.Timeout | undefined;
  /** Users whose grants changed and whose views are to be decided again; `all` after a role change. */
  private readonly pendingUsers = new Set<string>();
  private pendingAllUsers = false;
  private permissionsTimer: NodeJS.Timeout | undefined;
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
    this.state = {
      sql,
      permissions,
      log,
      typeStats: new SharedTypeStats(sql),
      groups: this.groups,
      byJob: this.byJob,
      timelines: this.timelines,
      stats: this.stats,
    };
    listener.on(JOBS_CHANNEL, (payload) => this.noted(this.pendingJobs, payload));
    listener.on(TIMELINE_CHANNEL, (payload) => this.noted(this.pendingTimelines, payload));
    // Grants and roles: every open view of the users concerned is decided again at once, idle jobs included.
    listener.on(PERMISSIONS_CHANNEL, (userId) => this.permissionsChanged(userId === '*' ? undefined : userId));
    listener.onDisconnect(() => (this.lostAt ??= this.watermark ?? new Date()));
    listener.onConnect(() => {
      // Changes of grants made while the connection was away were not heard.
      if (this.lostAt !== undefined) this.permissionsChanged(undefined);
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
  subscribeAll(
    groupKey: string,
    filter: JobFilter | null,
    wants: (row: JobRow) => boolean,
    subscriber: JobSubscriber,
    options: { readonly statusChangesOnly?: boolean; readonly ability?: AppAbility } = {},
  ): GroupMembership {
    const key = `${subscriber.userId}\u0000${groupKey}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = {
        userId: subscriber.userId,
        joined: ++this.joins,
        filter,
        wants,
        ability: options.ability,
        statusChangesOnly: options.statusChangesOnly === true,
        members: new Set(),
        shown: new Map(),
      };
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
    this.jobJoins.set(subscriber, ++this.joins);
    return addTo(this.byJob, jobId, subscriber);
  }

  /** jobTimeline: the new events of one job. */
  subscribeTimeline(jobId: string, subscriber: TimelineSubscriber): () => void {
    return addTo(this.timelines, jobId, subscriber);
  }

  /** Resolves once every batch begun before this call is delivered (a snapshot, then this: only newer rows follow). */
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
        if (timelineIds.length > 0) await fanOutTimelines(this.state, timelineIds);
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
    for (let start = 0; start < ids.length; start += FAN_OUT_PAGE) {
      const chunk = ids.slice(start, start + FAN_OUT_PAGE);
      const joins = this.joins;
      const rows = await this.sql.rows<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ANY($1::uuid[])`, [chunk]);
      await this.deliverJobs(rows, chunk, joins);
    }
  }

  /**
   * Hands rows read in one query to every subscriber; `asked` are ids that were looked for
   * (those without a row were deleted). Only to subscriptions made before the read (`joins`, the
   * count then): a later one read its snapshot after the rows, so it already holds them, and
   * judged with abilities read before it came (or none) its jobs could be taken back as removed.
   */
  private async deliverJobs(rows: readonly JobRow[], asked: readonly string[], joins: number): Promise<void> {
    this.stats.batches += 1;
    this.stats.rowsFetched += rows.length;
    const batch = new EventBatch(this.sql, this.state.typeStats);
    // The abilities of the subscriptions this batch goes to (made before its read), not of later ones.
    const watchers = [...new Set([...rows.map((row) => row.id), ...asked])].flatMap((id) => [...(this.byJob.get(id) ?? [])]);
    const abilities = await this.permissions.abilitiesFor([
      ...[...this.groups.values()].filter((group) => group.joined <= joins).map((group) => group.userId),
      ...watchers.filter((subscriber) => (this.jobJoins.get(subscriber) ?? 0) <= joins).map((subscriber) => subscriber.userId),
    ]);
    recordFanOut(rows, this.watermark);
    for (const row of rows) {
      if (this.watermark === undefined || row.updated_at > this.watermark) this.watermark = row.updated_at;
      const subject = jobSubject({ scope: row.scope, type: row.type, ownerId: row.owner_id, approvers: row.approvers });
      let event: JobEvent | undefined;
      for (const group of this.groups.values()) {
        const ability = abilities.get(group.userId);
        if (group.joined > joins || ability === undefined) continue;
        const last = group.shown.get(row.id);
        // Already shown: to the whole group, or (a snapshot row) to the member whose snapshot it was.
        const seenBy = last === undefined || newer(row, last) ? undefined : (this.snapshotRows.get(last) ?? 'all');
        if (seenBy === 'all') continue;
        const visible = ability.can('view_monitor', subject);
        if (visible && group.wants(row)) {
          // Progress alone is not news to this view: the row it showed stays its reference.
          if (group.statusChangesOnly && last !== undefined && seenBy === undefined && last.status === row.status) continue;
          remember(group, row);
          send(this.state, group.members, (event ??= { row, batch }), seenBy);
        } else if (last !== undefined) {
          // It leaves the view: once more with its new state if the user may still see it, else as removed.
          group.shown.delete(row.id);
          send(this.state, group.members, visible ? (event ??= { row, batch }) : { row: last, batch, removed: true });
        }
      }
      for (const subscriber of this.byJob.get(row.id) ?? []) {
        const ability = abilities.get(subscriber.userId);
        if ((this.jobJoins.get(subscriber) ?? 0) > joins || ability === undefined) continue;
        if (ability.can('view_monitor', subject)) send(this.state, [subscriber], (event ??= { row, batch }));
        else subscriber.gone?.(row.id);
      }
    }
    if (asked.length > rows.length) announceDeleted(this.state, rows, asked, batch);
  }

  /** A NOTIFY of a grant (its user) or a role change (everyone): decide the open views again soon. */
  private permissionsChanged(userId: string | undefined): void {
    if (userId === undefined) this.pendingAllUsers = true;
    else this.pendingUsers.add(userId);
    this.permissionsTimer ??= setTimeout(() => {
      this.permissionsTimer = undefined;
      const users = this.pendingAllUsers ? undefined : new Set(this.pendingUsers);
      this.pendingAllUsers = false;
      this.pendingUsers.clear();
      void this.serial(() => reviewPermissions(this.state, users)).catch((error: unknown) => {
        this.log.warn({ err: error }, 'could not apply a permission change to open subscriptions; retrying');
        if (users === undefined) this.pendingAllUsers = true;
        else for (const user of users) this.pendingUsers.add(user);
        this.permissionsTimer ??= setTimeout(() => {
          this.permissionsTimer = undefined;
          this.permissionsChanged(undefined);
        }, 1000);
      });
    }, this.batchMs);
  }

  /** Delivers a job's events newer than what its live timeline subscribers have seen (one going live). */
  catchUpTimeline(jobId: string): Promise<void> {
    return this.serial(() => fanOutTimelines(this.state, [jobId]));
  }

  /** After the LISTEN connection was lost: deliver every change since, then carry on. */
  private resync(since: Date): Promise<void> {
    return resyncAfterReconnect(
      {
        state: this.state,
        serial: (task) => this.serial(task),
        fanOutJobs: (ids) => this.fanOutJobs(ids),
        joins: () => this.joins,
        deliverJobs: (rows, asked, joins) => this.deliverJobs(rows, asked, joins),
      },
      since,
    );
  }
}
