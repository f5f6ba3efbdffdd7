import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * jobTypeTrend reads one type's finished runs of a time window: one range of
 * (type, finished_at), finished jobs only (a job that runs has no place in it, and leaves no
 * entry to skip). Status and started_at ride along (INCLUDE), so a viewer whose permission
 * needs no other column (an admin's) is answered from the index alone. Finished jobs rarely
 * change again, and no column workers update is covered: progress updates stay HOT.
 * Built CONCURRENTLY (not in a transaction); a build left INVALID by an interruption is rebuilt.
 */
export class TypeFinishedIndex1796574526023 implements MigrationInterface {
  name = 'TypeFinishedIndex1796574526023';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    const [state] = (await q.query(
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = 'jobs_type_finished_idx' AND c.relnamespace = current_schema()::regnamespace`,
    )) as Array<{ valid: boolean }>;
    if (state?.valid === true) return;
    if (state !== undefined) await q.query(`DROP INDEX CONCURRENTLY jobs_type_finished_idx`);
    await q.query(
      `CREATE INDEX CONCURRENTLY jobs_type_finished_idx ON jobs (type, finished_at) INCLUDE (status, started_at) WHERE finished_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS jobs_type_finished_idx`);
  }
}
