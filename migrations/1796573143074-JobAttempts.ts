import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every attempt's record (issue 12, "every attempt's history"): when a job starts a new attempt
 * (restartJob: attempt + 1), the attempt that ended is kept as it ended, with its status, step,
 * worker, times, and its error and stack trace, which the job row then clears. A trigger does it,
 * so no writer can forget it; it fires only when the attempt number grows, never on the hot
 * paths (progress, heartbeats, claims). The current attempt is the job row itself. The records
 * go with their job (deleteJob, retention): the timeline keeps the history after that.
 */
export class JobAttempts1796573143074 implements MigrationInterface {
  name = 'JobAttempts1796573143074';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_attempts (
        job_id uuid NOT NULL,
        attempt integer NOT NULL CHECK (attempt >= 1),
        status text NOT NULL,
        step text NOT NULL,
        worker_id text,
        started_at timestamptz(3),
        finished_at timestamptz(3),
        error_message text,
        error_stack text,
        PRIMARY KEY (job_id, attempt)
      )`);
    await q.query(`
      CREATE FUNCTION jobwatch_keep_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO job_attempts (job_id, attempt, status, step, worker_id, started_at, finished_at, error_message, error_stack)
        VALUES (OLD.id, OLD.attempt, OLD.status, OLD.step, OLD.worker_id, OLD.started_at, OLD.finished_at, OLD.error_message, OLD.error_stack)
        ON CONFLICT (job_id, attempt) DO NOTHING;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER jobs_keep_attempt AFTER UPDATE OF attempt ON jobs
        FOR EACH ROW WHEN (NEW.attempt > OLD.attempt) EXECUTE FUNCTION jobwatch_keep_attempt()`);
    // Not a foreign key: one would forbid `TRUNCATE jobs` (the seed's --fresh, tests) unless it
    // named this table too. Deleted jobs (deleteJob, retention) take their attempts with them,
    // in the same statement, once per statement.
    await q.query(`
      CREATE FUNCTION jobwatch_forget_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM job_attempts a USING gone WHERE a.job_id = gone.id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER jobs_forget_attempts AFTER DELETE ON jobs REFERENCING OLD TABLE AS gone
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_forget_attempts()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER jobs_forget_attempts ON jobs`);
    await q.query(`DROP FUNCTION jobwatch_forget_attempts()`);
    await q.query(`DROP TRIGGER jobs_keep_attempt ON jobs`);
    await q.query(`DROP FUNCTION jobwatch_keep_attempt()`);
    await q.query(`DROP TABLE job_attempts`);
  }
}
