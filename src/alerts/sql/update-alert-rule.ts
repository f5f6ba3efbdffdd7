import type { Sql } from '../../db/sql';
import { RULE_COLUMNS, type RuleRow, type RuleValues } from './alert-rule.row';

/**
 * Replaces an owner's rule (its secret stays; `enabled` null keeps it): undefined when the owner
 * has no such rule. Disabled: what is still waiting is cancelled in the same statement, so that
 * enabling the rule again never sends old events (one under way finishes, see the delivery
 * worker).
 */
export function updateAlertRule(
  sql: Sql,
  rule: RuleValues & { readonly id: string; readonly ownerId: string; readonly enabled: boolean | null },
): Promise<RuleRow | undefined> {
  return sql.one<RuleRow>(
    `WITH updated AS (
       UPDATE alert_rules SET name = $3, filter = $4, events = $5, webhook_url = $6, email = $8, enabled = coalesce($7::boolean, enabled), updated_at = now()
        WHERE id = $1 AND owner_id = $2 RETURNING ${RULE_COLUMNS}
     ),
     cancelled AS (
       UPDATE alert_deliveries d SET status = 'CANCELLED', last_error = 'cancelled: the rule was disabled', locked_until = NULL
         FROM updated u
        WHERE d.rule_id = u.id AND NOT u.enabled
          AND (d.status = 'PENDING' OR (d.status = 'DELIVERING' AND d.locked_until < now()))
     )
     SELECT * FROM updated`,
    [rule.id, rule.ownerId, rule.name, rule.filter, rule.events, rule.webhookUrl, rule.enabled, rule.email],
  );
}
