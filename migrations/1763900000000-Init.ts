import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The foundation schema: jobs, their tasks and timeline, roles and grants.
 *
 * Index policy for `jobs`:
 * - every list order (created, started, finished, name) has a keyset index ending in `id`;
 *   started/finished sort on `coalesce(x, '-infinity')` so unstarted jobs page like any other
 *   (last when descending) and a cursor is one row comparison;
 * - the common leading filters (status, owner, type) have their own (filter, created_at, id);
 * - the name substring search has a trigram GIN index;
 * - no index touches the columns workers update all the time (progress, heartbeat, message,
 *   updated_at), and the table keeps 30 % free space per page, so those updates stay HOT: a
 *   progress flush rewrites many rows of one page in one statement, and versions it made dead
 *   cannot be pruned before it commits, so the page needs room for them all (bench:progress).
 */
export class Init1763900000000 implements MigrationInterface {
  name = 'Init1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);

    await q.query(`
      CREATE TABLE jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        type text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
        scope text COLLATE "C" NOT NULL CHECK (length(scope) BETWEEN 1 AND 300),
        owner_id text NOT NULL,
        owner_name text,
        status text NOT NULL CHECK (status IN ('CREATED','WAITING_APPROVAL','PENDING','RUNNING','TRAPPED',
          'TRAP_PAUSED','CANCELLING','ROLLBACK','SUCCEEDED','FAILED','CANCELLED','REJECTED','EXPIRED','ABENDED')),
        step text NOT NULL DEFAULT 'PRE' CHECK (step IN ('PRE','RUN','POST')),
        message text,
        error_message text,
        error_stack text,
        config jsonb NOT NULL DEFAULT '{}'::jsonb,
        secrets bytea,
        approvers text[] NOT NULL DEFAULT '{}',
        requires_approval boolean NOT NULL DEFAULT false,
        scheduled_at timestamptz(3),
        max_start_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz(3),
        finished_at timestamptz(3),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        previous_run_duration_ms bigint,
        attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
        worker_id text,
        lease_token uuid,
        heartbeat_at timestamptz(3),
        asset text,
        progress_done double precision NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
        progress_total double precision CHECK (progress_total >= 0),
        progress_unit text,
        progress_phase text,
        progress_percent real CHECK (progress_percent BETWEEN 0 AND 100),
        progress_rate double precision,
        progress_updated_at timestamptz(3),
        trap_timeout_at timestamptz(3),
        trap_decision text CHECK (trap_decision IN ('RETRY','SKIP')),
        cancel_requested_at timestamptz(3),
        cancel_requested_by text
      ) WITH (fillfactor = 70)
    `);

    const indexes = [
      `jobs_created_idx ON jobs (created_at, id)`,
      `jobs_started_idx ON jobs ((coalesce(started_at, '-infinity')), id)`,
      `jobs_finished_idx ON jobs ((coalesce(finished_at, '-infinity')), id)`,
      `jobs_name_idx ON jobs (name, id)`,
      `jobs_status_created_idx ON jobs (status, created_at, id)`,
      `jobs_status_started_idx ON jobs (status, (coalesce(started_at, '-infinity')), id)`,
      `jobs_status_finished_idx ON jobs (status, (coalesce(finished_at, '-infinity')), id)`,
      `jobs_owner_created_idx ON jobs (owner_id, created_at, id)`,
      `jobs_type_created_idx ON jobs (type, created_at, id)`,
      `jobs_scope_created_idx ON jobs (scope, created_at, id)`,
      `jobs_name_trgm_idx ON jobs USING gin (name gin_trgm_ops)`,
      `jobs_claimable_idx ON jobs (scheduled_at NULLS FIRST, created_at) WHERE status = 'PENDING'`,
      // The daemon's expiry rule reads only the queued jobs that have a deadline.
      `jobs_expiry_idx ON jobs (max_start_at) WHERE status IN ('PENDING', 'WAITING_APPROVAL') AND max_start_at IS NOT NULL`,
    ];
    for (const index of indexes) await q.query(`CREATE INDEX ${index}`);

    // One place for what every status change implies, whoever makes it (a person, the worker,
    // the daemon): entering a terminal status stamps finished_at, destroys the secrets and ends
    // the lease; leaving one (restart, reschedule) clears finished_at. It fires only for
    // statements that set status, so progress updates never run it.
    await q.query(`
      CREATE FUNCTION jobwatch_on_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status IN ('SUCCEEDED','FAILED','CANCELLED','REJECTED','EXPIRED','ABENDED') THEN
          NEW.finished_at := coalesce(NEW.finished_at, now());
          NEW.secrets := NULL;
          NEW.lease_token := NULL;
          NEW.trap_timeout_at := NULL;
          NEW.trap_decision := NULL;
        ELSIF OLD.status IN ('SUCCEEDED','FAILED','CANCELLED','REJECTED','EXPIRED','ABENDED') THEN
          NEW.finished_at := NULL;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER jobs_status_change BEFORE UPDATE OF status ON jobs
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION jobwatch_on_status_change()`);

