import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fixes to notifications and alerts found in review:
 * - approval requests reach the people who can act on them: the named approvers, or, when a job
 *   names none, everyone whose grants could give them `approve_all` over the job (found from
 *   grants and roles in the same statement, never a query per user). Notifications keep the
 *   job's approvers so that reading them can check, exactly, that the reader may approve;
 * - the dispatcher and delivery wake-ups fire only when rows were really inserted: the
 *   per-statement triggers ran on zero-row inserts too (every progress flush, every daemon
 *   tick), waking every instance's dispatcher several times a second;
 * - a delivery can be CANCELLED (its rule was disabled), and an index finds a rule's delivery
 *   under way (at most one attempt per rule is in flight).
 */
export class AlertsAndNotificationsHardening1763900005000 implements MigrationInterface {
  name = 'AlertsAndNotificationsHardening1763900005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications ADD COLUMN job_approvers text[] NOT NULL DEFAULT '{}'`);
    // Approval requests recorded so far went to named approvers only: their reader is one.
    await q.query(`
      UPDATE notifications n SET job_approvers = coalesce((SELECT j.approvers FROM jobs j WHERE j.id = n.job_id), ARRAY[n.user_id])
       WHERE n.kind = 'WAITING_APPROVAL'`);
    await q.query(recordJobEvents(true));

    await q.query(`DROP TRIGGER job_events_notify ON job_events`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows) THEN
          PERFORM pg_notify('jobwatch_job_events', '');
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER job_events_notify AFTER INSERT ON job_events REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_job_events()`);
    await q.query(`DROP TRIGGER alert_deliveries_notify ON alert_deliveries`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows) THEN
          PERFORM pg_notify('jobwatch_alert_deliveries', '');
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER alert_deliveries_notify AFTER INSERT ON alert_deliveries REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_deliveries()`);

    await q.query(`ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_status_check`);
    await q.query(`ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_status_check
      CHECK (status IN ('PENDING', 'DELIVERING', 'DELIVERED', 'FAILED', 'CANCELLED'))`);
    await q.query(`CREATE INDEX alert_deliveries_in_flight_idx ON alert_deliveries (rule_id) WHERE status = 'DELIVERING'`);
    // Each rule's oldest due delivery, one index probe per rule (the delivery worker's poll),
    // instead of all due deliveries by time: with one rule's large backlog the planner walked
    // that one filtering by rule, for every rule.
    await q.query(`CREATE INDEX alert_deliveries_rule_due_idx ON alert_deliveries (rule_id, next_attempt_at, id) WHERE status IN ('PENDING', 'DELIVERING')`);
    await q.query(`DROP INDEX alert_deliveries_due_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at) WHERE status IN ('PENDING', 'DELIVERING')`);
    await q.query(`DROP INDEX alert_deliveries_rule_due_idx, alert_deliveries_in_flight_idx`);
    await q.query(`UPDATE alert_deliveries SET status = 'FAILED' WHERE status = 'CANCELLED'`);
    await q.query(`ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_status_check`);
    await q.query(`ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_status_check
      CHECK (status IN ('PENDING', 'DELIVERING', 'DELIVERED', 'FAILED'))`);
    await q.query(`DROP TRIGGER alert_deliveries_notify ON alert_deliveries`);
    await q.query(`DROP TRIGGER job_events_notify ON job_events`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('jobwatch_job_events', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('jobwatch_alert_deliveries', '');
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER job_events_notify AFTER INSERT ON job_events FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_job_events()`);
    await q.query(
      `CREATE TRIGGER alert_deliveries_notify AFTER INSERT ON alert_deliveries FOR EACH STATEMENT EXECUTE FUNCTION jobwatch_notify_deliveries()`,
    );
    await q.query(recordJobEvents(false));
    await q.query(`ALTER TABLE notifications DROP COLUMN job_approvers`);
  }
}

/**
 * Stage 1 of notifications and alerts, from the timeline in the same transaction as the change
 * (see NotificationsAndAlerts1763900002000). `withApprovalFallback`: this migration's version
 * (approve_all holders when no approvers are named, the approvers kept on the notification).
 */
function recordJobEvents(withApprovalFallback: boolean): string {
  // A grant could give approve_all over the job when one of its role's allowing rules names
  // approve_all (or manage) on Job (or all), and its scope covers the job's. Conditions and
  // denying rules are left to the exact check made when the notification is read.
  const approveAllHolders = `
            UNION
            SELECT g.user_id FROM grants g JOIN roles ro ON ro.name = g.role_name
             WHERE ev.event = 'WAITING_APPROVAL' AND jsonb_array_length(coalesce(ev.job->'approvers', '[]')) = 0
               AND (g.scope IS NULL OR ev.job->>'scope' = g.scope OR starts_with(ev.job->>'scope', g.scope || '/'))
               AND EXISTS (
                 SELECT 1 FROM jsonb_array_elements(ro.rules) AS rule
                  WHERE coalesce(rule->>'inverted', 'false') <> 'true'
                    AND rule->'action' ?| ARRAY['approve_all', 'manage']
                    AND rule->'subject' ?| ARRAY['Job', 'all'])`;
  return `
      CREATE OR REPLACE FUNCTION jobwatch_record_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
        INSERT INTO notifications (user_id, job_id, kind, actor_id, message, job_name, job_scope, job_type, job_owner_id${withApprovalFallback ? ', job_approvers' : ''})
        SELECT recipient, ev.job_id, ev.event, ev.actor_id, ev.message,
               ev.job->>'name', ev.job->>'scope', ev.job->>'type', ev.job->>'owner_id'${
                 withApprovalFallback ? `,\n               ARRAY(SELECT jsonb_array_elements_text(coalesce(ev.job->'approvers', '[]')))` : ''
               }
          FROM events ev
          CROSS JOIN LATERAL (
            SELECT ev.job->>'owner_id' AS recipient
             WHERE ev.event IN ('STARTED', 'SUCCEEDED', 'FAILED', 'ABENDED', 'EXPIRED', 'CANCELLED', 'REJECTED', 'TRAPPED')
            UNION
            SELECT jsonb_array_elements_text(ev.job->'approvers') WHERE ev.event = 'WAITING_APPROVAL'${withApprovalFallback ? approveAllHolders : ''}
          ) AS recipients
         WHERE recipient IS DISTINCT FROM ev.actor_id;
        RETURN NULL;
      END $$`;
}
