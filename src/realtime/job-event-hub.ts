import type { Logger } from 'pino';
import type { Sql } from '../db/sql';
import type { PgListener } from '../db/pg-listener';
import { jobSubject, type AppAbility } from '../permissions/ability';
import type { PermissionStore } from '../permissions/permission-store';
import { JOB_COLUMNS, type JobRow } from '../jobs/job.row';
import { TIMELINE_COLUMNS, type TimelineRow } from '../jobs/timeline.types';

export const JOBS_CHANNEL = 'jobwatch_jobs';
export const TIMELINE_CHANNEL = 'jobwatch_timeline';

/** A subscriber to job changes: all jobs (jobUpdated) or one job (jobProgress). */
export interface JobSubscriber {
  readonly userId: string;
  /** The subscriber's own filter, without permissions (the hub checks those). */
  wants(row: JobRow): boolean;
  deliver(row: JobRow): void;
  /** The job is gone (deleted, or no longer visible to this user). */
  gone?(jobId: string): void;
}

export interface TimelineSubscriber {
  readonly userId: string;
  /** The last event id it has seen; only later ones are delivered. */
  lastEventId: bigint;
  deliver(event: TimelineRow): void;
}

/** A group of jobUpdated subscribers with the same user and filter: the filter runs once per group. */
interface Group {
  readonly userId: string;
  readonly wants: (row: JobRow) => boolean;
  readonly members: Set<JobSubscriber>;
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
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** The newest updated_at seen: after a reconnect, everything since is read again. */
  private watermark: Date | undefined;
  private lostAt: Date | undefined;
  readonly stats = { batches: 0, rowsFetched: 0, delivered: 0 };

  constructor(
    private readonly sql: Sql,
    listener: PgListener,
    private readonly permissions: PermissionStore,
    private readonly log: Logger,
    private readonly batchMs = 10,
  ) {
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
  subscribeAll(groupKey: string, subscriber: JobSubscriber): () => void {
    const key = `${subscriber.userId}\u0000${groupKey}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { userId: subscriber.userId, wants: subscriber.wants.bind(subscriber), members: new Set() };
      this.groups.set(key, group);
    }
    group.members.add(subscriber);
    return () => {
      group.members.delete(subscriber);
      if (group.members.size === 0) this.groups.delete(key);
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
    const rows = await this.sql.rows<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ANY($1::uuid[])`, [ids]);
    this.stats.batches += 1;
    this.stats.rowsFetched += rows.length;
    await this.deliverJobs(rows, new Set(ids));
  }

  private async deliverJobs(rows: readonly JobRow[], asked: ReadonlySet<string>): Promise<void> {
    const abilities = await this.abilities([
      ...[...this.groups.values()].map((group) => group.userId),
      ...rows.flatMap((row) => [...(this.byJob.get(row.id) ?? [])].map((subscriber) => subscriber.userId)),
    ]);
    for (const row of rows) {
      if (this.watermark === undefined || row.updated_at > this.watermark) this.watermark = row.updated_at;
      const subject = jobSubject({ scope: row.scope, type: row.type, ownerId: row.owner_id, approvers: row.approvers });
      for (const group of this.groups.values()) {
        if (!abilities.get(group.userId)?.can('view_monitor', subject) || !group.wants(row)) continue;
        for (const subscriber of group.members) this.deliver(subscriber, row);
      }
      for (const subscriber of this.byJob.get(row.id) ?? []) {
        if (abilities.get(subscriber.userId)?.can('view_monitor', subject) === true) this.deliver(subscriber, row);
        else subscriber.gone?.(row.id);
      }
    }
    const found = new Set(rows.map((row) => row.id));
    for (const id of asked) {
      if (found.has(id)) continue;
      for (const subscriber of this.byJob.get(id) ?? []) subscriber.gone?.(id);
    }
  }

  private deliver(subscriber: JobSubscriber, row: JobRow): void {
    this.stats.delivered += 1;
    try {
      subscriber.deliver(row);
    } catch (error) {
      this.log.error({ err: error }, 'subscriber failed to take an event');
    }
  }

  /** Delivers a job's events newer than what its timeline subscribers have seen (after subscribing). */
  catchUpTimeline(jobId: string): Promise<void> {
    return this.serial(() => this.fanOutTimelines([jobId]));
  }

  private async fanOutTimelines(jobIds: readonly string[]): Promise<void> {
    let after = -1n;
    for (const id of jobIds) {
      for (const subscriber of this.timelines.get(id) ?? []) {
        if (after === -1n || subscriber.lastEventId < after) after = subscriber.lastEventId;
      }
    }
    if (after === -1n) return;
    const events = await this.sql.rows<TimelineRow & { job_scope: string; job_type: string; job_owner_id: string }>(
      `SELECT ${TIMELINE_COLUMNS}, job_scope, job_type, job_owner_id FROM timeline_events
        WHERE job_id = ANY($1::uuid[]) AND id > $2 ORDER BY id LIMIT 10000`,
      [jobIds, after.toString()],
    );
    const abilities = await this.abilities(jobIds.flatMap((id) => [...(this.timelines.get(id) ?? [])].map((subscriber) => subscriber.userId)));
    for (const event of events) {
      const subject = jobSubject({ scope: event.job_scope, type: event.job_type, ownerId: event.job_owner_id });
      const id = BigInt(event.id);
      for (const subscriber of this.timelines.get(event.job_id) ?? []) {
        if (id <= subscriber.lastEventId || abilities.get(subscriber.userId)?.can('view_monitor', subject) !== true) continue;
        subscriber.lastEventId = id;
        subscriber.deliver(event);
      }
    }
  }

  /** After the LISTEN connection was lost: deliver every change since, then carry on. */
  private async resync(since: Date): Promise<void> {
    const from = new Date(since.getTime() - 2_000);
    try {
      await this.serial(async () => {
        const watched = [...this.byJob.keys()];
        const rows =
          this.groups.size > 0
            ? await this.sql.rows<JobRow>(
                `SELECT ${JOB_COLUMNS} FROM jobs WHERE updated_at >= $1 OR id = ANY($2::uuid[]) ORDER BY updated_at LIMIT 50000`,
                [from, watched],
              )
            : await this.sql.rows<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ANY($1::uuid[])`, [watched]);
        await this.deliverJobs(rows, new Set(watched));
        await this.fanOutTimelines([...this.timelines.keys()]);
      });
      this.log.info({ since: from }, 'subscribers resynchronised after the LISTEN connection came back');
    } catch (error) {
      this.log.warn({ err: error }, 'resync after reconnect failed; retrying');
      setTimeout(() => void this.resync(since), 1000).unref();
    }
  }

  private async abilities(userIds: readonly string[]): Promise<Map<string, AppAbility>> {
    const unique = [...new Set(userIds)];
    const loaded = await Promise.all(unique.map((userId) => this.permissions.abilityFor(userId)));
    return new Map(unique.map((userId, index) => [userId, loaded[index] as AppAbility]));
  }
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