    await q.query(`
      CREATE TABLE tasks (
        job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
        position integer NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'WAITING' CHECK (status IN ('WAITING','PROCESSING','COMPLETED','FAILED')),
        done double precision NOT NULL DEFAULT 0 CHECK (done >= 0),
        total double precision CHECK (total >= 0),
        unit text,
        rate_per_minute double precision,
        message text,
        started_at timestamptz(3),
        finished_at timestamptz(3),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, name)
      ) WITH (fillfactor = 80)
    `);

    // No foreign key to jobs: a deleted job keeps its history, ending in a DELETED tombstone.
    // The job's scope, type and owner are copied on each event so that visibility can still be
    // decided after the job is gone.
    await q.query(`
      CREATE TABLE timeline_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id uuid NOT NULL,
        at timestamptz(3) NOT NULL DEFAULT now(),
        kind text NOT NULL,
        actor_id text,
        actor_kind text NOT NULL CHECK (actor_kind IN ('USER','WORKER','SYSTEM')),
        from_status text,
        to_status text,
        attempt integer,
        step text,
        message text,
        data jsonb,
        job_scope text COLLATE "C" NOT NULL,
        job_type text NOT NULL,
        job_owner_id text NOT NULL
      )
    `);
    await q.query(`CREATE INDEX timeline_events_job_idx ON timeline_events (job_id, id)`);
    // Tombstones, by age: retention finds the histories of deleted jobs without a scan.
    await q.query(`CREATE INDEX timeline_events_tombstone_idx ON timeline_events (at) WHERE kind = 'DELETED'`);

    await q.query(`
      CREATE TABLE roles (
        name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
        description text NOT NULL DEFAULT '',
        rules jsonb NOT NULL,
        built_in boolean NOT NULL DEFAULT false,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )
    `);
    await q.query(`
      CREATE TABLE grants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id text NOT NULL,
        role_name text NOT NULL REFERENCES roles (name) ON UPDATE CASCADE ON DELETE RESTRICT,
        scope text COLLATE "C",
        granted_by text,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )
    `);
    await q.query(`CREATE UNIQUE INDEX grants_unique_idx ON grants (user_id, role_name, coalesce(scope, ''))`);
    await q.query(`CREATE INDEX grants_role_idx ON grants (role_name)`);

    // Every instance caches abilities; these notifications tell them whose grants changed.
    await q.query(`
      CREATE FUNCTION jobwatch_notify_grant_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('jobwatch_permissions', OLD.user_id); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('jobwatch_permissions', NEW.user_id); END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER grants_notify AFTER INSERT OR UPDATE OR DELETE ON grants
        FOR EACH ROW EXECUTE FUNCTION jobwatch_notify_grant_change()`);
    await q.query(`
      CREATE FUNCTION jobwatch_notify_role_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('jobwatch_permissions', '*');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER roles_notify AFTER INSERT OR UPDATE OR DELETE ON roles
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_role_change()`);

    const builtIn: Array<[string, string, unknown[]]> = [
      ['admin', 'Everything, including permission administration.', [{ action: 'manage', subject: 'all' }]],
      [
        'operator',
        'Views and operates jobs: create, restart, cancel, reschedule, approve (as a named approver), delete, resolve traps.',
        [
          {
            action: ['view_monitor', 'create', 'restart', 'cancel', 'reschedule', 'approve', 'delete', 'resolve_trap'],
            subject: 'Job',
          },
        ],
      ],
      ['viewer', 'Sees jobs in the monitor.', [{ action: 'view_monitor', subject: 'Job' }]],
      [
        'own-jobs',
        'Sees, creates and cancels their own jobs only.',
        [{ action: ['view_monitor', 'create', 'cancel'], subject: 'Job', conditions: { ownerId: '${user.id}' } }],
      ],
      ['worker', 'Claims and runs jobs, reports their progress.', [{ action: 'execute', subject: 'Job' }]],
    ];
    for (const [name, description, rules] of builtIn) {
      await q.query(`INSERT INTO roles (name, description, rules, built_in) VALUES ($1, $2, $3, true)`, [
        name,
        description,
        JSON.stringify(rules),
      ]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE grants`);
    await q.query(`DROP TABLE roles`);
    await q.query(`DROP FUNCTION jobwatch_notify_grant_change(), jobwatch_notify_role_change()`);
    await q.query(`DROP TABLE timeline_events`);
    await q.query(`DROP TABLE tasks`);
    await q.query(`DROP TABLE jobs`);
    await q.query(`DROP FUNCTION jobwatch_on_status_change()`);
  }
}
