import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two things progress needs to be right whatever instance received the reports:
 *
 * - `progress_own`: whether the worker reports the job's own done/total in this attempt (else
 *   they are the sums of its tasks). An instance that starts, or sees only some of a job's
 *   reports, reads it from the row instead of guessing. Nullable (null = not yet), never
 *   indexed, so progress updates stay HOT; the claim resets it.
 * - `jobwatch_leases`: every change of a job's lease or status notifies `<id>.<lease token>`
 *   (empty token once the attempt ended), so each instance's lease cache drops entries another
 *   instance, a person or the daemon made stale. A row trigger restricted to statements that
 *   set status or lease_token: progress flushes and heartbeats never fire it.
 */
export class LeasesAndOwnFigures1763900004000 implements MigrationInterface {
  name = 'LeasesAndOwnFigures1763900004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN progress_own boolean`);
    await q.query(`
      CREATE FUNCTION jobwatch_notify_lease() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('jobwatch_leases', NEW.id::text || '.' || coalesce(NEW.lease_token::text, ''));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER jobs_notify_lease AFTER UPDATE OF status, lease_token ON jobs
        FOR EACH ROW WHEN (OLD.lease_token IS DISTINCT FROM NEW.lease_token OR OLD.status IS DISTINCT FROM NEW.status)
        EXECUTE FUNCTION jobwatch_notify_lease()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER jobs_notify_lease ON jobs`);
    await q.query(`DROP FUNCTION jobwatch_notify_lease()`);
    await q.query(`ALTER TABLE jobs DROP COLUMN progress_own`);
  }
}
