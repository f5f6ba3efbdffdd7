import type { Sql } from '../db/sql';
import { SqlParams } from '../db/sql-params';
import type { JobFilter } from '../jobs/job-filter.input';
import { jobFilterConditions } from '../jobs/job-filter.sql';
import { JOB_COLUMNS, type JobRow } from '../jobs/job.row';
import type { AppAbility } from '../permissions/ability';
import { jobPredicate } from '../permissions/rules-to-sql';
import { EventBatch, rulesKey } from './event-batch';
import { remember, send, subjectOf, type HubState } from './hub-subscribers';

/** Jobs a grant makes visible that are sent to a jobUpdated view at once (newest first), like a snapshot. */
export const MAX_NEWLY_VISIBLE = 500;

/**
 * Applies the current grants of `users` (undefined: everyone) to their open subscriptions,
 * whether or not their jobs change: in each jobUpdated view, a shown job they may no longer
 * see is sent as removed, and the matching jobs they may now see (and could not) are sent;
 * jobProgress and jobTimeline of a job out of sight end.
 */
export async function reviewPermissions(hub: HubState, users: ReadonlySet<string> | undefined): Promise<void> {
  const concerned = (userId: string) => users === undefined || users.has(userId);
  const affected = new Set<string>();
  for (const group of hub.groups.values()) if (concerned(group.userId)) affected.add(group.userId);
  const singleJobs = new Set<string>();
  for (const [jobId, subscribers] of [...hub.byJob, ...hub.timelines] as Array<[string, Set<{ userId: string }>]>) {
    for (const subscriber of subscribers) {
      if (!concerned(subscriber.userId)) continue;
      affected.add(subscriber.userId);
      singleJobs.add(jobId);
    }
  }
  if (affected.size === 0) return;
  const abilities = await hub.permissions.abilitiesFor(affected);
  const batch = new EventBatch(hub.sql, hub.typeStats);
  for (const group of [...hub.groups.values()]) {
    const ability = abilities.get(group.userId);
    if (ability === undefined) continue;
    const before = group.ability;
    group.ability = ability;
    if (before !== undefined && rulesKey(before) === rulesKey(ability)) continue;
    for (const [id, row] of [...group.shown]) {
      if (ability.can('view_monitor', subjectOf(row))) continue;
      group.shown.delete(id);
      send(hub, group.members, { row, batch, removed: true });
    }
    if (before === undefined) continue;
    for (const row of await newlyVisible(hub.sql, group.filter, before, ability)) {
      if (group.shown.has(row.id) || !group.wants(row)) continue;
      remember(group, row);
      send(hub, group.members, { row, batch });
    }
  }
  if (singleJobs.size === 0) return;
  const facts = await hub.sql.rows<Pick<JobRow, 'id' | 'scope' | 'type' | 'owner_id' | 'approvers'>>(
    'SELECT id, scope, type, owner_id, approvers FROM jobs WHERE id = ANY($1::uuid[])',
    [[...singleJobs]],
  );
  for (const row of facts) {
    const subject = subjectOf(row);
    // A subscriber that joined while the abilities were read is not judged here: its own
    // context read the permissions after the change, so what it was sent already follows it.
    const hidden = (userId: string) => {
      const ability = abilities.get(userId);
      return concerned(userId) && ability !== undefined && !ability.can('view_monitor', subject);
    };
    for (const subscriber of hub.byJob.get(row.id) ?? []) if (hidden(subscriber.userId)) subscriber.gone?.(row.id);
    for (const subscriber of hub.timelines.get(row.id) ?? []) if (hidden(subscriber.userId)) subscriber.end();
  }
}

/** The jobs matching `filter` that `now` may see and `before` could not, newest first. */
function newlyVisible(sql: Sql, filter: JobFilter | null, before: AppAbility, now: AppAbility): Promise<JobRow[]> {
  const params = new SqlParams();
  const conditions = [
    jobPredicate(now, 'view_monitor', params),
    `NOT coalesce((${jobPredicate(before, 'view_monitor', params)}), false)`,
    ...jobFilterConditions(filter, params),
  ];
  return sql.rows<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${MAX_NEWLY_VISIBLE}`,
    params.values,
  );
}
