import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyset indexes for the filter + order pairs the monitor uses most that the Init migration
 * left to a filtered walk of the order's own index:
 * - an own-jobs user's every query carries `owner_id = <them>` (their permission), and their
 *   monitor lists by start or finish time: (owner, started) and (owner, finished), beside the
 *   existing (owner, created);
 * - a status (one tab entry) listed by name: (status, name), beside status by created, started
 *   and finished.
 * A rare owner or status would otherwise make each page read thousands of rows to keep 50.
 * Like every index on `jobs`, none covers the columns workers update all the time (progress_*,
 * heartbeat_at, message, updated_at), so progress flushes stay HOT. Owner + name, type + any
 * order but created, and scope subtrees stay a filtered walk or a sort of the (small) match.
 */
export class FilterOrderIndexes1763900006000 implements MigrationInterface {
  name = 'FilterOrderIndexes1763900006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX jobs_owner_started_idx ON jobs (owner_id, (coalesce(started_at, '-infinity')), id)`);
    await q.query(`CREATE INDEX jobs_owner_finished_idx ON jobs (owner_id, (coalesce(finished_at, '-infinity')), id)`);
    await q.query(`CREATE INDEX jobs_status_name_idx ON jobs (status, name, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_owner_started_idx, jobs_owner_finished_idx, jobs_status_name_idx`);
  }
}
