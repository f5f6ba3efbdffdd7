import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alert rules that send email: a rule has one destination, a webhook URL or an email address
 * (sent through SMTP_URL). Its deliveries go through the same outbox (alert_deliveries), with
 * the same retries and log, whatever the destination.
 */
export class EmailAlerts1796575238288 implements MigrationInterface {
  name = 'EmailAlerts1796575238288';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE alert_rules ALTER COLUMN webhook_url DROP NOT NULL, ADD COLUMN email text CHECK (length(email) BETWEEN 3 AND 254)`);
    await q.query(`ALTER TABLE alert_rules ADD CONSTRAINT alert_rules_one_destination CHECK ((webhook_url IS NULL) <> (email IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM alert_rules WHERE webhook_url IS NULL`);
    await q.query(`ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_one_destination, DROP COLUMN email, ALTER COLUMN webhook_url SET NOT NULL`);
  }
}
