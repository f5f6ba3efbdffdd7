import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a jobUpdated subscriber that comes back after a reconnect needs to end with the truth
 * (its snapshot resends what left its view since `since`):
 * - an index of state changes by time, so "which jobs changed status since T" reads those
 *   events only, never a job's log lines nor the jobs table;
 * - permission_losses: each revoked or changed grant, and each changed or deleted role, with the
 *   rules it gave, so "which jobs did this viewer lose sight of since T" can be answered (no
 *   grant history was kept). Written by triggers, so no writer can forget it; aged out by the
 *   daemon with the rest of the history (RETENTION_DAYS).
 * Built CONCURRENTLY (no transaction): timeline_events is the largest table and is written by
 * every progress flush; each statement is idempotent, so a build that was cut short is redone.
 */
export class SubscriptionResync1796573118652 implements MigrationInterface {
  name = 'SubscriptionResync1796573118652';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    const [state] = (await q.query(
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = 'timeline_events_status_change_idx' AND c.relnamespace = current_schema()::regnamespace`,
    )) as Array<{ valid: boolean }>;
    if (state !== undefined && !state.valid) await q.query(`DROP INDEX CONCURRENTLY timeline_events_status_change_idx`);
    if (state === undefined || !state.valid) {
      await q.query(`CREATE INDEX CONCURRENTLY timeline_events_status_change_idx ON timeline_events (at) WHERE to_status IS NOT NULL`);
    }
    await q.query(`
      CREATE TABLE IF NOT EXISTS permission_losses (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz(3) NOT NULL DEFAULT now(),
        user_id text,
        role_name text NOT NULL,
        scope text,
        rules jsonb
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS permission_losses_user_idx ON permission_losses (user_id, at)`);
    await q.query(`CREATE INDEX IF NOT EXISTS permission_losses_role_idx ON permission_losses (role_name, at) WHERE user_id IS NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS permission_losses_at_idx ON permission_losses (at)`);
    // A grant revoked or changed: its user, scope and the role's rules (NULL when the role is
    // being deleted in the same statement: the role's own row below then holds them).
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_record_grant_loss() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO permission_losses (user_id, role_name, scope, rules)
          VALUES (OLD.user_id, OLD.role_name, OLD.scope, (SELECT rules FROM roles WHERE name = OLD.role_name));
        RETURN NULL;
      END $$`);
    await q.query(`DROP TRIGGER IF EXISTS grants_record_loss ON grants`);
    await q.query(`CREATE TRIGGER grants_record_loss AFTER UPDATE OR DELETE ON grants FOR EACH ROW EXECUTE FUNCTION jobwatch_record_grant_loss()`);
    // A role changed or deleted: the rules it gave everyone who held it (user_id NULL).
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_record_role_loss() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR OLD.rules IS DISTINCT FROM NEW.rules THEN
          INSERT INTO permission_losses (user_id, role_name, scope, rules) VALUES (NULL, OLD.name, NULL, OLD.rules);
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`DROP TRIGGER IF EXISTS roles_record_loss ON roles`);
    await q.query(`CREATE TRIGGER roles_record_loss AFTER UPDATE OR DELETE ON roles FOR EACH ROW EXECUTE FUNCTION jobwatch_record_role_loss()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS roles_record_loss ON roles`);
    await q.query(`DROP TRIGGER IF EXISTS grants_record_loss ON grants`);
    await q.query(`DROP FUNCTION IF EXISTS jobwatch_record_role_loss()`);
    await q.query(`DROP FUNCTION IF EXISTS jobwatch_record_grant_loss()`);
    await q.query(`DROP TABLE IF EXISTS permission_losses`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS timeline_events_status_change_idx`);
  }
}
