import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notifications and alerts, durable from the first moment:
 * - the status change itself (through its timeline event, in the same transaction) writes a
 *   `job_events` outbox row with a snapshot of the job, and the owner's or approvers'
 *   notifications: no path (person, worker, daemon) can change a job without them;
 * - a dispatcher turns job events into `alert_deliveries` (one per rule and event, unique), and
 *   a delivery worker sends them with retries: both take rows with FOR UPDATE SKIP LOCKED, so
 *   several instances share the work and a crash between commit and delivery loses nothing.
 */
export class NotificationsAndAlerts1763900002000 implements MigrationInterface {
  name = 'NotificationsAndAlerts1763900002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        timeline_event_id bigint NOT NULL,
        job_id uuid NOT NULL,
        event text NOT NULL,
        actor_id text,
        message text,
        at timestamptz(3) NOT NULL DEFAULT now(),
        job jsonb NOT NULL,
        processed_at timestamptz(3)
      )`);
    await q.query(`CREATE INDEX job_events_pending_idx ON job_events (id) WHERE processed_at IS NULL`);
    await q.query(`CREATE INDEX job_events_processed_idx ON job_events (processed_at) WHERE processed_at IS NOT NULL`);

    await q.query(`
      CREATE TABLE notifications (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id text NOT NULL,
        job_id uuid NOT NULL,
        kind text NOT NULL,
        actor_id text,
        message text,
        job_name text NOT NULL,
        job_scope text COLLATE "C" NOT NULL,
        job_type text NOT NULL,
        job_owner_id text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        read_at timestamptz(3)
      )`);
    await q.query(`CREATE INDEX notifications_user_idx ON notifications (user_id, id)`);
    await q.query(`CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE read_at IS NULL`);
    await q.query(`CREATE INDEX notifications_created_idx ON notifications (created_at)`);

    await q.query(`
      CREATE TABLE alert_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        filter jsonb NOT NULL DEFAULT '{}',
        events text[] NOT NULL CHECK (cardinality(events) > 0),
        webhook_url text NOT NULL CHECK (webhook_url ~ '^https?://'),
        secret bytea NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX alert_rules_owner_idx ON alert_rules (owner_id)`);

    await q.query(`
      CREATE TABLE alert_deliveries (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rule_id uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
        job_event_id bigint NOT NULL,
        job_id uuid NOT NULL,
        event text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERING', 'DELIVERED', 'FAILED')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz(3) NOT NULL DEFAULT now(),
        locked_until timestamptz(3),
        last_error text,
        last_status_code integer,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        delivered_at timestamptz(3),
        UNIQUE (rule_id, job_event_id)
      )`);
    await q.query(`CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at) WHERE status IN ('PENDING', 'DELIVERING')`);
    await q.query(`CREATE INDEX alert_deliveries_rule_idx ON alert_deliveries (rule_id, id)`);
    await q.query(`CREATE INDEX alert_deliveries_created_idx ON alert_deliveries (created_at)`);

    // Stage 1: from the timeline, in the same transaction as the change.
    await q.query(`
      CREATE FUNCTION jobwatch_record_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- A held job's CANCELLED is written by the worker (or the daemon): the person who asked
        -- for it is the actor people care about.
        WITH relevant AS (
          SELECT e.id, e.job_id,
                 CASE WHEN e.kind = 'CANCELLED' THEN coalesce(j.cancel_requested_by, e.actor_id) ELSE e.actor_id END AS actor_id,
                 e.message,
                 CASE
                   WHEN e.kind = 'CLAIMED' THEN 'STARTED'
                   WHEN e.to_status = 'WAITING_APPROVAL' AND e.from_status IS DISTINCT FROM 'WAITING_APPROVAL' THEN 'WAITING_APPROVAL'
                   WHEN e.kind IN ('SUCCEEDED', 'FAILED', 'ABENDED', 'EXPIRED', 'CANCELLED', 'REJECTED', 'TRAPPED', 'SLOWER_THAN_USUAL') THEN e.kind
                   WHEN e.kind = 'TRAP_RESOLVED' AND e.to_status = 'FAILED' THEN 'FAILED'
                 END AS event
            FROM new_rows e LEFT JOIN jobs j ON j.id = e.job_id
        ),
        events AS (
          INSERT INTO job_events (timeline_event_id, job_id, event, actor_id, message, job)
          SELECT r.id, r.job_id, r.event, r.actor_id, r.message,
                 to_jsonb(j) - 'secrets' - 'lease_token'
            FROM relevant r JOIN jobs j ON j.id = r.job_id
           WHERE r.event IS NOT NULL
          RETURNING job_id, event, actor_id, message, job
        )
        INSERT INTO notifications (user_id, job_id, kind, actor_id, message, job_name, job_scope, job_type, job_owner_id)
        SELECT recipient, ev.job_id, ev.event, ev.actor_id, ev.message,
               ev.job->>'name', ev.job->>'scope', ev.job->>'type', ev.job->>'owner_id'
          FROM events ev
          CROSS JOIN LATERAL (
            SELECT ev.job->>'owner_id' AS recipient
             WHERE ev.event IN ('STARTED', 'SUCCEEDED', 'FAILED', 'ABENDED', 'EXPIRED', 'CANCELLED', 'REJECTED', 'TRAPPED')
            UNION
            SELECT jsonb_array_elements_text(ev.job->'approvers') WHERE ev.event = 'WAITING_APPROVAL'
          ) AS recipients
         WHERE recipient IS DISTINCT FROM ev.actor_id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER timeline_record_job_events AFTER INSERT ON timeline_events REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_record_job_events()`);

    // Wake-ups: the dispatcher when job events are recorded, subscribers when notifications arrive.
    await q.query(`
      CREATE FUNCTION jobwatch_notify_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('jobwatch_job_events', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER job_events_notify AFTER INSERT ON job_events FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_job_events()`);
    await q.query(`
      CREATE FUNCTION jobwatch_notify_notifications() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM jobwatch_notify_ids('jobwatch_notifications', ARRAY(SELECT DISTINCT user_id FROM new_rows));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER notifications_notify AFTER INSERT ON notifications REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_notifications()`);
    await q.query(`
      CREATE FUNCTION jobwatch_notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('jobwatch_alert_deliveries', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER alert_deliveries_notify AFTER INSERT ON alert_deliveries FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_deliveries()`);

    // Whoever may write alert rules: operators, and admins through `manage all`.
    await q.query(`
      UPDATE roles SET rules = rules || '[{"action": "manage_alerts", "subject": "Alert"}]'::jsonb, updated_at = now()
       WHERE name = 'operator'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER timeline_record_job_events ON timeline_events`);
    await q.query(`DROP TABLE alert_deliveries, alert_rules, notifications, job_events`);
    await q.query(`DROP FUNCTION jobwatch_record_job_events(), jobwatch_notify_job_events(), jobwatch_notify_notifications(),
      jobwatch_notify_deliveries()`);
  }
}
