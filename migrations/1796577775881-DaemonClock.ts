import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The daemon's clock: one row, ticked by whichever instance runs the daemon. A pause between two
 * ticks longer than DAEMON_OUTAGE_MS means nobody could write a heartbeat (the database was
 * unreachable, or no instance ran): `resumed_at` then moves to the first tick after it, and every
 * held job's heartbeat timeout counts from there. `ticked_at` NULL: never ticked, no evidence of
 * an outage; `resumed_at` '-infinity': no outage seen yet.
 */
export class DaemonClock1796577775881 implements MigrationInterface {
  name = 'DaemonClock1796577775881';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE daemon_clock (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        ticked_at timestamptz(3),
        resumed_at timestamptz(3) NOT NULL DEFAULT '-infinity'
      )`);
    await q.query(`INSERT INTO daemon_clock DEFAULT VALUES`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE daemon_clock`);
  }
}
