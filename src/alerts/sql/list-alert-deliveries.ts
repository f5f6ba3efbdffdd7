import type { Sql } from '../../db/sql';
import type { JobEventKind } from '../../notifications/notification.types';
import type { DeliveryStatus } from '../alert.types';

export interface DeliveryRow {
  id: string;
  event: JobEventKind;
  job_id: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  last_status_code: number | null;
  created_at: Date;
  next_attempt_at: Date;
  delivered_at: Date | null;
}

/** Whether the owner has this rule. */
export async function ownsAlertRule(sql: Sql, id: string, ownerId: string): Promise<boolean> {
  return (await sql.one('SELECT 1 FROM alert_rules WHERE id = $1 AND owner_id = $2', [id, ownerId])) !== undefined;
}

/** A rule's delivery log, newest first. */
export function listAlertDeliveries(sql: Sql, ruleId: string, limit: number): Promise<DeliveryRow[]> {
  return sql.rows<DeliveryRow>(
    `SELECT id, event, job_id, status, attempts, last_error, last_status_code, created_at, next_attempt_at, delivered_at
       FROM alert_deliveries WHERE rule_id = $1 ORDER BY id DESC LIMIT $2`,
    [ruleId, limit],
  );
}
