import { TIMELINE_COLUMNS } from '../jobs/timeline.types';
import { jobSubject } from '../permissions/ability';
import { FAN_OUT_PAGE, type HubState, type TimelineEventRow } from './hub-subscribers';

/**
 * Each job's events after the oldest cursor among its live subscribers, a page per job per
 * query, until every job's page comes back short: a quiet job's old cursor never holds back
 * a chatty one, and nothing is cut at a page.
 */
export async function fanOutTimelines(hub: HubState, jobIds: readonly string[]): Promise<void> {
  let cursors = new Map<string, bigint>();
  const users: string[] = [];
  for (const id of jobIds) {
    for (const subscriber of hub.timelines.get(id) ?? []) {
      if (!subscriber.live) continue;
      users.push(subscriber.userId);
      const current = cursors.get(id);
      if (current === undefined || subscriber.lastEventId < current) cursors.set(id, subscriber.lastEventId);
    }
  }
  if (cursors.size === 0) return;
  const abilities = await hub.permissions.abilitiesFor(users);
  while (cursors.size > 0) {
    const ids = [...cursors.keys()];
    const events = await hub.sql.rows<TimelineEventRow>(
      `SELECT e.* FROM unnest($1::uuid[], $2::bigint[]) AS k(job_id, after)
         CROSS JOIN LATERAL (SELECT ${TIMELINE_COLUMNS}, job_scope, job_type, job_owner_id FROM timeline_events t
                              WHERE t.job_id = k.job_id AND t.id > k.after ORDER BY t.id LIMIT $3) e
        ORDER BY e.id`,
      [ids, ids.map((id) => String(cursors.get(id))), FAN_OUT_PAGE],
    );
    const pages = new Map<string, { count: number; last: bigint }>();
    for (const event of events) {
      const id = BigInt(event.id);
      const page = pages.get(event.job_id) ?? { count: 0, last: id };
      page.count += 1;
      page.last = id;
      pages.set(event.job_id, page);
      const subject = jobSubject({ scope: event.job_scope, type: event.job_type, ownerId: event.job_owner_id });
      for (const subscriber of hub.timelines.get(event.job_id) ?? []) {
        if (!subscriber.live || id <= subscriber.lastEventId || abilities.get(subscriber.userId)?.can('view_monitor', subject) !== true)
          continue;
        subscriber.lastEventId = id;
        subscriber.deliver(event);
      }
    }
    cursors = new Map([...pages].filter(([, page]) => page.count >= FAN_OUT_PAGE).map(([jobId, page]) => [jobId, page.last]));
  }
}
