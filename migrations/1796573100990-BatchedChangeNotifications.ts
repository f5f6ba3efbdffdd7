import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Change notifications in batches, so that state changes stop queueing behind one another.
 *
 * Postgres writes a transaction's notifications into its queue under one lock that the
 * committing transaction holds until its commit record is flushed: notifying commits never
 * share a WAL flush, and a claim or a completion notified on up to five channels. On the
 * development machine that capped notifying commits near 250 per second against 1,300-2,000
 * without (docs/SCALING.md).
 *
 * Now the triggers record what changed in `change_outbox` (unlogged: nothing to fsync, and a
 * crash that empties it also cuts every LISTEN connection, whose owners then resynchronise) and
 * notify nothing, except one wake-up (`jobwatch_relay`, empty payload, at most one per
 * transaction since Postgres folds repeats) while the relay is armed, that is idle. The relay
 * of the API instances (src/db/change-relay.ts) calls jobwatch_relay_changes(): it takes what
 * is committed, groups it by channel, drops repeats (keeping each payload's last position, so
 * a lease's latest state comes last), and sends the same channels and payloads as before (ids
 * only, comma-separated, under 8,000 bytes each), in one transaction whose commit does not wait
 * for the WAL. While changes keep coming the relay polls and stays disarmed; once none was
 * drained for a moment it arms the flag again.
 *
 * Grants and roles keep notifying directly: rare, and the permissions version is their
 * guarantee.
 */
export class BatchedChangeNotifications1796573100990 implements MigrationInterface {
  name = 'BatchedChangeNotifications1796573100990';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE UNLOGGED TABLE change_outbox (
        seq bigint GENERATED ALWAYS AS IDENTITY,
        channel text NOT NULL,
        payloads text[] NOT NULL
      ) WITH (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0)`);
    // One row. armed: no relay is polling, so the next writer wakes one. drained_at: when a relay
    // last drained something (written at most every 100 ms): relays stay busy while it is recent.
    await q.query(`
      CREATE TABLE change_relay (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        armed boolean NOT NULL DEFAULT true,
        drained_at timestamptz NOT NULL DEFAULT '-infinity'
      )`);
    await q.query(`INSERT INTO change_relay DEFAULT VALUES`);

    // Same signature as before: every trigger that called it now records instead of notifying.
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_ids(channel text, ids text[]) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF coalesce(cardinality(ids), 0) = 0 THEN RETURN; END IF;
        INSERT INTO change_outbox (channel, payloads) VALUES (channel, ids);
        IF coalesce((SELECT armed FROM change_relay), true) THEN
          PERFORM pg_notify('jobwatch_relay', '');
        END IF;
      END $$`);
    // Leases: from the update statement's transition tables, not a row trigger of their own.
    await q.query(`DROP TRIGGER jobs_notify_lease ON jobs`);
    await q.query(`DROP FUNCTION jobwatch_notify_lease()`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_jobs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM jobwatch_notify_ids('jobwatch_jobs', ARRAY(
          SELECT n.id::text FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.updated_at IS DISTINCT FROM o.updated_at));
        PERFORM jobwatch_notify_ids('jobwatch_leases', ARRAY(
          SELECT n.id::text || '.' || coalesce(n.lease_token::text, '')
            FROM new_rows n JOIN old_rows o ON o.id = n.id
           WHERE n.lease_token IS DISTINCT FROM o.lease_token OR n.status IS DISTINCT FROM o.status));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows) THEN
          PERFORM jobwatch_notify_ids('jobwatch_job_events', ARRAY['']);
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows) THEN
          PERFORM jobwatch_notify_ids('jobwatch_alert_deliveries', ARRAY['']);
        END IF;
        RETURN NULL;
      END $$`);

    // The relay's one statement. -1: another relay is draining right now.
    await q.query(`
      CREATE FUNCTION jobwatch_relay_changes(max_rows integer, OUT drained integer, OUT armed boolean) LANGUAGE plpgsql AS $$
      DECLARE
        batch record;
        item text;
        parts text[];
        size integer;
      BEGIN
        armed := false;
        IF NOT pg_try_advisory_xact_lock(7346091822) THEN
          drained := -1;
          RETURN;
        END IF;
        -- Nothing here needs to survive a crash (the listeners resynchronise then): the commit,
        -- and so the notification lock, does not wait for the WAL flush.
        PERFORM set_config('synchronous_commit', 'off', true);
        drained := 0;
        FOR batch IN
          WITH gone AS (
            DELETE FROM change_outbox
             WHERE ctid = ANY (ARRAY(SELECT ctid FROM change_outbox ORDER BY seq LIMIT max_rows))
            RETURNING seq, channel, payloads
          ),
          items AS (
            SELECT g.channel, p.payload, max(g.seq * 100000 + p.n) AS last
              FROM gone g CROSS JOIN LATERAL unnest(g.payloads) WITH ORDINALITY AS p(payload, n)
             GROUP BY g.channel, p.payload
          )
          SELECT channel, array_agg(payload ORDER BY last) AS payloads FROM items GROUP BY channel ORDER BY min(last)
        LOOP
          parts := '{}';
          size := 0;
          FOREACH item IN ARRAY batch.payloads LOOP
            IF cardinality(parts) > 0 AND size + length(item) + 1 > 7900 THEN
              PERFORM pg_notify(batch.channel, array_to_string(parts, ','));
              parts := '{}';
              size := 0;
            END IF;
            parts := parts || item;
            size := size + length(item) + 1;
          END LOOP;
          PERFORM pg_notify(batch.channel, array_to_string(parts, ','));
          drained := drained + cardinality(batch.payloads);
        END LOOP;
        IF drained > 0 THEN
          UPDATE change_relay r SET armed = false, drained_at = now()
           WHERE r.armed OR r.drained_at < now() - interval '100 milliseconds';
        ELSE
          UPDATE change_relay r SET armed = true WHERE NOT r.armed AND r.drained_at < now() - interval '200 milliseconds';
          armed := coalesce((SELECT r.armed FROM change_relay r), true);
        END IF;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION jobwatch_relay_changes(integer)`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows) THEN
          PERFORM pg_notify('jobwatch_alert_deliveries', '');
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows) THEN
          PERFORM pg_notify('jobwatch_job_events', '');
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_jobs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM jobwatch_notify_ids('jobwatch_jobs', ARRAY(
          SELECT n.id::text FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.updated_at IS DISTINCT FROM o.updated_at));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION jobwatch_notify_lease() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('jobwatch_leases', NEW.id::text || '.' || coalesce(NEW.lease_token::text, ''));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER jobs_notify_lease AFTER UPDATE OF status, lease_token ON jobs
        FOR EACH ROW WHEN (OLD.lease_token IS DISTINCT FROM NEW.lease_token OR OLD.status IS DISTINCT FROM NEW.status)
        EXECUTE FUNCTION jobwatch_notify_lease()`);
    await q.query(`
      CREATE OR REPLACE FUNCTION jobwatch_notify_ids(channel text, ids text[]) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        i integer := 1;
      BEGIN
        WHILE i <= coalesce(array_length(ids, 1), 0) LOOP
          PERFORM pg_notify(channel, array_to_string(ids[i:i + 149], ','));
          i := i + 150;
        END LOOP;
      END $$`);
    await q.query(`DROP TABLE change_relay`);
    await q.query(`DROP TABLE change_outbox`);
  }
}
