import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * jobFacets' rollup: how many jobs there are per (scope, type, owner, status), kept by triggers
 * in the transaction of every change, so a facet count is exact for whatever snapshot reads it.
 * The permission rules and the dropdown filters only name those four columns, so a viewer's
 * facets are a sum over the rollup's rows (thousands) instead of a count over the jobs (millions).
 *
 * The triggers only INSERT deltas (+n, -1), never UPDATE a counter row: concurrent transitions of
 * jobs with the same key take no lock on a shared row, so they neither wait for nor deadlock with
 * each other. The daemon folds each key's deltas into one row (compactFacetCounts), so the
 * table stays about one row per key. Inserts and deletes count per statement (transition tables:
 * a seed or a retention batch adds one row per key, not per job); an update counts only when it
 * changes one of the four columns (progress, heartbeats and messages never fire it).
 */
export class JobFacetCounts1796576242908 implements MigrationInterface {
  name = 'JobFacetCounts1796576242908';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_facet_counts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        scope text COLLATE "C" NOT NULL,
        type text NOT NULL,
        owner_id text NOT NULL,
        status text NOT NULL,
        n bigint NOT NULL
      )`);
    await q.query(`CREATE INDEX job_facet_counts_key_idx ON job_facet_counts (scope, type, owner_id, status)`);
    await q.query(`
      CREATE FUNCTION jobwatch_count_inserted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO job_facet_counts (scope, type, owner_id, status, n)
        SELECT scope, type, owner_id, status, count(*) FROM inserted_jobs GROUP BY 1, 2, 3, 4;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION jobwatch_count_deleted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO job_facet_counts (scope, type, owner_id, status, n)
        SELECT scope, type, owner_id, status, -count(*) FROM deleted_jobs GROUP BY 1, 2, 3, 4;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION jobwatch_count_changed_job() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO job_facet_counts (scope, type, owner_id, status, n)
        VALUES (OLD.scope, OLD.type, OLD.owner_id, OLD.status, -1), (NEW.scope, NEW.type, NEW.owner_id, NEW.status, 1);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION jobwatch_clear_facet_counts() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM job_facet_counts;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER jobs_count_inserted AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_count_inserted_jobs()`);
    await q.query(`CREATE TRIGGER jobs_count_deleted AFTER DELETE ON jobs REFERENCING OLD TABLE AS deleted_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_count_deleted_jobs()`);
    await q.query(`CREATE TRIGGER jobs_count_changed AFTER UPDATE OF status, scope, type, owner_id ON jobs FOR EACH ROW
      WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.scope IS DISTINCT FROM NEW.scope
            OR OLD.type IS DISTINCT FROM NEW.type OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)
      EXECUTE FUNCTION jobwatch_count_changed_job()`);
    await q.query(`CREATE TRIGGER jobs_clear_facet_counts AFTER TRUNCATE ON jobs FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_clear_facet_counts()`);
    // The jobs of now, in the same transaction as the triggers (which block writers until it commits).
    await q.query(`INSERT INTO job_facet_counts (scope, type, owner_id, status, n)
      SELECT scope, type, owner_id, status, count(*) FROM jobs GROUP BY 1, 2, 3, 4`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const trigger of ['jobs_count_inserted', 'jobs_count_deleted', 'jobs_count_changed', 'jobs_clear_facet_counts']) {
      await q.query(`DROP TRIGGER ${trigger} ON jobs`);
    }
    for (const fn of ['jobwatch_count_inserted_jobs', 'jobwatch_count_deleted_jobs', 'jobwatch_count_changed_job', 'jobwatch_clear_facet_counts']) {
      await q.query(`DROP FUNCTION ${fn}()`);
    }
    await q.query(`DROP TABLE job_facet_counts`);
  }
}
