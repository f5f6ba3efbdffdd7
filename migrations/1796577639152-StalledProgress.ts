import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a stall needs, per job (none indexed: progress writes stay HOT):
 * - `progress_advanced_at`: when its figures last moved (done, total, phase or step); the claim
 *   and a trap resumed set it.
 * - `progress_stalled_since`: set by the daemon (to progress_advanced_at) once a RUNNING job
 *   that keeps heartbeating has not advanced for STALL_AFTER_MS; cleared when it advances.
 * - `progress_rate_at`: the moment the stored smoothed rate speaks for; with no news since, the
 *   rate shown decays from there, and the daemon writes the decayed rate so subscribers see it.
 */
export class StalledProgress1796577639152 implements MigrationInterface {
  name = 'StalledProgress1796577639152';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN progress_advanced_at timestamptz(3), ADD COLUMN progress_stalled_since timestamptz(3),
      ADD COLUMN progress_rate_at timestamptz(3)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs DROP COLUMN progress_advanced_at, DROP COLUMN progress_stalled_since, DROP COLUMN progress_rate_at`);
  }
}
