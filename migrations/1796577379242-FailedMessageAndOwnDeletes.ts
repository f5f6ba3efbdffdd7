import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two seed-fidelity fixes (issue 12):
 * - a job that ends FAILED or ABENDED shows its error's first line as its `message` (AnomalyArmor's
 *   list: "status message or error description"), whoever ended it (the worker, a trap decision,
 *   the daemon), by a trigger beside the one that stamps finished_at;
 * - the built-in `own-jobs` role may delete its own jobs (the mail migration seed's users delete
 *   their completed jobs); deleteJob itself only takes never-submitted or finished jobs.
 */
export class FailedMessageAndOwnDeletes1796577379242 implements MigrationInterface {
  name = 'FailedMessageAndOwnDeletes1796577379242';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION jobwatch_error_message_line() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.error_message IS NOT NULL THEN
          NEW.message := left(split_part(btrim(NEW.error_message, E' \\t\\r\\n'), E'\\n', 1), 1000);
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER jobs_error_message_line BEFORE UPDATE OF status ON jobs
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('FAILED', 'ABENDED'))
        EXECUTE FUNCTION jobwatch_error_message_line()`);
    await q.query(`
      UPDATE roles SET description = 'Sees, creates and cancels their own jobs only, and deletes them once finished.',
             rules = '[{"action": ["view_monitor", "create", "cancel", "delete"], "subject": "Job", "conditions": {"ownerId": "\${user.id}"}}]'::jsonb,
             updated_at = now()
       WHERE name = 'own-jobs' AND built_in`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE roles SET description = 'Sees, creates and cancels their own jobs only.',
             rules = '[{"action": ["view_monitor", "create", "cancel"], "subject": "Job", "conditions": {"ownerId": "\${user.id}"}}]'::jsonb,
             updated_at = now()
       WHERE name = 'own-jobs' AND built_in`);
    await q.query(`DROP TRIGGER jobs_error_message_line ON jobs`);
    await q.query(`DROP FUNCTION jobwatch_error_message_line()`);
  }
}
