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
  /**
   * Built CONCURRENTLY, which cannot run in a transaction: on a live database with millions of
   * jobs a plain CREATE INDEX would block every claim, heartbeat and progress flush of every
   * instance until it finished. A build that was interrupted leaves an INVALID index behind;
   * it is dropped and built again.
   */
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    for (const [name, definition] of INDEXES) {
      const [state] = (await q.query(
        `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`,
        [name],
      )) as Array<{ valid: boolean }>;
      if (state?.valid === true) continue;
      if (state !== undefined) await q.query(`DROP INDEX CONCURRENTLY ${name}`);
      await q.query(`CREATE INDEX CONCURRENTLY ${name} ON jobs ${definition}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name] of INDEXES) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  }
}

const INDEXES: ReadonlyArray<readonly [string, string]> = [
  ['jobs_owner_started_idx', `(owner_id, (coalesce(started_at, '-infinity')), id)`],
  ['jobs_owner_finished_idx', `(owner_id, (coalesce(finished_at, '-infinity')), id)`],
  ['jobs_status_name_idx', '(status, name, id)'],
];
