import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `progress_sequence`: the last sequence number of the current lease's progress reports that is
 * stored (null or 0: none yet; the claim sets 0). A worker numbers its reports 1, 2, 3... per lease;
 * a flush applies a range only when it follows what is stored, and writes each log line of it
 * at most once, so a report sent again after an error (to this instance or another) is never
 * counted twice.
 *
 * `ended_lease_token`: the lease whose worker ended the attempt itself (completeJob, failJob,
 * confirmCancel), kept when the status change clears `lease_token`, so that the worker's retry of
 * the same call after a lost answer gets the same answer instead of LEASE_LOST. The claim clears it.
 *
 * Neither is indexed: progress updates and heartbeats stay HOT.
 */
export class ProgressSequenceAndEndedLease1796577632984 implements MigrationInterface {
  name = 'ProgressSequenceAndEndedLease1796577632984';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN progress_sequence bigint, ADD COLUMN ended_lease_token uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs DROP COLUMN progress_sequence, DROP COLUMN ended_lease_token`);
  }
}
