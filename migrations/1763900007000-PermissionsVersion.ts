import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One number for everyone's permissions, bumped in the transaction of every change to grants
 * or roles (by trigger, so no writer can forget it). Each instance reads it, one row by primary
 * key, before it trusts a cached ability: a change takes effect on the very next request on
 * every instance, not whenever that instance's NOTIFY happens to arrive.
 */
export class PermissionsVersion1763900007000 implements MigrationInterface {
  name = 'PermissionsVersion1763900007000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE permissions_version (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        version bigint NOT NULL DEFAULT 1
      )`);
    await q.query(`INSERT INTO permissions_version DEFAULT VALUES`);
    await q.query(`
      CREATE FUNCTION jobwatch_bump_permissions_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE permissions_version SET version = version + 1 WHERE id;
        RETURN NULL;
      END $$`);
    // Row triggers: a statement that changes nothing (ON CONFLICT DO NOTHING at every start,
    // a refused update) bumps nothing, so idle instances keep their caches.
    for (const table of ['grants', 'roles']) {
      await q.query(`
        CREATE TRIGGER ${table}_bump_permissions_version AFTER INSERT OR UPDATE OR DELETE ON ${table}
          FOR EACH ROW EXECUTE FUNCTION jobwatch_bump_permissions_version()`);
      await q.query(`
        CREATE TRIGGER ${table}_truncate_bumps_permissions_version AFTER TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_bump_permissions_version()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['grants', 'roles']) {
      await q.query(`DROP TRIGGER ${table}_bump_permissions_version ON ${table}`);
      await q.query(`DROP TRIGGER ${table}_truncate_bumps_permissions_version ON ${table}`);
    }
    await q.query(`DROP FUNCTION jobwatch_bump_permissions_version()`);
    await q.query(`DROP TABLE permissions_version`);
  }
}
