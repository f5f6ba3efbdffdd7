import { JOB_COLUMNS, type JobRow } from '../jobs/job.row';
import type { HubState } from './hub-subscribers';
import { fanOutTimelines } from './timeline-fan-out';

// The job event hub's catch-up after its LISTEN connection came back: the notifications sent
// meanwhile were lost, so the changes are read from the table. (A client that reconnects is
// resynchronised by resync.ts, from its own snapshot.)

/** Rows per page of a resync (each page scans the jobs changed in the window: fewer, larger pages). */
const RESYNC_PAGE = 5_000;
/**
 * After a reconnect, changes are read again from this long before the newest change seen. An
 * updated_at is taken when the row is written, not when the transaction commits: a change
 * committed after a newer one was seen (a longer transaction) still falls in the window.
 * Subscribers drop what they already have.
 */
export const RESYNC_SLACK_MS = 10_000;

/** What a resync uses of the hub: its state, its queue of batches, and its job fan-out. */
export interface ResyncHub {
  readonly state: HubState;
  serial(task: () => Promise<void>): Promise<void>;
  fanOutJobs(ids: readonly string[]): Promise<void>;
  /** How many subscriptions were made so far: taken before a read, for deliverJobs. */
  joins(): number;
  deliverJobs(rows: readonly JobRow[], asked: readonly string[], joins: number): Promise<void>;
}

/** After the LISTEN connection was lost: deliver every change since, then carry on. */
export async function resyncAfterReconnect(hub: ResyncHub, since: Date): Promise<void> {
  const from = new Date(since.getTime() - RESYNC_SLACK_MS);
  try {
    await hub.serial(async () => {
      await hub.fanOutJobs([...hub.state.byJob.keys()]);
      if (hub.state.groups.size > 0) {
        // Oldest first, a page at a time, to the end: the newest changes (the terminal ones) are never cut off.
        let after = { at: from, id: '00000000-0000-0000-0000-000000000000' };
        for (;;) {
          const joins = hub.joins();
          const rows = await hub.state.sql.rows<JobRow>(
            `SELECT ${JOB_COLUMNS} FROM jobs WHERE (updated_at, id) > ($1::timestamptz, $2::uuid) ORDER BY updated_at, id LIMIT ${RESYNC_PAGE}`,
            [after.at, after.id],
          );
          await hub.deliverJobs(rows, [], joins);
          const last = rows.at(-1);
          if (last === undefined || rows.length < RESYNC_PAGE) break;
          after = { at: last.updated_at, id: last.id };
        }
        await announceDeleted(hub);
      }
      await fanOutTimelines(hub.state, [...hub.state.timelines.keys()]);
    });
    hub.state.stats.resyncs += 1;
    hub.state.log.info({ since: from }, 'subscribers resynchronised after the LISTEN connection came back');
  } catch (error) {
    hub.state.log.warn({ err: error }, 'resync after reconnect failed; retrying');
    setTimeout(() => void resyncAfterReconnect(hub, since), 1000).unref();
  }
}

/** The jobs groups had shown that were deleted while notifications were lost. */
async function announceDeleted(hub: ResyncHub): Promise<void> {
  const shown = new Set<string>();
  for (const group of hub.state.groups.values()) for (const id of group.shown.keys()) shown.add(id);
  const ids = [...shown];
  for (let start = 0; start < ids.length; start += RESYNC_PAGE) {
    const chunk = ids.slice(start, start + RESYNC_PAGE);
    const joins = hub.joins();
    const gone = await hub.state.sql.rows<{ id: string }>(
      `SELECT x.id::text AS id FROM unnest($1::uuid[]) AS x(id) WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = x.id)`,
      [chunk],
    );
    if (gone.length > 0)
      await hub.deliverJobs(
        [],
        gone.map((row) => row.id),
        joins,
      );
  }
}
