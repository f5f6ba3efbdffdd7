import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Change notifications for real-time subscriptions. Statement-level triggers read the
 * statement's transition tables and NOTIFY the ids of the jobs that changed, in chunks well
 * under the 8000-byte payload limit: ids only, every instance fetches what it needs once.
 * A job counts as changed when its updated_at moved, so heartbeats (which do not touch it)
 * stay silent. Timeline inserts notify the ids of their jobs.
 */
export class ChangeNotifications1763900001000 implements MigrationInterface {
  name = 'ChangeNotifications1763900001000';

  async up(q: QueryRunner): Promise<void> {
    // One helper: send a set of ids on a channel, 150 per notification.
    await q.query(`
      CREATE FUNCTION jobwatch_notify_ids(channel text, ids text[]) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        i integer := 1;
      BEGIN
        WHILE i <= coalesce(array_length(ids, 1), 0) LOOP
          PERFORM pg_notify(channel, array_to_string(ids[i:i + 149], ','));
          i := i + 150;
        END LOOP;
      END $$`);
    await q.query(`
      CREATE FUNCTION jobwatch_notify_jobs_written() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM jobwatch_notify_ids('jobwatch_jobs', ARRAY(SELECT id::text FROM new_rows));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION jobwatch_notify_jobs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM jobwatch_notify_ids('jobwatch_jobs', ARRAY(
          SELECT n.id::text FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.updated_at IS DISTINCT FROM o.updated_at));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION jobwatch_notify_jobs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM jobwatch_notify_ids('jobwatch_jobs', ARRAY(SELECT id::text FROM old_rows));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_jobs_written()`);
    await q.query(`
      CREATE TRIGGER jobs_notify_update AFTER UPDATE ON jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_jobs_updated()`);
    await q.query(`
      CREATE TRIGGER jobs_notify_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_jobs_deleted()`);
    await q.query(`
      CREATE FUNCTION jobwatch_notify_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM jobwatch_notify_ids('jobwatch_timeline', ARRAY(SELECT DISTINCT job_id::text FROM new_rows));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER timeline_notify_insert AFTER INSERT ON timeline_events REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_timeline()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER timeline_notify_insert ON timeline_events`);
    await q.query(`DROP TRIGGER jobs_notify_delete ON jobs`);
    await q.query(`DROP TRIGGER jobs_notify_update ON jobs`);
    await q.query(`DROP TRIGGER jobs_notify_insert ON jobs`);
    await q.query(`DROP FUNCTION jobwatch_notify_timeline(), jobwatch_notify_jobs_deleted(), jobwatch_notify_jobs_updated(),
      jobwatch_notify_jobs_written(), jobwatch_notify_ids(text, text[])`);
  }
}
