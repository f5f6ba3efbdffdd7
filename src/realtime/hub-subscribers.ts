import type { Logger } from 'pino';
import type { Sql } from '../db/sql';
import type { JobFilter } from '../jobs/job-filter.input';
import type { JobRow } from '../jobs/job.row';
import type { TimelineRow } from '../jobs/timeline.types';
import { jobSubject, type AppAbility } from '../permissions/ability';
import type { PermissionStore } from '../permissions/permission-store';
import type { EventBatch, SharedTypeStats } from './event-batch';

// The subscribers of the job event hub (job-event-hub.ts), the groups jobUpdated subscribers
// share, and what the hub's parts (timeline-fan-out.ts, permission-review.ts) share.

/** Rows read per query when fanning out: no read is unbounded. */
export const FAN_OUT_PAGE = 1_000;
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
  /** The viewer may no longer see the job: end after what is queued (each event is still checked). */
  end(): void;
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
export interface Group {
  readonly userId: string;
  /** Which subscription made it (the hub's count): a batch read before that is not for it. */
  readonly joined: number;
  /** The filter, for reading the jobs a grant makes visible. */
  readonly filter: JobFilter | null;
  readonly wants: (row: JobRow) => boolean;
  /** The ability the group's view was last decided with: a permission change is compared with it. */
  ability: AppAbility | undefined;
  /** Send a job again only when its status differs from the one shown (statusChangesOnly). */
  readonly statusChangesOnly: boolean;
  readonly members: Set<JobSubscriber>;
  /**
   * The last row shown for each job in the group's view (by the hub, or a member's snapshot):
   * a job that stops matching is sent once more, with its new state; one that is deleted or
   * becomes invisible is announced as removed, with this row. Also the group's order key: a
   * version not newer than the one shown is not sent again.
   */
  readonly shown: Map<string, JobRow>;
}

/** What the hub shares with its parts: the subscribers, and where they read and log. */
export interface HubState {
  readonly sql: Sql;
  readonly permissions: PermissionStore;
  readonly log: Logger;
  readonly typeStats: SharedTypeStats;
  readonly groups: Map<string, Group>;
  readonly byJob: Map<string, Set<JobSubscriber>>;
  readonly timelines: Map<string, Set<TimelineSubscriber>>;
  readonly stats: { batches: number; rowsFetched: number; delivered: number; resyncs: number };
}

/** Hands `event` to each subscriber (but `except`); one that throws does not stop the others. */
export function send(
  hub: Pick<HubState, 'stats' | 'log'>,
  subscribers: Iterable<JobSubscriber>,
  event: JobEvent,
  except?: JobSubscriber,
): void {
  for (const subscriber of subscribers) {
    if (subscriber === except) continue;
    hub.stats.delivered += 1;
    try {
      subscriber.deliver(event);
    } catch (error) {
      hub.log.error({ err: error }, 'subscriber failed to take an event');
    }
  }
}

export function subjectOf(row: Pick<JobRow, 'scope' | 'type' | 'owner_id' | 'approvers'>) {
  return jobSubject({ scope: row.scope, type: row.type, ownerId: row.owner_id, approvers: row.approvers });
}

/** Whether `row` is a later version of the job than `than` (updated_at follows commit order per job). */
export function newer(row: JobRow, than: JobRow): boolean {
  return newerThan(row, than.attempt, than.updated_at.getTime());
}

/** Whether `row` is a later version of the job than the one of `attempt` updated at `updatedAtMs`. */
export function newerThan(row: JobRow, attempt: number, updatedAtMs: number): boolean {
  return row.attempt > attempt || (row.attempt === attempt && row.updated_at.getTime() > updatedAtMs);
}

export function remember(group: Group, row: JobRow): void {
  group.shown.delete(row.id);
  group.shown.set(row.id, row);
  if (group.shown.size > MAX_SHOWN_PER_GROUP) group.shown.delete(group.shown.keys().next().value as string);
}

export function addTo<V>(map: Map<string, Set<V>>, key: string, value: V): () => void {
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

/** The jobs of `asked` that have no row in `rows` were deleted: each view that showed one hears it removed. */
export function announceDeleted(hub: HubState, rows: readonly JobRow[], asked: readonly string[], batch: EventBatch): void {
  const found = new Set(rows.map((row) => row.id));
  for (const id of asked) {
    if (found.has(id)) continue;
    for (const group of hub.groups.values()) {
      const last = group.shown.get(id);
      if (last === undefined) continue;
      group.shown.delete(id);
      send(hub, group.members, { row: last, batch, removed: true });
    }
    for (const subscriber of hub.byJob.get(id) ?? []) subscriber.gone?.(id);
  }
}
